"""Meibel v2 emulation over loopback HTTP: the real meibel SDK and raw httpx."""

from __future__ import annotations

import warnings

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer
from pytest_sessionmem.errors import ConfigError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import meibel
    from meibel.exceptions import ApiError, AuthenticationError, NotFoundError
    from meibel.models import ChatMessageRequest

MEIBEL = "/meibel/v2"


def test_sdk_chat_round_trip(meibel_client: meibel.MeibelClient) -> None:
    session_id = meibel_client.agents.sessions.create("agent-1").session_id
    reply = meibel_client.agents.sessions.send_chat_message(
        session_id, ChatMessageRequest(user_message="hello")
    )
    assert reply.assistant_response == "Echo: hello" == reply.response.message
    history = meibel_client.sessions.get_messages(session_id)
    assert history.agent_id == "agent-1"
    assert [(m.type, m.message, m.signal_id) for m in history.messages] == [
        ("user", "hello", reply.signal_id),
        ("assistant", "Echo: hello", reply.signal_id),
    ]
    details = meibel_client.sessions.get(session_id)
    assert details.status == "RUNNING"
    assert [(m.role, m.message) for m in details.messages] == [
        ("user", "hello"),
        ("assistant", "Echo: hello"),
    ]


def test_scripted_replies_come_before_echo(
    meibel_client: meibel.MeibelClient, server: EmulatorServer
) -> None:
    session_id = meibel_client.agents.sessions.create("agent-1").session_id
    server.control.meibel_queue_replies(session_id, ["Your order ships Monday."])
    chat = meibel_client.agents.sessions.send_chat_message
    first = chat(session_id, ChatMessageRequest(user_message="When?"))
    second = chat(session_id, ChatMessageRequest(user_message="Again?"))
    assert [first.assistant_response, second.assistant_response] == [
        "Your order ships Monday.",
        "Echo: Again?",
    ]


def test_seeded_items_with_tools_parse_in_the_sdk(
    meibel_client: meibel.MeibelClient, server: EmulatorServer
) -> None:
    session_id = server.control.meibel_create_session(
        "agent-7", session_id="sess-1", agent_name="Support", version="3"
    )
    assert session_id == "sess-1"
    server.control.meibel_add_items(
        session_id,
        [
            {"type": "user", "message": "Find x", "signal_id": "sig"},
            {"type": "tool_call", "tool_id": "t1", "tool_name": "search", "arguments": {"q": "x"}},
            {"type": "tool_result", "tool_id": "t1", "tool_name": "search", "result": "found"},
            {"type": "assistant", "message": "Here", "signal_id": "sig", "timestamp": None},
        ],
    )
    history = meibel_client.sessions.get_messages(session_id)
    assert (history.agent_name, history.version) == ("Support", "3")
    assert [m.type for m in history.messages] == ["user", "tool_call", "tool_result", "assistant"]
    assert history.messages[1].arguments == {"q": "x"}
    assert history.messages[2].result == "found"
    assert history.messages[3].timestamp is None  # explicitly null stays null
    details = meibel_client.sessions.get(session_id)
    assert len(details.tool_activity) == 1
    activity = details.tool_activity[0]
    assert activity.tool_call is not None and activity.tool_call.arguments == {"q": "x"}
    assert activity.tool_result is not None and activity.tool_result.result == "found"
    assert [m.role for m in details.messages] == ["user", "assistant"]


def test_seeding_a_dict_result_is_refused(server: EmulatorServer) -> None:
    session_id = server.control.meibel_create_session("agent-1")
    with pytest.raises(ConfigError, match="result"):
        server.control.meibel_add_items(session_id, [{"type": "tool_result", "result": {"a": 1}}])


def test_unknown_session_is_404_detail(
    meibel_client: meibel.MeibelClient, http: httpx.Client
) -> None:
    with pytest.raises(NotFoundError):
        meibel_client.sessions.get_messages("nope")
    for method, path in [("GET", "/sessions/nope"), ("GET", "/sessions/nope/messages")]:
        response = http.request(method, MEIBEL + path)
        assert (response.status_code, response.json()) == (404, {"detail": "Session not found"})
    chat = http.post(f"{MEIBEL}/sessions/nope/chat", json={"user_message": "x"})
    assert chat.status_code == 404


def test_bad_chat_body_is_422_validation_detail(
    meibel_client: meibel.MeibelClient, http: httpx.Client
) -> None:
    session_id = meibel_client.agents.sessions.create("agent-1").session_id
    missing = http.post(f"{MEIBEL}/sessions/{session_id}/chat", json={})
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": [{"loc": ["body", "user_message"], "msg": "Field required", "type": "missing"}]
    }
    wrong_type = http.post(f"{MEIBEL}/sessions/{session_id}/chat", json={"user_message": 5})
    assert wrong_type.json()["detail"][0]["loc"] == ["body", "user_message"]
    not_json = http.post(
        f"{MEIBEL}/sessions/{session_id}/chat",
        content=b"{oops",
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 422
    assert not_json.json()["detail"][0]["type"] == "json_invalid"
    assert meibel_client.sessions.get_messages(session_id).messages == []


def test_every_answer_is_application_json(
    meibel_client: meibel.MeibelClient, http: httpx.Client
) -> None:
    session_id = meibel_client.agents.sessions.create("agent-1").session_id
    for path in (f"/sessions/{session_id}", f"/sessions/{session_id}/messages", "/sessions/x"):
        assert http.get(MEIBEL + path).headers["content-type"] == "application/json"


def test_auth_header(meibel_client: meibel.MeibelClient, server: EmulatorServer) -> None:
    server.control.set_keys(meibel="meibel-key")  # what the fixture's client sends
    session_id = meibel_client.agents.sessions.create("agent-1").session_id
    server.control.set_keys(meibel="rotated")
    with pytest.raises(AuthenticationError):
        meibel_client.sessions.get(session_id)
    server.control.set_keys(meibel=None)
    assert meibel_client.sessions.get(session_id).agent_id == "agent-1"


def test_create_session_rejects_a_bad_body(http: httpx.Client) -> None:
    response = http.post(
        f"{MEIBEL}/agents/a/sessions", json={"max_iterations_per_user_message": "x"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "max_iterations_per_user_message"]


def test_sdk_sees_422_as_api_error(
    meibel_client: meibel.MeibelClient, server: EmulatorServer
) -> None:
    session_id = meibel_client.agents.sessions.create("agent-1").session_id
    server.control.add_fault(provider="meibel", path="/chat$", status=422, times=1)
    with pytest.raises(ApiError) as excinfo:
        meibel_client.agents.sessions.send_chat_message(
            session_id, ChatMessageRequest(user_message="x")
        )
    assert excinfo.value.status_code == 422
