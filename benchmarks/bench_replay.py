"""Replay and recording against vcrpy + pytest-recording; the plugin's import overhead.

Run by hand (not part of the test suite)::

    python benchmarks/bench_replay.py [--runs 9] [--sizes 10000,100000] [--skip-record]

1. Replay of an N-message ElizaOS session fetched in pages of 100 inside one pytest test:
   ours, vcrpy + pytest-recording, and the floor (the same pages from a dict through
   ``httpx.MockTransport``, parsed by the same client) and the bound (the cassette parsed
   once and the messages built, nothing else: see ``_scenario.py``), each as CPU time above
   an empty pytest run; peak RSS; growth of our cost from the first size to the last.
2. Recording of the first size against the emulator (its own process): ours and vcrpy's cost
   above the same test run live, with no recorder.
3. Import overhead: ``pytest --collect-only`` on 500 trivial tests, with and without the plugin.

All cases of a table run alternately, whole ``python -m pytest`` processes with the same
plugins installed; figures are CPU time (user + system) of each process, medians of ``--runs``
runs with min-max; a ratio is that of the medians, with the run-by-run range (``_common.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _common import (
    above,
    alternate,
    cost_ratio,
    machine,
    ms,
    pytest_command,
    run_process,
)
from _scenario import emulator_process, seed_session, write_tests

REPLAY_CASES = {
    "empty pytest run": pytest_command("test_empty.py"),
    "floor (MockTransport, same client)": pytest_command("test_floor.py"),
    "bound (parse once, build the messages, nothing else)": pytest_command("test_bound.py"),
    "pytest-sessionmem replay": pytest_command("test_sessionmem.py"),
    "vcrpy + pytest-recording replay": pytest_command("test_vcr.py", "--record-mode=none"),
}


def prepare(workdir: Path, count: int, *, keep_emulator: bool) -> tuple[str, str]:
    """Seed, write the tests, record both cassettes once; the emulator stops unless kept."""
    workdir.mkdir(parents=True, exist_ok=True)
    with emulator_process() as url:
        session_id, base = seed_session(url, count)
        write_tests(workdir, session_id, base, count)
        run_process(
            pytest_command(
                "test_sessionmem.py",
                "--sessionmem-record-mode=once",
                f"--sessionmem-base-url=eliza={base}",
            ),
            workdir,
        )
        run_process(pytest_command("test_vcr.py", "--record-mode=once"), workdir)
        scenario = str(Path(__file__).with_name("_scenario.py"))
        run_process([sys.executable, scenario, "floor-pages", str(workdir)], workdir)
        if keep_emulator:
            record_lines = record_table(workdir, base, count, RUNS[0])
            RECORD_LINES.extend(record_lines)
    return session_id, base


RUNS: list[int] = [9]
RECORD_LINES: list[str] = []


def replay_table(workdir: Path, count: int, runs: int) -> tuple[list[str], float]:
    series = alternate(REPLAY_CASES, runs, workdir)
    empty = series["empty pytest run"]
    ours = above(series["pytest-sessionmem replay"], empty)
    theirs = above(series["vcrpy + pytest-recording replay"], empty)
    floor = above(series["floor (MockTransport, same client)"], empty)
    bound = above(series["bound (parse once, build the messages, nothing else)"], empty)
    lines = [
        f"Replay of {count:,} ElizaOS messages in pages of 100, {runs} alternating runs, "
        "CPU time (user+sys) of each pytest process: median (min-max)",
        "",
        "| case | CPU | above the empty run | peak RSS |",
        "|---|---|---|---|",
    ]
    for name, values in series.items():
        extra = "" if values is empty else ms(above(values, empty))
        lines.append(f"| {name} | {ms(values.cpu)} | {extra} | {values.median_rss:.0f} MB |")
    lines += [
        "",
        f"- ours / vcrpy, above the empty run: **{cost_ratio(ours, theirs)}** (target <= 0.33)",
        f"- ours / floor, above the empty run: {cost_ratio(ours, floor)}",
        f"- bound / vcrpy, above the empty run: {cost_ratio(bound, theirs)} (no replay that "
        "returns pydantic models can go below this)",
        f"- peak RSS, ours / vcrpy: {series['pytest-sessionmem replay'].median_rss:.0f} MB / "
        f"{series['vcrpy + pytest-recording replay'].median_rss:.0f} MB (target: ours <= vcrpy's)",
    ]
    return lines, statistics.median(ours)


def record_table(workdir: Path, base: str, count: int, runs: int) -> list[str]:
    cases = {
        "live, no recorder": pytest_command("test_live.py"),
        "pytest-sessionmem recording": pytest_command(
            "test_sessionmem.py",
            "--sessionmem-record-mode=all",
            f"--sessionmem-base-url=eliza={base}",
        ),
        "vcrpy + pytest-recording recording": pytest_command("test_vcr.py", "--record-mode=all"),
    }
    series = alternate(cases, runs, workdir)
    live = series["live, no recorder"]
    ours = above(series["pytest-sessionmem recording"], live)
    theirs = above(series["vcrpy + pytest-recording recording"], live)
    lines = [
        f"Recording of {count:,} ElizaOS messages against the emulator (its own process), "
        f"{runs} alternating runs, CPU time of the pytest process: median (min-max)",
        "",
        "| case | CPU | above the live run |",
        "|---|---|---|",
    ]
    for name, values in series.items():
        extra = "" if values is live else ms(above(values, live))
        lines.append(f"| {name} | {ms(values.cpu)} | {extra} |")
    lines += [
        "",
        f"- ours / vcrpy, above the live run: **{cost_ratio(ours, theirs)}** (target <= 0.33)",
    ]
    return lines


def import_table(workdir: Path, runs: int) -> list[str]:
    trivial = workdir / "collect"
    trivial.mkdir(exist_ok=True)
    (trivial / "pytest.ini").write_text((workdir / "pytest.ini").read_text())
    body = "".join(f"def test_{n}() -> None:\n    pass\n\n\n" for n in range(500))
    (trivial / "test_trivial.py").write_text(body)
    cases = {
        "without the plugin (-p no:sessionmem)": pytest_command(
            "--collect-only", "-p", "no:sessionmem"
        ),
        "with the plugin": pytest_command("--collect-only"),
    }
    series = alternate(cases, runs, trivial)
    without, with_plugin = series.values()
    overhead = above(with_plugin, without)
    # A difference of tens of milliseconds between processes that scatter by hundreds: the
    # difference of the medians, with the range of the run-by-run differences.
    difference = statistics.median(with_plugin.cpu) - statistics.median(without.cpu)
    return [
        f"pytest --collect-only on 500 trivial tests, {runs} alternating runs",
        "",
        "| case | CPU |",
        "|---|---|",
        *(f"| {name} | {ms(values.cpu)} |" for name, values in series.items()),
        "",
        f"- plugin import overhead: **{difference * 1000:.0f} ms** (run by run "
        f"{min(overhead) * 1000:.0f} to {max(overhead) * 1000:.0f} ms; target <= 30 ms)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--skip-record", action="store_true")
    args = parser.parse_args()
    RUNS[0] = args.runs
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"machine: {machine()}\n")
    costs: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="sessionmem-bench-") as tmp:
        for index, count in enumerate(sizes):
            workdir = Path(tmp) / str(count)
            prepare(workdir, count, keep_emulator=index == 0 and not args.skip_record)
            lines, costs[count] = replay_table(workdir, count, args.runs)
            print("\n".join(lines), end="\n\n", flush=True)
            if RECORD_LINES:
                print("\n".join(RECORD_LINES), end="\n\n", flush=True)
                RECORD_LINES.clear()
        if len(sizes) > 1:
            first, last = sizes[0], sizes[-1]
            growth = costs[last] / costs[first]
            print(
                f"Growth of our replay cost above the empty run, {first:,} -> {last:,} messages: "
                f"**x{growth:.1f}** (linear: x{last / first:.0f}; target <= x11)\n"
            )
        # This difference is small beside the scatter of single runs: at least 31 runs.
        print("\n".join(import_table(Path(tmp) / str(sizes[0]), max(args.runs, 31))))


if __name__ == "__main__":
    main()
