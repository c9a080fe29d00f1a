"""httpx transports over a cassette (:class:`~pytest_sessionmem.cassette.CassetteSession`).

Both classes implement the sync and the async transport interface, like
``httpx.MockTransport``, so one object serves ``httpx.Client`` and ``httpx.AsyncClient``.
Get them from ``CassetteSession.transport()`` / ``async_transport()``, which pick the class
from the record mode:

- :class:`ReplayTransport` answers from the cassette and never touches the network.
- :class:`RecordingTransport` sends requests through the real transport and stores a scrubbed
  copy of each exchange; under ``new_episodes`` it first tries the cassette.

While recording, the test receives the real response (same bytes, headers and encoding);
only the stored copy is scrubbed. The response body is read in full before it is handed
on, so streamed bodies arrive as one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx

from pytest_sessionmem.cassette.interop import refuse_active_mocks
from pytest_sessionmem.cassette.schema import RecordedRequest

__all__ = ["RecordingTransport", "ReplayTransport", "TransportBackend"]


class TransportBackend(Protocol):
    """What the transports need of a cassette (``CassetteSession`` is the one there is)."""

    @property
    def replays_first(self) -> bool: ...

    @property
    def path(self) -> Path: ...

    def capture(self, request: httpx.Request) -> RecordedRequest: ...

    def try_replay(
        self, request: httpx.Request, recorded: RecordedRequest
    ) -> httpx.Response | None: ...

    def replay(self, request: httpx.Request) -> httpx.Response: ...

    def record(
        self, recorded: RecordedRequest, response: httpx.Response, decoded: bytes
    ) -> None: ...


# Extensions that describe the exchange rather than a live connection object.
_KEPT_EXTENSIONS = ("http_version", "reason_phrase")


class ReplayTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers every request from the cassette; a miss raises ``UnmatchedRequest``."""

    def __init__(self, session: TransportBackend) -> None:
        self._session = session

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True  # the error names the request; these frames add nothing
        request.read()
        return self._session.replay(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        await request.aread()
        return self._session.replay(request)


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sends requests to the network through ``real()`` and records the scrubbed exchange.

    ``real`` and ``real_async`` are factories, called on the first request that has to go
    out, so a session that only replays never creates a network transport.
    """

    def __init__(
        self,
        session: TransportBackend,
        *,
        real: Callable[[], httpx.BaseTransport],
        real_async: Callable[[], httpx.AsyncBaseTransport],
    ) -> None:
        self._session = session
        self._real = real
        self._real_async = real_async

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        request.read()
        recorded, hit = self._before_network(request)
        if hit is not None:
            return hit
        response = self._real().handle_request(request)
        try:
            raw = b"".join(_sync_stream(response))
        finally:
            response.close()
        return self._keep(recorded, request, response, raw)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        await request.aread()
        recorded, hit = self._before_network(request)
        if hit is not None:
            return hit
        response = await self._real_async().handle_async_request(request)
        try:
            raw = b"".join([chunk async for chunk in _async_stream(response)])
        finally:
            await response.aclose()
        return self._keep(recorded, request, response, raw)

    def _before_network(
        self, request: httpx.Request
    ) -> tuple[RecordedRequest, httpx.Response | None]:
        """The request as it will be recorded, and the cassette's answer if it replays first.

        Without an answer the request is about to go out: a mock library that would answer
        it instead is refused before anything is sent.
        """
        __tracebackhide__ = True
        recorded = self._session.capture(request)
        if self._session.replays_first:
            hit = self._session.try_replay(request, recorded)
            if hit is not None:
                return recorded, hit
        refuse_active_mocks(str(self._session.path), request)
        return recorded, None

    def _keep(
        self,
        recorded: RecordedRequest,
        request: httpx.Request,
        response: httpx.Response,
        raw: bytes,
    ) -> httpx.Response:
        # Decoding through a throwaway Response applies the same content-encoding rules the
        # client will, so the cassette stores exactly what the test reads.
        decoded = httpx.Response(response.status_code, headers=response.headers, content=raw).read()
        self._session.record(recorded, response, decoded)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            request=request,
            extensions={k: v for k, v in response.extensions.items() if k in _KEPT_EXTENSIONS},
        )


# The raw stream is read directly, not through ``iter_raw()``: a transport may hand back a
# response that was already read (``httpx.MockTransport`` does), and its stream still
# yields the bytes, while ``iter_raw()`` would refuse.
def _sync_stream(response: httpx.Response) -> httpx.SyncByteStream:
    if not isinstance(response.stream, httpx.SyncByteStream):
        raise TypeError("The real transport returned an async stream to a sync request.")
    return response.stream


def _async_stream(response: httpx.Response) -> httpx.AsyncByteStream:
    if not isinstance(response.stream, httpx.AsyncByteStream):
        raise TypeError("The real transport returned a sync stream to an async request.")
    return response.stream
