"""Meibel v2 adapter, driven through both clients over httpx.MockTransport."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from pytest_sessionmem import ConfigError, Message, ProviderError, Role, UnsupportedOperation

BASE = "https://api.meibel.ai/v2"


ITEMS: list[dict[str, Any]] = [
    {
        "type": "user",
        "timestamp": "2025-01-01T10:00:00Z",
        "message": "Find x",
        "signal_id": "sig-1",
        "tool_id": None,
        "tool_name": None,
        "arguments": None,
        "result": None,
    },
    {
        "type": "tool_call",
        "timestamp": "2025-01-01T10:00:01Z",
        "tool_id": "t1",
        "tool_name": "search",
        "arguments": {"q": "x"},
    },
    {"type": "tool_result", "tool_id": "t1", "tool_name": "search", "result": "found x"},
    {"type": "assistant", "timestamp": "2025-01-01T10:00:02", "message": "Here is x"},
    {"type": "planner_note", "timestamp": None, "message": None},
]


def messages_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"agent_id": "a1", "agent_name": "Support", "version": "3", "messages": items}


def test_get_messages_maps_every_item_kind(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=messages_body(ITEMS))

    transcript = driver.call("meibel", server, "get_messages", "s1", client={"api_key": "mk"})

    assert len(driver.requests) == 1  # no pagination
    request = driver.last
    assert request.url == f"{BASE}/sessions/s1/messages"  # no query parameters
    assert request.headers["meibel-api-key"] == "mk"
    assert "authorization" not in request.headers
    user, call, result, reply, unknown = transcript
    assert user == Message(
        role=Role.USER,
        content="Find x",
        kind="user",
        created_at=datetime(2025, 1, 1, 10, 0, tzinfo=timezone.utc),
        metadata={"signal_id": "sig-1"},
    )
    assert (call.role, call.kind, call.tool_id, call.tool_name, call.arguments) == (
        Role.TOOL,
        "tool_call",
        "t1",
        "search",
        {"q": "x"},
    )
    assert (result.kind, result.result, result.content) == ("tool_result", "found x", "")
    # A timestamp without a zone is read as UTC.
    assert reply.created_at == datetime(2025, 1, 1, 10, 0, 2, tzinfo=timezone.utc)
    assert (unknown.role, unknown.kind, unknown.created_at) == (Role.NOROLE, "planner_note", None)
    assert unknown.raw == ITEMS[4]


def test_empty_session(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=messages_body([]))

    assert list(driver.call("meibel", server, "get_messages", "s1")) == []


def test_unicode_and_long_message(driver) -> None:
    text = "🙂 über " + "x" * 100_000

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=messages_body([{"type": "user", "message": text}]))

    assert driver.call("meibel", server, "get_messages", "s1").contents == [text]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (messages_body([ITEMS[0], {"message": "no type"}]), r"messages\[1\]\.type: Field required"),
        ({"agent_id": "a1"}, "messages: Field required"),
        (
            messages_body([{"type": "tool_call", "arguments": "not an object"}]),
            r"messages\[0\]\.arguments: Input should be a valid dictionary",
        ),
        ([], r"\(body\): Input should be a valid dictionary"),
    ],
)
def test_payloads_that_do_not_fit(driver, body: Any, problem: str) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    with pytest.raises(ProviderError, match=problem):
        driver.call("meibel", server, "get_messages", "s1")


def test_non_json_response_is_a_provider_error(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="OK")

    with pytest.raises(ProviderError, match="expected JSON"):
        driver.call("meibel", server, "get_messages", "s1")


def test_422_carries_the_validation_detail(driver) -> None:
    detail = [{"loc": ["body", "user_message"], "msg": "Field required", "type": "missing"}]

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": detail})

    with pytest.raises(ProviderError, match=r"body\.user_message: Field required") as info:
        driver.call("meibel", server, "send_message", "s1", "hi")
    assert (info.value.status, info.value.detail) == (422, detail)
    assert len(driver.requests) == 1
    assert driver.sleeps == []


def test_string_detail_is_the_message(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "Session not found"})

    with pytest.raises(ProviderError, match="meibel answered 404 Not Found: Session not found"):
        driver.call("meibel", server, "get_session", "s1")


def test_get_session(driver) -> None:
    body = {
        "agent_id": "a1",
        "agent_name": "Support",
        "version": None,
        "status": "RUNNING",
        "messages": [],
        "tool_activity": [],
        "token_usage": [],
        "file_parsing": [],
        "result": [],
    }

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    session = driver.call("meibel", server, "get_session", "s1")

    assert driver.last.url == f"{BASE}/sessions/s1"
    assert (session.id, session.agent_id, session.status, session.provider) == (
        "s1",
        "a1",
        "RUNNING",
        "meibel",
    )
    assert session.raw == body


def test_create_session_posts_to_the_agent(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"session_id": "new-1"})

    session = driver.call(
        "meibel", server, "create_session", agent_id="a1", prompt="Be brief", initial_context={}
    )

    assert (driver.last.method, driver.last.url.path) == ("POST", "/v2/agents/a1/sessions")
    assert driver.bodies() == [{"prompt": "Be brief", "initial_context": {}}]
    assert (session.id, session.agent_id) == ("new-1", "a1")


def test_create_session_rejects_fields_meibel_does_not_have(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"session_id": "x"})

    with pytest.raises(ConfigError, match="pass agent_id="):
        driver.call("meibel", server, "create_session", agent_id="a1", user_id="u")
    with pytest.raises(ConfigError, match="agent_id must be a non-empty string"):
        driver.call("meibel", server, "create_session")
    assert driver.requests == []


def chat_reply(request: httpx.Request) -> httpx.Response:
    asked = json.loads(request.content)["user_message"]
    return httpx.Response(
        200,
        json={
            "signal_id": "sig-9",
            "response": {"message": f"re: {asked}"},
            "assistant_response": f"re: {asked}",
            "tool_activity": [],
        },
    )


def test_send_message_returns_the_agent_reply(driver) -> None:
    server = chat_reply

    reply = driver.call("meibel", server, "send_message", "s1", "hello", timeout_seconds=5)

    assert driver.last.url.path == "/v2/sessions/s1/chat"
    assert driver.bodies() == [{"user_message": "hello", "timeout_seconds": 5}]
    assert (reply.role, reply.content, reply.metadata) == (
        Role.ASSISTANT,
        "re: hello",
        {"signal_id": "sig-9"},
    )
    assert reply.raw["response"] == {"message": "re: hello"}


def test_add_messages_chats_each_user_message(driver) -> None:
    server = chat_reply

    answers = driver.call("meibel", server, "add_messages", "s1", [("user", "a"), ("user", "b")])

    assert driver.bodies() == [{"user_message": "a"}, {"user_message": "b"}]
    assert [a["assistant_response"] for a in answers] == ["re: a", "re: b"]


def test_add_messages_refuses_non_user_turns_before_sending(driver) -> None:
    server = chat_reply

    with pytest.raises(ConfigError, match=r"messages\[1\] has role 'assistant'"):
        driver.call("meibel", server, "add_messages", "s1", [("user", "a"), ("assistant", "b")])
    assert driver.requests == []


@pytest.mark.parametrize(
    ("method", "args", "hint"),
    [
        (
            "get_memory",
            ("s1",),
            "meibel has no memory endpoint; read the session with get_messages",
        ),
        ("delete_session", ("s1",), "meibel has no endpoint to delete a session"),
        ("add_user", ("u1",), "meibel has no users endpoint"),
    ],
)
def test_unsupported_operations_send_nothing(
    driver, method: str, args: tuple[str, ...], hint: str
) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    with pytest.raises(UnsupportedOperation, match=hint):
        driver.call("meibel", server, method, *args)
    assert driver.requests == []


def test_html_error_page(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, html="<html>Bad Gateway</html>")

    with pytest.raises(ProviderError, match="meibel answered 502 Bad Gateway: <html>") as info:
        driver.call("meibel", server, "get_session", "s1", client={"max_retries": 1})
    assert info.value.status == 502
    assert len(driver.requests) == 2


def test_error_body_without_known_keys(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": 7})

    with pytest.raises(ProviderError, match=r"meibel answered 400 Bad Request \(") as info:
        driver.call("meibel", server, "get_session", "s1")
    assert info.value.detail == {"code": 7}
