"""Secret canary: keys set in the environment never reach any file the run writes.

Every provider is recorded with a random canary key that the emulator requires, and the
canary also travels in URLs and in request and response bodies (Meibel echoes the chat
message, Zep and ElizaOS return stored message content). The same run writes the
expected-transcript files (``--sessionmem-update``), the HTML review report and a JUnit
report. Afterwards no file under the run's directory may hold any of them.
"""

from __future__ import annotations

import secrets

import pytest

KEY_ENV = {"zep": "ZEP_API_KEY", "meibel": "MEIBEL_API_KEY", "eliza": "ELIZA_SERVER_AUTH_TOKEN"}

CANARY_TESTS = '''
import os

import meibel
import pytest
from meibel.models import ChatMessageRequest
from zep_cloud.client import Zep
from zep_cloud.types import Message as ZepMessage

from pytest_sessionmem.emulator.eliza_rules import string_to_uuid


def seen(recorded_session, env):
    """What a response shows of a key: the key live, its placeholder on replay."""
    return f"<{env}>" if recorded_session.replaying else os.environ[env]


@pytest.fixture(autouse=True)
def emulator_requires_keys(recorded_session, request):
    if not recorded_session.replaying:
        control = request.getfixturevalue("sessionmem_emulator").control
        control.set_keys(
            zep=os.environ["ZEP_API_KEY"],
            meibel=os.environ["MEIBEL_API_KEY"],
            eliza=os.environ["ELIZA_SERVER_AUTH_TOKEN"],
        )
        assert control.info()["auth"] == {"zep": True, "meibel": True, "eliza": True}
        control.request("POST", "/eliza/auto-reply", {"text": "ACK"})


@pytest.mark.sessionmem(provider="zep")
def test_zep_client(recorded_session, session_client):
    key = os.environ["ZEP_API_KEY"]
    session_client.add_user("u1")
    session_client.create_session(session_id="s-" + key, user_id="u1")  # the key in URLs
    session_client.add_messages("s-" + key, [("user", "my key is " + key)])
    shown = seen(recorded_session, "ZEP_API_KEY")
    transcript = session_client.get_messages("s-" + key)
    assert transcript.contents == ["my key is " + shown]
    recorded_session.assert_transcript(actual=transcript)  # the expected-transcript file


@pytest.mark.sessionmem(provider="zep")
def test_zep_sdk(recorded_session, monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    key = os.environ["ZEP_API_KEY"]
    zep = Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
    )
    zep.user.add(user_id="u-" + key)
    zep.memory.add_session(session_id="s1", user_id="u-" + key)
    zep.memory.add("s1", messages=[ZepMessage(role_type="user", content=key)])
    messages = zep.memory.get_session_messages("s1").messages
    assert [m.content for m in messages] == [seen(recorded_session, "ZEP_API_KEY")]


@pytest.mark.sessionmem(provider="meibel")
def test_meibel_client(recorded_session, session_client):
    key = os.environ["MEIBEL_API_KEY"]
    session = session_client.create_session(agent_id="agent-1")
    reply = session_client.send_message(session.id, key)
    assert reply.content == "Echo: " + seen(recorded_session, "MEIBEL_API_KEY")
    recorded_session.assert_transcript(actual=session_client.get_messages(session.id))


@pytest.mark.sessionmem(provider="meibel", intercept_httpx=True)
def test_meibel_sdk(recorded_session):
    key = os.environ["MEIBEL_API_KEY"]
    client = meibel.MeibelClient(base_url=recorded_session.base_url, api_key=recorded_session.api_key)
    try:
        session_id = client.agents.sessions.create("agent-1").session_id
        reply = client.agents.sessions.send_chat_message(
            session_id, ChatMessageRequest(user_message="the key: " + key)
        )
    finally:
        client.close()
    assert reply.assistant_response == "Echo: the key: " + seen(recorded_session, "MEIBEL_API_KEY")


@pytest.mark.sessionmem(provider="eliza")
def test_eliza_client(recorded_session, session_client):
    key = os.environ["ELIZA_SERVER_AUTH_TOKEN"]
    session = session_client.create_session(
        agent_id=string_to_uuid("Eliza"), user_id="8d4c7e0a-3b61-4f5e-9a3c-2f1e0d9c8b7a"
    )
    session_client.send_message(session.id, "token " + key)
    shown = seen(recorded_session, "ELIZA_SERVER_AUTH_TOKEN")
    transcript = session_client.get_messages(session.id)
    assert transcript.contents == ["token " + shown, "ACK"]
    recorded_session.assert_transcript(actual=transcript)
'''


def _canaries() -> dict[str, str]:
    return {env: f"canary-{secrets.token_hex(16)}" for env in KEY_ENV.values()}


def _files_holding(inner, needles: list[bytes]) -> list[str]:
    found = []
    for path in inner.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found.extend(f"{path}: {n!r}" for n in needles if n in data)
    return found


def test_no_canary_byte_reaches_disk(inner, monkeypatch: pytest.MonkeyPatch) -> None:
    canaries = _canaries()
    for env, value in canaries.items():
        monkeypatch.setenv(env, value)
    inner.pytester.makepyfile(test_canary=CANARY_TESTS)
    # Recording and writing the expected-transcript files in one run, with a report file.
    recorded = inner.record(
        "--sessionmem-update", "--junitxml=report.xml", "--sessionmem-html=review.html"
    )
    recorded.assert_outcomes(passed=5)
    assert len(inner.cassettes()) == 5
    assert (inner.path / "review.html").exists()
    # One expected-transcript file per provider, holding its key's placeholder instead.
    transcripts = {p.stem: p.read_text() for p in inner.files("transcripts/**/*.txt")}
    assert sorted(transcripts) == ["test_eliza_client", "test_meibel_client", "test_zep_client"]
    for provider, env in KEY_ENV.items():
        assert f"<{env}>" in transcripts[f"test_{provider}_client"]
    # The canary and its random part alone, in case a scrubber kept part of it.
    needles = [v.encode() for v in canaries.values()]
    needles += [v.removeprefix("canary-").encode() for v in canaries.values()]
    assert _files_holding(inner, needles) == []
    # The scrubbed cassettes still replay, offline, with the same keys set; responses then
    # show each key's placeholder, and they match the expected-transcript files.
    replayed = inner.replay_offline()
    replayed.assert_outcomes(passed=5)
    assert _files_holding(inner, needles) == []


def test_canary_check_would_see_a_leak(inner) -> None:
    """The walk above finds a canary where one is written (so its silence means something)."""
    canary = _canaries()["ZEP_API_KEY"]
    (inner.path / "cassettes").mkdir()
    (inner.path / "cassettes" / "leak.json").write_text(f'{{"k": "{canary}"}}', encoding="utf-8")
    assert len(_files_holding(inner, [canary.encode()])) == 1
