"""Zep threads in the emulator (v3 on /zep/api/v2, v4 on /zep/api/v4), over loopback HTTP,
through our own clients and raw httpx: one store with v2 sessions, paging, processing, errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pytest_sessionmem import (
    AsyncSessionClient,
    Memory,
    ProviderError,
    SessionClient,
    SessionNotFound,
)
from pytest_sessionmem.emulator.runner import EmulatorServer

V2 = "/zep/api/v2"
V4 = "/zep/api/v4"
TURNS = [("user", "I moved to Oslo"), ("assistant", "Welcome to Oslo!"), ("user", "I like tea")]


def v3_client(server: EmulatorServer) -> SessionClient:
    return SessionClient("zep-v3", base_url=server.base_url("zep-v3"), max_retries=0)


def v4_client(server: EmulatorServer) -> SessionClient:
    return SessionClient("zep-v4", base_url=server.base_url("zep-v4"), max_retries=0)


def test_base_urls(server: EmulatorServer) -> None:
    assert server.base_url("zep-v3") == server.url + V2
    assert server.base_url("zep-v4") == server.url + V4


def test_our_v3_client_round_trip(server: EmulatorServer) -> None:
    with v3_client(server) as client:
        client.add_user("u1")
        session = client.create_session(session_id="t1", user_id="u1")
        assert (session.id, session.user_id, session.provider) == ("t1", "u1", "zep-v3")
        client.add_messages("t1", TURNS * 25)  # 75 messages: three writes of at most 30
        transcript = client.get_messages("t1", page_size=10)
        assert [(m.role.value, m.content) for m in transcript] == TURNS * 25
        server.control.request(
            "POST",
            "/zep/threads/t1/edges",
            {"edges": [{"fact": "Ann likes tea", "rating": 0.8}, "Ann lives in Oslo"]},
        )
        server.control.request("POST", "/zep/threads/t1/summary", {"summary": "Moving and tea"})
        memory = client.get_memory("t1", last_n=2, min_rating=0.5)
        assert [f.content for f in memory.facts] == ["Ann likes tea"]
        assert memory.facts[0].rating == 0.8
        assert memory.summary == "Moving and tea"
        assert memory.context is not None and "  - Ann likes tea (" in memory.context
        assert memory.messages.contents == ["Welcome to Oslo!", "I like tea"]
        assert client.get_session("t1").user_id == "u1"
        client.delete_session("t1")
        with pytest.raises(SessionNotFound):
            client.get_messages("t1")


def test_our_v4_client_round_trip(server: EmulatorServer) -> None:
    with v4_client(server) as client:
        user = client.add_user("dev-ann", first_name="Ann")
        session = client.create_session(user_id=user["uuid"])
        assert session.user_id == user["uuid"] and session.id != user["uuid"]
        answers = client.add_messages(session.id, TURNS * 25)
        assert [len(a["messages"]) for a in answers] == [30, 30, 15]
        assert {a["task"]["status"] for a in answers} == {"succeeded"}
        transcript = client.get_messages(session.id, page_size=10)
        assert [(m.role.value, m.content) for m in transcript] == TURNS * 25
        memory = client.get_memory(session.id)
        assert memory == Memory(messages=memory.messages)  # no context, facts or summary yet
        assert memory.messages.contents == [c for _, c in (TURNS * 2)]
        assert client.get_session(session.id).id == session.id


def test_our_async_v4_client(server: EmulatorServer) -> None:
    async def scenario() -> list[str]:
        async with AsyncSessionClient("zep-v4", base_url=server.base_url("zep-v4")) as client:
            user = await client.add_user("dev-bo")
            session = await client.create_session(user_id=user["uuid"])
            await client.add_messages(session.id, TURNS)
            return (await client.get_messages(session.id, page_size=1)).contents

    assert asyncio.run(scenario()) == [c for _, c in TURNS]


def test_a_v2_session_is_a_v3_thread_and_a_v4_thread(
    server: EmulatorServer, http: httpx.Client
) -> None:
    http.post(f"{V2}/users", json={"user_id": "u1"})
    http.post(f"{V2}/sessions", json={"session_id": "s1", "user_id": "u1"})
    http.post(
        f"{V2}/sessions/s1/memory",
        json={"messages": [{"role_type": "user", "role": "Ann", "content": "hi"}]},
    )
    with v3_client(server) as v3:
        v3.add_messages("s1", [{"role": "assistant", "name": "Ava", "content": "hello"}])
        assert [(m.role.value, m.name, m.content) for m in v3.get_messages("s1")] == [
            ("user", "Ann", "hi"),
            ("assistant", "Ava", "hello"),
        ]
    v2_view = http.get(f"{V2}/sessions/s1/messages").json()["messages"]
    assert [(m["role_type"], m["role"]) for m in v2_view] == [("user", "Ann"), ("assistant", "Ava")]
    thread = http.post(f"{V4}/threads/lookup", json={"thread_id": "s1"}).json()
    assert thread["thread_id"] == "s1"
    with v4_client(server) as v4:
        assert v4.get_messages(thread["uuid"]).contents == ["hi", "hello"]


def test_v4_threads_have_no_legacy_id(server: EmulatorServer, http: httpx.Client) -> None:
    user = http.post(f"{V4}/users", json={}).json()
    assert "user_id" not in user
    thread = http.post(f"{V4}/threads", json={"user_uuid": user["uuid"]})
    assert thread.status_code == 201 and "thread_id" not in thread.json()
    # Not reachable through v2 or v3, which address threads by their legacy id.
    assert http.get(f"{V2}/threads/{thread.json()['uuid']}/messages").status_code == 404
    assert http.get(f"{V2}/sessions/{thread.json()['uuid']}").status_code == 404


def test_v4_pages_never_end_on_an_empty_page_with_a_cursor(
    server: EmulatorServer, http: httpx.Client
) -> None:
    user = http.post(f"{V4}/users", json={}).json()
    thread = http.post(f"{V4}/threads", json={"user_uuid": user["uuid"]}).json()["uuid"]
    http.post(
        f"{V4}/threads/{thread}/messages",
        json={"messages": [{"role": "user", "content": f"m{i}"} for i in range(4)]},
    )
    first = http.get(f"{V4}/threads/{thread}/messages", params={"page_size": 2}).json()
    second = http.get(
        f"{V4}/threads/{thread}/messages", params={"page_size": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [m["content"] for m in second["items"]] == ["m2", "m3"]
    assert "next_cursor" not in second and second["total_size"] == 4
    bad = http.get(f"{V4}/threads/{thread}/messages", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    too_big = http.get(f"{V4}/threads/{thread}/messages", params={"page_size": 1001})
    assert too_big.status_code == 400 and too_big.json()["error"]["param"] == "page_size"


def test_processing_flips_after_reads(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.zep_processing(after_reads=2)
    user = http.post(f"{V4}/users", json={}).json()
    thread = http.post(f"{V4}/threads", json={"user_uuid": user["uuid"]}).json()["uuid"]
    added = http.post(
        f"{V4}/threads/{thread}/messages", json={"messages": [{"role": "user", "content": "hi"}]}
    ).json()
    server.control.request("POST", f"/zep/threads/{thread}/edges", {"edges": ["Ann says hi"]})
    task = added["task"]["uuid"]
    assert http.get(f"{V4}/tasks/{task}").json()["status"] == "pending"
    seen = [
        http.get(f"{V4}/threads/{thread}/messages").json()["items"][0]["processed"]
        for _ in range(3)
    ]
    assert seen == [False, False, True]
    assert http.get(f"{V4}/tasks/{task}").json()["status"] == "succeeded"
    edges = http.post(f"{V4}/graphs/{user['graph_uuid']}/edges/list", json={}).json()["items"]
    assert [e["fact"] for e in edges] == ["Ann says hi"]


def test_processing_flips_after_a_clock_advance(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.zep_processing(after_seconds=30)
    http.post(f"{V2}/users", json={"user_id": "u1"})
    http.post(f"{V2}/threads", json={"thread_id": "t1", "user_id": "u1"})
    http.post(f"{V2}/threads/t1/messages", json={"messages": [{"role": "user", "content": "hi"}]})
    assert http.get(f"{V2}/threads/t1/messages").json()["messages"][0]["processed"] is False
    server.control.advance_clock(31)
    assert http.get(f"{V2}/threads/t1/messages").json()["messages"][0]["processed"] is True


def test_every_answer_is_json_in_the_generations_envelope(
    server: EmulatorServer, http: httpx.Client
) -> None:
    unknown = http.get(f"{V4}/no/such/route")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    invalid = http.get(f"{V4}/threads/not-a-uuid")
    assert invalid.status_code == 400
    assert invalid.json() == {
        "error": {
            "code": "invalid_identifier",
            "message": "thread_uuid must be a UUID, got 'not-a-uuid'",
            "param": "thread_uuid",
        }
    }
    assert http.get(f"{V2}/threads/nope/messages").json() == {"message": "not found"}
    assert http.post(
        f"{V2}/threads/nope/messages", json={"messages": [{"content": "x"}]}
    ).json() == {"message": "messages[0].role is required"}
    user = http.post(f"{V4}/users", json={}).json()
    thread = http.post(f"{V4}/threads", json={"user_uuid": user["uuid"]}).json()["uuid"]
    norole = http.post(
        f"{V4}/threads/{thread}/messages",
        json={"messages": [{"role": "norole", "content": "x"}]},
    )
    assert norole.status_code == 400 and "role must be one of" in norole.json()["error"]["message"]
    assert http.delete(f"{V2}/threads/nope").json() == {"message": "not found"}


def test_auth_uses_the_zep_key_for_every_generation(
    server: EmulatorServer, http: httpx.Client
) -> None:
    server.control.set_keys(zep="secret")
    assert http.get(f"{V2}/threads").status_code == 401
    assert http.get(f"{V4}/threads").json()["error"]["code"] == "unauthorized"
    ok = {"Authorization": "Api-Key secret"}
    assert http.get(f"{V2}/threads", headers=ok).status_code == 200
    assert http.get(f"{V4}/threads", headers=ok).status_code == 200


def test_v4_faults_answer_in_the_v4_envelope(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.add_fault(provider="zep-v4", path="/threads", status=503, times=1)
    answer = http.get(f"{V4}/threads")
    assert answer.status_code == 503
    assert answer.json() == {
        "error": {"code": "server_error", "message": "injected fault: HTTP 503"}
    }
    assert http.get(f"{V4}/threads").status_code == 200


def test_v4_404_is_not_found_and_invalid_id_is_a_provider_error(server: EmulatorServer) -> None:
    with v4_client(server) as client:
        with pytest.raises(SessionNotFound, match="not found"):
            client.get_messages("00000000-0000-4000-8000-000000000000")
        with pytest.raises(ProviderError, match=r"thread\.lookup"):
            client.get_messages("support-1")
