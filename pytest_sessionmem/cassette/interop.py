"""Other httpx mocking libraries active in the same test: respx and pytest-httpx.

A response such a mock produces is not what the service said, so it must never be written
into a cassette. While a cassette records, :func:`refuse_active_mocks` runs before each
live request and raises :class:`~pytest_sessionmem.errors.ConfigError` naming the library.
Nothing here imports either library: it looks at what is already loaded and patched.
"""

from __future__ import annotations

import sys

import httpx

from pytest_sessionmem.errors import ConfigError

__all__ = ["active_http_mocks", "note_wrapped", "refuse_active_mocks"]

# The httpx methods an active ``intercept_httpx`` wraps: requests it sends on go through them.
_wrapped: list[object] = []


def note_wrapped(*handlers: object) -> None:
    """Called by ``intercept_httpx`` on entry (with the methods it wraps) and exit (none)."""
    _wrapped[:] = handlers


def active_http_mocks() -> list[str]:
    """The mocking libraries that are patching httpx right now: ``respx``, ``pytest-httpx``."""
    found: list[str] = []
    mocks = sys.modules.get("respx.mocks")
    registry = getattr(getattr(mocks, "Mocker", None), "registry", {}) if mocks else {}
    if any(getattr(mocker, "_patches", None) for mocker in registry.values()):
        found.append("respx")
    handlers = [
        httpx.HTTPTransport.handle_request,
        httpx.AsyncHTTPTransport.handle_async_request,
        *_wrapped,  # what an active intercept_httpx sends through
    ]
    if any(
        (getattr(handler, "__module__", "") or "").split(".")[0] == "pytest_httpx"
        for handler in handlers
    ):
        found.append("pytest-httpx")
    return found


def refuse_active_mocks(cassette: str, request: httpx.Request) -> None:
    """Raise if a mock could answer ``request`` while ``cassette`` records it."""
    __tracebackhide__ = True
    active = active_http_mocks()
    if not active:
        return
    library = " and ".join(active)
    fixture = "the httpx_mock fixture" if active == ["pytest-httpx"] else "respx.mock"
    raise ConfigError(
        f"{library} is mocking httpx in this test while it records {request.method} "
        f"{request.url.copy_with(query=None)} into {cassette}: a mocked response would be "
        "written into the cassette as if the service had sent it, so nothing was sent or "
        f"recorded. Record this test without {fixture} (its cassette already stands in for "
        "the service), or move the mocked calls into a test that does not record."
    )
