"""The ElizaOS emulator against the real ``@elizaos/server`` 1.7.2, request for request.

Every sequence below runs once against the real server and once against the emulator. Both
transcripts are normalised (ids become ``<id1>``, ``<id2>``... in order of appearance; a
timestamp equal to a message's ``createdAt`` becomes ``<t:idN>``, any other becomes ``<iso>`` or
``<ms>``) and must then be equal exchange by exchange: status, content type and the whole body,
so shapes, values, message order, ``hasMore`` and cursors all count. A mismatch fails with a
unified diff of the two sides.

Not compared here: expiry (the real server's shortest timeout is one minute; the emulator tests
drive it with the emulator clock instead).
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import brotli
import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

pytestmark = pytest.mark.eliza_server

SESSIONS = "/api/messaging/sessions"
USER_ID = "11111111-2222-4333-8444-555555555555"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
POST_GAP_S = 0.004  # real messages then get distinct milliseconds, so cursors are unambiguous

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_LEADING_DIGITS = re.compile(r"(\d{6,})(.*)", re.S)


class Peer(Protocol):
    """What the real-server fixtures of ``conftest.py`` return."""

    base_url: str
    agent_id: str
    api_key: str | None


@dataclass
class Exchange:
    label: str
    method: str
    path: str
    params: list[list[str]]
    request_json: Any
    status: int
    content_type: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status_only: bool = False


@dataclass
class Side:
    """One server under test, recording every request a sequence makes."""

    name: str
    base_url: str
    agent_id: str
    api_key: str | None
    inject_agent_message: Callable[[Side, dict[str, Any], str], None]
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def call(
        self,
        label: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: bytes | None = None,
        content_type: str | None = "application/json",
        params: dict[str, str] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        record_headers: tuple[str, ...] = (),
        status_only: bool = False,
    ) -> httpx.Response:
        """One request; ``raw_body`` is sent as is, with ``content_type`` (None: no header).

        ``record_headers`` names response headers to compare too; ``status_only`` compares only
        the status, for the few answers the emulator deliberately gives as JSON where the real
        server answers plain text (paths outside ``/api``).
        """
        sent_headers = dict(headers or {})
        if auth and self.api_key:
            sent_headers.setdefault("X-API-KEY", self.api_key)
        if raw_body is not None and content_type is not None:
            sent_headers["Content-Type"] = content_type
        response = self.http.request(
            method, path, json=json_body, content=raw_body, params=params, headers=sent_headers
        )
        content_type_seen = response.headers.get("content-type", "").split(";")[0]
        body: Any = response.text
        if content_type_seen == "application/json":
            body = response.json()
        elif content_type_seen == "text/event-stream":
            body = _sse_events(response.text)
        sent: Any = json_body
        if raw_body is not None:
            sent = raw_body.decode("utf-8", "replace")
            if len(sent) > 200:
                sent = f"{sent[:100]}... ({len(raw_body)} bytes)"
        self.exchanges.append(
            Exchange(
                label,
                method,
                path,
                [list(p) for p in httpx.QueryParams(params).multi_items()],
                sent,
                response.status_code,
                content_type_seen,
                body,
                {name: response.headers.get(name, "<absent>") for name in record_headers},
                status_only,
            )
        )
        return response

    def create_session(self, label: str, **extra: Any) -> dict[str, Any]:
        body = {"agentId": self.agent_id, "userId": USER_ID, **extra}
        response = self.call(label, "POST", SESSIONS, json_body=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def post_message(self, session_id: str, content: str, **extra: Any) -> httpx.Response:
        response = self.call(
            f"post {content[:20]!r}",
            "POST",
            f"{SESSIONS}/{session_id}/messages",
            json_body={"content": content, **extra},
        )
        time.sleep(POST_GAP_S)
        return response

    def close(self) -> None:
        self.http.close()


def _sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields.get("event", ""), json.loads(fields.get("data", "null"))))
    return events


# --- normalisation ---------------------------------------------------------------------------------


class Normaliser:
    """Turns one side's transcript into a form where only behaviour is left to compare."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.ids: dict[str, str] = {}
        self.message_times: dict[int, str] = {}
        for exchange in exchanges:
            self._collect_message_times(exchange.body)

    def _collect_message_times(self, value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("id"), str):
                if isinstance(value.get("createdAt"), str) and _ISO.fullmatch(value["createdAt"]):
                    self.message_times[_iso_ms(value["createdAt"])] = value["id"]
                if isinstance(value.get("created_at"), int):
                    self.message_times[value["created_at"]] = value["id"]
            for item in value.values():
                self._collect_message_times(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._collect_message_times(item)

    def _id(self, raw: str) -> str:
        key = raw.lower()
        if key not in self.ids:
            self.ids[key] = f"<id{len(self.ids) + 1}>"
        return self.ids[key]

    def _time(self, epoch_ms: int, fallback: str) -> str:
        owner = self.message_times.get(epoch_ms)
        return f"<t:{self._id(owner)}>" if owner is not None else fallback

    def text(self, value: str) -> str:
        value = _UUID.sub(lambda m: self._id(m.group()), value)
        return _ISO.sub("<iso>", value)

    def message_time(self, value: Any) -> Any:
        """A message's own timestamp or a cursor: named after the message it belongs to."""
        if isinstance(value, str) and _ISO.fullmatch(value):
            return self._time(_iso_ms(value), "<iso>")
        if isinstance(value, str) and (digits := _LEADING_DIGITS.match(value)):
            return self._time(int(digits.group(1)), "<ms>") + digits.group(2)
        if isinstance(value, int) and not isinstance(value, bool):
            return self._time(value, "<ms>")
        return self.value(value)

    def value(self, value: Any, key: str | None = None) -> Any:
        if key == "stack" and isinstance(value, str):
            return "<stack>"
        if key == "secrets" and isinstance(value, dict):
            return "<secrets>"  # the real server's environment, encrypted
        if key in ("uptime", "timeRemaining") and isinstance(value, (int, float)):
            return f"<{key}>"
        if isinstance(value, dict):
            time_keys = {"createdAt", "created_at", "updatedAt"} if "id" in value else set()
            if key == "cursors":
                time_keys = {"before", "after"}
            # Sorted so that ids are numbered the same whatever key order a side writes.
            return {
                k: self.message_time(value[k]) if k in time_keys else self.value(value[k], k)
                for k in sorted(value)
            }
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def exchange(self, exchange: Exchange) -> dict[str, Any]:
        if exchange.status_only:
            return {
                "request": f"{exchange.method} {self.text(exchange.path)}",
                "status": exchange.status,
            }
        return {
            "headers": exchange.headers,
            "request": f"{exchange.method} {self.text(exchange.path)}",
            "params": [
                [k, self.message_time(v) if k in ("before", "after") else self.value(v)]
                for k, v in exchange.params
            ],
            "json": self.value(exchange.request_json),
            "status": exchange.status,
            "content_type": exchange.content_type,
            "body": self.value(_parser_message_blanked(exchange.body)),
        }


_PARSER_WORDING = re.compile(r"JSON|Unexpected token|call stack")


def _parser_message_blanked(body: Any) -> Any:
    """A body rejected by the JSON parser: the wording is the parser's own (V8 vs Python).

    Only JSON-syntax messages are blanked; the body parser's other refusals (charset,
    encoding, size) and the Content-Type check are compared word for word.
    """
    if (
        isinstance(body, dict)
        and body.get("success") is False
        and isinstance(body.get("error"), dict)
        and isinstance(body["error"].get("message"), str)
        and _PARSER_WORDING.search(body["error"]["message"])
    ):
        return {**body, "error": {**body["error"], "message": "<JSON parser message>"}}
    return body


def _iso_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class Tally:
    sequences: int = 0
    requests: int = 0


def compare(real: Side, emulated: Side, tally: Tally) -> None:
    assert len(real.exchanges) == len(emulated.exchanges), (
        f"the sequence made {len(real.exchanges)} requests against the real server but "
        f"{len(emulated.exchanges)} against the emulator"
    )
    left, right = Normaliser(real.exchanges), Normaliser(emulated.exchanges)
    problems = []
    for index, (one, other) in enumerate(zip(real.exchanges, emulated.exchanges, strict=True)):
        a, b = left.exchange(one), right.exchange(other)
        if a != b:
            diff = difflib.unified_diff(
                json.dumps(a, indent=1, sort_keys=True).splitlines(),
                json.dumps(b, indent=1, sort_keys=True).splitlines(),
                fromfile=f"real server  #{index} {one.label}",
                tofile=f"emulator     #{index} {other.label}",
                lineterm="",
            )
            problems.append("\n".join(diff))
    tally.sequences += 1
    tally.requests += len(real.exchanges)
    assert not problems, "real server and emulator disagree:\n\n" + "\n\n".join(problems)


# --- fixtures ----------------------------------------------------------------------------------


def _inject_real(side: Side, session: dict[str, Any], content: str) -> None:
    # The endpoint the real agent itself posts its replies to.
    response = side.http.post(
        "/api/messaging/submit",
        headers={"X-API-KEY": side.api_key} if side.api_key else {},
        json={
            "channel_id": session["channelId"],
            "message_server_id": "00000000-0000-0000-0000-000000000000",
            "author_id": side.agent_id,
            "content": content,
            "source_type": "agent_response",
            "raw_message": {"text": content, "thought": "scripted", "actions": ["REPLY"]},
            "metadata": {"agentName": "Eliza"},
        },
    )
    assert response.status_code == 201, response.text
    time.sleep(POST_GAP_S)


def _inject_emulated(side: Side, session: dict[str, Any], content: str) -> None:
    root = side.base_url.rsplit("/eliza", 1)[0]
    response = side.http.post(
        f"{root}/_emulator/eliza/sessions/{session['sessionId']}/agent-messages",
        json={
            "content": content,
            "thought": "scripted",
            "actions": ["REPLY"],
            "metadata": {"agentName": "Eliza"},
        },
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    print(
        f"\nElizaOS side-by-side: {counts.sequences} sequences, "
        f"{counts.requests} requests compared against the real server"
    )


PEER_BIO = ["Side-by-side test peer"]  # what tests/integration/eliza_server/server.mjs gives it


def _like_the_peer(server: EmulatorServer) -> EmulatorServer:
    server.control.request("POST", "/eliza/agents", {"name": "Eliza", "bio": PEER_BIO})
    return server


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield _like_the_peer(server)


@pytest.fixture(scope="module")
def emulator_with_auth(eliza_server_with_auth: Peer) -> Iterator[EmulatorServer]:
    with EmulatorServer(api_keys={"eliza": eliza_server_with_auth.api_key}) as server:
        yield _like_the_peer(server)


def _pair(peer: Peer, server: EmulatorServer) -> tuple[Side, Side]:
    real = Side("real", peer.base_url, peer.agent_id, peer.api_key, _inject_real)
    key = server.state.api_keys.get("eliza")
    emulated = Side("emulator", server.base_url("eliza"), peer.agent_id, key, _inject_emulated)
    return real, emulated


@pytest.fixture
def sides(eliza_server: Peer, emulator: EmulatorServer) -> Iterator[tuple[Side, Side]]:
    real, emulated = _pair(eliza_server, emulator)
    yield real, emulated
    real.close()
    emulated.close()


@pytest.fixture
def auth_sides(
    eliza_server_with_auth: Peer, emulator_with_auth: EmulatorServer
) -> Iterator[tuple[Side, Side]]:
    real, emulated = _pair(eliza_server_with_auth, emulator_with_auth)
    yield real, emulated
    real.close()
    emulated.close()


Sequence = Callable[[Side], None]


def run_both(sides: tuple[Side, Side], sequence: Sequence, tally: Tally) -> None:
    real, emulated = sides
    sequence(real)
    sequence(emulated)
    compare(real, emulated, tally)


# --- sequences -----------------------------------------------------------------------------------

MESSAGE_COUNT = 7


def _filled_session(side: Side) -> dict[str, Any]:
    session = side.create_session("create", metadata={"purpose": "side-by-side"})
    for n in range(1, MESSAGE_COUNT + 1):
        side.post_message(session["sessionId"], f"hello number {n}", metadata={"seq": n})
    return session


def _walk(side: Side, session_id: str, limit: int, direction: str) -> None:
    """Page with one cursor until an empty page (cursor absent) ends the walk."""
    params = {"limit": str(limit)}
    if direction == "after":
        params["after"] = "1"  # 1 ms after the epoch: every message is newer
    for _ in range(MESSAGE_COUNT + 2):
        page = side.call(
            f"{direction} limit={limit}", "GET", f"{SESSIONS}/{session_id}/messages", params=params
        ).json()
        if "cursors" not in page:
            return
        params[direction] = str(page["cursors"][direction])
    raise AssertionError(f"{side.name}: paging with {direction} did not end")


def paging_by_before(side: Side) -> None:
    session_id = _filled_session(side)["sessionId"]
    side.call("default page", "GET", f"{SESSIONS}/{session_id}/messages")
    for limit in range(1, 8):
        _walk(side, session_id, limit, "before")


def paging_by_after(side: Side) -> None:
    session_id = _filled_session(side)["sessionId"]
    for limit in range(1, 8):
        _walk(side, session_id, limit, "after")


def paging_window_and_odd_params(side: Side) -> None:
    session_id = _filled_session(side)["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    newest_first = side.call("all", "GET", path, params={"limit": "100"}).json()["messages"]
    stamps = [_iso_ms(m["createdAt"]) for m in newest_first]
    # before and after together: strictly between, newest first.
    side.call("window", "GET", path, params={"before": str(stamps[1]), "after": str(stamps[5])})
    side.call(
        "window limit 2",
        "GET",
        path,
        params={"limit": "2", "before": str(stamps[0]), "after": str(stamps[6])},
    )
    for label, params in [
        ("limit 0", {"limit": "0"}),
        ("limit 1000", {"limit": "1000"}),
        ("limit -3", {"limit": "-3"}),
        ("limit abc", {"limit": "abc"}),
        ("limit 2.9", {"limit": "2.9"}),
        ("before abc", {"before": "abc"}),
        ("after abc", {"after": "abc"}),
        ("before ISO", {"before": "2030-01-01T00:00:00Z"}),
        ("after ISO", {"after": "2030-01-01T00:00:00Z", "limit": "3"}),
        ("before huge", {"before": "99999999999999999999"}),
        ("before 12abc", {"before": f"{stamps[2]}abc", "limit": "2"}),
        ("empty before", {"before": ""}),
    ]:
        side.call(label, "GET", path, params=params)


def agent_messages(side: Side) -> None:
    session = side.create_session("create")
    session_id = session["sessionId"]
    side.post_message(session_id, "hi there")
    side.inject_agent_message(side, session, "Hello! How can I help?")
    side.post_message(session_id, "what did I say?", metadata={"thought": "dropped on read"})
    side.call("mixed page", "GET", f"{SESSIONS}/{session_id}/messages", params={"limit": "5"})


def session_errors(side: Side) -> None:
    for label, path in [
        ("unknown messages", f"{SESSIONS}/{UNKNOWN_ID}/messages"),
        ("non-uuid messages", f"{SESSIONS}/not-a-session/messages"),
        ("unknown session", f"{SESSIONS}/{UNKNOWN_ID}"),
    ]:
        side.call(label, "GET", path)
    side.call("delete unknown", "DELETE", f"{SESSIONS}/{UNKNOWN_ID}")
    side.call(
        "post unknown", "POST", f"{SESSIONS}/{UNKNOWN_ID}/messages", json_body={"content": "hello"}
    )
    for label, body in [
        ("missing userId", {"agentId": side.agent_id}),
        ("bad agentId", {"agentId": "agent-1", "userId": USER_ID}),
        ("bad userId", {"agentId": side.agent_id, "userId": "someone"}),
        ("unknown agent", {"agentId": UNKNOWN_ID, "userId": USER_ID}),
        (
            "metadata too big",
            {"agentId": side.agent_id, "userId": USER_ID, "metadata": {"blob": "x" * 10_300}},
        ),
    ]:
        side.call(label, "POST", SESSIONS, json_body=body)


def timeout_config(side: Side) -> None:
    for config in [
        {"timeoutMinutes": 1, "autoRenew": False},
        {"timeoutMinutes": 99_999, "maxDurationMinutes": 1},
        {"timeoutMinutes": "abc", "warningThresholdMinutes": 0},
        {"timeoutMinutes": "45", "maxDurationMinutes": 100_000},
        {"timeoutMinutes": 7.5},
    ]:
        session = side.create_session(f"create {config}", timeoutConfig=config)
        one = f"{SESSIONS}/{session['sessionId']}"
        side.call("get", "GET", one)
    side.call("renew", "POST", one + "/renew")
    side.call("heartbeat", "POST", one + "/heartbeat")
    for body in [{"timeoutMinutes": 2}, {"autoRenew": "yes"}, {"timeoutMinutes": 10}]:
        side.call(f"patch {body}", "PATCH", one + "/timeout", json_body=body)
    # No body the parser reads: the refusal names no providedConfig (JSON drops `undefined`).
    side.call("patch, no body", "PATCH", one + "/timeout")
    side.call(
        "patch, form body",
        "PATCH",
        one + "/timeout",
        raw_body=b"timeoutMinutes=10",
        content_type="application/x-www-form-urlencoded",
    )


def message_validation(side: Side) -> None:
    session_id = side.create_session("create", metadata={"tag": "v"})["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    for label, body in [
        ("empty content", {"content": ""}),
        ("content too long", {"content": "x" * 4001}),
        ("content not a string", {"content": 42}),
        ("no content", {"metadata": {"a": 1}}),
        ("bad transport", {"content": "hi", "transport": "carrier-pigeon"}),
        ("numeric transport", {"content": "hi", "transport": 5}),
        ("bad mode", {"content": "hi", "mode": "later"}),
        ("metadata too big", {"content": "hi", "metadata": {"blob": "y" * 10_300}}),
    ]:
        side.call(label, "POST", path, json_body=body)
    side.post_message(session_id, "z" * 4000)
    side.post_message(session_id, "legacy mode", mode="websocket", metadata={"sessionId": "mine"})
    side.post_message(session_id, "over http", transport="http")
    side.call("after validation", "GET", path)


def delete_then_gone(side: Side) -> None:
    session_id = side.create_session("create")["sessionId"]
    one = f"{SESSIONS}/{session_id}"
    side.post_message(session_id, "soon gone")
    side.call("delete", "DELETE", one)
    side.call("get deleted", "GET", one)
    side.call("messages of deleted", "GET", one + "/messages")
    side.call("delete again", "DELETE", one)


def odd_requests(side: Side) -> None:
    side.call("create, invalid JSON", "POST", SESSIONS, raw_body=b'{"agentId": ')
    session = side.create_session("create, metadata string", metadata="ab")
    session_id = session["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    side.call("post, invalid JSON", "POST", path, raw_body=b"{nope")
    side.call("post, JSON string", "POST", path, raw_body=b'"hello"')
    side.call("post, no body", "POST", path)
    side.call("post, JSON array", "POST", path, json_body=["hello"])
    side.post_message(session_id, "\U0001f600" * 2000)  # 4000 UTF-16 units: accepted
    side.call("emoji too long", "POST", path, json_body={"content": "\U0001f600" * 2000 + "x"})
    side.post_message(
        session_id,
        "with attachment",
        attachments=[{"type": "image", "url": "https://example.invalid/a.png"}],
    )
    side.post_message(session_id, "streamed", transport="sse")
    side.call("repeated limit", "GET", path, params=[("limit", "1"), ("limit", "3")])
    side.call("session", "GET", f"{SESSIONS}/{session_id}")


def auth_off_ignores_keys(side: Side) -> None:
    side.call("health", "GET", f"{SESSIONS}/health")
    session_id = side.create_session("create")["sessionId"]
    side.call("list", "GET", SESSIONS)  # every session the module created so far, in order
    side.call(
        "stray key", "GET", f"{SESSIONS}/{session_id}/messages", headers={"X-API-KEY": "anything"}
    )


def auth_on(side: Side) -> None:
    path = SESSIONS
    body = {"agentId": side.agent_id, "userId": USER_ID}
    side.call("create, no key", "POST", path, json_body=body, auth=False)
    side.call("create, wrong key", "POST", path, json_body=body, headers={"X-API-KEY": "wrong"})
    side.call("health, no key", "GET", f"{SESSIONS}/health", auth=False)
    session_id = side.create_session("create, right key")["sessionId"]
    side.post_message(session_id, "authorised")
    messages = f"{SESSIONS}/{session_id}/messages"
    side.call("read, no key", "GET", messages, auth=False)
    side.call(
        "read, lower-case key header",
        "GET",
        messages,
        auth=False,
        headers={"x-api-key": side.api_key or ""},
    )
    side.call("read, right key", "GET", messages)
    side.call(
        "preflight, no key",
        "OPTIONS",
        messages,
        auth=False,
        headers={"Origin": "http://a.b"},
        record_headers=PREFLIGHT_HEADERS,
    )
    side.call("invalid JSON, no key", "POST", messages, auth=False, raw_body=b"{nope")
    side.call(
        "text/plain, no key",
        "POST",
        messages,
        auth=False,
        raw_body=b"{}",
        content_type="text/plain",
    )
    side.call("text/plain, right key", "POST", messages, raw_body=b"{}", content_type="text/plain")
    side.call("health check, no key", "GET", "/healthz", auth=False)


# --- the HTTP layer in front of the routes -------------------------------------------------------

CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "vary",
)
PREFLIGHT_HEADERS = (*CORS_HEADERS, "content-length")


def routing(side: Side) -> None:
    """Trailing slashes, path case, encoded ids, unrouted methods and paths, the agents routes."""
    session_id = side.create_session("create")["sessionId"]
    for label, method, path in [
        ("trailing slash", "GET", f"{SESSIONS}/"),
        ("upper case", "GET", "/API/MESSAGING/SESSIONS"),
        ("mixed case id route", "GET", f"/api/Messaging/Sessions/{session_id}/Messages/"),
        ("id in upper case", "GET", f"{SESSIONS}/{session_id.upper()}"),
        ("encoded slash", "GET", f"{SESSIONS}/abc%2Fdef"),
        ("encoded newline", "GET", f"{SESSIONS}/abc%0Adef/messages"),
        ("bad escape", "GET", f"{SESSIONS}/%ZZ"),
        ("cut UTF-8 escape", "GET", f"{SESSIONS}/%E0%A4%A"),
        ("double slash", "GET", f"{SESSIONS}//"),
        ("unrouted method", "PUT", SESSIONS),
        ("unrouted method on a session", "PATCH", f"{SESSIONS}/{session_id}/messages"),
        ("unknown api path", "GET", "/api/nope"),
        ("unknown messaging path", "GET", "/api/messaging/nope/deeper"),
        ("agents", "GET", "/api/agents"),
        ("agents, trailing slash", "GET", "/api/agents/"),
        ("one agent", "GET", f"/api/agents/{side.agent_id}"),
        ("one agent, upper-case id", "GET", f"/api/agents/{side.agent_id.upper()}"),
        ("unknown agent", "GET", f"/api/agents/{UNKNOWN_ID}"),
        ("agent id not a uuid", "GET", "/api/agents/not-a-uuid"),
        ("health check", "GET", "/healthz"),
    ]:
        side.call(label, method, path)
    side.call("/health", "GET", "/health")
    # Outside /api the real server answers 403 in plain text, the emulator 403 in JSON.
    for label, path in [("outside api", "/nope"), ("API/ in upper case", "/API/nope")]:
        side.call(label, "GET", path, status_only=True)


def content_types(side: Side) -> None:
    """The Content-Type check, the parser's media type and charset handling."""
    session_id = side.create_session("create")["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    body = json.dumps({"content": "typed"}).encode()
    for content_type in [
        "text/plain",
        None,
        "application/vnd.api+json",
        "APPLICATION/JSON",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin1",
        "application/json; charset=utf8",
        "application/json; charset=UTF-8",
        "application/json; charset=utf-16",
        "application/json; charset=utf-99",
        "application/json; charset",
        'application/json;charset="utf-8"',
        "application/json; boundary=x; charset=utf-8",
    ]:
        side.call(f"type {content_type}", "POST", path, raw_body=body, content_type=content_type)
    side.call(
        "utf-16 body",
        "POST",
        path,
        raw_body='{"content": "sixteen"}'.encode("utf-16"),
        content_type="application/json; charset=utf-16",
    )
    side.call(
        "create as text/plain",
        "POST",
        SESSIONS,
        raw_body=json.dumps({"agentId": side.agent_id, "userId": USER_ID}).encode(),
        content_type="text/plain",
    )
    side.call("after", "GET", path)


def encodings_and_size(side: Side) -> None:
    """Content-Encoding, BOM, whitespace and the 2 MB limit of the body parser."""
    session_id = side.create_session("create")["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    body = json.dumps({"content": "packed"}).encode()
    for label, encoding, data in [
        ("gzip", "gzip", gzip.compress(body, mtime=0)),
        ("deflate", "deflate", zlib.compress(body)),
        ("brotli", "br", brotli.compress(body)),
        ("identity", "identity", body),
        ("GZIP in capitals", "GZIP", gzip.compress(body, mtime=0)),
        ("gzip that is not", "gzip", body),
        ("cut gzip", "gzip", gzip.compress(body, mtime=0)[:-8]),
        ("brotli that is not", "br", body),
        ("zstd", "zstd", body),
        ("compress", "compress", body),
    ]:
        side.call(label, "POST", path, raw_body=data, headers={"Content-Encoding": encoding})
    for label, data in [
        ("BOM", b"\xef\xbb\xbf" + body),
        ("two BOMs", b"\xef\xbb\xbf\xef\xbb\xbf" + body),
        ("JSON whitespace around", b" \r\n\t" + body + b" \n"),
        ("no-break space before", "\u00a0".encode() + body),
        ("only whitespace", b"  \n"),
        ("invalid UTF-8", b'{"content": "bad \xff byte"}'),
        ("NaN literal", b'{"content": "n", "metadata": {"n": NaN}}'),
        ("Infinity literal", b'{"content": "n", "metadata": {"n": Infinity}}'),
        ("top-level number", b"42"),
    ]:
        side.call(label, "POST", path, raw_body=data)
    big = {"content": "big", "metadata": {"blob": "y" * (2 * 1024 * 1024)}}
    side.call("over 2 MiB", "POST", path, raw_body=json.dumps(big).encode())
    side.call(
        "over 2 MiB gzipped",
        "POST",
        path,
        raw_body=gzip.compress(json.dumps(big).encode(), mtime=0),
        headers={"Content-Encoding": "gzip"},
    )
    side.call("after", "GET", path)


def javascript_values(side: Side) -> None:
    """Exact UUIDs, parseInt/Number with ASCII digits and JavaScript's whitespace set."""
    for label, user_id in [
        ("user id with newline", USER_ID + "\n"),
        ("user id with space", USER_ID + " "),
        ("user id in capitals", USER_ID.upper()),
        ("user id with fullwidth digit", "\uff11" + USER_ID[1:]),
    ]:
        side.call(label, "POST", SESSIONS, json_body={"agentId": side.agent_id, "userId": user_id})
    for value in [
        "\u0663\u0660",
        "\uff13\uff10",
        "\u00a045",
        "\u3000 45",
        "\x1c45",
        "\ufeff45",
        "0x1e",
        "1_0",
        "  7  ",
        "1e1",
        "+20",
        "-Infinity",
        "",
    ]:
        side.create_session(f"timeout {value!r}", timeoutConfig={"timeoutMinutes": value})
    session_id = _filled_session(side)["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    for value in ["\u0663", "\uff13", "\u00a03", "\x1c3", "\ufeff3", "\u20283", "3\u0663"]:
        side.call(f"limit {value!r}", "GET", path, params={"limit": value})
        side.call(f"before {value!r}", "GET", path, params={"before": value})
    one = f"{SESSIONS}/{session_id}"
    for body in [
        {"autoRenew": None},
        [],
        {"timeoutMinutes": None},
        {"maxDurationMinutes": None},
        {"timeoutMinutes": "\u0663\u0660"},
        {"timeoutMinutes": "\u00a010"},
        ["timeoutMinutes"],
        {"warningThresholdMinutes": "x"},
    ]:
        side.call(f"patch {body!r}", "PATCH", one + "/timeout", json_body=body)


def storage_and_numbers(side: Side) -> None:
    """NUL and lone surrogates refused by the database; numbers written as JavaScript does."""
    side.call(
        "create, NUL in metadata",
        "POST",
        SESSIONS,
        json_body={"agentId": side.agent_id, "userId": USER_ID, "metadata": {"k": "a\x00"}},
    )
    side.call("list after refused create", "GET", SESSIONS)
    session_id = side.create_session(
        "create with numbers",
        metadata={"one": 1.0, "big": 9223372036854775808, "zero": -0.0, "tiny": 1e-7},
        timeoutConfig={"timeoutMinutes": 7.0, "maxDurationMinutes": 1e21},
    )["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    for label, raw in [
        ("NUL in content", b'{"content": "a\\u0000b"}'),
        ("NUL in metadata", b'{"content": "ok", "metadata": {"k": "a\\u0000"}}'),
        ("NUL in a metadata key", b'{"content": "ok", "metadata": {"a\\u0000": 1}}'),
        ("lone surrogate in content", b'{"content": "a\\ud800b"}'),
        ("lone surrogate in metadata", b'{"content": "ok", "metadata": {"k": "\\udc00"}}'),
        (
            "numbers",
            b'{"content": "nums", "metadata": {"a": 1.0, "b": 9223372036854775808, '
            b'"c": -0.0, "d": 1e21, "e": 1e-7, "f": 0.1, "g": 1e400, "h": -1e400, '
            b'"i": 5e-324, "j": 123456789012345678901234567890, "k": 100, "l": 1.5e300, '
            b'"m": 0.000001, "n": 1e-6, "o": 2.5e-7}}',
        ),
        ("index-like keys", b'{"content": "keys", "metadata": {"b": 1, "2": 2, "1": 1, "01": 0}}'),
        ("escapes", b'{"content": "tab\\there \\u2028 \\u001f \\ud83d\\ude00"}'),
    ]:
        side.call(label, "POST", path, raw_body=raw)
    side.call("after", "GET", path, params={"limit": "20"})
    side.call("session", "GET", f"{SESSIONS}/{session_id}")


def cors(side: Side) -> None:
    """The preflight answer and the CORS headers on ordinary answers."""
    origin = {"Origin": "http://app.example"}
    for label, method, path, headers in [
        ("preflight", "OPTIONS", SESSIONS, {**origin, "Access-Control-Request-Method": "POST"}),
        ("preflight, no origin", "OPTIONS", SESSIONS, {}),
        (
            "preflight, odd header",
            "OPTIONS",
            f"{SESSIONS}/x/messages",
            {
                **origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "x-custom",
            },
        ),
        ("preflight, unknown path", "OPTIONS", "/api/nope", origin),
        ("GET with origin", "GET", SESSIONS, origin),
        ("GET without origin", "GET", SESSIONS, {}),
        ("error with origin", "GET", f"{SESSIONS}/{UNKNOWN_ID}", origin),
    ]:
        recorded = PREFLIGHT_HEADERS if method == "OPTIONS" else CORS_HEADERS
        side.call(label, method, path, headers=headers, record_headers=recorded)


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sequence",
    [
        paging_by_before,
        paging_by_after,
        paging_window_and_odd_params,
        agent_messages,
        session_errors,
        timeout_config,
        message_validation,
        delete_then_gone,
        odd_requests,
        auth_off_ignores_keys,
        routing,
        content_types,
        encodings_and_size,
        javascript_values,
        storage_and_numbers,
        cors,
    ],
    ids=lambda sequence: sequence.__name__,
)
def test_emulator_matches_real_server(
    sides: tuple[Side, Side], sequence: Sequence, tally: Tally
) -> None:
    run_both(sides, sequence, tally)


def test_emulator_matches_real_server_with_api_key(
    auth_sides: tuple[Side, Side], tally: Tally
) -> None:
    run_both(auth_sides, auth_on, tally)


# --- the comparison itself must be able to fail -----------------------------------------------------


def _page_exchange(ids: list[str], stamps: list[int], has_more: bool) -> Exchange:
    messages = [
        {
            "id": message_id,
            "content": f"m{index}",
            "createdAt": datetime.fromtimestamp(stamp / 1000, tz=timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        for index, (message_id, stamp) in enumerate(zip(ids, stamps, strict=True))
    ]
    body = {
        "messages": messages,
        "hasMore": has_more,
        "cursors": {"before": stamps[-1], "after": stamps[0]},
    }
    return Exchange(
        "page", "GET", "/x", [["before", str(stamps[0] + 5)]], None, 200, "application/json", body
    )


def _normalised(exchange: Exchange) -> dict[str, Any]:
    return Normaliser([exchange]).exchange(exchange)


ONE, TWO = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
THREE, FOUR = "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"


def test_normalising_hides_ids_and_clock_but_keeps_cursor_links() -> None:
    real = _normalised(_page_exchange([ONE, TWO], [1_700_000_000_500, 1_700_000_000_100], True))
    emulated = _normalised(
        _page_exchange([THREE, FOUR], [1_800_000_000_009, 1_800_000_000_001], True)
    )
    assert real == emulated
    assert real["body"]["cursors"] == {"before": "<t:<id2>>", "after": "<t:<id1>>"}


@pytest.mark.parametrize("change", ["hasMore", "order", "cursor"])
def test_normalised_pages_still_differ_on_behaviour(change: str) -> None:
    stamps = [1_700_000_000_500, 1_700_000_000_100]
    real = _page_exchange([ONE, TWO], stamps, True)
    emulated = _page_exchange([THREE, FOUR], stamps, change != "hasMore")
    if change == "order":
        emulated.body["messages"].reverse()
    if change == "cursor":
        emulated.body["cursors"]["before"] = stamps[0]
    assert _normalised(real) != _normalised(emulated)
