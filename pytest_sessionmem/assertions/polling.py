"""Wait for eventually-consistent memory: poll live, replay instantly.

Memory services extract facts and summaries after the messages are written, so a test
polls until the memory has converged. :func:`wait_until` does that with a timeout and a
failure message that shows the last value seen and why it was not good enough.

Replay: while a test replays a cassette, the recorded answers are already final, so
sleeping would only waste time. Inside ``with virtual_time():`` (the plugin enters it for
replaying tests) no real sleep happens and the clock advances by ``interval`` per attempt,
so polls play back instantly and a timeout still fires after ``timeout / interval + 1``
attempts. Live, the time each fetch takes also counts, so a live run never makes more
attempts than its replay: recordings of a passing wait always replay.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pytest_sessionmem.errors import ConfigError

__all__ = ["VirtualClock", "WaitTimeout", "async_wait_until", "virtual_time", "wait_until"]

T = TypeVar("T")

_LAST_VALUE_LIMIT: Final = 500
# Float sums of intervals (0.1 + 0.1 + ...) drift by a few ulps; this keeps the attempt count exact.
_EPSILON: Final = 1e-9


class WaitTimeout(AssertionError):
    """``wait_until`` ran out of time; the message has attempts, elapsed, last value and failure."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        elapsed: float,
        last_value: Any,
        last_failure: str | None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.elapsed = elapsed
        self.last_value = last_value
        self.last_failure = last_failure


@dataclass
class VirtualClock:
    """Time that only moves when someone sleeps."""

    now: float = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.now += seconds


_virtual_clock: ContextVar[VirtualClock | None] = ContextVar(
    "sessionmem_virtual_clock", default=None
)


@contextmanager
def virtual_time() -> Iterator[VirtualClock]:
    """Within this block, waits take no real time (the plugin uses it while replaying)."""
    token = _virtual_clock.set(VirtualClock())
    try:
        yield _virtual_clock.get() or VirtualClock()
    finally:
        _virtual_clock.reset(token)


def _check(predicate: Callable[[Any], Any] | None, value: Any) -> tuple[bool, str | None]:
    """Is ``value`` good enough? A predicate's AssertionError means "not yet", with a reason."""
    if predicate is None:
        return bool(value), None if value else "the value is falsy"
    try:
        result = predicate(value)
    except AssertionError as exc:
        return False, str(exc) or type(exc).__name__
    return _verdict(result)


def _verdict(result: Any) -> tuple[bool, str | None]:
    # An assertion-style predicate (``lambda m: assert_memory(m, ...)``) returns None when
    # it holds: returning without raising is success. Anything else counts by its truth.
    if result is None or result:
        return True, None
    return False, f"predicate returned {result!r}"


class _Attempts:
    """Bookkeeping shared by the sync and async loops."""

    def __init__(self, timeout: float, interval: float, clock: Callable[[], float]) -> None:
        if timeout < 0 or interval <= 0:
            raise ConfigError(
                "wait_until needs timeout >= 0 and interval > 0, "
                f"got timeout={timeout}, interval={interval}."
            )
        self.timeout, self.interval, self.clock = timeout, interval, clock
        self.start = clock()
        self.count = 0
        self.last_value: Any = None
        self.last_failure: str | None = None

    def record(self, value: Any, failure: str | None) -> None:
        self.count += 1
        self.last_value, self.last_failure = value, failure

    def exhausted(self) -> bool:
        return self.clock() - self.start + self.interval > self.timeout + _EPSILON

    def timeout_error(self, message: str | None) -> WaitTimeout:
        elapsed = self.clock() - self.start
        shown = repr(self.last_value)
        if len(shown) > _LAST_VALUE_LIMIT:
            shown = shown[: _LAST_VALUE_LIMIT - 1] + f"… ({len(shown)} chars)"
        lines = [
            f"wait_until gave up after {self.count} attempt{'s' if self.count != 1 else ''} "
            f"in {elapsed:.1f}s (timeout={self.timeout}, interval={self.interval})"
        ]
        if message:
            lines.append(message)
        lines.append(f"last value: {shown}")
        if self.last_failure:
            lines.append("last failure:")
            lines.extend(f"  {line}" for line in self.last_failure.splitlines())
        return WaitTimeout(
            "\n".join(lines),
            attempts=self.count,
            elapsed=elapsed,
            last_value=self.last_value,
            last_failure=self.last_failure,
        )


def wait_until(
    fetch: Callable[[], T],
    predicate: Callable[[T], Any] | None = None,
    *,
    timeout: float = 10.0,
    interval: float = 0.5,
    message: str | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> T:
    """Call ``fetch()`` until ``predicate(value)`` holds (or the value itself is truthy); return it.

    The predicate holds when it returns a truthy value, or returns ``None`` without raising:
    an assertion-style predicate such as ``lambda m: assert_memory(m, ...)`` holds once its
    assertion passes. ``AssertionError`` means "not yet", and the last such message is shown
    on timeout; ``False`` (or another falsy value except ``None``) also means "not yet". Any
    other exception, from ``fetch`` or the predicate, propagates at once.
    """
    __tracebackhide__ = True
    virtual = _virtual_clock.get()
    sleep = sleep or (virtual.sleep if virtual else time.sleep)
    attempts = _Attempts(timeout, interval, clock or (virtual.clock if virtual else time.monotonic))
    while True:
        value = fetch()
        ok, failure = _check(predicate, value)
        attempts.record(value, failure)
        if ok:
            return value
        if attempts.exhausted():
            raise attempts.timeout_error(message)
        sleep(interval)


async def async_wait_until(
    fetch: Callable[[], Awaitable[T]],
    predicate: Callable[[T], Any] | None = None,
    *,
    timeout: float = 10.0,
    interval: float = 0.5,
    message: str | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], float] | None = None,
) -> T:
    """:func:`wait_until` for an async ``fetch``; the predicate may be sync or async.

    It sleeps with the async library that is running (asyncio or trio, through anyio).
    """
    __tracebackhide__ = True
    virtual = _virtual_clock.get()
    if sleep is None:
        if virtual is not None:
            sleep = virtual.async_sleep
        else:
            import anyio  # httpx depends on it; imported only by a live async wait

            sleep = anyio.sleep
    attempts = _Attempts(timeout, interval, clock or (virtual.clock if virtual else time.monotonic))
    while True:
        value = await fetch()
        ok, failure = await _check_async(predicate, value)
        attempts.record(value, failure)
        if ok:
            return value
        if attempts.exhausted():
            raise attempts.timeout_error(message)
        await sleep(interval)


async def _check_async(
    predicate: Callable[[Any], Any] | None, value: Any
) -> tuple[bool, str | None]:
    if predicate is None:
        return _check(None, value)
    try:
        result = predicate(value)
        if inspect.isawaitable(result):
            result = await result
    except AssertionError as exc:
        return False, str(exc) or type(exc).__name__
    return _verdict(result)
