"""Fixtures for tests that make real HTTP requests over loopback.

``loopback_server`` opens a small real HTTP server on 127.0.0.1 for the length of a ``with``
block; ``forbid_network`` makes any later socket connection, or any network transport
construction, fail loudly, which is what "replays offline" means in these tests.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest


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
def _serve() -> Iterator[str]:
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


@pytest.fixture
def loopback_server() -> Callable[[], AbstractContextManager[str]]:
    """``with loopback_server() as origin:`` runs a real HTTP server on 127.0.0.1 in a thread.

    ``origin`` is ``http://127.0.0.1:PORT``. GET answers a Meibel-shaped message list whose
    ``agent_name`` is the request path; POST echoes its JSON body as ``{"echo": ...}``.
    """
    return _serve


@pytest.fixture
def forbid_network(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """``created = forbid_network()``: from then on any socket connect fails the test.

    ``created`` collects the names of the httpx network transports built afterwards.
    """

    def forbid() -> list[str]:
        created: list[str] = []

        def refuse_connect(self: socket.socket, address: Any) -> None:
            raise AssertionError(f"replay opened a socket to {address}")

        original_sync = httpx.HTTPTransport.__init__
        original_async = httpx.AsyncHTTPTransport.__init__

        def spy_sync(self: httpx.HTTPTransport, *args: Any, **kwargs: Any) -> None:
            created.append("HTTPTransport")
            original_sync(self, *args, **kwargs)

        def spy_async(self: httpx.AsyncHTTPTransport, *args: Any, **kwargs: Any) -> None:
            created.append("AsyncHTTPTransport")
            original_async(self, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", refuse_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
        monkeypatch.setattr(httpx.HTTPTransport, "__init__", spy_sync)
        monkeypatch.setattr(httpx.AsyncHTTPTransport, "__init__", spy_async)
        return created

    return forbid
