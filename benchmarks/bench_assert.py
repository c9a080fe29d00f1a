"""assert_transcript against a plain DeepDiff on two 10,000-message transcripts.

Run: ``python benchmarks/bench_assert.py [--repeat N]``. Prints medians and the speed-up.
Both sides compare the same data: DeepDiff gets ``[m.model_dump(exclude={"raw"}) ...]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from deepdiff import DeepDiff

from pytest_sessionmem.assertions import assert_transcript
from pytest_sessionmem.models import Message, Role, Transcript

TURNS = 10_000


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


def median_seconds(run: Callable[[], str], repeat: int) -> tuple[float, str]:
    times, result = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    actual = build(TURNS)
    cases = {"equal": build(TURNS), "one differs": one_changed(actual, 7_345)}
    print(f"{TURNS:,} messages per transcript, median of {args.repeat} runs\n")
    print(f"{'case':<12} {'assert_transcript':>18} {'DeepDiff':>10} {'speed-up':>9}  reported")
    for name, expected in cases.items():
        ours_s, ours_said = median_seconds(lambda e=expected: ours(actual, e), args.repeat)
        deep_s, deep_said = median_seconds(lambda e=expected: deepdiff(actual, e), args.repeat)
        print(
            f"{name:<12} {ours_s * 1000:>15.1f} ms {deep_s * 1000:>7.0f} ms {deep_s / ours_s:>8.1f}x"
            f"  ours: {ours_said!r}; DeepDiff: {deep_said!r}"
        )


if __name__ == "__main__":
    main()
