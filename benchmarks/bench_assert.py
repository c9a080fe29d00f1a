"""assert_transcript against a plain DeepDiff on two 10,000- and 100,000-message transcripts.

Run: ``python benchmarks/bench_assert.py [--repeat N] [--sizes 10000,100000]``. Prints CPU
time medians (min-max) of alternating runs, in this one process, and the speed-up.
Both sides compare the same data: DeepDiff gets ``[m.model_dump(exclude={"raw"}) ...]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from deepdiff import DeepDiff

from pytest_sessionmem.assertions import assert_transcript
from pytest_sessionmem.models import Message, Role, Transcript


def build(turns: int) -> Transcript:
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    messages = tuple(
        Message(
            id=f"msg-{i}",
            role=Role.USER if i % 2 == 0 else Role.ASSISTANT,
            content=f"Turn {i}: the flight to Lisbon leaves at {i % 24:02d}:{i % 60:02d}, gate B{i % 40}.",
            name="alice" if i % 2 == 0 else "support",
            created_at=start + timedelta(seconds=i),
            metadata={"lang": "en", "seq": i},
        )
        for i in range(turns)
    )
    return Transcript(messages=messages, provider="zep")


def one_changed(transcript: Transcript, index: int) -> Transcript:
    messages = list(transcript.messages)
    messages[index] = messages[index].model_copy(update={"content": messages[index].content + "!"})
    return Transcript(messages=tuple(messages), provider=transcript.provider)


def ours(actual: Transcript, expected: Transcript) -> str:
    try:
        assert_transcript(actual, expected)
    except AssertionError as exc:
        return str(exc).splitlines()[1]
    return "equal"


def deepdiff(actual: Transcript, expected: Transcript) -> str:
    left = [m.model_dump(exclude={"raw"}) for m in expected]
    right = [m.model_dump(exclude={"raw"}) for m in actual]
    diff = DeepDiff(left, right)
    return next(iter(diff.get("values_changed", {"equal": None})))


def cpu_seconds(run: Callable[[], str]) -> tuple[float, str]:
    started = time.process_time()  # user + system CPU of this process
    result = run()
    return time.process_time() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}\n")
    print(f"CPU time, median (min-max) of {args.repeat} alternating runs per case\n")
    print("| turns | case | assert_transcript | DeepDiff | speed-up | reported |")
    print("|---|---|---|---|---|---|")
    for turns in (int(size) for size in args.sizes.split(",")):
        actual = build(turns)
        cases = {"equal": build(turns), "one differs": one_changed(actual, turns * 7 // 10)}
        for name, expected in cases.items():
            ours_t: list[float] = []
            deep_t: list[float] = []
            ours_said = deep_said = ""
            for _ in range(args.repeat):
                took, ours_said = cpu_seconds(lambda a=actual, e=expected: ours(a, e))
                ours_t.append(took)
                took, deep_said = cpu_seconds(lambda a=actual, e=expected: deepdiff(a, e))
                deep_t.append(took)
            ratios = [d / o for d, o in zip(deep_t, ours_t, strict=True)]
            print(
                f"| {turns:,} | {name} | {span(ours_t)} | {span(deep_t)} "
                f"| **{statistics.median(ratios):.0f}x** ({min(ratios):.0f}-{max(ratios):.0f}) "
                f"| ours `{ours_said}`; DeepDiff `{deep_said}` |",
                flush=True,
            )


def span(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:.0f} ms "
        f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
    )


if __name__ == "__main__":
    main()
