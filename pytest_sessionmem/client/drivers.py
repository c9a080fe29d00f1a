"""The two drivers: carry a :mod:`.steps` program out over httpx, sync or async."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from pytest_sessionmem.client.steps import Program, Reply, Sleep
from pytest_sessionmem.errors import CassetteError, ConfigError

__all__ = ["drive_async", "drive_sync"]

T = TypeVar("T")


def drive_sync(program: Program[T], client: httpx.Client, sleep: Callable[[float], None]) -> T:
    __tracebackhide__ = True  # a test's traceback starts at its own call
    reply: Reply = None
    while True:
        try:
            step = program.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(step, Sleep):
            sleep(step.seconds)
            reply = None
            continue
        try:
            reply = client.send(step.request)
        except httpx.TransportError as exc:
            reply = exc
        except (CassetteError, ConfigError) as exc:
            # Raised by the cassette transport deep inside httpx: those frames say nothing
            # to a test author, the message says it all.
            raise exc.with_traceback(None) from None


async def drive_async(
    program: Program[T], client: httpx.AsyncClient, sleep: Callable[[float], Awaitable[None]]
) -> T:
    __tracebackhide__ = True
    reply: Reply = None
    while True:
        try:
            step = program.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            reply = None
            continue
        try:
            reply = await client.send(step.request)
        except httpx.TransportError as exc:
            reply = exc
        except (CassetteError, ConfigError) as exc:
            raise exc.with_traceback(None) from None
