"""A Meibel agent answers a chat and calls a tool; the test reads the session back.

The meibel SDK builds its own httpx client and takes none, so the marker's
``intercept_httpx=True`` routes it through the test's cassette.
"""

from __future__ import annotations

import pytest
from meibel import MeibelClient
from meibel.models import ChatMessageRequest

from pytest_sessionmem import (
    Contains,
    EmulatorServer,
    RecordedSession,
    SessionClient,
    assert_transcript,
)

AGENT_ID = "travel-agent"

# The Meibel SDK builds its own httpx client; every request of the test goes through the
# cassette all the same.
pytestmark = pytest.mark.sessionmem(provider="meibel")


def test_chat_and_tool_calls_are_kept(
    session_client: SessionClient,
    recorded_session: RecordedSession,
    sessionmem_emulator: EmulatorServer,
) -> None:
    meibel = MeibelClient(base_url=recorded_session.base_url, api_key=recorded_session.api_key)
    session_id = meibel.agents.sessions.create(AGENT_ID).session_id
    control = sessionmem_emulator.control  # in a replaying test its calls do nothing
    control.meibel_queue_replies(session_id, ["Your flight to Lisbon leaves at 9:40."])
    meibel.agents.sessions.send_chat_message(
        session_id, ChatMessageRequest(user_message="When does my flight to Lisbon leave?")
    )
    control.meibel_add_items(
        session_id,
        [
            {
                "type": "tool_call",
                "tool_id": "t1",
                "tool_name": "flights.lookup",
                "arguments": {"destination": "LIS"},
            },
            {
                "type": "tool_result",
                "tool_id": "t1",
                "tool_name": "flights.lookup",
                "result": "TP1351 09:40",
            },
        ],
    )

    transcript = session_client.get_messages(session_id)

    assert_transcript(
        transcript,
        [
            ("user", "When does my flight to Lisbon leave?"),
            ("assistant", Contains("9:40")),
            {"role": "tool", "kind": "tool_call", "tool_name": "flights.lookup"},
            {"role": "tool", "kind": "tool_result", "result": "TP1351 09:40"},
        ],
    )
    meibel.close()
