"""Requests per second for "GET messages" on a 10,000-message session, per provider.

Run by hand (not part of the test suite)::

    python benchmarks/bench_emulator.py [--messages 10000] [--requests 300]

Zep is seeded through its public write endpoint (30 messages a call, its limit) and read with
``limit=100&cursor=n`` pages cycling through the session; ElizaOS is seeded through its control
API (``POST /_emulator/eliza/sessions/{id}/seed``) and read with ``limit=100`` (the newest page),
and skipped when the ElizaOS emulation is not available.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import httpx

from pytest_sessionmem.emulator.runner import EmulatorServer

PAGE = 100


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


def seed_eliza(
    http: httpx.Client, server: EmulatorServer, count: int
) -> Callable[[int], str] | None:
    """Seed through the ElizaOS control API; None when the emulation has no such endpoint yet."""
    agent = http.post(f"{server.url}/_emulator/eliza/agents", json={"name": "Bench"})
    if agent.status_code in (404, 405):
        return None
    agent.raise_for_status()
    base = server.base_url("eliza") + "/api/messaging/sessions"
    created = http.post(
        base,
        json={"agentId": agent.json()["id"], "userId": "00000000-0000-4000-8000-000000000001"},
    )
    created.raise_for_status()
    session_id = created.json()["sessionId"]
    http.post(
        f"{server.url}/_emulator/eliza/sessions/{session_id}/seed",
        json={"count": count, "authors": "alternate"},
    ).raise_for_status()
    return lambda i: f"{base}/{session_id}/messages?limit={PAGE}"


def measure(http: httpx.Client, url_for: Callable[[int], str], requests: int) -> float:
    for i in range(20):  # warm-up: connection, caches
        http.get(url_for(i)).raise_for_status()
    start = time.perf_counter()
    for i in range(requests):
        http.get(url_for(i)).raise_for_status()
    return requests / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with EmulatorServer(seed=1) as server, httpx.Client(timeout=30) as http:
        zep_url = seed_zep(http, server.base_url("zep"), args.messages)
        rows.append(("zep", f"{measure(http, zep_url, args.requests):8.0f}"))
        eliza_url = seed_eliza(http, server, args.messages)
        if eliza_url is None:
            rows.append(("eliza", "     n/a (no ElizaOS seeding endpoint yet)"))
        else:
            rows.append(("eliza", f"{measure(http, eliza_url, args.requests):8.0f}"))

    print(f"GET messages, page size {PAGE}, {args.messages} messages, {args.requests} requests")
    print(f"{'provider':<10}{'req/s':>8}")
    for provider, value in rows:
        print(f"{provider:<10}{value}")


if __name__ == "__main__":
    main()
