"""Replay speed against vcrpy + pytest-recording, and the plugin's import overhead.

Run by hand (it is not part of the test suite), with the ``bench`` extra installed::

    pip install -e ".[dev,bench]"
    python benchmarks/bench_replay.py [--runs 7]

1. Replay: a 10,000-message ElizaOS session fetched in pages of 100 inside one pytest test.
   Both sides use pytest-sessionmem's client to fetch and parse, so only the record/replay
   layer differs: our cassette transport, or vcrpy patching httpx under pytest-recording.
   Both cassettes are recorded once against the embedded emulator, then replayed with the
   emulator stopped. Every run is a whole ``python -m pytest`` process with the same
   plugins installed; the table shows medians and each side's cost above an empty pytest run.
2. Import overhead: ``pytest --collect-only`` on 500 trivial tests with and without the plugin.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_sessionmem.emulator.eliza_rules import string_to_uuid
from pytest_sessionmem.emulator.runner import EmulatorServer

MESSAGES = 10_000
PAGE_SIZE = 100
USER_ID = "11111111-2222-4333-8444-555555555555"

INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Using extra keyword arguments on `Field` is deprecated:DeprecationWarning
"""

SESSIONMEM_TEST = """\
import pytest
from pytest_sessionmem import SessionClient

@pytest.mark.sessionmem(provider="eliza", session_id={sid!r})
def test_replay(session_client: SessionClient) -> None:
    transcript = session_client.get_messages({sid!r}, page_size={page})
    assert len(transcript) == {count}
"""

VCR_TEST = """\
import pytest
from pytest_sessionmem import SessionClient

@pytest.mark.vcr
def test_replay() -> None:
    with SessionClient("eliza", base_url={base!r}) as client:
        transcript = client.get_messages({sid!r}, page_size={page})
    assert len(transcript) == {count}
"""

EMPTY_TEST = """\
def test_empty() -> None:
    pass
"""


def pytest_run(workdir: Path, *args: str) -> float:
    """Seconds one whole pytest process takes; fails loudly if the tests fail."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def prepare(workdir: Path) -> None:
    """Seed the emulator, write the three test files, record both cassettes."""
    (workdir / "pytest.ini").write_text(INI)
    with EmulatorServer(seed=1) as server:
        base = server.base_url("eliza")
        import httpx

        created = httpx.post(
            f"{base}/api/messaging/sessions",
            json={"agentId": string_to_uuid("Eliza"), "userId": USER_ID},
        ).json()
        sid = created["sessionId"]
        server.control.request("POST", f"/eliza/sessions/{sid}/seed", {"count": MESSAGES})
        values = {"sid": sid, "page": PAGE_SIZE, "count": MESSAGES, "base": base}
        (workdir / "test_sessionmem.py").write_text(SESSIONMEM_TEST.format(**values))
        (workdir / "test_vcr.py").write_text(VCR_TEST.format(**values))
        (workdir / "test_empty.py").write_text(EMPTY_TEST)
        pytest_run(workdir, "test_sessionmem.py", "--sessionmem-record-mode=once",
                   f"--sessionmem-base-url={base}")
        pytest_run(workdir, "test_vcr.py", "--record-mode=once")
    # Replay from here on: the emulator is gone, nothing answers on that port.


def replay_table(workdir: Path, runs: int) -> list[str]:
    cases = {
        "empty pytest run": ["test_empty.py"],
        "pytest-sessionmem replay": ["test_sessionmem.py"],
        "vcrpy + pytest-recording replay": ["test_vcr.py", "--record-mode=none"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved, so drift in machine load hits every case alike
        for name, args in cases.items():
            times[name].append(pytest_run(workdir, *args))
    median = {name: statistics.median(values) for name, values in times.items()}
    empty = median["empty pytest run"]
    ours = median["pytest-sessionmem replay"] - empty
    theirs = median["vcrpy + pytest-recording replay"] - empty
    lines = [
        f"Replay of {MESSAGES:,} ElizaOS messages in pages of {PAGE_SIZE} "
        f"(median of {runs} whole-process runs)",
        "| case | median | above empty run |",
        "|---|---|---|",
    ]
    for name in cases:
        extra = median[name] - empty
        lines.append(f"| {name} | {median[name] * 1000:.0f} ms | {extra * 1000:.0f} ms |")
    lines.append(
        f"Replay cost, ours / vcrpy's: {ours / theirs:.2f} "
        f"(vcrpy is {theirs / ours:.1f}x slower; target: ours <= 1/3 of vcrpy's)"
    )
    return lines


def import_table(workdir: Path, runs: int) -> list[str]:
    trivial = workdir / "collect"
    trivial.mkdir(exist_ok=True)
    (trivial / "pytest.ini").write_text(INI)
    body = "".join(f"def test_{n}() -> None:\n    pass\n\n\n" for n in range(500))
    (trivial / "test_trivial.py").write_text(body)
    cases = {
        "without the plugin (-p no:sessionmem)": ["--collect-only", "-p", "no:sessionmem"],
        "with the plugin": ["--collect-only"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, args in cases.items():
            times[name].append(pytest_run(trivial, *args))
    median = {name: statistics.median(values) for name, values in times.items()}
    without, with_plugin = median.values()
    return [
        f"pytest --collect-only, 500 trivial tests (median of {runs} runs)",
        "| case | median |",
        "|---|---|",
        *(f"| {name} | {value * 1000:.0f} ms |" for name, value in median.items()),
        f"Plugin overhead: {(with_plugin - without) * 1000:.1f} ms (target: <= 30 ms)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    with tempfile.TemporaryDirectory(prefix="sessionmem-bench-") as tmp:
        workdir = Path(tmp)
        prepare(workdir)
        for line in replay_table(workdir, args.runs):
            print(line)
        print()
        for line in import_table(workdir, args.runs):
            print(line)


if __name__ == "__main__":
    main()
