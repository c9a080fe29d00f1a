"""Conversion between httpx objects and the stored request/response form.

Capturing keeps every header; :class:`~pytest_sessionmem.cassette.scrub.Scrubber` decides
what survives. A request to the provider's host has its path made relative to the base URL
here, so its host, scheme and port never reach the cassette or the matcher; a request to
any other host keeps them as its ``origin``.
"""

from __future__ import annotations

import httpx

from pytest_sessionmem.cassette.schema import Body, RecordedRequest, RecordedResponse
from pytest_sessionmem.providers.operation import DECODED_JSON_EXTENSION

__all__ = [
    "capture_request",
    "capture_response",
    "origin_of",
    "relative_path",
    "to_httpx_response",
]


def _base_path(base_url: httpx.URL) -> str:
    return base_url.path.rstrip("/")


def relative_path(url: httpx.URL, base_url: httpx.URL) -> str:
    """``/zep/api/v2/sessions/s1`` under base ``.../zep/api/v2`` is ``/sessions/s1``.

    A request outside the base path keeps its full path.
    """
    prefix = _base_path(base_url)
    path = url.path or "/"
    if not prefix:
        return path
    if path == prefix:
        return "/"
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return path


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: httpx.URL) -> str:
    """``https://api.openai.com``; the port only when it is not the scheme's default."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    default = _DEFAULT_PORTS.get(url.scheme)
    port = f":{url.port}" if url.port is not None and url.port != default else ""
    return f"{url.scheme}://{host}{port}"


def _same_host(url: httpx.URL, base_url: httpx.URL) -> bool:
    return origin_of(url) == origin_of(base_url)


def capture_request(request: httpx.Request, base_url: httpx.URL) -> RecordedRequest:
    """The unscrubbed stored form of a request whose body has been read.

    A request to the base URL's host is stored relative to it; any other keeps its origin.
    """
    content_type = request.headers.get("content-type", "")
    url = request.url
    provider = _same_host(url, base_url)
    return RecordedRequest(
        method=request.method.upper(),
        origin="" if provider else origin_of(url),
        path=relative_path(url, base_url) if provider else (url.path or "/"),
        query=tuple(request.url.params.multi_items()),
        headers=tuple((name.lower(), value) for name, value in request.headers.multi_items()),
        body=Body.from_bytes(request.content, content_type),
    )


def capture_response(status: int, headers: httpx.Headers, decoded: bytes) -> RecordedResponse:
    """The unscrubbed stored form of a response; ``decoded`` has no content-encoding left."""
    return RecordedResponse(
        status=status,
        headers=tuple((name.lower(), value) for name, value in headers.multi_items()),
        body=Body.from_bytes(decoded, headers.get("content-type", "")),
    )


def to_httpx_response(
    recorded: RecordedResponse, request: httpx.Request, *, standard_json: bool = False
) -> httpx.Response:
    """A replayed response; httpx adds ``content-length`` for the body.

    ``standard_json``: the body was read from standard JSON (see ``Body.to_bytes``).
    """
    body = recorded.body
    extensions = {DECODED_JSON_EXTENSION: body.value} if body.kind == "json" else {}
    return httpx.Response(
        recorded.status,
        headers=list(recorded.headers),
        content=body.to_bytes(standard_json=standard_json),
        request=request,
        extensions=extensions,
    )
