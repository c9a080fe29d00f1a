"""wait_until / async_wait_until: success, timeout message, predicates, virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from pytest_sessionmem.assertions import assert_memory
from pytest_sessionmem.assertions.polling import (
    WaitTimeout,
    async_wait_until,
    virtual_time,
    wait_until,
)
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Fact, Memory


class FakeTime:
    """Injected clock and sleep: every sleep is recorded and moves the clock."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answers(*values: object) -> Callable[[], object]:
    stream: Iterator[object] = iter(values)
    return lambda: next(stream)


def test_returns_the_first_truthy_value() -> None:
    fake = FakeTime()
    value = wait_until(
        answers(None, [], ["fact"]), sleep=fake.sleep, clock=fake.clock, interval=0.5
    )
    assert value == ["fact"]
    assert fake.sleeps == [0.5, 0.5]


def test_predicate_decides_and_its_assertion_message_is_reported() -> None:
    fake = FakeTime()

    def has_three(value: list[int]) -> bool:
        assert len(value) == 3, f"only {len(value)} facts so far"
        return True

    with pytest.raises(WaitTimeout) as info:
        wait_until(
            lambda: [1, 2], has_three, timeout=2.0, interval=0.5, sleep=fake.sleep, clock=fake.clock
        )
    error = info.value
    assert error.attempts == 5  # t = 0, 0.5, 1.0, 1.5, 2.0
    # pytest's assertion rewriting adds its own explanation after our message line
    assert str(error).splitlines()[:4] == [
        "wait_until gave up after 5 attempts in 2.0s (timeout=2.0, interval=0.5)",
        "last value: [1, 2]",
        "last failure:",
        "  only 2 facts so far",
    ]
    assert error.last_failure is not None and error.last_failure.startswith("only 2 facts so far")
    assert isinstance(error, AssertionError)


def test_falsy_predicate_result_and_custom_message() -> None:
    fake = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        wait_until(
            lambda: 1,
            lambda v: v > 5,
            timeout=0,
            message="facts never arrived",
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert str(info.value).splitlines() == [
        "wait_until gave up after 1 attempt in 0.0s (timeout=0, interval=0.5)",
        "facts never arrived",
        "last value: 1",
        "last failure:",
        "  predicate returned False",
    ]


def test_last_value_repr_is_capped() -> None:
    fake = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        wait_until(
            lambda: "x" * 5000, lambda v: False, timeout=0, sleep=fake.sleep, clock=fake.clock
        )
    line = str(info.value).splitlines()[1]
    assert len(line) < 600 and line.endswith("(5002 chars)")


def test_other_exceptions_propagate_at_once() -> None:
    """ "At once": on the first call, with no wait and no retry."""
    calls: list[int] = []
    fake = FakeTime()

    def broken() -> int:
        calls.append(1)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        wait_until(broken, timeout=30, sleep=fake.sleep, clock=fake.clock)
    assert calls == [1]
    assert fake.sleeps == []  # no wait before it propagated


def test_bad_timing_arguments() -> None:
    with pytest.raises(ConfigError, match="interval > 0"):
        wait_until(lambda: 1, interval=0)


def test_virtual_time_never_sleeps_and_keeps_the_attempt_count() -> None:
    calls: list[int] = []

    def fetch() -> int:
        calls.append(1)
        return 0

    with virtual_time() as clock, pytest.raises(WaitTimeout) as info:
        wait_until(fetch, timeout=10.0, interval=0.5)
    assert info.value.attempts == len(calls) == 21
    assert clock.now == pytest.approx(10.0)
    assert "in 10.0s" in str(info.value)


def test_virtual_time_with_inexact_intervals_counts_exactly() -> None:
    with virtual_time(), pytest.raises(WaitTimeout) as info:
        wait_until(lambda: 0, timeout=1.0, interval=0.1)
    assert info.value.attempts == 11


def test_virtual_time_is_scoped_to_the_block() -> None:
    fake = FakeTime()
    with virtual_time():
        pass
    wait_until(answers(0, 1), sleep=fake.sleep, clock=fake.clock)
    assert fake.sleeps == [0.5]  # outside the block the injected (real) sleep is used


def test_async_wait_until_with_sync_and_async_predicates() -> None:
    async def scenario() -> None:
        values = iter([0, 1, 2, 3])

        async def fetch() -> int:
            return next(values)

        async def at_least_two(value: int) -> bool:
            return value >= 2

        with virtual_time():
            assert await async_wait_until(fetch, at_least_two) == 2
            assert await async_wait_until(fetch) == 3

            async def never() -> int:
                return 0

            def check(value: int) -> None:
                assert value, "still zero"

            with pytest.raises(WaitTimeout, match="still zero") as info:
                await async_wait_until(never, check, timeout=1.0, interval=0.25)
            assert info.value.attempts == 5

    asyncio.run(scenario())


def test_async_injected_sleep() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async def scenario() -> int:
        values = iter([0, 0, 7])

        async def fetch() -> int:
            return next(values)

        return await async_wait_until(fetch, sleep=fake_sleep, interval=0.2)

    assert asyncio.run(scenario()) == 7
    assert slept == [0.2, 0.2]


# -- assertion-style predicates and the running async library ---------------------------


def _facts_memory(*facts: str) -> Memory:
    return Memory(facts=tuple(Fact(id=f"f{i}", content=text) for i, text in enumerate(facts)))


def test_an_assertion_style_predicate_holds_once_it_stops_raising() -> None:
    # The documented pattern: assert_memory returns None when the memory is right.
    fake = FakeTime()
    memories = answers(_facts_memory(), _facts_memory("Alice lives in Paris"))
    memory = wait_until(
        memories,
        lambda m: assert_memory(m, facts_include=["Alice lives in Paris"]),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert [f.content for f in memory.facts] == ["Alice lives in Paris"]
    assert fake.sleeps == [0.5]  # one "not yet", then done


def test_an_async_assertion_style_predicate_holds_once_it_stops_raising() -> None:
    async def fetch() -> Memory:
        return _facts_memory("Alice lives in Paris")

    async def check(memory: Memory) -> None:
        assert_memory(memory, facts_include=["Alice lives in Paris"])

    memory = asyncio.run(async_wait_until(fetch, check, timeout=1, interval=0.01))
    assert len(memory.facts) == 1


def test_async_wait_until_sleeps_under_trio() -> None:
    import trio

    seen: list[int] = []

    async def fetch() -> int:
        seen.append(len(seen))
        return len(seen)

    async def main() -> int:
        return await async_wait_until(fetch, lambda n: n >= 3, timeout=5, interval=0.001)

    assert trio.run(main) == 3
    assert seen == [0, 1, 2]
