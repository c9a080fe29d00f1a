"""ElizaOS seeding routes under ``/_emulator/eliza``: agents, replies, bulk seeding, expiry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer
from pytest_sessionmem.errors import ConfigError

SESSIONS = "/api/messaging/sessions"
DEFAULT_AGENT = {"id": "b850bc30-45f8-0041-a00a-83df46d8555d", "name": "Eliza"}
USER_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def eliza(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url("eliza"), timeout=10) as client:
        yield client


def new_session(eliza: httpx.Client, agent_id: str = DEFAULT_AGENT["id"]) -> str:
    response = eliza.post(SESSIONS, json={"agentId": agent_id, "userId": USER_ID})
    assert response.status_code == 201, response.text
    session_id: str = response.json()["sessionId"]
    return session_id


def messages(eliza: httpx.Client, session_id: str, **params: Any) -> list[dict[str, Any]]:
    response = eliza.get(f"{SESSIONS}/{session_id}/messages", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["messages"]
    return found


def test_the_default_agent_is_eliza(server: EmulatorServer) -> None:
    assert server.control.request("GET", "/eliza/agents") == {"agents": [DEFAULT_AGENT]}


def test_added_agent_gets_the_id_the_real_server_derives_from_its_name(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    added = server.control.request("POST", "/eliza/agents", {"name": "ReplayPeer"})
    assert added == {"id": "c8899949-354a-0c0b-b290-7d2ac08b1a39", "name": "ReplayPeer"}
    new_session(eliza, added["id"])


def test_agent_with_explicit_id(server: EmulatorServer, eliza: httpx.Client) -> None:
    agent_id = "22222222-3333-4444-8555-666666666666"
    server.control.request("POST", "/eliza/agents", {"name": "Ava", "id": agent_id})
    new_session(eliza, agent_id)
    with pytest.raises(ConfigError, match="is not a UUID"):
        server.control.request("POST", "/eliza/agents", {"name": "Bad", "id": "nope"})


def test_reset_forgets_added_agents(server: EmulatorServer) -> None:
    server.control.request("POST", "/eliza/agents", {"name": "Temp"})
    server.control.reset()
    assert server.control.request("GET", "/eliza/agents") == {"agents": [DEFAULT_AGENT]}


def test_agent_message_defaults_to_the_pipeline_metadata(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    session_id = new_session(eliza)
    created = server.control.request(
        "POST",
        f"/eliza/sessions/{session_id}/agent-messages",
        {"content": "Hello! How can I help?", "thought": "greet", "actions": ["REPLY"]},
    )
    [stored] = messages(eliza, session_id)
    assert stored == created
    assert stored["isAgent"] is True and stored["authorId"] == DEFAULT_AGENT["id"]
    assert stored["metadata"] == {
        "thought": "greet",
        "actions": ["REPLY"],
        "isDm": False,
        "agent_id": DEFAULT_AGENT["id"],
        "agentName": "Eliza",
        "channelType": "GROUP",
    }


def test_agent_message_with_own_metadata(server: EmulatorServer, eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    server.control.request(
        "POST",
        f"/eliza/sessions/{session_id}/agent-messages",
        {"content": "hi", "metadata": {"agentName": "Eliza"}},
    )
    assert messages(eliza, session_id)[0]["metadata"] == {"agentName": "Eliza"}


def test_auto_reply_answers_each_user_message(server: EmulatorServer, eliza: httpx.Client) -> None:
    server.control.request("POST", "/eliza/auto-reply", {"text": "ACK"})
    session_id = new_session(eliza)
    for text in ("one", "two"):
        eliza.post(f"{SESSIONS}/{session_id}/messages", json={"content": text})
    stored = messages(eliza, session_id)
    assert [(m["content"], m["isAgent"]) for m in stored] == [
        ("ACK", True),
        ("two", False),
        ("ACK", True),
        ("one", False),
    ]
    server.control.request("POST", "/eliza/auto-reply", {"text": None})
    eliza.post(f"{SESSIONS}/{session_id}/messages", json={"content": "three"})
    assert messages(eliza, session_id, limit=1)[0]["content"] == "three"


def test_auto_reply_over_http_transport_is_returned_not_stored(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    server.control.request("POST", "/eliza/auto-reply", {"text": "ACK"})
    session_id = new_session(eliza)
    response = eliza.post(
        f"{SESSIONS}/{session_id}/messages", json={"content": "sync", "transport": "http"}
    )
    assert response.status_code == 201
    assert response.json()["agentResponse"]["text"] == "ACK"
    assert [m["content"] for m in messages(eliza, session_id)] == ["sync"]


def test_auto_reply_over_sse_ends_with_done(server: EmulatorServer, eliza: httpx.Client) -> None:
    server.control.request("POST", "/eliza/auto-reply", {"text": "ACK"})
    session_id = new_session(eliza)
    response = eliza.post(
        f"{SESSIONS}/{session_id}/messages", json={"content": "stream", "mode": "stream"}
    )
    events = [line for line in response.text.splitlines() if line.startswith("event: ")]
    assert events == ["event: user_message", "event: done"]


def test_seed_many_messages_pages_back_completely(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    session_id = new_session(eliza)
    seeded = server.control.request(
        "POST",
        f"/eliza/sessions/{session_id}/seed",
        {"count": 10_000, "template": "turn {n}", "authors": "alternate"},
    )
    assert seeded["count"] == 10_000
    assert seeded["lastCreatedAt"] - seeded["firstCreatedAt"] >= 9_999  # one ms apart at least
    newest = messages(eliza, session_id, limit=2)
    assert [(m["content"], m["isAgent"]) for m in newest] == [
        ("turn 10000", True),
        ("turn 9999", False),
    ]
    seen, before = 0, None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if before is not None:
            params["before"] = before
        response = eliza.get(f"{SESSIONS}/{session_id}/messages", params=params).json()
        if not response["messages"]:
            break
        seen += len(response["messages"])
        before = response["cursors"]["before"]
    assert seen == 10_000


def test_seeded_messages_follow_existing_ones(server: EmulatorServer, eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    eliza.post(f"{SESSIONS}/{session_id}/messages", json={"content": "first"})
    server.control.request("POST", f"/eliza/sessions/{session_id}/seed", {"count": 2})
    assert [m["content"] for m in messages(eliza, session_id)] == [
        "message 2",
        "message 1",
        "first",
    ]


def test_expire_now_gives_410_then_404(server: EmulatorServer, eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    server.control.request("POST", f"/eliza/sessions/{session_id}/expire")
    assert eliza.get(f"{SESSIONS}/{session_id}").status_code == 410
    assert eliza.get(f"{SESSIONS}/{session_id}").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "match"),
    [
        ("/eliza/agents", {}, "name"),
        ("/eliza/agents", {"name": "A", "colour": "red"}, "colour"),
        ("/eliza/auto-reply", {"text": ""}, "text"),
        ("/eliza/sessions/{sid}/seed", {"count": 0}, "count"),
        ("/eliza/sessions/{sid}/seed", {"count": 2, "template": "same"}, "placeholder"),
        ("/eliza/sessions/{sid}/seed", {"count": 2, "authors": "robots"}, "authors"),
        ("/eliza/sessions/{sid}/agent-messages", {"content": ""}, "content"),
        ("/eliza/sessions/nope/seed", {"count": 1}, "no session 'nope'"),
        ("/eliza/sessions/nope/agent-messages", {"content": "x"}, "no session 'nope'"),
        ("/eliza/sessions/nope/expire", None, "no session 'nope'"),
    ],
)
def test_control_errors_say_what_is_wrong(
    server: EmulatorServer, eliza: httpx.Client, path: str, body: Any, match: str
) -> None:
    session_id = new_session(eliza)
    with pytest.raises(ConfigError, match=match):
        server.control.request("POST", path.format(sid=session_id), body)
