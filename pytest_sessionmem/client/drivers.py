"""The two drivers: carry a :mod:`.steps` program out over httpx, sync or async."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

import httpx

from pytest_sessionmem.client.steps import Program, Reply, Send, Sleep
from pytest_sessionmem.errors import CassetteError, ConfigError

__all__ = ["drive_async", "drive_sync"]

T = TypeVar("T")

# Raised by the cassette transport deep inside httpx: those frames say nothing to a test
# author, the message says it all, so the drivers raise these without their traceback.
_BARE_ERRORS = (CassetteError, ConfigError)


class _Steps(Generic[T]):
    """A program's steps, for a driver to carry out: it sets ``reply`` after each ``Send``."""

    result: T
    """What the program returned, once the steps are done."""

    def __init__(self, program: Program[T]) -> None:
        self._program = program
        self.reply: Reply = None

    def __iter__(self) -> Iterator[Send | Sleep]:
        __tracebackhide__ = True
        while True:
            try:
                step = self._program.send(self.reply)
            except StopIteration as stop:
                self.result = stop.value
                return
            self.reply = None
            yield step


def drive_sync(program: Program[T], client: httpx.Client, sleep: Callable[[float], None]) -> T:
    __tracebackhide__ = True  # a test's traceback starts at its own call
    steps = _Steps(program)
    for step in steps:
        if isinstance(step, Sleep):
            sleep(step.seconds)
            continue
        try:
            steps.reply = client.send(step.request)
        except httpx.TransportError as exc:
            steps.reply = exc
        except _BARE_ERRORS as exc:
            raise exc.with_traceback(None) from None
    return steps.result


async def drive_async(
    program: Program[T], client: httpx.AsyncClient, sleep: Callable[[float], Awaitable[None]]
) -> T:
    __tracebackhide__ = True
    steps = _Steps(program)
    for step in steps:
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            continue
        try:
            steps.reply = await client.send(step.request)
        except httpx.TransportError as exc:
            steps.reply = exc
        except _BARE_ERRORS as exc:
            raise exc.with_traceback(None) from None
    return steps.result
