"""Each record mode end to end, replay order of repeated requests, base-URL independence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASSETTE = Path("cassettes/test_chat/test_chat.json")

# Read, write, read again: two identical GETs with different answers.
READ_WRITE_READ = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_chat(session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    assert session_client.get_messages("s1").contents == []
    session_client.add_messages("s1", [("user", "first")])
    assert session_client.get_messages("s1").contents == ["first"]
    {extra}
"""

SECOND_WRITE = """session_client.add_messages("s1", [("user", "second")])
    assert session_client.get_messages("s1").contents == ["first", "second"]"""


def _write(inner, extra: str = "pass") -> None:
    inner.pytester.makepyfile(test_chat=READ_WRITE_READ.replace("{extra}", extra))


def _interactions(inner) -> list[tuple[str, str]]:
    data = json.loads((inner.path / CASSETTE).read_text(encoding="utf-8"))
    return [(i["request"]["method"], i["request"]["path"]) for i in data["interactions"]]


def test_once_records_then_replays_in_recorded_order(inner) -> None:
    _write(inner)
    inner.record().assert_outcomes(passed=1)
    assert _interactions(inner) == [
        ("POST", "/users"),
        ("POST", "/sessions"),
        ("GET", "/sessions/s1/messages"),
        ("POST", "/sessions/s1/memory"),
        ("GET", "/sessions/s1/messages"),
    ]
    before = (inner.path / CASSETTE).read_bytes()
    # once + an existing file: a replay, even with the emulator flag given
    inner.offline()
    result = inner.run("--sessionmem-record-mode=once", "--sessionmem-emulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["1 cassette replayed, 0 recorded (0 interactions added)*"])
    assert (inner.path / CASSETTE).read_bytes() == before


def test_none_replays_offline(inner) -> None:
    _write(inner)
    inner.record().assert_outcomes(passed=1)
    inner.replay_offline("--sessionmem-record-mode=none").assert_outcomes(passed=1)


def test_new_episodes_appends_what_is_missing(inner) -> None:
    _write(inner)
    inner.record().assert_outcomes(passed=1)
    first = _interactions(inner)
    # The old requests replay from the file; only the new one reaches the (fresh) emulator,
    # so it must not depend on data the replayed writes would have made.
    _write(inner, 'session_client.add_user("u2")')
    inner.online()
    result = inner.run("--sessionmem-record-mode=new_episodes", "--sessionmem-emulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["0 cassettes replayed, 1 recorded (1 interaction added)*"])
    assert _interactions(inner) == [*first, ("POST", "/users")]
    inner.replay_offline().assert_outcomes(passed=1)


def test_all_rerecords_from_scratch_and_replaces_the_file(inner) -> None:
    _write(inner, SECOND_WRITE)
    inner.record().assert_outcomes(passed=1)
    assert len(_interactions(inner)) == 7
    _write(inner)  # the test now makes fewer requests
    (inner.path / CASSETTE).write_text("{ not json", encoding="utf-8")  # even a corrupt file
    inner.online()
    result = inner.run("--sessionmem-record-mode=all", "--sessionmem-emulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["0 cassettes replayed, 1 recorded (5 interactions added)*"])
    assert len(_interactions(inner)) == 5
    inner.replay_offline().assert_outcomes(passed=1)


def test_replaying_more_identical_requests_than_recorded_fails(inner) -> None:
    _write(inner)
    inner.record().assert_outcomes(passed=1)
    _write(inner, 'session_client.get_messages("s1")')  # a third identical read
    result = inner.replay_offline()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*UnmatchedRequest*GET*/sessions/s1/messages*", "*already played 1 times*"]
    )


@pytest.mark.parametrize(
    "base_url_args",
    [(), ("--sessionmem-base-url", "zep=https://api.getzep.com/api/v2")],
    ids=["default", "cloud"],
)
def test_cassette_replays_under_any_base_url(inner, base_url_args: tuple[str, ...]) -> None:
    inner.pytester.makepyfile(
        test_chat="""
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_chat(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "hi")])
    assert recorded_session.transcript().contents == ["hi"]
    print("BASE", recorded_session.base_url)
"""
    )
    recorded = inner.record("-s")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*BASE http://127.0.0.1:*/zep/api/v2*"])
    replayed = inner.replay_offline("-s", *base_url_args)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*BASE https://api.getzep.com/api/v2*"])
