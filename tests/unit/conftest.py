"""Fixtures for the unit tests: everything runs in-process over ``httpx.MockTransport``.

``cassettes``: builds cassette sessions against a tiny in-memory session API (``FakeUpstream``).
``driver``: runs one client call through ``SessionClient`` or ``AsyncSessionClient`` (the
fixture is parametrized over both, so every scenario proves the sync and the async path) and
remembers every request the fake server was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_sessionmem.cassette import CassetteSession, RecordMode, ScrubConfig
from pytest_sessionmem.client import AsyncSessionClient, SessionClient

Handler = Callable[[httpx.Request], httpx.Response]


# -- cassettes -------------------------------------------------------------------------------


class FakeUpstream:
    """Serves ``GET/POST {prefix}/sessions/{id}/messages``, counting what reaches it.

    A POST answer echoes the credential it received and sets a cookie holding
    ``Cassettes.CANARY`` (the way some servers do), so tests can prove scrubbing covers responses.
    """

    def __init__(self, prefix: str = "/zep/api/v2") -> None:
        self.prefix = prefix
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path.removeprefix(self.prefix)
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "sessions" or parts[2] != "messages":
            return httpx.Response(404, json={"message": "not found"})
        messages = self.messages.setdefault(parts[1], [])
        if request.method == "POST":
            messages.extend(json.loads(request.content)["messages"])
            return httpx.Response(
                201,
                json={"ok": True, "seen_key": request.headers.get("authorization", "")},
                headers={"set-cookie": f"sid={Cassettes.CANARY}", "x-request-id": "r-1"},
            )
        limit = int(request.url.params.get("limit", "100"))
        cursor = int(request.url.params.get("cursor", "1"))
        page = messages[(cursor - 1) * limit : cursor * limit]
        return httpx.Response(200, json={"messages": page, "row_count": len(page)})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


class Cassettes:
    """Builds cassette sessions and clients for the cassette unit tests."""

    RECORD_BASE = "http://127.0.0.1:1234/zep/api/v2"
    REPLAY_BASE = "https://api.getzep.com/api/v2"
    CANARY = "sk-canary-7f3a91"

    def upstream(self, prefix: str = "/zep/api/v2") -> FakeUpstream:
        return FakeUpstream(prefix)

    def session(
        self,
        path: Path,
        mode: RecordMode | str,
        *,
        upstream: FakeUpstream | None = None,
        base_url: str = RECORD_BASE,
        scrub: ScrubConfig | None = None,
        record_command: str = "",
    ) -> CassetteSession:
        transport = upstream.transport() if upstream else None
        return CassetteSession(
            path,
            mode=RecordMode(mode),
            base_url=base_url,
            scrub=scrub or ScrubConfig(),
            record_command=record_command,
            real_transport=transport,
            real_async_transport=transport,
        )

    def client(self, session: CassetteSession, key: str = CANARY) -> httpx.Client:
        return httpx.Client(
            base_url=session.base_url,
            transport=session.transport(),
            headers={"Authorization": f"Api-Key {key}"},
        )

    def replay_client(self, path: Path) -> httpx.Client:
        """A client replaying ``path`` (record mode ``none``) under the cloud base URL."""
        return self.client(self.session(path, "none", base_url=self.REPLAY_BASE))

    def read_write_read(self, client: httpx.Client, session_id: str = "s1") -> list[Any]:
        """The shape of a memory test: read, write, read again."""
        first = client.get(f"/sessions/{session_id}/messages", params={"limit": 100})
        client.post(
            f"/sessions/{session_id}/messages",
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
        second = client.get(f"/sessions/{session_id}/messages", params={"limit": 100})
        return [first.json(), second.json()]

    def record(
        self, path: Path, mode: str = "once", upstream: FakeUpstream | None = None
    ) -> list[Any]:
        """Records ``read_write_read`` into ``path`` and checks the file was written."""
        session = self.session(path, mode, upstream=upstream or self.upstream())
        with self.client(session) as client:
            results = self.read_write_read(client)
        report = session.finish(failed=False)
        assert report.written
        return results


@pytest.fixture
def cassettes() -> Cassettes:
    return Cassettes()


# -- clients over MockTransport -----------------------------------------------------------------


class Driver:
    """Calls client methods in one mode (``"sync"`` or ``"async"``).

    Records every request the handler was given (``requests``, ``last``, ``bodies()``) and every
    sleep the client asked for (``sleeps``), so no test waits.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sleeps: list[float] = []
        self.requests: list[httpx.Request] = []

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    def call(
        self,
        provider: str,
        handler: Handler,
        method: str,
        *args: Any,
        client: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        options: dict[str, Any] = {"api_key": "test-key", **(client or {})}

        def recording(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        transport = httpx.MockTransport(recording)
        if self.mode == "sync":
            return self._call_sync(provider, transport, method, args, kwargs, options)
        return asyncio.run(self._call_async(provider, transport, method, args, kwargs, options))

    def _call_sync(
        self,
        provider: str,
        transport: httpx.MockTransport,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: dict[str, Any],
    ) -> Any:
        with SessionClient(
            provider, transport=transport, sleep=self.sleeps.append, **options
        ) as session_client:
            result = getattr(session_client, method)(*args, **kwargs)
            if method == "iter_messages":
                result = list(result)
            return result

    async def _call_async(
        self,
        provider: str,
        transport: httpx.MockTransport,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: dict[str, Any],
    ) -> Any:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        async with AsyncSessionClient(
            provider, transport=transport, sleep=sleep, **options
        ) as session_client:
            if method == "iter_messages":
                return [m async for m in session_client.iter_messages(*args, **kwargs)]
            return await getattr(session_client, method)(*args, **kwargs)


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    return Driver(request.param)


# -- LLM SDKs --------------------------------------------------------------------------------


class LLMWire:
    """The real openai and anthropic SDKs over an ``httpx2.MockTransport`` that answers ``answer``.

    ``answer`` is a JSON value (sent as ``application/json``) or the text of an event stream
    (sent as ``text/event-stream``). ``sent`` keeps each request the SDK made; ``read()`` reads
    the last one and its answer as a cassette would hold them.
    """

    def __init__(self) -> None:
        self.answer: Any = None
        self.status = 200
        self.sent: list[Any] = []

    def _handle(self, request: Any) -> Any:
        import httpx2

        self.sent.append(request)
        if isinstance(self.answer, str):
            return httpx2.Response(
                self.status,
                content=self.answer.encode("utf-8"),
                headers={"content-type": "text/event-stream; charset=utf-8"},
            )
        return httpx2.Response(self.status, json=self.answer)

    def _http(self) -> Any:
        import httpx2

        return httpx2.Client(transport=httpx2.MockTransport(self._handle))

    def openai(self, answer: Any = None) -> Any:
        import openai

        self.answer = answer
        return openai.OpenAI(
            api_key="x", base_url="http://test/v1", http_client=self._http(), max_retries=0
        )

    def anthropic(self, answer: Any = None) -> Any:
        import anthropic

        self.answer = answer
        return anthropic.Anthropic(
            api_key="x", base_url="http://test", http_client=self._http(), max_retries=0
        )

    def request_body(self) -> Any:
        return json.loads(self.sent[-1].content)

    def read(self) -> Any:
        from pytest_sessionmem.llm import read_llm_call

        request = self.sent[-1]
        streamed = isinstance(self.answer, str)
        return read_llm_call(
            method=request.method,
            path=request.url.path,
            request_body=self.request_body(),
            response_status=self.status,
            response_content_type="text/event-stream" if streamed else "application/json",
            response_body=self.answer,
            request_headers=dict(request.headers),
        )


@pytest.fixture
def llm_wire() -> LLMWire:
    return LLMWire()
