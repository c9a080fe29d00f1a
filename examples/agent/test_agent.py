"""Testing a whole agent: what it said, what Zep remembered, and what reached the LLM's prompt.

The agent calls the real ``openai`` SDK and the real ``zep-cloud`` SDK; the test's cassette
holds both. See docs/whole-agent.md for the walk-through.
"""

from __future__ import annotations

import pytest
from agent import SupportAgent

from pytest_sessionmem import (
    Contains,
    EmulatorServer,
    RecordedSession,
    assert_memory,
    assert_transcript,
)

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="agent-lisbon-1")

LISBON = [{"content": "Ann lives in Lisbon", "rating": 0.9}]


def test_the_session_holds_both_turns(
    agent: SupportAgent, recorded_session: RecordedSession
) -> None:
    agent.start(user_id="ann", first_name="Ann")
    agent.chat("I just moved to Lisbon")

    assert_transcript(
        recorded_session.transcript(),
        [("user", "I just moved to Lisbon"), ("assistant", Contains("You said"))],
    )


def test_memory_holds_the_fact(
    agent: SupportAgent, recorded_session: RecordedSession, sessionmem_emulator: EmulatorServer
) -> None:
    agent.start(user_id="ann", first_name="Ann")
    agent.chat("I just moved to Lisbon")
    # Stands in for Zep's fact extraction; in a replaying test it does nothing.
    sessionmem_emulator.control.zep_add_facts("agent-lisbon-1", LISBON)

    assert_memory(recorded_session.memory(), facts_include=[Contains("Lisbon")])


def test_the_recalled_fact_reaches_the_prompt(
    agent: SupportAgent, recorded_session: RecordedSession, sessionmem_emulator: EmulatorServer
) -> None:
    agent.start(user_id="ann", first_name="Ann")
    agent.chat("I just moved to Lisbon")
    sessionmem_emulator.control.zep_add_facts("agent-lisbon-1", LISBON)

    reply = agent.chat("Any bakery near me?")

    prompt = recorded_session.llm_calls()[-1].messages
    assert_transcript(prompt, [("system", Contains("Ann lives in Lisbon"))], mode="contains")
    assert "in Lisbon" in reply
