"""Whole-agent capture, end to end: the real LLM SDKs and a memory provider's SDK in one test,
each in its default set-up (no client handed to it), recorded and replayed.

Each outer test writes an inner test module, records it (``--sessionmem-record-mode=once
--sessionmem-emulator``) while the loopback stand-in LLM server (``llm_standin.py``) runs,
then replays it: once with the stand-in still running, which must see no request at all,
and, where it says so, once more with the stand-in stopped and every socket refused. The
inner tests read ``recorded_session.llm_calls()`` themselves, so what they check holds the
same while recording and in replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Imported here so that they outlive every inner run (see tests/conftest.py): an inner run
# that imported them first would have them dropped again, with httpx2's lazily imported
# httpcore2 among them.
import anthropic  # noqa: F401
import httpcore2  # noqa: F401
import httpx2  # noqa: F401
import openai  # noqa: F401
import pytest
import requests  # noqa: F401
from llm_standin import LLMStandin

# -- the inner tests --------------------------------------------------------------------------

# What every inner module starts with: the stand-in's URL, the memory it recalls, and checks
# of the LLM calls the test made.
PREAMBLE = '''
import os

import pytest

from pytest_sessionmem import LLMCall, Role

STANDIN = os.environ["STANDIN_URL"]
FACT = "Alice lives in Lisbon"
QUESTION = "Where do I live?"


def answer_to(system):
    """What the stand-in answers a prompt whose system text is ``system``."""
    return f"You told me: {system}"


def check_calls(recorded_session, expected):
    """``expected``: (provider, api, streamed) of each LLM call, in order. Each prompt starts
    with the system message that holds the recalled fact, and each reply (streamed ones put
    together) is the stand-in's answer to it."""
    calls = recorded_session.llm_calls()
    assert all(isinstance(call, LLMCall) for call in calls)
    assert [(c.provider, c.api, c.streamed) for c in calls] == expected
    for call in calls:
        system = call.messages[0]
        assert system.role is Role.SYSTEM and FACT in system.content, call.messages
        assert call.messages[-1].content == QUESTION
        assert call.reply.role is Role.ASSISTANT
        assert call.reply.content == answer_to(system.content)
    return calls
'''

SDK_TESTS = (
    PREAMBLE
    + '''
import anthropic
import openai
from zep_cloud.client import AsyncZep, Zep
from zep_cloud.types import Message as ZepMessage

pytestmark = pytest.mark.sessionmem(provider="zep")

WEATHER = {
    "type": "function",
    "function": {"name": "remember", "parameters": {"type": "object", "properties": {}}},
}


@pytest.fixture(autouse=True)
def no_zep_url(monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)


@pytest.fixture
def zep(recorded_session):
    """The Zep SDK as an agent builds it: no client handed to it."""
    client = Zep(api_key=recorded_session.api_key, base_url=recorded_session.base_url)
    yield client
    # The SDK has no close(); its own httpx client keeps a connection to the emulator.
    client._client_wrapper.httpx_client.httpx_client.close()


@pytest.fixture
async def async_zep(recorded_session):
    client = AsyncZep(api_key=recorded_session.api_key, base_url=recorded_session.base_url)
    yield client
    await client._client_wrapper.httpx_client.httpx_client.aclose()


@pytest.fixture
def seed(recorded_session, request):
    """The fact the memory service extracted: seeded through the control API while recording
    (never part of the cassette); in replay the recorded memory read already holds it."""

    def seed(session_id):
        if not recorded_session.replaying:
            control = request.getfixturevalue("sessionmem_emulator").control
            control.zep_add_facts(session_id, [FACT])

    return seed


def turn(role, content):
    return [ZepMessage(role_type=role, content=content)]


def recalled(memory):
    return "What you remember: " + "; ".join(fact.fact for fact in memory.relevant_facts)


def test_openai_sync(recorded_session, zep, seed):
    zep.user.add(user_id="alice")
    zep.memory.add_session(session_id="s-openai", user_id="alice")
    zep.memory.add("s-openai", messages=turn("user", QUESTION))
    seed("s-openai")
    system = recalled(zep.memory.get("s-openai"))
    prompt = [{"role": "system", "content": system}, {"role": "user", "content": QUESTION}]

    with openai.OpenAI(api_key="sk-test-openai", base_url=STANDIN + "/v1") as llm:
        plain = llm.chat.completions.create(model="gpt-4o-mini", messages=prompt)
        chunks = llm.chat.completions.create(model="gpt-4o-mini", messages=prompt, stream=True)
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        tool = llm.chat.completions.create(model="gpt-4o-mini", messages=prompt, tools=[WEATHER])
        response = llm.responses.create(model="gpt-4o", instructions=system, input=QUESTION)
        events = list(llm.responses.create(
            model="gpt-4o", instructions=system, input=QUESTION, stream=True
        ))

    reply = answer_to(system)
    assert plain.choices[0].message.content == streamed == response.output_text == reply
    assert [e.type for e in events][-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == reply
    assert events[-1].response.output_text == reply
    assert tool.choices[0].message.tool_calls[0].function.name == "remember"
    zep.memory.add("s-openai", messages=turn("assistant", reply))
    assert recorded_session.transcript("s-openai").contents == [QUESTION, reply]

    calls = check_calls(
        recorded_session,
        [
            ("openai", "chat.completions", False),
            ("openai", "chat.completions", True),
            ("openai", "chat.completions", False),
            ("openai", "responses", False),
            ("openai", "responses", True),
        ],
    )
    assert [(t.name, t.arguments) for t in calls[2].tool_calls] == [("remember", {"note": reply})]


async def test_openai_async(recorded_session, async_zep, seed):
    zep = async_zep
    await zep.user.add(user_id="alice")
    await zep.memory.add_session(session_id="s-openai-a", user_id="alice")
    await zep.memory.add("s-openai-a", messages=turn("user", QUESTION))
    seed("s-openai-a")
    system = recalled(await zep.memory.get("s-openai-a"))
    prompt = [{"role": "system", "content": system}, {"role": "user", "content": QUESTION}]

    async with openai.AsyncOpenAI(api_key="sk-test-openai", base_url=STANDIN + "/v1") as llm:
        plain = await llm.chat.completions.create(model="gpt-4o-mini", messages=prompt)
        chunks = await llm.chat.completions.create(
            model="gpt-4o-mini", messages=prompt, tools=[WEATHER], stream=True
        )
        deltas = [c.choices[0].delta async for c in chunks if c.choices]
        response = await llm.responses.create(model="gpt-4o", instructions=system, input=QUESTION)
        stream = await llm.responses.create(
            model="gpt-4o", instructions=system, input=QUESTION, stream=True
        )
        events = [event async for event in stream]

    reply = answer_to(system)
    assert plain.choices[0].message.content == response.output_text == reply
    assert "".join(d.content or "" for d in deltas) == reply
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == reply
    await zep.memory.add("s-openai-a", messages=turn("assistant", reply))
    page = await zep.memory.get_session_messages("s-openai-a")
    assert [m.content for m in page.messages] == [QUESTION, reply]

    calls = check_calls(
        recorded_session,
        [
            ("openai", "chat.completions", False),
            ("openai", "chat.completions", True),
            ("openai", "responses", False),
            ("openai", "responses", True),
        ],
    )
    # the streamed tool call, put together from its argument fragments
    assert [(t.name, t.arguments) for t in calls[1].tool_calls] == [("remember", {"note": reply})]


def test_anthropic_sync(recorded_session, zep, seed):
    zep.user.add(user_id="alice")
    zep.memory.add_session(session_id="s-claude", user_id="alice")
    zep.memory.add("s-claude", messages=turn("user", QUESTION))
    seed("s-claude")
    system = recalled(zep.memory.get("s-claude"))
    ask = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": system,
        "messages": [{"role": "user", "content": QUESTION}],
    }

    with anthropic.Anthropic(api_key="sk-ant-test", base_url=STANDIN) as llm:
        plain = llm.messages.create(**ask)
        events = list(llm.messages.create(**ask, stream=True))
        with llm.messages.stream(**ask) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()

    reply = answer_to(system)
    assert plain.content[0].text == text == final.content[0].text == reply
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert final.stop_reason == "end_turn"
    zep.memory.add("s-claude", messages=turn("assistant", reply))
    assert recorded_session.transcript("s-claude").contents == [QUESTION, reply]

    calls = check_calls(
        recorded_session,
        [
            ("anthropic", "messages", False),
            ("anthropic", "messages", True),
            ("anthropic", "messages", True),
        ],
    )
    assert {call.reply.metadata["stop_reason"] for call in calls} == {"end_turn"}


async def test_anthropic_async(recorded_session, async_zep, seed):
    zep = async_zep
    await zep.user.add(user_id="alice")
    await zep.memory.add_session(session_id="s-claude-a", user_id="alice")
    await zep.memory.add("s-claude-a", messages=turn("user", QUESTION))
    seed("s-claude-a")
    system = recalled(await zep.memory.get("s-claude-a"))
    ask = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": system,
        "messages": [{"role": "user", "content": QUESTION}],
    }

    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=STANDIN) as llm:
        plain = await llm.messages.create(**ask)
        stream = await llm.messages.create(**ask, stream=True)
        deltas = [e.delta.text async for e in stream if e.type == "content_block_delta"]
        async with llm.messages.stream(**ask) as managed:
            text = await managed.get_final_text()

    reply = answer_to(system)
    assert plain.content[0].text == "".join(deltas) == text == reply
    assert len(deltas) == 2  # the events arrive as they were sent, not merged
    await zep.memory.add("s-claude-a", messages=turn("assistant", reply))
    page = await zep.memory.get_session_messages("s-claude-a")
    assert [m.content for m in page.messages] == [QUESTION, reply]

    check_calls(
        recorded_session,
        [
            ("anthropic", "messages", False),
            ("anthropic", "messages", True),
            ("anthropic", "messages", True),
        ],
    )
'''
)


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMStandin]:
    """The stand-in LLM server, running; inner tests find it in ``STANDIN_URL``."""
    with LLMStandin() as server:
        monkeypatch.setenv("STANDIN_URL", server.url)
        yield server


def _interactions(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    interactions: list[dict[str, Any]] = data["interactions"]
    return interactions


def _standin_interactions(inner: Any, standin: LLMStandin) -> list[dict[str, Any]]:
    """Every recorded request to the stand-in, in all of the inner run's cassettes."""
    return [
        item
        for cassette in inner.cassettes()
        for item in _interactions(inner.path / cassette)
        if item["request"].get("origin") == standin.url
    ]


def _record_then_replay(inner: Any, standin: LLMStandin, passed: int) -> int:
    """Record (the stand-in answers), then replay with the stand-in still running: it must
    get no request. Returns how many requests the recording sent it."""
    inner.record().assert_outcomes(passed=passed)
    sent = standin.count
    assert sent > 0
    replayed = inner.run()
    replayed.assert_outcomes(passed=passed)
    replayed.stdout.fnmatch_lines([f"{passed} cassettes replayed, 0 recorded*"])
    assert standin.count == sent, standin.seen[sent:]
    return sent


# -- the tests --------------------------------------------------------------------------------


def test_llm_sdks_and_a_memory_sdk_record_and_replay_in_their_default_set_up(
    inner: Any, standin: LLMStandin
) -> None:
    inner.pytester.makepyfile(test_agent=SDK_TESTS)
    sent = _record_then_replay(inner, standin, passed=4)
    assert sent == 5 + 4 + 3 + 3
    recorded = _standin_interactions(inner, standin)
    assert len(recorded) == sent
    assert {item["request"]["path"] for item in recorded} == {
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/messages",
    }
    # The memory provider's own requests stay relative to its base URL, with no origin.
    memory = [
        item
        for cassette in inner.cassettes()
        for item in _interactions(inner.path / cassette)
        if "origin" not in item["request"]
    ]
    assert memory and all(item["request"]["path"].startswith("/") for item in memory)

    standin.stop()  # and again with nothing listening, every socket refused
    inner.replay_offline().assert_outcomes(passed=4)
