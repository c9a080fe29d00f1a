"""A support agent stores a conversation in Zep (through the real zep-cloud SDK); the tests
prove what Zep keeps: the turns in order, and the facts it extracts a little later."""

from __future__ import annotations

import pytest
from zep_cloud.client import Zep
from zep_cloud.types import Message as ZepMessage

from pytest_sessionmem import (
    Contains,
    EmulatorServer,
    Memory,
    RecordedSession,
    Regex,
    Role,
    assert_memory,
    assert_transcript,
)

SESSION_ID = "support-4711"
USER_ID = "alice-4711"

CONVERSATION = [
    ZepMessage(
        role="Alice", role_type="user", content="Hi, I'm Alice. I moved to Lisbon last month."
    ),
    ZepMessage(
        role="Ava", role_type="assistant", content="Welcome to Lisbon, Alice! How can I help?"
    ),
    ZepMessage(
        role="Alice",
        role_type="user",
        content="My order #5521 never arrived.\nIt was a blue kettle.",
    ),
    ZepMessage(
        role="Ava",
        role_type="assistant",
        content="Sorry about that. I've re-sent order #5521 today.",
    ),
]

pytestmark = pytest.mark.sessionmem(provider="zep", session_id=SESSION_ID)


@pytest.fixture
def zep(recorded_session: RecordedSession) -> Zep:
    """The real SDK, talking through the test's cassette."""
    return Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
    )


def store_conversation(zep: Zep) -> None:
    zep.user.add(user_id=USER_ID, first_name="Alice")
    zep.memory.add_session(session_id=SESSION_ID, user_id=USER_ID)
    zep.memory.add(session_id=SESSION_ID, messages=CONVERSATION)


def test_zep_keeps_every_turn_in_order(zep: Zep, recorded_session: RecordedSession) -> None:
    store_conversation(zep)

    transcript = recorded_session.transcript()

    assert_transcript(
        transcript,
        [
            ("user", Contains("moved to Lisbon")),
            ("assistant", Regex(r"Welcome to Lisbon, \w+!.*")),
            {"role": Role.USER, "name": "Alice", "content": Contains("#5521")},
            ("assistant", Contains("re-sent order #5521")),
        ],
    )


def test_zep_extracts_facts_after_processing(
    zep: Zep, recorded_session: RecordedSession, sessionmem_emulator: EmulatorServer
) -> None:
    # Zep "processes" after 2 reads (in a replaying test, control calls do nothing)
    sessionmem_emulator.control.zep_processing(after_reads=2)
    store_conversation(zep)
    sessionmem_emulator.control.zep_add_facts(
        SESSION_ID,
        [
            {"content": "Alice lives in Lisbon", "rating": 0.9},
            {"content": "Order #5521 was a blue kettle", "rating": 0.7},
            {"content": "Alice likes tea", "rating": 0.2},
        ],
    )

    def has_facts(memory: Memory) -> bool:
        return len(memory.facts) > 0

    # Polls live while recording; replays the recorded polls instantly.
    memory = recorded_session.wait_until(
        recorded_session.memory, has_facts, timeout=5, interval=0.2
    )

    assert_memory(
        memory,
        facts_include=["Alice lives in Lisbon", Contains("blue kettle")],
        min_rating=0.5,
    )


def test_transcript_matches_the_reviewed_file(zep: Zep, recorded_session: RecordedSession) -> None:
    store_conversation(zep)
    # Compares with transcripts/test_support_memory/<this test>.txt;
    # --sessionmem-update writes it from the actual transcript.
    recorded_session.assert_transcript()
