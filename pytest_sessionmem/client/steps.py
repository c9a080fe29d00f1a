"""A client call as a program of steps, so sync and async share every decision.

A provider adapter's operation (:mod:`pytest_sessionmem.providers.operation`) yields the
requests it needs. :func:`with_retries` wraps it into a *program* that yields two kinds
of step, :class:`Send` and :class:`Sleep`, and is sent back what a ``Send`` produced (a
response, or the ``httpx.TransportError`` it raised). Retries, waits and error mapping
all happen inside the program; the drivers in :mod:`.drivers` only carry steps out.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx

from pytest_sessionmem.client.error_mapping import ErrorMapper
from pytest_sessionmem.client.retry import RetryPolicy
from pytest_sessionmem.errors import ProviderError
from pytest_sessionmem.providers.operation import ACCEPT_STATUS_EXTENSION, Operation

__all__ = ["Program", "Send", "Sleep", "with_retries"]

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


Reply = httpx.Response | httpx.TransportError | None
Program = Generator[Send | Sleep, Reply, T]


def with_retries(
    operation: Operation[T],
    *,
    headers: Mapping[str, str],
    policy: RetryPolicy,
    errors: ErrorMapper,
) -> Program[T]:
    """Run ``operation``, sending each request it yields with retries; returns its result."""
    __tracebackhide__ = True  # a failed call's traceback ends at the client method
    response: httpx.Response | None = None
    while True:
        try:
            request = operation.send(response)  # type: ignore[arg-type]  # first send is None
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except ProviderError as error:  # a payload that did not fit
            raise errors.scrub(error) from error.__cause__
        for name, value in headers.items():
            request.headers.setdefault(name, value)
        response = yield from _send(request, policy, errors)


def _send(
    request: httpx.Request, policy: RetryPolicy, errors: ErrorMapper
) -> Program[httpx.Response]:
    __tracebackhide__ = True
    for attempt in itertools.count():
        reply = yield Send(request)
        if isinstance(reply, httpx.TransportError):
            delay = policy.delay_after_transport_error(request, reply, attempt)
            if delay is None:
                # The library's error stays reachable as ``.original``; chained, it would
                # print its own tracebacks (httpcore's, then httpx's) above ours.
                raise errors.unavailable(request, reply) from None
        else:
            assert reply is not None, "a driver answers every Send"
            delay = policy.delay_after_response(request, reply, attempt)
            if delay is None:
                # An operation may take some error statuses itself (a summary's "none yet" 404).
                accepted = request.extensions.get(ACCEPT_STATUS_EXTENSION, ())
                if reply.status_code >= 400 and reply.status_code not in accepted:
                    raise errors.error_for(request, reply)
                return reply
        # httpx read and closed the response already (no streaming), so nothing leaks.
        yield Sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
