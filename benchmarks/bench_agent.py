"""Whole-agent replay against vcrpy + pytest-recording; capturing all traffic or the provider's.

Run by hand (not part of the test suite)::

    python benchmarks/bench_agent.py [--runs 15] [--messages 10000] [--skip-capture]

1. Replay of the agent example's three tests (``examples/agent``: a support agent on the real
   ``openai`` and ``zep-cloud`` SDKs in their default set-up), ours as shipped, and the same
   agent code making the same requests under vcrpy + pytest-recording (``_scenario.py``).
2. Replay of one chat completion streamed as 1,000 ``data: {chunk}`` events and
   ``data: [DONE]``, consumed through the real openai SDK with ``stream=True``: ours (a test
   that uses ``recorded_session``, so every request goes through its cassette) and vcrpy's.
   The floor: the same stream answered by ``httpx2.MockTransport`` handed to ``OpenAI``,
   no recorder at all. Both tables are one alternating run; each case is CPU time above an
   empty pytest run, and also above an empty run that only imports the two SDKs (what
   neither replay can skip).
3. ``capture="all"`` (the default) against ``capture="provider"`` on ``bench_replay.py``'s
   replay of N ElizaOS messages in pages of 100: what capturing every request costs a test
   that only talks to its memory provider.

Recording happens once, before timing: ours against the embedded emulator and the example's
stand-in LLM, vcrpy's against ``sessionmem serve`` and the same stand-in, the stream against a
streaming stand-in on loopback. No server runs while replays are timed.

All cases of a table run alternately, whole ``python -m pytest`` processes with the same
plugins installed; figures are CPU time (user + system) of each process, medians of ``--runs``
runs with min-max; a ratio is that of the medians, with the run-by-run range (``_common.py``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import tempfile
from pathlib import Path

from _common import above, alternate, cost_ratio, machine, ms, pytest_command, run_process
from _scenario import (
    STREAM_EVENTS,
    emulator_process,
    seed_session,
    stream_server,
    write_agent_tests,
    write_tests,
)

AGENT_CASES = {
    "empty pytest run": pytest_command("test_empty.py"),
    "empty run importing openai and zep-cloud": pytest_command("test_sdk_import.py"),
    "agent, pytest-sessionmem replay": pytest_command("ours"),
    "agent, vcrpy + pytest-recording replay": pytest_command("vcr", "--record-mode=none"),
    "stream, floor (httpx2.MockTransport, no recorder)": pytest_command("test_stream_floor.py"),
    "stream, pytest-sessionmem replay": pytest_command("test_stream_sessionmem.py"),
    "stream, vcrpy + pytest-recording replay": pytest_command(
        "test_stream_vcr.py", "--record-mode=none"
    ),
}

# What vcrpy's side uses when vcrpy cannot see the traffic of openai's default client
# (httpx2 in openai 3.x): openai accepts an httpx client, which vcrpy patches.
VCR_FALLBACK_CLIENT = "OpenAI(http_client=httpx.Client())"


def _llm_requests_in(cassettes: Path) -> int:
    return sum(path.read_text().count("/chat/completions") for path in cassettes.rglob("*.yaml"))


def prepare_agent(workdir: Path) -> str:
    """Write both sides, record them once; the note on how vcrpy's OpenAI client is built."""
    workdir.mkdir(parents=True, exist_ok=True)
    with emulator_process() as emulator, stream_server() as llm:
        record_ours = ("--sessionmem-record-mode=once", "--sessionmem-emulator")
        # vcrpy leaves the SDKs' pooled connections open when a test ends.
        record_vcr = ("--record-mode=all", "-W", "ignore::pytest.PytestUnraisableExceptionWarning")
        for client in ("OpenAI()", VCR_FALLBACK_CLIENT):
            write_agent_tests(workdir, emulator, llm, vcr_openai=client)
            run_process(pytest_command("vcr", "test_stream_vcr.py", *record_vcr), workdir)
            # Three agent tests with one or two LLM calls each, and the stream.
            if _llm_requests_in(workdir / "vcr") + _llm_requests_in(workdir / "cassettes") >= 5:
                break
        else:
            raise SystemExit("vcrpy recorded no LLM request, even through an httpx client")
        run_process(pytest_command("ours", "test_stream_sessionmem.py", *record_ours), workdir)
    if client == "OpenAI()":
        return (
            f"vcrpy {importlib.metadata.version('vcrpy')} sees the traffic of openai "
            f"{importlib.metadata.version('openai')}'s default client (httpx2): both sides "
            "run the example's own `OpenAI()`"
        )
    return (
        f"vcrpy {importlib.metadata.version('vcrpy')} does not see the traffic of openai "
        f"{importlib.metadata.version('openai')}'s default client (httpx2); its side builds "
        f"`{VCR_FALLBACK_CLIENT}`, which vcrpy patches; ours runs the example's own `OpenAI()`"
    )


def agent_table(workdir: Path, runs: int, note: str) -> list[str]:
    series = alternate(AGENT_CASES, runs, workdir)
    empty = series["empty pytest run"]
    sdk = series["empty run importing openai and zep-cloud"]
    lines = [
        "Replay of the agent example's three tests (openai "
        f"{importlib.metadata.version('openai')}, zep-cloud "
        f"{importlib.metadata.version('zep-cloud')}) and of a chat completion streamed as "
        f"{STREAM_EVENTS:,} events, {runs} alternating runs, CPU time (user+sys) of each "
        "pytest process: median (min-max)",
        "",
        "| case | CPU | above the empty run | above the SDK imports | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for name, values in series.items():
        over_empty = "" if values is empty else ms(above(values, empty))
        over_sdk = "" if values in (empty, sdk) else ms(above(values, sdk))
        lines.append(
            f"| {name} | {ms(values.cpu)} | {over_empty} | {over_sdk} | "
            f"{values.median_rss:.0f} MB |"
        )
    lines.append("")
    for what in ("agent", "stream"):
        ours = series[f"{what}, pytest-sessionmem replay"]
        theirs = series[f"{what}, vcrpy + pytest-recording replay"]
        lines += [
            f"- {what}, ours / vcrpy, above the empty run: "
            f"**{cost_ratio(above(ours, empty), above(theirs, empty))}** (target <= 0.33)",
            f"- {what}, ours / vcrpy, above the SDK imports: "
            f"{cost_ratio(above(ours, sdk), above(theirs, sdk))}",
        ]
    floor = above(series["stream, floor (httpx2.MockTransport, no recorder)"], empty)
    ours = above(series["stream, pytest-sessionmem replay"], empty)
    theirs = above(series["stream, vcrpy + pytest-recording replay"], empty)
    lines += [
        f"- stream, ours / floor, above the empty run: {cost_ratio(ours, floor)}",
        f"- stream, floor / vcrpy, above the empty run: {cost_ratio(floor, theirs)} (no replay "
        "through the openai SDK can go below this)",
        f"- {note}",
        "- vcrpy matches on its defaults (method, scheme, host, port, path, query); ours also "
        "compares the JSON body of every request to a host other than the provider's",
    ]
    return lines


def capture_table(workdir: Path, count: int, runs: int) -> list[str]:
    """``bench_replay.py``'s replay case, capturing every request or only the provider's."""
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
    cases = {
        "empty pytest run": pytest_command("test_empty.py"),
        'replay, capture="all"': pytest_command("test_sessionmem.py", "--sessionmem-capture=all"),
        'replay, capture="provider"': pytest_command(
            "test_sessionmem.py", "--sessionmem-capture=provider"
        ),
    }
    series = alternate(cases, runs, workdir)
    empty = series["empty pytest run"]
    capture_all = series['replay, capture="all"']
    provider = series['replay, capture="provider"']
    lines = [
        f"Replay of {count:,} ElizaOS messages in pages of 100 (bench_replay.py's case), "
        f"{runs} alternating runs, CPU time (user+sys) of each pytest process: median (min-max)",
        "",
        "| case | CPU | above the empty run |",
        "|---|---|---|",
    ]
    for name, values in series.items():
        extra = "" if values is empty else ms(above(values, empty))
        lines.append(f"| {name} | {ms(values.cpu)} | {extra} |")
    lines += [
        "",
        '- capture="all" / capture="provider", above the empty run: '
        f"**{cost_ratio(above(capture_all, empty), above(provider, empty))}** (target <= 1.05)",
        '- capture="all" / capture="provider", whole process: '
        f"{cost_ratio(capture_all.cpu, provider.cpu)}",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--skip-capture", action="store_true")
    parser.add_argument("--skip-agent", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="sessionmem-bench-") as tmp:
        if not args.skip_agent:
            note = prepare_agent(Path(tmp) / "agent")
            lines = agent_table(Path(tmp) / "agent", args.runs, note)
            print("\n".join(lines), end="\n\n", flush=True)
        if not args.skip_capture:
            lines = capture_table(Path(tmp) / "capture", args.messages, args.runs)
            print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
