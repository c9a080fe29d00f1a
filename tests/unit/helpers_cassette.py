"""A tiny in-memory session API used as the "real" upstream of cassette tests.

``FakeUpstream`` serves ``GET/POST {prefix}/sessions/{id}/messages`` through
``httpx.MockTransport``, counts what reaches it, and echoes the credential it received in
the response body (the way some servers do), so tests can prove scrubbing covers responses.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from pytest_sessionmem.cassette import CassetteSession, RecordMode, ScrubConfig

RECORD_BASE = "http://127.0.0.1:1234/zep/api/v2"
REPLAY_BASE = "https://api.getzep.com/api/v2"
CANARY = "sk-canary-7f3a91"


class FakeUpstream:
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
                headers={"set-cookie": f"sid={CANARY}", "x-request-id": "r-1"},
            )
        limit = int(request.url.params.get("limit", "100"))
        cursor = int(request.url.params.get("cursor", "1"))
        page = messages[(cursor - 1) * limit : cursor * limit]
        return httpx.Response(200, json={"messages": page, "row_count": len(page)})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def make_session(
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


def client_for(session: CassetteSession, key: str = CANARY) -> httpx.Client:
    return httpx.Client(
        base_url=session.base_url,
        transport=session.transport(),
        headers={"Authorization": f"Api-Key {key}"},
    )


def read_write_read(client: httpx.Client, session_id: str = "s1") -> list[Any]:
    """The shape of a memory test: read, write, read again."""
    first = client.get(f"/sessions/{session_id}/messages", params={"limit": 100})
    client.post(
        f"/sessions/{session_id}/messages",
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    second = client.get(f"/sessions/{session_id}/messages", params={"limit": 100})
    return [first.json(), second.json()]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        # Shaped like Meibel's SessionMessagesResponse, so the real SDK accepts it.
        messages = [{"type": "user", "message": "hello"}]
        body = json.dumps({"agent_name": self.path, "messages": messages}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps({"echo": payload}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


@contextmanager
def loopback_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 in a thread; yields its origin (``http://127.0.0.1:port``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
