"""Every session method of meibel 2.0.7 against the emulator, sync and async clients.

The ``meibel_sdk`` fixture runs each test with ``MeibelClient`` and with ``AsyncMeibelClient``;
each method's test also checks the typed error for an unknown id.
"""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from meibel.exceptions import ApiError, AuthenticationError, NotFoundError
    from meibel.models import ChatMessageRequest, CreateSessionRequest

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _create(sdk: Any, agent_id: str = "agent-1") -> str:
    session_id: str = sdk.call(lambda m: m.agents.sessions.create(agent_id)).session_id
    return session_id


def test_agents_sessions_create(meibel_sdk: Any, server: EmulatorServer) -> None:
    created = meibel_sdk.call(
        lambda m: m.agents.sessions.create("agent-1", CreateSessionRequest(prompt="Be brief"))
    )
    assert meibel_sdk.call(lambda m: m.sessions.get_messages(created.session_id)).agent_id == (
        "agent-1"
    )
    # Any agent id is accepted (and registered on first use), so the typed error to show here
    # is the one for a wrong key.
    server.control.set_keys(meibel="another-key")
    with pytest.raises(AuthenticationError):
        meibel_sdk.call(lambda m: m.agents.sessions.create("agent-1"))


def test_agents_sessions_create_by_name(meibel_sdk: Any, server: EmulatorServer) -> None:
    agent_id = server.control.meibel_add_agent("Support", version="3")
    session_id = meibel_sdk.call(lambda m: m.agents.sessions.create_by_name("Support")).session_id
    messages = meibel_sdk.call(lambda m: m.sessions.get_messages(session_id))
    assert (messages.agent_id, messages.agent_name, messages.version) == (agent_id, "Support", "3")
    with pytest.raises(NotFoundError) as excinfo:
        meibel_sdk.call(lambda m: m.agents.sessions.create_by_name("Nobody"))
    assert "Nobody" in str(excinfo.value)


def test_agents_sessions_list(meibel_sdk: Any, server: EmulatorServer) -> None:
    first = _create(meibel_sdk)
    second = _create(meibel_sdk)
    _create(meibel_sdk, "agent-2")
    server.control.meibel_create_session("agent-1", status="COMPLETED")
    meibel_sdk.call(
        lambda m: m.agents.sessions.send_chat_message(first, ChatMessageRequest(user_message="hi"))
    )
    listed = meibel_sdk.iterate(
        meibel_sdk.call(lambda m: m.agents.sessions.list("agent-1", status="RUNNING"))
    )
    assert [(s.session_id, s.status) for s in listed] == [(second, "RUNNING"), (first, "RUNNING")]
    assert [s.messages_count for s in listed] == [0, 2]
    oldest = meibel_sdk.iterate(
        meibel_sdk.call(
            lambda m: m.agents.sessions.list("agent-1", sort_order="asc", limit=1, offset=0)
        )
    )
    assert [s.session_id for s in oldest] == [first]
    with pytest.raises(NotFoundError):
        meibel_sdk.iterate(meibel_sdk.call(lambda m: m.agents.sessions.list("agent-unknown")))
    with pytest.raises(ApiError) as excinfo:
        meibel_sdk.iterate(
            meibel_sdk.call(lambda m: m.agents.sessions.list("agent-1", sort_by="colour"))
        )
    assert excinfo.value.status_code == 422


def test_sessions_get(meibel_sdk: Any) -> None:
    session_id = _create(meibel_sdk)
    meibel_sdk.call(
        lambda m: m.agents.sessions.send_chat_message(
            session_id, ChatMessageRequest(user_message="hello")
        )
    )
    details = meibel_sdk.call(lambda m: m.sessions.get(session_id))
    assert [(e.role, e.message) for e in details.messages] == [
        ("user", "hello"),
        ("assistant", "Echo: hello"),
    ]
    with pytest.raises(NotFoundError):
        meibel_sdk.call(lambda m: m.sessions.get(UNKNOWN))


def test_sessions_get_messages(meibel_sdk: Any, server: EmulatorServer) -> None:
    session_id = _create(meibel_sdk)
    server.control.meibel_add_items(session_id, [{"type": "user", "message": "seeded"}])
    messages = meibel_sdk.call(lambda m: m.sessions.get_messages(session_id))
    assert [(i.type, i.message) for i in messages.messages] == [("user", "seeded")]
    with pytest.raises(NotFoundError):
        meibel_sdk.call(lambda m: m.sessions.get_messages(UNKNOWN))


def test_agents_sessions_send_chat_message(meibel_sdk: Any, server: EmulatorServer) -> None:
    session_id = _create(meibel_sdk)
    server.control.meibel_queue_replies(session_id, ["Scripted answer."])
    reply = meibel_sdk.call(
        lambda m: m.agents.sessions.send_chat_message(
            session_id, ChatMessageRequest(user_message="question")
        )
    )
    assert reply.assistant_response == "Scripted answer."
    with pytest.raises(NotFoundError):
        meibel_sdk.call(
            lambda m: m.agents.sessions.send_chat_message(
                UNKNOWN, ChatMessageRequest(user_message="x")
            )
        )


def _events(sdk: Any, stream: Any) -> list[tuple[str, Any]]:
    return [(event.event, json.loads(event.data)) for event in sdk.iterate(stream)]


def test_agents_sessions_send_chat_message_stream(meibel_sdk: Any) -> None:
    session_id = _create(meibel_sdk)
    stream = meibel_sdk.call(
        lambda m: m.agents.sessions.send_chat_message_stream(session_id, user_message="hi there")
    )
    events = _events(meibel_sdk, stream)
    names = [name for name, _ in events]
    assert names == [
        "connected",
        "status",
        "partial_response",
        "partial_response",
        "partial_response",
        "completion",
    ]
    assert events[0][1] == {"session_id": session_id}
    assert "".join(data["text"] for name, data in events if name == "partial_response") == (
        "Echo: hi there"
    )
    assert events[-1][1]["assistant_response"] == "Echo: hi there"
    stored = meibel_sdk.call(lambda m: m.sessions.get_messages(session_id))
    assert [(i.type, i.message) for i in stored.messages] == [
        ("user", "hi there"),
        ("assistant", "Echo: hi there"),
    ]
    with pytest.raises(NotFoundError):
        meibel_sdk.call(
            lambda m: m.agents.sessions.send_chat_message_stream(UNKNOWN, user_message="x")
        )
    with pytest.raises(ApiError) as excinfo:  # user_message is required
        meibel_sdk.call(lambda m: m.agents.sessions.send_chat_message_stream(session_id))
    assert excinfo.value.status_code == 422


def test_send_chat_message_stream_with_a_file(meibel_sdk: Any) -> None:
    session_id = _create(meibel_sdk)
    stream = meibel_sdk.call(
        lambda m: m.agents.sessions.send_chat_message_stream(
            session_id, file=io.BytesIO(b"%PDF-1.4"), file_name="a.pdf", user_message="read it"
        )
    )
    assert _events(meibel_sdk, stream)[-1][1]["assistant_response"] == "Echo: read it"
