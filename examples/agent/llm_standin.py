"""A stand-in for an OpenAI-compatible chat server, on loopback, for recording the example.

There is no network here, so the agent example records against this instead of a real LLM:
it answers ``POST /v1/chat/completions`` in OpenAI's shape, with a reply made from the
prompt (it greets the user by city when the system prompt remembers one). Replay never
needs it: the cassette holds its answers.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Where the example's agent finds its LLM (``OPENAI_BASE_URL``) while recording and replaying.
PORT = 18731
BASE_URL = f"http://127.0.0.1:{PORT}/v1"


def reply_to(messages: list[dict[str, str]]) -> str:
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    city = re.search(r"lives in (\w+)", system)
    where = f" in {city.group(1)}" if city else ""
    return f"Happy to help{where}! You said: {messages[-1]['content']}"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": request["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply_to(request["messages"])},
                    "finish_reason": "stop",
                }
            ],
        }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


def start() -> ThreadingHTTPServer:
    """Serve on 127.0.0.1:PORT in a background thread; ``shutdown()`` stops it."""
    server = ThreadingHTTPServer(("127.0.0.1", PORT), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
