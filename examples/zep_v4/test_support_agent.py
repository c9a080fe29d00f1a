"""A support agent on zep-cloud 4.x stores its turns in a Zep thread; the tests prove what Zep
keeps: the turns in order, then the context and facts Zep derives from them a little later.

zep-cloud 4.x addresses users and threads by UUIDs that Zep makes, so the test creates them
and reads the thread by the UUID it got back. Replay hands back the recorded UUIDs, so every
later request matches. Run it in an environment with zep-cloud 4.x (``pip install
"zep-cloud>=4,<5"``); see ``examples/test_zep_generations.py`` for how this repository does it.
"""

from __future__ import annotations

import pytest
from zep_cloud import Zep
from zep_cloud.types import AddMessage

from pytest_sessionmem import (
    Contains,
    EmulatorServer,
    Memory,
    RecordedSession,
    Regex,
    assert_memory,
    assert_transcript,
)

CONVERSATION = [
    AddMessage(role="user", name="Alice", content="Hi, I'm Alice. I moved to Lisbon last month."),
    AddMessage(role="assistant", name="Ava", content="Welcome to Lisbon, Alice! How can I help?"),
    AddMessage(
        role="user", name="Alice", content="My order #5521 never arrived. It was a blue kettle."
    ),
    AddMessage(
        role="assistant", name="Ava", content="Sorry about that. I've re-sent order #5521 today."
    ),
]

pytestmark = pytest.mark.sessionmem(provider="zep-v4")


@pytest.fixture
def zep(recorded_session: RecordedSession) -> Zep:
    """The real SDK, talking through the test's cassette. No retries: a replay needs none."""
    return Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
        max_retries=0,
    )


def support_thread(zep: Zep) -> str:
    """The agent's side: a user, a thread for the conversation, the turns. Returns the thread UUID."""
    user = zep.user.create(user_id="alice-4711", first_name="Alice")
    thread = zep.thread.create(user_uuid=user.uuid_)
    zep.thread.add_messages(thread.uuid_, messages=CONVERSATION)
    return str(thread.uuid_)


def test_zep_keeps_every_turn_in_order(zep: Zep, recorded_session: RecordedSession) -> None:
    thread = support_thread(zep)

    assert_transcript(
        recorded_session.transcript(thread),
        [
            ("user", Contains("moved to Lisbon")),
            ("assistant", Regex(r"Welcome to Lisbon, \w+!.*")),
            {"role": "user", "name": "Alice", "content": Contains("#5521")},
            ("assistant", Contains("re-sent order #5521")),
        ],
    )


def test_context_and_facts_after_processing(
    zep: Zep, recorded_session: RecordedSession, sessionmem_emulator: EmulatorServer
) -> None:
    # Zep "processes" after 2 reads (in a replaying test, control calls do nothing)
    sessionmem_emulator.control.zep_processing(after_reads=2)
    thread = support_thread(zep)
    sessionmem_emulator.control.zep_add_edges(
        thread,
        [
            {"fact": "Alice lives in Lisbon", "rating": 0.9},
            {"fact": "Order #5521 was a blue kettle", "rating": 0.7},
            {"fact": "Alice likes tea", "rating": 0.2},
        ],
    )

    def processed(memory: Memory) -> bool:
        return len(memory.facts) > 0 and memory.context is not None

    # Polls live while recording; replays the recorded polls instantly.
    memory = recorded_session.wait_until(
        lambda: recorded_session.memory(thread), processed, timeout=5, interval=0.2
    )

    assert_memory(
        memory,
        facts_include=["Alice lives in Lisbon", Contains("blue kettle")],
        context_contains="Alice lives in Lisbon",
        min_rating=0.5,
    )
    # The same context through the SDK: the string an agent puts in its prompt.
    assert "Order #5521 was a blue kettle" in (zep.thread.get_context(thread).context or "")
