"""Network transports that :func:`~pytest_sessionmem.cassette.intercept.intercept_httpx`
never touches, for a recording cassette's own requests to the real service.

Their handlers are httpx's own, bound when this module loads (the recorder imports it long
before any test can start an interception), so a request a cassette sends on is not caught
by an active interception and recorded a second time.
"""

from __future__ import annotations

import httpx

__all__ = [
    "DirectAsyncHTTPTransport",
    "DirectHTTPTransport",
    "one_shot_async_transport",
    "one_shot_transport",
]


class DirectHTTPTransport(httpx.HTTPTransport):
    """An ``HTTPTransport`` whose ``handle_request`` is httpx's own, never a patched one."""

    handle_request = httpx.HTTPTransport.handle_request


class DirectAsyncHTTPTransport(httpx.AsyncHTTPTransport):
    """The async twin of :class:`DirectHTTPTransport`."""

    handle_async_request = httpx.AsyncHTTPTransport.handle_async_request


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
