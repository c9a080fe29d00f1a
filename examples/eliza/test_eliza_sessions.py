"""An ElizaOS agent's sessions, read through pytest-sessionmem's own client: a conversation
with agent replies, a long session that takes several pages, and an expired session."""

from __future__ import annotations

import pytest

from pytest_sessionmem import (
    ANY,
    EmulatorServer,
    Regex,
    SessionClient,
    SessionExpired,
    SessionNotFound,
    assert_transcript,
)

# The agent the ElizaOS server (and the emulator) derives from the character name "Eliza".
AGENT_ID = "b850bc30-45f8-0041-a00a-83df46d8555d"
USER_ID = "11111111-2222-4333-8444-555555555555"

pytestmark = pytest.mark.sessionmem(provider="eliza")


def test_agent_replies_follow_each_question(
    session_client: SessionClient, sessionmem_emulator: EmulatorServer
) -> None:
    session = session_client.create_session(agent_id=AGENT_ID, user_id=USER_ID)
    # The emulated agent answers each message, as a real agent's model would (in a replaying
    # test the emulator's control calls do nothing: the cassette holds the replies).
    sessionmem_emulator.control.request("POST", "/eliza/auto-reply", {"text": "ACK"})
    session_client.send_message(session.id, "What's the capital of Portugal?")
    session_client.send_message(session.id, "And its population?")

    assert_transcript(
        session_client.get_messages(session.id),
        [
            ("user", "What's the capital of Portugal?"),
            ("assistant", ANY),
            ("user", Regex(r"And its \w+\?")),
            ("assistant", "ACK"),
        ],
    )


def test_long_session_is_read_across_pages(
    session_client: SessionClient, sessionmem_emulator: EmulatorServer
) -> None:
    session = session_client.create_session(agent_id=AGENT_ID, user_id=USER_ID)
    sessionmem_emulator.control.request(
        "POST",
        f"/eliza/sessions/{session.id}/seed",
        {"count": 250, "template": "message {n}"},
    )

    # ElizaOS pages newest first with epoch-ms cursors; the client walks all three pages
    # of 100 and hands back the whole session oldest first.
    transcript = session_client.get_messages(session.id, page_size=100)

    assert len(transcript) == 250
    assert transcript.contents[:2] == ["message 1", "message 2"]
    assert_transcript(transcript, [("user", "message 249"), ("user", "message 250")], mode="suffix")


def test_expired_session_answers_410_once_then_404(
    session_client: SessionClient, sessionmem_emulator: EmulatorServer
) -> None:
    session = session_client.create_session(
        agent_id=AGENT_ID,
        user_id=USER_ID,
        timeout_config={"timeoutMinutes": 5, "autoRenew": False},
    )
    session_client.send_message(session.id, "Remember my seat: 14C.")
    sessionmem_emulator.control.advance_clock(6 * 60)

    with pytest.raises(SessionExpired, match="expired"):
        session_client.get_messages(session.id)
    # ElizaOS deletes an expired session when it first reports it.
    with pytest.raises(SessionNotFound):
        session_client.get_messages(session.id)
