"""Zep v2 adapter, driven through both clients over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
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
    UnsupportedOperation,
)

Handler = Callable[[httpx.Request], httpx.Response]

BASE = "https://api.getzep.com/api/v2"


def zep_message(i: int, **overrides: Any) -> dict[str, Any]:
    message = {
        "uuid": f"uuid-{i}",
        "created_at": f"2024-05-01T12:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "role": "alice" if i % 2 == 0 else "bot",
        "role_type": "user" if i % 2 == 0 else "assistant",
        "content": f"message {i}",
        "metadata": {"n": i},
        "token_count": 0,
    }
    message.update(overrides)
    return message


def paged_session(messages: list[dict[str, Any]]) -> Handler:
    """Zep's real paging: 1-based page ``cursor``, oldest first, total_count 0 past the end."""

    def handler(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        cursor = int(request.url.params["cursor"])
        page = messages[(cursor - 1) * limit : cursor * limit]
        total = len(messages) if page else 0
        return httpx.Response(
            200, json={"messages": page, "row_count": len(page), "total_count": total}
        )

    return handler


def test_get_messages_walks_three_pages_oldest_first(driver) -> None:
    server = paged_session([zep_message(i) for i in range(250)])

    transcript = driver.call("zep", server, "get_messages", "s1")

    assert [r.url.params["cursor"] for r in driver.requests] == ["1", "2", "3"]
    assert {r.url.params["limit"] for r in driver.requests} == {"100"}
    assert transcript.contents == [f"message {i}" for i in range(250)]
    assert transcript.session_id == "s1"
    assert transcript.provider == "zep"


def test_exactly_full_last_page_is_followed_by_one_empty_page(driver) -> None:
    server = paged_session([zep_message(i) for i in range(200)])

    transcript = driver.call("zep", server, "get_messages", "s1")

    assert [r.url.params["cursor"] for r in driver.requests] == ["1", "2", "3"]
    assert len(transcript) == 200


def test_empty_session_is_one_request(driver) -> None:
    server = paged_session([])

    transcript = driver.call("zep", server, "get_messages", "s1", page_size=10)

    assert len(driver.requests) == 1
    assert driver.last.url.params["limit"] == "10"
    assert list(transcript) == []


def test_message_mapping(driver) -> None:
    server = paged_session([zep_message(0), zep_message(1, metadata=None)])

    first, second = driver.call("zep", server, "get_messages", "s1")

    assert first == Message(
        id="uuid-0",
        role=Role.USER,
        content="message 0",
        name="alice",
        kind="user",
        created_at=datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc),
        metadata={"n": 0},
    )
    assert first.raw == zep_message(0)
    assert second.role is Role.ASSISTANT
    assert second.metadata == {}


def test_unicode_and_very_long_content_survive(driver) -> None:
    long_text = "ж" * 100_000
    server = paged_session(
        [zep_message(0, content="héllo 👋 世界"), zep_message(1, content=long_text)]
    )

    transcript = driver.call("zep", server, "get_messages", "s1")

    assert transcript.contents == ["héllo 👋 世界", long_text]


def test_request_shape(driver) -> None:
    server = paged_session([])

    driver.call("zep", server, "get_messages", "a/b c", client={"api_key": "zk-1"})

    request = driver.last
    assert request.method == "GET"
    assert request.url.raw_path == b"/api/v2/sessions/a%2Fb%20c/messages?limit=100&cursor=1"
    assert request.headers["authorization"] == "Api-Key zk-1"
    assert request.headers["user-agent"].startswith("pytest-sessionmem/")


def test_iter_messages_streams_page_by_page() -> None:
    from pytest_sessionmem.client import SessionClient

    pages = paged_session([zep_message(i) for i in range(250)])
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return pages(request)

    with SessionClient("zep", api_key="k", transport=httpx.MockTransport(server)) as client:
        messages = client.iter_messages("s1")
        assert next(messages).content == "message 0"
        assert len(sent) == 1  # the second page is not fetched yet
        assert len(list(messages)) == 249
    assert len(sent) == 3


def test_missing_required_field_names_it(driver) -> None:
    broken = [zep_message(i) for i in range(5)]
    del broken[3]["role_type"]
    server = paged_session(broken)

    with pytest.raises(ProviderError, match=r"messages\[3\]\.role_type: Field required") as info:
        driver.call("zep", server, "get_messages", "s1")
    assert info.value.url is not None and "/sessions/s1/messages" in info.value.url


def test_wrong_type_names_the_field(driver) -> None:
    server = paged_session([zep_message(0, content=42)])

    with pytest.raises(ProviderError, match=r"messages\[0\]\.content: Input should be a valid"):
        driver.call("zep", server, "get_messages", "s1")


@pytest.mark.parametrize("provider", ["zep", "zep-v3"])
def test_a_body_without_messages_is_no_page_but_null_is_an_empty_one(driver, provider) -> None:
    def body(payload: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
        return lambda request: httpx.Response(200, json=payload)

    with pytest.raises(ProviderError, match=r"does not fit its API: messages: Field required"):
        driver.call(provider, body({"error": "upstream timeout"}), "get_messages", "s1")
    assert driver.call(provider, body({"messages": None}), "get_messages", "s1").messages == ()


def test_html_instead_of_json_is_a_provider_error(driver) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html="<html><body>Login</body></html>")

    with pytest.raises(ProviderError, match="expected JSON, got text/html") as info:
        driver.call("zep", html, "get_session", "s1")
    assert info.value.method == "GET"


def test_get_session(driver) -> None:
    body = {
        "uuid": "u",
        "session_id": "s1",
        "user_id": "user-1",
        "created_at": "2024-05-01T12:00:00.123456Z",
        "ended_at": None,
        "deleted_at": None,
        "metadata": None,
        "classifications": {"x": "y"},
    }

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    session = driver.call("zep", server, "get_session", "s1")

    assert driver.last.url == f"{BASE}/sessions/s1"
    assert (session.id, session.provider, session.user_id) == ("s1", "zep", "user-1")
    assert session.created_at == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert session.metadata == {}
    assert session.status is None
    assert session.raw == body


def memory_body() -> dict[str, Any]:
    return {
        "context": "Alice likes tea.",
        "relevant_facts": [
            {
                "uuid": "f1",
                "content": "Alice likes tea",
                "fact": "old text",
                "created_at": "2024-05-01T12:00:00Z",
                "rating": 0.9,
                "name": "LIKES",
            },
            {"uuid": "f2", "fact": "Alice lives in Paris", "created_at": "2024-05-01T12:00:00Z"},
        ],
        "summary": {"uuid": "s", "content": "They talked about tea."},
        "messages": [zep_message(4), zep_message(5)],
        "facts": ["deprecated"],
    }


def test_get_memory_maps_facts_summary_and_messages(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=memory_body())

    memory = driver.call("zep", server, "get_memory", "s1", last_n=2, min_rating=0.5)

    assert driver.last.url.path == "/api/v2/sessions/s1/memory"
    assert dict(driver.last.url.params) == {"lastn": "2", "minRating": "0.5"}
    assert memory.context == "Alice likes tea."
    assert [(f.id, f.content, f.rating) for f in memory.facts] == [
        ("f1", "Alice likes tea", 0.9),
        ("f2", "Alice lives in Paris", None),
    ]
    assert memory.facts[0].name == "LIKES"
    assert memory.summary == "They talked about tea."
    assert memory.messages.contents == ["message 4", "message 5"]
    assert memory.raw["facts"] == ["deprecated"]


def test_get_memory_without_filters_sends_no_query(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    memory = driver.call("zep", server, "get_memory", "s1")

    assert driver.last.url.query == b""
    assert (memory.context, memory.facts, memory.summary, len(memory.messages)) == (
        None,
        (),
        None,
        0,
    )


def test_fact_without_any_text_is_a_provider_error(driver) -> None:
    body = {"relevant_facts": [{"uuid": "f1", "created_at": "2024-05-01T12:00:00Z"}]}

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    with pytest.raises(ProviderError, match=r"relevant_facts\[0\]\.content: field required"):
        driver.call("zep", server, "get_memory", "s1")


def test_create_session_and_user(driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path.endswith("/users"):
            return httpx.Response(201, json={"uuid": "u1", **body})
        return httpx.Response(201, json={"uuid": "x", "created_at": "2024-05-01T12:00:00Z", **body})

    server = handler

    user = driver.call("zep", server, "add_user", "user-1", email="a@example.com")
    session = driver.call(
        "zep", server, "create_session", session_id="s1", user_id="user-1", metadata={"k": "v"}
    )

    assert [(r.method, r.url.path) for r in driver.requests] == [
        ("POST", "/api/v2/users"),
        ("POST", "/api/v2/sessions"),
    ]
    assert driver.bodies() == [
        {"user_id": "user-1", "email": "a@example.com"},
        {"session_id": "s1", "user_id": "user-1", "metadata": {"k": "v"}},
    ]
    assert user["uuid"] == "u1"
    assert (session.id, session.user_id, session.metadata) == ("s1", "user-1", {"k": "v"})


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"session_id": "s1"}, "user_id must be a non-empty string"),
        ({"user_id": "u"}, "session_id must be a non-empty string"),
        ({"session_id": "s1", "user_id": "u", "agent_id": "a"}, "no agent_id"),
    ],
)
def test_create_session_argument_errors_send_nothing(
    driver, kwargs: dict[str, Any], problem: str
) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={})

    with pytest.raises(ConfigError, match=problem):
        driver.call("zep", server, "create_session", **kwargs)
    assert driver.requests == []


def test_add_messages_is_chunked_by_30(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"message": "OK"})

    messages = [
        Message(role=Role.USER, name="alice", content=f"m{i}", metadata={"i": i}) for i in range(65)
    ]

    answers = driver.call("zep", server, "add_messages", "s1", messages)

    assert [len(body["messages"]) for body in driver.bodies()] == [30, 30, 5]
    assert {r.url.path for r in driver.requests} == {"/api/v2/sessions/s1/memory"}
    assert driver.bodies()[2]["messages"][-1] == {
        "role_type": "user",
        "role": "alice",
        "content": "m64",
        "metadata": {"i": 64},
    }
    assert answers == [{"message": "OK"}] * 3


def test_add_messages_accepts_tuples_and_dicts(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    answers = driver.call(
        "zep",
        server,
        "add_messages",
        "s1",
        [("user", "hi"), {"role": "assistant", "content": "hello", "name": "bot"}],
    )

    assert driver.bodies() == [
        {
            "messages": [
                {"role_type": "user", "content": "hi"},
                {"role_type": "assistant", "content": "hello", "role": "bot"},
            ]
        }
    ]
    assert answers == [{}]


def test_delete_session_uses_the_memory_endpoint(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"message": "OK"})

    assert driver.call("zep", server, "delete_session", "s1") is None

    assert (driver.last.method, driver.last.url.path) == ("DELETE", "/api/v2/sessions/s1/memory")


def test_send_message_is_unsupported(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    with pytest.raises(UnsupportedOperation, match=r"zep has no chat endpoint.*add_messages"):
        driver.call("zep", server, "send_message", "s1", "hi")
    assert driver.requests == []


def test_plain_text_401(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="unauthorized\n")

    with pytest.raises(AuthenticationError, match="zep answered 401 Unauthorized: unauthorized"):
        driver.call("zep", server, "get_session", "s1")
    assert len(driver.requests) == 1


def test_error_message_from_json_body(driver) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "user not found"})

    with pytest.raises(ProviderError, match="zep answered 400 Bad Request: user not found") as info:
        driver.call("zep", server, "create_session", session_id="s", user_id="nobody")
    assert info.value.status == 400
    assert info.value.detail == {"message": "user not found"}


def test_async_iter_messages_streams_page_by_page() -> None:
    from pytest_sessionmem.client import AsyncSessionClient

    pages = paged_session([zep_message(i) for i in range(150)])
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return pages(request)

    async def first_then_rest() -> tuple[int, int]:
        transport = httpx.MockTransport(server)
        async with AsyncSessionClient("zep", api_key="k", transport=transport) as client:
            messages = client.iter_messages("s1")
            assert (await anext(messages)).content == "message 0"
            requests_after_first = len(sent)
            rest = [m async for m in messages]
            return requests_after_first, len(rest)

    assert asyncio.run(first_then_rest()) == (1, 149)
    assert len(sent) == 2


@pytest.mark.parametrize("provider", ["zep", "zep-v3"])
def test_a_server_that_ignores_limit_is_read_once(driver, provider: str) -> None:
    """It sends every message on every page; the client must stop, not page forever."""
    everything = [zep_message(i) for i in range(250)]

    def server(request: httpx.Request) -> httpx.Response:
        if len(driver.requests) > 5:
            raise AssertionError("the client kept paging")
        return httpx.Response(
            200, json={"messages": everything, "row_count": 250, "total_count": 250}
        )

    transcript = driver.call(provider, server, "get_messages", "s1")

    assert transcript.contents == [f"message {i}" for i in range(250)]
    assert len(driver.requests) == 1
