"""ElizaOS sessions adapter, driven through both clients over httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from pytest_sessionmem import (
    AuthenticationError,
    ConfigError,
    Message,
    ProviderError,
    Role,
    SessionExpired,
    SessionNotFound,
    UnsupportedOperation,
)

Handler = Callable[[httpx.Request], httpx.Response]

BASE = "http://localhost:3000"
T0 = 1_736_937_000_000  # 2025-01-15T10:30:00Z in epoch ms
USER = "11111111-1111-4111-8111-111111111111"
AGENT = "22222222-2222-4222-8222-222222222222"


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def stored(i: int, ms: int) -> dict[str, Any]:
    agent = i % 2 == 1
    return {
        "id": f"m{i}",
        "content": f"message {i}",
        "authorId": AGENT if agent else USER,
        "isAgent": agent,
        "createdAt": iso(ms),
        "metadata": {"agentName": "Eliza"} if agent else {"sessionId": "s1"},
    }


def eliza_server(messages: list[dict[str, Any]]) -> Handler:
    """The real GET messages semantics: newest first, strict integer ``before``, clamped limit."""

    def millis(message: dict[str, Any]) -> int:
        moment = datetime.fromisoformat(message["createdAt"].replace("Z", "+00:00"))
        return round(moment.timestamp() * 1000)

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = max(1, min(100, int(params.get("limit", "50"))))
        rows = sorted(messages, key=millis, reverse=True)
        if "before" in params:
            before = int(params["before"])  # the server's parseInt
            rows = [m for m in rows if millis(m) < before]
        page = rows[:limit]
        body: dict[str, Any] = {"messages": page, "hasMore": len(page) == limit}
        if page:
            body["cursors"] = {"before": millis(page[-1]), "after": millis(page[0])}
        return httpx.Response(200, json=body)

    return handler


def distinct(count: int) -> list[dict[str, Any]]:
    return [stored(i, T0 + i * 10) for i in range(count)]


def test_walks_before_cursors_and_returns_oldest_first(driver) -> None:
    server = eliza_server(distinct(250))

    transcript = driver.call("eliza", server, "get_messages", "s1")

    assert transcript.contents == [f"message {i}" for i in range(250)]
    assert len(driver.requests) == 3
    assert "before" not in driver.requests[0].url.params
    befores = [r.url.params["before"] for r in driver.requests[1:]]
    assert all(b.isdigit() for b in befores)  # integer epoch ms, never an ISO string
    assert {r.url.params["limit"] for r in driver.requests} == {"100"}


def test_exactly_full_last_page_ends_without_losing_or_repeating(driver) -> None:
    server = eliza_server(distinct(200))

    transcript = driver.call("eliza", server, "get_messages", "s1")

    assert transcript.contents == [f"message {i}" for i in range(200)]
    assert len(driver.requests) == 3


def test_messages_sharing_a_millisecond_across_a_page_boundary_are_kept(driver) -> None:
    # m4..m6 share one millisecond and the first page (newest first: m9 m8 m7 m4 m5) ends
    # inside that group; walking with a strict `before` would never return m6.
    messages = [stored(i, T0 + i) for i in range(4)]
    messages += [stored(i, T0 + 10) for i in range(4, 7)]
    messages += [stored(i, T0 + 20 + i) for i in range(7, 10)]
    server = eliza_server(messages)

    transcript = driver.call("eliza", server, "get_messages", "s1", page_size=5)

    assert sorted(transcript.contents) == sorted(f"message {i}" for i in range(10))
    assert len({m.id for m in transcript}) == 10


def test_more_ties_than_a_page_still_terminates(driver) -> None:
    server = eliza_server([stored(i, T0) for i in range(8)] + [stored(8, T0 - 5)])

    transcript = driver.call("eliza", server, "get_messages", "s1", page_size=3)

    ids = [m.id for m in transcript]
    assert len(ids) == len(set(ids))  # nothing repeated
    assert ids[0] == "m8"  # the older message past the tie is still reached
    assert len(driver.requests) <= 5


def test_empty_session_is_one_request(driver) -> None:
    server = eliza_server([])

    assert list(driver.call("eliza", server, "get_messages", "s1")) == []
    assert len(driver.requests) == 1


def test_iter_messages_is_oldest_first_too(driver) -> None:
    server = eliza_server(distinct(7))

    messages = driver.call("eliza", server, "iter_messages", "s1", page_size=3)

    assert [m.content for m in messages] == [f"message {i}" for i in range(7)]


def test_message_mapping(driver) -> None:
    server = eliza_server(distinct(2))

    user, agent = driver.call("eliza", server, "get_messages", "s1")

    assert user == Message(
        id="m0",
        role=Role.USER,
        content="message 0",
        name=USER,
        kind="user",
        created_at=datetime(2025, 1, 15, 10, 30, tzinfo=timezone.utc),
        metadata={"sessionId": "s1"},
    )
    assert (agent.role, agent.kind, agent.name) == (Role.ASSISTANT, "agent", AGENT)
    assert agent.created_at == datetime(2025, 1, 15, 10, 30, 0, 10_000, tzinfo=timezone.utc)
    assert agent.raw == stored(1, T0 + 10)


def test_unicode_and_long_content(driver) -> None:
    messages = [stored(0, T0), stored(1, T0 + 1)]
    messages[0]["content"] = "مرحبا 🌍"
    messages[1]["content"] = "y" * 100_000
    server = eliza_server(messages)

    assert driver.call("eliza", server, "get_messages", "s1").contents == [
        "مرحبا 🌍",
        "y" * 100_000,
    ]


def test_page_size_is_clamped_to_100(driver) -> None:
    server = eliza_server(distinct(3))

    driver.call("eliza", server, "get_messages", "s1", page_size=500)

    assert driver.last.url.params["limit"] == "100"


@pytest.mark.parametrize("page_size", [0, -5, "10", 2.5, True])
def test_nonsense_page_size_is_a_config_error(driver, page_size: Any) -> None:
    server = eliza_server([])

    with pytest.raises(ConfigError, match="page_size must be an integer >= 1"):
        driver.call("eliza", server, "get_messages", "s1", page_size=page_size)
    assert driver.requests == []


def test_missing_id_names_the_field(driver) -> None:
    broken = distinct(3)
    del broken[0]["id"]
    server = eliza_server(broken)

    with pytest.raises(ProviderError, match=r"messages\[2\]\.id: Field required"):
        driver.call("eliza", server, "get_messages", "s1")


def test_api_key_header_only_when_a_token_is_set(driver, monkeypatch: pytest.MonkeyPatch) -> None:
    server = eliza_server([])
    monkeypatch.delenv("ELIZA_SERVER_AUTH_TOKEN", raising=False)
    driver.call("eliza", server, "get_messages", "s1", client={"api_key": None})
    monkeypatch.setenv("ELIZA_SERVER_AUTH_TOKEN", "tok-1")
    driver.call("eliza", server, "get_messages", "s1", client={"api_key": None})

    assert "x-api-key" not in driver.requests[0].headers
    assert driver.requests[1].headers["x-api-key"] == "tok-1"
    assert driver.requests[1].url.path == "/api/messaging/sessions/s1/messages"


def error_server(status: int, body: Any) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def structured(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "timestamp": "2025-01-15T11:02:00.000Z",
            "details": details,
            "stack": "Error: ...",
        }
    }


def test_404_session_not_found(driver) -> None:
    server = error_server(404, structured("SESSION_NOT_FOUND", "Session with ID 's1' not found"))

    with pytest.raises(SessionNotFound, match="Session with ID 's1' not found") as info:
        driver.call("eliza", server, "get_messages", "s1")
    assert info.value.status == 404


def test_410_session_expired(driver) -> None:
    body = structured("SESSION_EXPIRED", "Session 's1' expired at 2025-01-15T11:00:00.000Z")
    server = error_server(410, body)

    with pytest.raises(SessionExpired, match=r"expired at 2025-01-15T11:00:00\.000Z"):
        driver.call("eliza", server, "get_session", "s1")
    assert len(driver.requests) == 1


def test_404_for_the_agent_is_not_a_missing_session(driver) -> None:
    server = error_server(404, structured("AGENT_NOT_FOUND", "Agent not found"))

    with pytest.raises(ProviderError, match="Agent not found") as info:
        driver.call("eliza", server, "create_session", agent_id=AGENT, user_id=USER)
    assert not isinstance(info.value, SessionNotFound)


def test_auth_middleware_envelope(driver) -> None:
    body = {"error": "API key required", "message": "Missing or invalid X-API-KEY header"}
    server = error_server(401, body)

    with pytest.raises(
        AuthenticationError, match="API key required: Missing or invalid X-API-KEY header"
    ):
        driver.call("eliza", server, "get_messages", "s1")


def test_success_false_envelope(driver) -> None:
    body = {"success": False, "error": "Failed to process message in HTTP transport"}
    server = error_server(500, body)

    with pytest.raises(ProviderError, match="Failed to process message in HTTP transport") as info:
        driver.call("eliza", server, "send_message", "s1", "hi", transport="http")
    assert info.value.status == 500
    assert len(driver.requests) == 1  # a POST is not retried on 5xx


def test_validation_error_detail(driver) -> None:
    body = structured("VALIDATION_ERROR", "Invalid content", details={"field": "content"})
    server = error_server(400, body)

    with pytest.raises(ProviderError, match="Invalid content") as info:
        driver.call("eliza", server, "send_message", "s1", "x")
    assert info.value.detail == {"field": "content"}


SESSION_INFO = {
    "sessionId": "s-new",
    "channelId": "c1",
    "agentId": AGENT,
    "userId": USER,
    "createdAt": "2025-01-15T10:30:00.000Z",
    "metadata": {"plan": "pro"},
    "expiresAt": "2025-01-15T11:00:00.000Z",
    "timeoutConfig": {"timeoutMinutes": 30, "autoRenew": True},
}


def test_create_session(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=SESSION_INFO)

    session = driver.call(
        "eliza",
        server,
        "create_session",
        agent_id=AGENT,
        user_id=USER,
        metadata={"plan": "pro"},
        timeout_config={"timeoutMinutes": 30},
    )

    assert (driver.last.method, driver.last.url) == ("POST", f"{BASE}/api/messaging/sessions")
    assert driver.bodies() == [
        {
            "agentId": AGENT,
            "userId": USER,
            "metadata": {"plan": "pro"},
            "timeoutConfig": {"timeoutMinutes": 30},
        }
    ]
    assert (session.id, session.agent_id, session.user_id) == ("s-new", AGENT, USER)
    assert session.expires_at == datetime(2025, 1, 15, 11, 0, tzinfo=timezone.utc)
    assert session.metadata == {"plan": "pro"}


def test_create_session_rejects_unknown_fields(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=SESSION_INFO)

    with pytest.raises(ConfigError, match=r"unknown fields \['color'\]"):
        driver.call("eliza", server, "create_session", agent_id=AGENT, user_id=USER, color="red")
    with pytest.raises(ConfigError, match="creates the session id itself"):
        driver.call("eliza", server, "create_session", session_id="mine", agent_id=AGENT)
    assert driver.requests == []


def test_get_session(driver) -> None:
    info = {**SESSION_INFO, "lastActivity": "2025-01-15T10:31:00.000Z", "timeRemaining": 1000}

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=info)

    session = driver.call("eliza", server, "get_session", "s-new")

    assert driver.last.url.path == "/api/messaging/sessions/s-new"
    assert session.raw["timeRemaining"] == 1000
    assert session.created_at == datetime(2025, 1, 15, 10, 30, tzinfo=timezone.utc)


FLAT_15 = {
    "id": "m1",
    "content": "hi",
    "authorId": USER,
    "createdAt": "2025-01-15T10:30:00.000Z",
    "metadata": {"k": "v"},
    "sessionStatus": {"expiresAt": "2025-01-15T11:00:00.000Z", "renewalCount": 1},
}
CAMEL_170 = {
    "success": True,
    "userMessage": {
        "id": "m1",
        "content": "hi",
        "authorId": USER,
        "createdAt": "2025-01-15T10:30:00.000Z",
        "metadata": {"k": "v"},
    },
    "sessionStatus": {},
}
SNAKE_172 = {
    "success": True,
    "userMessage": {
        "id": "m1",
        "channel_id": "c1",
        "message_server_id": "srv",
        "author_id": USER,
        "content": "hi",
        "created_at": T0,
        "source_type": "user",
        "raw_message": {},
        "metadata": {"k": "v"},
        "in_reply_to_message_id": None,
    },
    "sessionStatus": {},
}


@pytest.mark.parametrize("body", [FLAT_15, CAMEL_170, SNAKE_172], ids=["1.5", "1.7.0", "1.7.2"])
def test_send_message_reads_every_server_version(driver, body: dict[str, Any]) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=body)

    message = driver.call("eliza", server, "send_message", "s1", "hi", metadata={"k": "v"})

    assert driver.bodies() == [{"content": "hi", "metadata": {"k": "v"}}]
    assert message == Message(
        id="m1",
        role=Role.USER,
        content="hi",
        name=USER,
        kind="user",
        created_at=datetime(2025, 1, 15, 10, 30, tzinfo=timezone.utc),
        metadata={"k": "v"},
    )
    assert message.raw == body


def test_add_messages_posts_each_one(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=FLAT_15)

    messages = [Message(role=Role.USER, content="one", metadata={"n": 1}), ("user", "two")]

    answers = driver.call("eliza", server, "add_messages", "s1", messages)

    assert driver.bodies() == [{"content": "one", "metadata": {"n": 1}}, {"content": "two"}]
    assert {r.url.path for r in driver.requests} == {"/api/messaging/sessions/s1/messages"}
    assert answers == [FLAT_15, FLAT_15]


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([("user", "ok"), ("assistant", "no")], r"messages\[1\] has role 'assistant'"),
        ([("user", "ok"), ("user", "z" * 4001)], r"messages\[1\]\.content has 4001 characters"),
        ([("user", "")], r"messages\[0\]\.content has 0 characters"),
    ],
)
def test_add_messages_checks_everything_before_sending(
    driver, messages: list[tuple[str, str]], problem: str
) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=FLAT_15)

    with pytest.raises(ConfigError, match=problem):
        driver.call("eliza", server, "add_messages", "s1", messages)
    assert driver.requests == []


def test_delete_session(driver) -> None:
    body = {"success": True, "message": "Session s1 deleted successfully"}

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    driver.call("eliza", server, "delete_session", "s1")

    assert (driver.last.method, driver.last.url.path) == ("DELETE", "/api/messaging/sessions/s1")


def test_memory_is_unsupported(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    with pytest.raises(UnsupportedOperation, match=r"eliza has no memory endpoint.*get_messages"):
        driver.call("eliza", server, "get_memory", "s1")
    assert driver.requests == []


def test_a_server_that_ignores_before_cannot_make_paging_loop(driver) -> None:
    page = {
        "messages": [stored(i, T0) for i in range(3)],
        "hasMore": True,
        "cursors": {"before": T0, "after": T0},
    }

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page)

    transcript = driver.call("eliza", server, "get_messages", "s1", page_size=3)

    assert sorted(m.id for m in transcript) == ["m0", "m1", "m2"]
    assert len(driver.requests) == 3


def test_plain_text_error_from_older_servers(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="Unauthorized: Invalid or missing X-API-KEY")

    with pytest.raises(AuthenticationError, match="401 Unauthorized: Unauthorized: Invalid"):
        driver.call("eliza", server, "get_session", "s1")


def test_error_body_without_a_message(driver) -> None:
    server = error_server(500, {"unexpected": True})

    with pytest.raises(ProviderError, match=r"eliza answered 500 Internal Server Error \(") as info:
        driver.call("eliza", server, "get_session", "s1", client={"max_retries": 0})
    assert info.value.detail == {"unexpected": True}


def test_send_message_answer_that_is_not_an_object(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=["not", "an", "object"])

    with pytest.raises(ProviderError, match="expected a JSON object"):
        driver.call("eliza", server, "send_message", "s1", "hi")


def test_users_are_unsupported(driver) -> None:
    with pytest.raises(UnsupportedOperation, match="pass user_id= to create_session"):
        driver.call("eliza", error_server(200, {}), "add_user", "u1")
