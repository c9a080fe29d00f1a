"""Emulator throughput: GET messages, page size 100, per server core; and the real ElizaOS server.

Run by hand (not part of the test suite)::

    python benchmarks/bench_emulator.py [--messages 10000] [--rounds 9] [--requests 300] [--no-real]

The emulator runs in its own process (``sessionmem serve``); the figure is requests per second
of the *server's* CPU time (user + system, read from /proc), so the client's cost and other
load on the machine stay out of it. Zep is seeded through its public write endpoint and read
with ``limit=100&cursor=n`` cycling through the session; ElizaOS is seeded through the control
API and read with ``limit=100`` (the newest page). Rounds alternate between the providers.

The real ``@elizaos/server`` (``tests/integration/eliza_server``, ``npm ci`` first) limits each
process to 1,000 API requests per 15 minutes, so it gets a 150-message session (seeded with
150 POSTs) and fewer requests; a page of 100 costs the same to serve at any session length.
The emulator is measured on a session of the same size for the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _common import bench_env, machine
from _scenario import USER_ID, emulator_process

from pytest_sessionmem.emulator.eliza_rules import string_to_uuid

PAGE = 100
REAL_MESSAGES = 150
PEER_DIR = Path(__file__).resolve().parents[1] / "tests" / "integration" / "eliza_server"
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def server_pid(port: int) -> int:
    """The pid listening on ``port`` (so the figure is the server's, whoever launched it)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "0A":
                inode = parts[9]
    if inode is None:
        raise SystemExit(f"nothing listens on port {port}")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
        except OSError:
            continue
    raise SystemExit(f"no process owns the socket on port {port}")


def seed_zep(http: httpx.Client, base: str, count: int) -> Callable[[int], str]:
    http.post(f"{base}/users", json={"user_id": "bench"}).raise_for_status()
    http.post(
        f"{base}/sessions", json={"session_id": "bench", "user_id": "bench"}
    ).raise_for_status()
    for start in range(0, count, 30):
        batch = [
            {"role_type": "user", "content": f"message {i}"}
            for i in range(start, min(start + 30, count))
        ]
        http.post(f"{base}/sessions/bench/memory", json={"messages": batch}).raise_for_status()
    pages = max(count // PAGE, 1)
    return lambda i: f"{base}/sessions/bench/messages?limit={PAGE}&cursor={i % pages + 1}"


def seed_eliza(http: httpx.Client, url: str, count: int) -> Callable[[int], str]:
    base = f"{url}/eliza/api/messaging/sessions"
    created = http.post(base, json={"agentId": string_to_uuid("Eliza"), "userId": USER_ID})
    created.raise_for_status()
    session_id = created.json()["sessionId"]
    http.post(
        f"{url}/_emulator/eliza/sessions/{session_id}/seed", json={"count": count}
    ).raise_for_status()
    return lambda i: f"{base}/{session_id}/messages?limit={PAGE}"


def per_core(http: httpx.Client, pid: int, url_for: Callable[[int], str], requests: int) -> float:
    """Requests per second of server CPU for ``requests`` GETs."""
    before = cpu_seconds(pid)
    for i in range(requests):
        response = http.get(url_for(i))
        response.raise_for_status()
        assert len(response.json()["messages"]) == PAGE
    used = cpu_seconds(pid) - before
    return requests / used if used > 0 else float("inf")


def emulator_rows(messages: int, rounds: int, requests: int) -> tuple[list[str], float]:
    results: dict[str, list[float]] = {"zep": [], "eliza": [], f"eliza, {REAL_MESSAGES} msgs": []}
    with emulator_process() as url, httpx.Client(timeout=60) as http:
        pid = server_pid(httpx.URL(url).port or 80)
        readers = {
            "zep": seed_zep(http, f"{url}/zep/api/v2", messages),
            "eliza": seed_eliza(http, url, messages),
            f"eliza, {REAL_MESSAGES} msgs": seed_eliza(http, url, REAL_MESSAGES),
        }
        for read in readers.values():
            for i in range(30):  # warm-up: connection, caches
                http.get(read(i)).raise_for_status()
        for _ in range(rounds):
            for name, read in readers.items():
                results[name].append(per_core(http, pid, read, requests))
    lines = [
        f"| emulator, {name if name != 'zep' and name != 'eliza' else name + f', {messages:,} msgs'} "
        f"| {statistics.median(v):,.0f} ({min(v):,.0f}-{max(v):,.0f}) |"
        for name, v in results.items()
    ]
    return lines, statistics.median(results[f"eliza, {REAL_MESSAGES} msgs"])


def real_server_rows(rounds: int, requests: int) -> tuple[list[str], float] | None:
    node = shutil.which("node")
    if node is None or not (PEER_DIR / "node_modules" / "@elizaos" / "server").is_dir():
        print(
            "(real @elizaos/server not installed: npm ci --prefix tests/integration/eliza_server)"
        )
        return None
    with tempfile.TemporaryDirectory(prefix="sessionmem-bench-eliza-") as tmp:
        env = {k: v for k, v in bench_env().items() if not k.startswith(("ELIZA", "SERVER_"))}
        env.update(PGLITE_DATA_DIR=f"{tmp}/db", ELIZA_TEST_AGENT_NAME="Eliza", LOG_LEVEL="warn")
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [node, str(PEER_DIR / "server.mjs")],
                cwd=tmp,
                env=env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 120
                while "READY " not in log.read_text(errors="replace"):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the real server did not start:\n{log.read_text()}")
                    time.sleep(0.2)
                ready = json.loads(log.read_text().split("READY ", 1)[1].splitlines()[0])
                base = f"{ready['baseUrl']}/api/messaging/sessions"
                with httpx.Client(timeout=60) as http:
                    created = http.post(
                        base, json={"agentId": ready["agents"][0], "userId": USER_ID}
                    )
                    created.raise_for_status()
                    session_id = created.json()["sessionId"]
                    for i in range(REAL_MESSAGES):
                        http.post(
                            f"{base}/{session_id}/messages", json={"content": f"message {i}"}
                        ).raise_for_status()

                    def read(i: int) -> str:
                        return f"{base}/{session_id}/messages?limit={PAGE}"

                    for i in range(10):
                        http.get(read(i)).raise_for_status()
                    values = [per_core(http, process.pid, read, requests) for _ in range(rounds)]
            finally:
                assert process.stdin is not None
                process.stdin.close()
                process.terminate()
                process.wait(timeout=15)
    line = (
        f"| real @elizaos/server 1.7.2, {REAL_MESSAGES} msgs "
        f"| {statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f}) |"
    )
    return [line], statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-real", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    lines, emulator_small = emulator_rows(args.messages, args.rounds, args.requests)
    print(
        f"GET messages, page size 100, {args.rounds} alternating rounds of {args.requests} "
        "requests; requests per second of server CPU: median (min-max)\n"
    )
    print("| server | requests/s per server core |\n|---|---|")
    print("\n".join(lines))
    if not args.no_real:
        # 1,000 requests per 15 minutes, and the server counts its own agent calls too: 150
        # seeding POSTs plus 9 x 50 reads stays clear of it (9 x 80 got a 429).
        real_rounds, real_requests = min(args.rounds, 9), 50
        real = real_server_rows(real_rounds, real_requests)
        if real is not None:
            real_lines, real_median = real
            print("\n".join(real_lines))
            print(
                f"\n- emulator / real server, same {REAL_MESSAGES}-message session: "
                f"**{emulator_small / real_median:.1f}x** ({real_rounds} rounds of "
                f"{real_requests} requests on the real server)"
            )


if __name__ == "__main__":
    main()
