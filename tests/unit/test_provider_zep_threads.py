"""zep-v3 and zep-v4 adapters, through both clients over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_sessionmem import (
    AsyncSessionClient,
    AuthenticationError,
    ConfigError,
    Message,
    ProviderError,
    Role,
    SessionClient,
    SessionNotFound,
    UnsupportedOperation,
)

V3 = "https://api.getzep.com/api/v2"
V4 = "https://api.getzep.com/api/v4"
THREAD = "3f6e2b1c-0000-4000-8000-000000000001"
GRAPH = "3f6e2b1c-0000-4000-8000-0000000000aa"

Handler = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


class Server:
    """A MockTransport handler that keeps every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def paths(self) -> list[str]:
        return [
            f"{r.method} {r.url.path}?{r.url.query.decode()}".rstrip("?") for r in self.requests
        ]


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``call(provider, server, "method", *args)`` through SessionClient or AsyncSessionClient."""

    def run(provider: str, server: Server, method: str, *args: Any, **kwargs: Any) -> Any:
        if request.param == "sync":
            with SessionClient(
                provider, api_key="zk-test-key", transport=httpx.MockTransport(server)
            ) as c:
                return getattr(c, method)(*args, **kwargs)

        async def go() -> Any:
            transport = httpx.MockTransport(server)
            async with AsyncSessionClient(
                provider, api_key="zk-test-key", transport=transport
            ) as c:
                return await getattr(c, method)(*args, **kwargs)

        return asyncio.run(go())

    return run


# -- zep-v3 -----------------------------------------------------------------------------


def v3_message(i: int) -> dict[str, Any]:
    return {
        "uuid": f"m{i}",
        "role": "user" if i % 2 == 0 else "assistant",
        "name": "Jane" if i % 2 == 0 else None,
        "content": f"message {i}",
        "created_at": "2025-06-01T13:11:12Z",
        "processed": True,
    }


def v3_thread(messages: list[dict[str, Any]]) -> Server:
    def handler(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        cursor = int(request.url.params["cursor"])
        page = messages[(cursor - 1) * limit : cursor * limit]
        return reply(
            200,
            {
                "messages": page,
                "row_count": len(page),
                "total_count": len(messages),
                "user_id": "u1",
            },
        )

    return Server(handler)


def test_v3_pages_with_limit_and_a_page_number_cursor(call: Callable[..., Any]) -> None:
    server = v3_thread([v3_message(i) for i in range(5)])
    transcript = call("zep-v3", server, "get_messages", "t1", page_size=2)
    assert transcript.contents == [f"message {i}" for i in range(5)]
    assert transcript[0] == Message(
        id="m0",
        role=Role.USER,
        name="Jane",
        kind="user",
        content="message 0",
        created_at="2025-06-01T13:11:12Z",
    )
    assert transcript[1].name is None and transcript[1].role is Role.ASSISTANT
    assert server.paths() == [
        "GET /api/v2/threads/t1/messages?limit=2&cursor=1",
        "GET /api/v2/threads/t1/messages?limit=2&cursor=2",
        "GET /api/v2/threads/t1/messages?limit=2&cursor=3",
    ]
    assert server.requests[0].headers["authorization"] == "Api-Key zk-test-key"


def test_v3_a_full_last_page_is_followed_by_one_empty_page(call: Callable[..., Any]) -> None:
    server = v3_thread([v3_message(i) for i in range(4)])
    assert len(call("zep-v3", server, "get_messages", "t1", page_size=2)) == 4
    assert len(server.requests) == 3


def test_v3_message_without_role_names_the_field(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(200, {"messages": [{"content": "x"}]}))
    with pytest.raises(ProviderError, match=r"messages\[0\]\.role: field required"):
        call("zep-v3", server, "get_messages", "t1")


def test_v3_get_session_reads_the_first_page(call: Callable[..., Any]) -> None:
    body = {"messages": [], "user_id": "u1", "thread_created_at": "2025-06-01T13:11:00Z"}
    server = Server(lambda r: reply(200, body))
    session = call("zep-v3", server, "get_session", "t1")
    assert (session.id, session.user_id, session.provider) == ("t1", "u1", "zep-v3")
    assert session.created_at is not None and session.created_at.year == 2025
    assert server.paths() == ["GET /api/v2/threads/t1/messages?limit=1&cursor=1"]


def memory_server(summary_status: int) -> Server:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/messages"):
            return reply(200, {"messages": [v3_message(0)], "user_id": "u1"})
        if path.endswith("/context"):
            return reply(200, {"context": "Jane likes tea"})
        if path.endswith("/summary"):
            if summary_status == 404:
                return reply(404, {"message": "no summary"})
            return reply(200, {"summary": "A talk about tea"})
        edges = [
            {
                "uuid": "e1",
                "fact": "Jane likes tea",
                "name": "LIKES",
                "score": 0.9,
                "created_at": "2025-06-01T13:11:12Z",
                "source_node_uuid": "a",
                "target_node_uuid": "b",
            },
            {
                "uuid": "e2",
                "fact": "Jane lives in Oslo",
                "name": "LIVES_IN",
                "created_at": "2025-06-01T13:11:12Z",
                "source_node_uuid": "a",
                "target_node_uuid": "c",
            },
        ]
        return reply(200, edges)

    return Server(handler)


def test_v3_memory_is_context_summary_and_the_users_edges(call: Callable[..., Any]) -> None:
    server = memory_server(200)
    memory = call("zep-v3", server, "get_memory", "t1", last_n=3)
    assert memory.context == "Jane likes tea" and memory.summary == "A talk about tea"
    assert [(f.id, f.content, f.rating, f.name) for f in memory.facts] == [
        ("e1", "Jane likes tea", 0.9, "LIKES"),
        ("e2", "Jane lives in Oslo", None, "LIVES_IN"),
    ]
    assert memory.messages.contents == ["message 0"]
    assert server.paths() == [
        "GET /api/v2/threads/t1/messages?lastn=3",
        "GET /api/v2/threads/t1/context",
        "GET /api/v2/threads/t1/summary",
        "POST /api/v2/graph/edge/user/u1",
    ]


def test_v3_memory_without_a_summary_and_min_rating(call: Callable[..., Any]) -> None:
    memory = call("zep-v3", memory_server(404), "get_memory", "t1", min_rating=0.5)
    assert memory.summary is None
    assert [f.content for f in memory.facts] == ["Jane likes tea"]  # unrated edges drop out


def test_v3_writes_role_and_name_in_batches_of_30(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(200, {"message_uuids": []}))
    messages = [Message(role=Role.USER, name="Jane", content=f"m{i}") for i in range(65)]
    answers = call("zep-v3", server, "add_messages", "t1", messages)
    assert len(answers) == 3
    bodies = [json.loads(r.content) for r in server.requests]
    assert [len(b["messages"]) for b in bodies] == [30, 30, 5]
    assert bodies[0]["messages"][0] == {"role": "user", "name": "Jane", "content": "m0"}
    assert server.paths()[0] == "POST /api/v2/threads/t1/messages"


def test_v3_create_thread_and_delete(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(201, {"thread_id": "t1", "user_id": "u1", "uuid": "x"}))
    session = call("zep-v3", server, "create_session", session_id="t1", user_id="u1")
    assert (session.id, session.user_id) == ("t1", "u1")
    assert json.loads(server.requests[0].content) == {"thread_id": "t1", "user_id": "u1"}
    call("zep-v3", server, "delete_session", "t1")
    assert server.paths()[-1] == "DELETE /api/v2/threads/t1"


def test_v3_threads_have_no_metadata_and_no_agent(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(201, {}))
    with pytest.raises(ConfigError, match="no metadata"):
        call("zep-v3", server, "create_session", session_id="t", user_id="u", metadata={"a": 1})
    with pytest.raises(ConfigError, match="no agent_id"):
        call("zep-v3", server, "create_session", session_id="t", user_id="u", agent_id="a")
    with pytest.raises(UnsupportedOperation, match="add_messages"):
        call("zep-v3", server, "send_message", "t", "hi")
    assert server.requests == []


def test_v3_errors_map_onto_the_error_tree(call: Callable[..., Any]) -> None:
    with pytest.raises(SessionNotFound, match="zep-v3 answered 404 Not Found: not found"):
        call("zep-v3", Server(lambda r: reply(404, {"message": "not found"})), "get_messages", "t")
    with pytest.raises(AuthenticationError):
        call(
            "zep-v3",
            Server(lambda r: httpx.Response(401, text="unauthorized")),
            "get_messages",
            "t",
        )


# -- zep-v4 -----------------------------------------------------------------------------


def v4_message(i: int) -> dict[str, Any]:
    return {"uuid": f"m{i}", "thread_uuid": THREAD, "role": "user", "content": f"message {i}"}


def v4_pages(pages: list[dict[str, Any]]) -> Server:
    by_cursor = {None: pages[0], **{f"c{i}": p for i, p in enumerate(pages[1:], start=1)}}
    return Server(lambda r: reply(200, by_cursor[r.url.params.get("cursor")]))


def test_v4_follows_next_cursor_oldest_first(call: Callable[..., Any]) -> None:
    server = v4_pages(
        [
            {"items": [v4_message(0), v4_message(1)], "next_cursor": "c1", "total_size": 5},
            {"items": [v4_message(2), v4_message(3)], "next_cursor": "c2", "total_size": 5},
            {"items": [v4_message(4)], "total_size": 5},
        ]
    )
    transcript = call("zep-v4", server, "get_messages", THREAD, page_size=2)
    assert transcript.contents == [f"message {i}" for i in range(5)]
    assert transcript.session_id == THREAD and transcript.provider == "zep-v4"
    base = f"GET /api/v4/threads/{THREAD}/messages?page_size=2&order_by=created_at&order=asc"
    assert server.paths() == [base, f"{base}&cursor=c1", f"{base}&cursor=c2"]


@pytest.mark.parametrize(
    "last", [{"items": [], "next_cursor": "c2"}, {"items": [v4_message(2)], "next_cursor": ""}]
)
def test_v4_stops_on_an_empty_page_or_an_empty_cursor(
    call: Callable[..., Any], last: dict[str, Any]
) -> None:
    server = v4_pages(
        [
            {"items": [v4_message(0), v4_message(1)], "next_cursor": "c1"},
            last,
            {"items": [v4_message(9)]},
        ]
    )
    transcript = call("zep-v4", server, "get_messages", THREAD, page_size=2)
    assert len(server.requests) == 2  # the third page is never asked for
    assert transcript.contents == [v4_message(i)["content"] for i in range(len(last["items"]) + 2)]


def test_v4_has_no_norole(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(202, {}))
    with pytest.raises(ConfigError, match="zep-v4 has no 'norole' role"):
        call("zep-v4", server, "add_messages", THREAD, [("user", "hi"), ("norole", "x")])
    assert server.requests == []


def test_v4_writes_reference_time(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(202, {"messages": [], "task": {"status": "pending"}}))
    message = Message(
        role=Role.ASSISTANT, name="Ava", content="hi", created_at="2025-06-01T13:11:12Z"
    )
    answers = call("zep-v4", server, "add_messages", THREAD, [message])
    assert answers == [{"messages": [], "task": {"status": "pending"}}]
    assert json.loads(server.requests[0].content) == {
        "messages": [
            {
                "role": "assistant",
                "name": "Ava",
                "content": "hi",
                "reference_time": "2025-06-01T13:11:12+00:00",
            }
        ]
    }


def test_v4_create_session_returns_the_uuid_zep_made(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(201, {"uuid": THREAD, "user_uuid": "U1", "graph_uuid": GRAPH}))
    session = call("zep-v4", server, "create_session", user_id="U1")
    assert (session.id, session.user_id) == (THREAD, "U1")
    assert json.loads(server.requests[0].content) == {"user_uuid": "U1"}
    with pytest.raises(ConfigError, match="zep-v4 makes the thread's UUID itself"):
        call("zep-v4", server, "create_session", session_id="mine", user_id="U1")
    assert len(server.requests) == 1


def test_v4_memory_reads_thread_messages_context_summary_and_edges(
    call: Callable[..., Any],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == f"/api/v4/threads/{THREAD}":
            return reply(200, {"uuid": THREAD, "graph_uuid": GRAPH})
        if path.endswith("/messages"):
            return reply(200, {"items": [v4_message(2), v4_message(1)]})
        if path.endswith("/context"):
            return reply(200, {"context": "ctx"})
        if path.endswith("/summary"):
            return reply(404, {"error": {"code": "not_found", "message": "no summary"}})
        if request.url.params.get("cursor") is None:
            return reply(
                200,
                {
                    "items": [{"uuid": "e1", "fact": "Jane likes tea", "score": 0.4}],
                    "next_cursor": "n",
                },
            )
        return reply(200, {"items": [{"uuid": "e2", "fact": "Jane lives in Oslo", "score": 0.8}]})

    server = Server(handler)
    memory = call("zep-v4", server, "get_memory", THREAD, last_n=2, min_rating=0.5)
    assert memory.context == "ctx" and memory.summary is None
    assert memory.messages.contents == [
        "message 1",
        "message 2",
    ]  # asked newest first, shown oldest first
    assert [f.content for f in memory.facts] == ["Jane lives in Oslo"]
    assert server.paths() == [
        f"GET /api/v4/threads/{THREAD}",
        f"GET /api/v4/threads/{THREAD}/messages?page_size=2&order_by=created_at&order=desc",
        f"GET /api/v4/threads/{THREAD}/context",
        f"GET /api/v4/threads/{THREAD}/summary",
        f"POST /api/v4/graphs/{GRAPH}/edges/list?page_size=100",
        f"POST /api/v4/graphs/{GRAPH}/edges/list?page_size=100&cursor=n",
    ]


def test_v4_error_bodies(call: Callable[..., Any]) -> None:
    invalid = {
        "error": {
            "code": "invalid_identifier",
            "message": "thread_uuid must be a UUID",
            "param": "thread_uuid",
        }
    }
    with pytest.raises(ProviderError) as excinfo:
        call("zep-v4", Server(lambda r: reply(400, invalid)), "get_messages", "t1")
    text = str(excinfo.value)
    assert "zep-v4 answered 400 Bad Request: thread_uuid must be a UUID" in text
    assert "client.thread.lookup(thread_id=...)" in text
    assert excinfo.value.detail == invalid
    missing = {"error": {"code": "not_found", "message": "thread not found"}}
    with pytest.raises(SessionNotFound, match="thread not found"):
        call("zep-v4", Server(lambda r: reply(404, missing)), "get_session", THREAD)
    unauthorized = {"error": {"code": "unauthorized", "message": "bad key"}}
    with pytest.raises(AuthenticationError, match="bad key"):
        call("zep-v4", Server(lambda r: reply(401, unauthorized)), "get_session", THREAD)


def test_v4_a_summary_404_is_only_accepted_for_the_summary(call: Callable[..., Any]) -> None:
    server = Server(lambda r: reply(404, {"error": {"code": "not_found", "message": "gone"}}))
    with pytest.raises(SessionNotFound):
        call("zep-v4", server, "get_memory", THREAD)
    assert len(server.requests) == 1
