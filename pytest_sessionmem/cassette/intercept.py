"""Opt-in fallback for SDKs that build their own httpx client (the Meibel SDK does).

The normal path hands a cassette transport to the client. An SDK that takes no
``httpx_client`` cannot be given one, so :func:`intercept_httpx` temporarily replaces
``httpx.HTTPTransport.handle_request`` and ``httpx.AsyncHTTPTransport.handle_async_request``:

- a request whose URL lies under ``base_url`` (same scheme, host and port, path under the
  base path) goes through the cassette session;
- every other request goes to the method that was in place before, untouched;
- while recording, the cassette's network side is that previous method called on the SDK's
  own transport instance, so the SDK's pool and timeouts still apply and the patched
  method never calls itself.

The originals come back on exit, also when the block raises. One interception at a time:
nesting (or using it from two threads) raises :class:`ConfigError`. Besides
:mod:`~pytest_sessionmem.cassette.network_guard`, this is the only module in the package that
patches anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from pytest_sessionmem.cassette import direct, interop
from pytest_sessionmem.cassette.direct import (
    AsyncHandler,
    DirectAsyncHTTPTransport,
    DirectHTTPTransport,
    SyncHandler,
)
from pytest_sessionmem.errors import ConfigError

if TYPE_CHECKING:
    from pytest_sessionmem.cassette.recorder import CassetteSession

__all__ = ["DirectAsyncHTTPTransport", "DirectHTTPTransport", "intercept_httpx"]

_guard = threading.Lock()


class _PreviousSync(httpx.BaseTransport):
    """The pre-interception method, bound to the SDK's own transport instance."""

    def __init__(self, instance: httpx.HTTPTransport, handler: SyncHandler) -> None:
        self._instance = instance
        self._handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._handler(self._instance, request)


class _PreviousAsync(httpx.AsyncBaseTransport):
    def __init__(self, instance: httpx.AsyncHTTPTransport, handler: AsyncHandler) -> None:
        self._instance = instance
        self._handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._handler(self._instance, request)


def _under(base: httpx.URL, url: httpx.URL) -> bool:
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return False
    prefix = base.path.rstrip("/")
    return not prefix or url.path == prefix or url.path.startswith(prefix + "/")


def _unavailable() -> httpx.AsyncBaseTransport:
    raise ConfigError("A synchronous httpx transport cannot make an asynchronous request.")


def _unavailable_sync() -> httpx.BaseTransport:
    raise ConfigError("An asynchronous httpx transport cannot make a synchronous request.")


@contextmanager
def intercept_httpx(session: CassetteSession, *, base_url: str) -> Iterator[None]:
    """Route httpx requests under ``base_url`` through ``session`` for the duration of the block."""
    if not _guard.acquire(blocking=False):
        raise ConfigError(
            "intercept_httpx() is already active; it patches httpx process-wide, so it cannot "
            "be nested. Intercept once, with one cassette session, per test."
        )
    base = httpx.URL(base_url)
    previous_sync: SyncHandler = httpx.HTTPTransport.handle_request
    previous_async: AsyncHandler = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if not _under(base, request.url):
            return previous_sync(self, request)
        transport = session.make_transport(
            real=lambda: _PreviousSync(self, previous_sync), real_async=_unavailable
        )
        return transport.handle_request(request)

    async def handle_async_request(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        if not _under(base, request.url):
            return await previous_async(self, request)
        transport = session.make_transport(
            real=_unavailable_sync, real_async=lambda: _PreviousAsync(self, previous_async)
        )
        return await transport.handle_async_request(request)

    # What this interception sends through (an active mock, say) stays visible to the
    # check that keeps mocked answers out of cassettes.
    interop.note_wrapped(previous_sync, previous_async)
    direct.bypass((previous_sync, previous_async))
    try:
        httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]
        yield
    finally:
        httpx.HTTPTransport.handle_request = previous_sync  # type: ignore[method-assign,assignment]
        httpx.AsyncHTTPTransport.handle_async_request = previous_async  # type: ignore[method-assign,assignment]
        interop.note_wrapped()
        direct.bypass(None)
        _guard.release()
