"""Record against the emulator over HTTP, then replay offline: every provider, sync and async,
through our client and through the real SDKs.

Each outer test writes one inner module holding several inner tests, records it with
``--sessionmem-record-mode=once --sessionmem-emulator``, then replays it in a second
inner run where any socket connection and any emulator start fails.
"""

from __future__ import annotations

from pathlib import Path

ZEP_TESTS = """
import pytest
from zep_cloud.client import AsyncZep, Zep
from zep_cloud.types import Message as ZepMessage

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1")

TURNS = [("user", "My name is Ann"), ("assistant", "Hello Ann")]


def add_fact_while_recording(recorded_session, request):
    # The control API is not HTTP the test makes through the cassette: only while recording.
    if not recorded_session.replaying:
        emulator = request.getfixturevalue("sessionmem_emulator")
        emulator.control.zep_add_facts("s1", ["Ann likes tea"])


def test_client_sync(recorded_session, session_client, request):
    session_client.add_user("u1", first_name="Ann")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", TURNS)
    add_fact_while_recording(recorded_session, request)
    transcript = recorded_session.transcript()
    assert [(m.role.value, m.content) for m in transcript] == TURNS
    assert [f.content for f in recorded_session.memory().facts] == ["Ann likes tea"]


async def test_client_async(recorded_session, async_session_client, request):
    await async_session_client.add_user("u1")
    await async_session_client.create_session(session_id="s1", user_id="u1")
    await async_session_client.add_messages("s1", TURNS)
    add_fact_while_recording(recorded_session, request)
    transcript = await async_session_client.get_messages("s1")
    assert [(m.role.value, m.content) for m in transcript] == TURNS
    memory = await async_session_client.get_memory("s1")
    assert [f.content for f in memory.facts] == ["Ann likes tea"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_client_anyio(recorded_session, async_session_client):
    await async_session_client.add_user("u1")
    await async_session_client.create_session(session_id="s1", user_id="u1")
    await async_session_client.add_messages("s1", TURNS[:1])
    transcript = await async_session_client.get_messages("s1")
    assert transcript.contents == ["My name is Ann"]


def test_sdk_sync(recorded_session, session_client, monkeypatch, request):
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    zep = Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
    )
    zep.user.add(user_id="u1", first_name="Ann")
    zep.memory.add_session(session_id="s1", user_id="u1")
    zep.memory.add("s1", messages=[ZepMessage(role_type=r, content=c) for r, c in TURNS])
    add_fact_while_recording(recorded_session, request)
    page = zep.memory.get_session_messages("s1")
    assert [(m.role_type, m.content) for m in page.messages] == TURNS
    assert [f.fact for f in zep.memory.get("s1").relevant_facts] == ["Ann likes tea"]
    # our client reads the same cassette, after the SDK's requests
    assert recorded_session.transcript().contents == [c for _, c in TURNS]


async def test_sdk_async(recorded_session, monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    zep = AsyncZep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.async_httpx_client(),
    )
    await zep.user.add(user_id="u1")
    await zep.memory.add_session(session_id="s1", user_id="u1")
    await zep.memory.add("s1", messages=[ZepMessage(role_type=r, content=c) for r, c in TURNS])
    page = await zep.memory.get_session_messages("s1")
    assert [m.content for m in page.messages] == [c for _, c in TURNS]
"""

MEIBEL_TESTS = """
import pytest
import meibel
from meibel.models import ChatMessageRequest

pytestmark = pytest.mark.sessionmem(provider="meibel")


def test_client_sync(recorded_session, session_client):
    session = session_client.create_session(agent_id="agent-1")
    reply = session_client.send_message(session.id, "hello")
    assert reply.content == "Echo: hello"
    transcript = recorded_session.transcript(session.id)
    assert [(m.role.value, m.content) for m in transcript] == [
        ("user", "hello"), ("assistant", "Echo: hello")
    ]


async def test_client_async(async_session_client):
    session = await async_session_client.create_session(agent_id="agent-1")
    await async_session_client.add_messages(session.id, [("user", "one"), ("user", "two")])
    transcript = await async_session_client.get_messages(session.id)
    assert transcript.contents == ["one", "Echo: one", "two", "Echo: two"]


@pytest.mark.sessionmem(intercept_httpx=True)
def test_sdk_marker(recorded_session):
    client = meibel.MeibelClient(base_url=recorded_session.base_url, api_key=recorded_session.api_key)
    try:
        session_id = client.agents.sessions.create("agent-1").session_id
        reply = client.agents.sessions.send_chat_message(
            session_id, ChatMessageRequest(user_message="hello")
        )
        assert reply.assistant_response == "Echo: hello"
        history = client.sessions.get_messages(session_id)
        assert [m.message for m in history.messages] == ["hello", "Echo: hello"]
    finally:
        client.close()
    assert recorded_session.transcript(session_id).contents == ["hello", "Echo: hello"]


def test_sdk_context_manager(recorded_session):
    with recorded_session.intercept_httpx():
        client = meibel.MeibelClient(
            base_url=recorded_session.base_url, api_key=recorded_session.api_key
        )
        try:
            session_id = client.agents.sessions.create("agent-2").session_id
            history = client.sessions.get_messages(session_id)
        finally:
            client.close()
    assert history.agent_id == "agent-2"
    assert history.messages == []
"""

ELIZA_TESTS = """
import pytest
from pytest_sessionmem.emulator.eliza_rules import string_to_uuid

pytestmark = pytest.mark.sessionmem(provider="eliza")

AGENT = string_to_uuid("Eliza")
USER = "8d4c7e0a-3b61-4f5e-9a3c-2f1e0d9c8b7a"


def agent_replies_while_recording(recorded_session, request):
    if not recorded_session.replaying:
        control = request.getfixturevalue("sessionmem_emulator").control
        control.request("POST", "/eliza/auto-reply", {"text": "ACK"})


def test_client_sync(recorded_session, session_client, request):
    agent_replies_while_recording(recorded_session, request)
    session = session_client.create_session(agent_id=AGENT, user_id=USER)
    session_client.add_messages(session.id, [("user", "first"), ("user", "second")])
    transcript = recorded_session.transcript(session.id)
    assert [(m.role.value, m.content) for m in transcript] == [
        ("user", "first"), ("assistant", "ACK"), ("user", "second"), ("assistant", "ACK")
    ]


async def test_client_async(async_session_client):
    session = await async_session_client.create_session(agent_id=AGENT, user_id=USER)
    await async_session_client.send_message(session.id, "only me")
    transcript = await async_session_client.get_messages(session.id)
    assert transcript.contents == ["only me"]
"""


def _round_trip(inner, module: str, source: str, count: int) -> None:
    inner.pytester.makepyfile(**{module: source})
    recorded = inner.record()
    recorded.assert_outcomes(passed=count)
    cassettes = inner.cassettes()
    assert len(cassettes) == count
    assert all(p.parent == Path("cassettes", module) for p in cassettes)
    replayed = inner.replay_offline()
    replayed.assert_outcomes(passed=count)
    replayed.stdout.fnmatch_lines(
        [
            f"{count} cassette{'s' if count != 1 else ''} replayed, 0 recorded (0 interactions added)*"
        ]
    )


def test_zep_round_trip_client_and_sdks(inner) -> None:
    _round_trip(inner, "test_zep", ZEP_TESTS, count=5)


def test_meibel_round_trip_client_and_sdk(inner) -> None:
    _round_trip(inner, "test_meibel", MEIBEL_TESTS, count=4)


def test_eliza_round_trip_client(inner) -> None:
    _round_trip(inner, "test_eliza", ELIZA_TESTS, count=2)


def test_offline_conftest_really_blocks_recording(inner) -> None:
    """The offline harness is what makes the replays above prove anything."""
    inner.pytester.makepyfile(test_zep=ZEP_TESTS)
    result = inner.replay_offline("--sessionmem-record-mode=once", "--sessionmem-emulator")
    result.assert_outcomes(errors=5)
    result.stdout.fnmatch_lines(["*tried to create an EmulatorServer*"])
    assert inner.cassettes() == []
