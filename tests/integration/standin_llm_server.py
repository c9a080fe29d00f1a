"""A stand-in LLM server on loopback for the whole-agent tests: the real SDKs talk to it.

:class:`LLMStandin` runs a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a thread.
It speaks, in the shapes the real ``openai`` and ``anthropic`` SDKs parse:

- OpenAI chat completions (``POST .../chat/completions``): a JSON completion, or with
  ``"stream": true`` ``data: {chunk}`` events up to ``data: [DONE]``; when the request offers
  ``tools``, the reply is a call of the first tool;
- the OpenAI Responses API (``POST .../responses``): a JSON response, or typed events
  (``response.created`` ... ``response.completed``);
- Anthropic messages (``POST .../messages``): a JSON message, or the events
  ``message_start``, ``content_block_start`` / ``_delta`` / ``_stop``, ``message_delta``,
  ``message_stop``;
- ``GET /login``: sets the cookie ``sid=standin-session``;
- anything else (``/echo``, any method): a JSON echo of the method, path, query, body and the
  ``Cookie`` header.

Answers are worked out from the request alone: the reply is ``"You told me: <system prompt>"``
(the system prompt is where an agent puts what its memory recalled), so two runs with the same
prompt get the same bytes. Every request is counted (:attr:`LLMStandin.count`).

Streams are sent with ``Transfer-Encoding: chunked``, in pieces, as the services send them.
An ``x-standin-encoding`` request header (``gzip``, ``deflate``, ``br`` or ``zstd``) makes
the answer come ``Content-Encoding``-compressed. An ``x-standin-status`` request header (say
``500``) makes it an error in the API's shape, with ``x-should-retry: false``: the header by
which the service tells the SDKs not to ask again. Every answer closes its connection, so no
client keeps a socket to a server that may be stopped before the client is collected.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import brotli
import zstandard

__all__ = ["ENCODING_HEADER", "STATUS_HEADER", "LLMStandin", "reply_text"]

ENCODING_HEADER = "x-standin-encoding"
STATUS_HEADER = "x-standin-status"
CHAT_MODEL = "gpt-4o-mini-2024-07-18"
CLAUDE_MODEL = "claude-sonnet-4-5-20250929"
CREATED = 1735689600


def reply_text(system: str) -> str:
    """What the stand-in answers to a prompt whose system text is ``system``."""
    return f"You told me: {system}" if system else "You told me nothing."


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data, mtime=0)
    if encoding == "deflate":
        return zlib.compress(data)  # zlib-wrapped, as HTTP's "deflate" is
    if encoding == "br":
        return bytes(brotli.compress(data))
    if encoding == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    raise ValueError(f"unknown encoding {encoding!r}")


def _text_of(content: Any) -> str:
    """A message's content (a string, or a list of text parts) as one string."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _halves(text: str) -> list[str]:
    """The reply cut in two pieces, so a stream has more than one delta to put together."""
    middle = len(text) // 2
    return [text[:middle], text[middle:]]


# -- OpenAI chat completions ----------------------------------------------------------------------


def _chat_system(body: dict[str, Any]) -> str:
    return "\n".join(
        _text_of(message.get("content"))
        for message in body.get("messages", [])
        if message.get("role") in ("system", "developer")
    )


def _chat_tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = body.get("tools") or []
    if not tools:
        return None
    name = tools[0]["function"]["name"]
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}


def chat(body: dict[str, Any]) -> dict[str, Any]:
    text = reply_text(_chat_system(body))
    call = _chat_tool_call(body)
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if call is not None:
        call["function"]["arguments"] = json.dumps({"note": text})
        message["tool_calls"] = [call]
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": CREATED,
        "model": CHAT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if call else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": CHAT_MODEL,
        "choices": choices,
    }


def chat_events(body: dict[str, Any]) -> Iterator[str]:
    text = reply_text(_chat_system(body))
    call = _chat_tool_call(body)
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": part}) for part in _halves(text)]
    if call is not None:
        arguments = json.dumps({"note": text})
        chunks.append(_chunk({"tool_calls": [{"index": 0, **call}]}))
        chunks += [
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            for part in _halves(arguments)
        ]
    chunks.append(_chunk({}, "tool_calls" if call else "stop"))
    for chunk in chunks:
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


# -- OpenAI Responses -----------------------------------------------------------------------------


def _responses_system(body: dict[str, Any]) -> str:
    parts = [str(body["instructions"])] if body.get("instructions") else []
    items = body.get("input")
    if isinstance(items, list):
        parts += [
            _text_of(item.get("content"))
            for item in items
            if isinstance(item, dict) and item.get("role") in ("system", "developer")
        ]
    return "\n".join(parts)


def _response(output: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": "resp_standin",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": "gpt-4o-2024-08-06",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
    }


def _output_message(text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if text else []
    return {
        "id": "msg_standin",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def responses(body: dict[str, Any]) -> dict[str, Any]:
    return _response([_output_message(reply_text(_responses_system(body)))], "completed")


def responses_events(body: dict[str, Any]) -> Iterator[str]:
    text = reply_text(_responses_system(body))
    ids = {"item_id": "msg_standin", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response([], "in_progress")},
        {"type": "response.in_progress", "response": _response([], "in_progress")},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": _output_message("", "in_progress"),
        },
        {"type": "response.content_part.added", **ids, "part": part},
    ]
    events += [
        {"type": "response.output_text.delta", **ids, "delta": piece, "logprobs": []}
        for piece in _halves(text)
    ]
    events += [
        {"type": "response.output_text.done", **ids, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": _output_message(text)},
        {"type": "response.completed", "response": _response([_output_message(text)], "completed")},
    ]
    for number, event in enumerate(events):
        numbered = {**event, "sequence_number": number}
        yield f"event: {event['type']}\ndata: {json.dumps(numbered)}\n\n"


# -- Anthropic messages ---------------------------------------------------------------------------


def _anthropic_system(body: dict[str, Any]) -> str:
    return _text_of(body.get("system", ""))


def _message(content: list[dict[str, Any]], stop: str | None) -> dict[str, Any]:
    return {
        "id": "msg_standin",
        "type": "message",
        "role": "assistant",
        "model": CLAUDE_MODEL,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def messages(body: dict[str, Any]) -> dict[str, Any]:
    text = reply_text(_anthropic_system(body))
    return _message([{"type": "text", "text": text}], "end_turn")


def messages_events(body: dict[str, Any]) -> Iterator[str]:
    text = reply_text(_anthropic_system(body))
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": _message([], None)},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
        for t in _halves(text)
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop"},
    ]
    for event in events:
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


def error(path: str, status: int) -> dict[str, Any]:
    """An error answer in the shape of the API ``path`` belongs to."""
    if path.endswith("/messages"):
        return {"type": "error", "error": {"type": "api_error", "message": "stand-in failure"}}
    return {"error": {"message": "stand-in failure", "type": "server_error", "code": None}}


# -- the server -----------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _answer(self) -> None:
        self.server.standin.note(self.command, self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].rstrip("/")
        body: Any = json.loads(raw) if raw else None
        streamed = isinstance(body, dict) and body.get("stream") is True
        status = int(self.headers.get(STATUS_HEADER) or 200)
        if status != 200:
            self._reply(error(path, status), status=status)
            return
        if self.command == "POST" and isinstance(body, dict):
            if path.endswith("/chat/completions"):
                self._reply(chat_events(body) if streamed else chat(body))
                return
            if path.endswith("/responses"):
                self._reply(responses_events(body) if streamed else responses(body))
                return
            if path.endswith("/messages"):
                self._reply(messages_events(body) if streamed else messages(body), anthropic=True)
                return
        echo = {"method": self.command, "path": path, "query": self.path.partition("?")[2]}
        echo["cookie"] = self.headers.get("Cookie")
        self._reply({**echo, "body": body if body is not None else raw.decode("utf-8")})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def _reply(
        self,
        answer: dict[str, Any] | Iterator[str],
        *,
        anthropic: bool = False,
        status: int = 200,
    ) -> None:
        encoding = self.headers.get(ENCODING_HEADER, "")
        streamed = not isinstance(answer, dict)
        if isinstance(answer, dict):
            content_type = "application/json"
            data = json.dumps(answer).encode("utf-8")
        else:
            content_type = "text/event-stream; charset=utf-8"
            data = "".join(answer).encode("utf-8")
        if encoding:
            data = compress(data, encoding)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if status != 200:
            self.send_header("x-should-retry", "false")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if self.path == "/login":
            self.send_header("Set-Cookie", "sid=standin-session; Path=/")
        if anthropic:
            self.send_header("request-id", "req_standin")
            self.send_header("anthropic-organization-id", "org-standin")
        self.send_header("x-request-id", "req_standin")
        self.send_header("Connection", "close")
        if not streamed:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:  # as the services stream: chunked, a piece at a time
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = max(1, len(data) // 3)
            for start in range(0, len(data), step):
                piece = data[start : start + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    standin: LLMStandin


class LLMStandin:
    """``with LLMStandin() as standin:`` serves on ``standin.url`` until the block ends (or
    :meth:`stop`); ``standin.count`` is how many requests reached it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def note(self, method: str, path: str) -> None:
        with self._lock:
            self.seen.append((method, path))

    def start(self) -> LLMStandin:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> LLMStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
