"""The network transports a recording cassette sends through, which interception never catches.

:func:`~pytest_sessionmem.cassette.intercept.intercept_httpx` never touches them.

While an interception is active they send through the handler it replaced, so a request a
cassette sends on is not caught again and recorded twice; otherwise through httpx's current
handler, so anything else that wraps httpx's transports (a proxy shim, a test's rerouting)
still applies.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import httpx

__all__ = [
    "DirectAsyncHTTPTransport",
    "DirectHTTPTransport",
    "OnFirstUse",
    "bypass",
    "one_shot_async_transport",
    "one_shot_transport",
]

TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)

SyncHandler = Callable[[httpx.HTTPTransport, httpx.Request], httpx.Response]
AsyncHandler = Callable[[httpx.AsyncHTTPTransport, httpx.Request], Awaitable[httpx.Response]]

# The handlers an active interception replaced; None while none is active.
_replaced: tuple[SyncHandler, AsyncHandler] | None = None


def bypass(replaced: tuple[SyncHandler, AsyncHandler] | None) -> None:
    """Called by the interception: the handlers it replaced (or ``None`` once it ends)."""
    global _replaced
    _replaced = replaced


class DirectHTTPTransport(httpx.HTTPTransport):
    """An ``HTTPTransport`` that an active interception never catches."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if _replaced is not None:
            return _replaced[0](self, request)
        return super().handle_request(request)


class DirectAsyncHTTPTransport(httpx.AsyncHTTPTransport):
    """The async twin of :class:`DirectHTTPTransport`."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _replaced is not None:
            return await _replaced[1](self, request)
        return await super().handle_async_request(request)


# Recording needs no keep-alive: each connection closes after its response, so a test never
# ends with a pool of open sockets (a ResourceWarning under ``filterwarnings = error``), and
# the synchronous end of a test never has to await an async pool's shutdown.
_ONE_SHOT = httpx.Limits(max_keepalive_connections=0)


def one_shot_transport() -> DirectHTTPTransport:
    """A direct transport that closes each connection after its response."""
    return DirectHTTPTransport(limits=_ONE_SHOT)


def one_shot_async_transport() -> DirectAsyncHTTPTransport:
    """The async twin of :func:`one_shot_transport`."""
    return DirectAsyncHTTPTransport(limits=_ONE_SHOT)


class OnFirstUse(Generic[TransportT]):
    """The transport a session was given, else one it builds the first time it needs one.

    Calling it gives the transport; it is built once however many threads ask, and a session
    that only replays never builds one. The session closes what was built (:meth:`release`),
    never a transport it was given.
    """

    def __init__(self, given: TransportT | None, build: Callable[[], TransportT]) -> None:
        self._given: TransportT | None = given
        self._build: Callable[[], TransportT] = build
        self._built: TransportT | None = None
        self._lock = threading.Lock()

    def __call__(self) -> TransportT:
        if self._given is not None:
            return self._given
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built

    def release(self) -> TransportT | None:
        """The transport built so far (``None`` if none), for the caller to close."""
        with self._lock:
            built, self._built = self._built, None
        return built
