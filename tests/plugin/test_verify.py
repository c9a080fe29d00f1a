"""--sessionmem-verify: each test runs against the live side (here the emulator) and every
answer is compared with the cassette. A faithful emulator passes; a drift planted in the
emulator fails the test with CassetteDrift naming the interaction and the changed paths.
Nothing is written either way."""

from __future__ import annotations

ZEP_TEST = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_zep(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "hello"), ("assistant", "hi")])
    assert recorded_session.transcript().contents == ["hello", "hi"]
"""

# A new release of the service: messages gain a field and "processed" becomes a string.
PLANTED_DRIFT = """
import pytest

import pytest_sessionmem.emulator.zep.views as zep_views

_original = zep_views.message_json


def _drifted(item, now, reads):
    data = _original(item, now, reads)
    return {**data, "sentiment": 0.5, "processed": "yes"}


@pytest.fixture(autouse=True)
def _new_release(monkeypatch):
    monkeypatch.setattr(zep_views, "message_json", _drifted)
"""


def recorded(inner) -> bytes:
    inner.pytester.makepyfile(test_zep=ZEP_TEST)
    inner.record().assert_outcomes(passed=1)
    [cassette] = inner.cassettes()
    return (inner.path / cassette).read_bytes()


def test_verify_passes_against_a_faithful_emulator_and_writes_nothing(inner) -> None:
    before = recorded(inner)

    result = inner.run("--sessionmem-verify", "--sessionmem-emulator")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["verify: 4 interaction(s) of 1 cassette(s) compared with the live service, 0 drifted"]
    )
    [cassette] = inner.cassettes()
    assert (inner.path / cassette).read_bytes() == before


def test_verify_reports_a_drift_planted_in_the_emulator(inner) -> None:
    before = recorded(inner)
    inner.online(PLANTED_DRIFT)

    result = inner.run("--sessionmem-verify", "--sessionmem-emulator")

    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert (
        "CassetteDrift: Cassette drift in interaction 4 "
        "(GET /sessions/s1/messages?limit=100&cursor=1) of "
        f"{inner.path / 'cassettes/test_zep/test_zep.json'}: the live answer changed shape:\n"
        "E         - messages[0].sentiment added\n"
        "E         - messages[1].sentiment added\n"
        "E         - messages[0].processed changed type from boolean to string\n"
    ) in out
    assert "re-record with --sessionmem-record-mode=all" in out
    result.stdout.fnmatch_lines(
        [
            "verify: 4 interaction(s) of 1 cassette(s) compared with the live service, 1 drifted",
            "  drifted: cassettes/test_zep/test_zep.json (test_zep.py::test_zep)",
        ]
    )
    [cassette] = inner.cassettes()
    assert (inner.path / cassette).read_bytes() == before


def test_the_drift_error_is_typed_and_names_paths(inner) -> None:
    recorded(inner)
    inner.online(
        PLANTED_DRIFT
        + """

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    from pytest_sessionmem import CassetteDrift, CassetteError
    try:
        return (yield)
    except CassetteDrift as exc:
        assert isinstance(exc, CassetteError)
        print("INTERACTION", exc.interaction)
        print("PATHS", list(exc.paths))
        raise
"""
    )
    result = inner.run("--sessionmem-verify", "--sessionmem-emulator", "-s")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "INTERACTION interaction 4 (GET /sessions/s1/messages?limit=100&cursor=1)\n" in out
    assert (
        "PATHS ['messages[0].sentiment added', 'messages[1].sentiment added', "
        "'messages[0].processed changed type from boolean to string', "
        "'messages[1].processed changed type from boolean to string']\n"
    ) in out


def test_verify_without_a_cassette_says_to_record_first(inner) -> None:
    inner.pytester.makepyfile(test_zep=ZEP_TEST)
    inner.online()

    result = inner.run("--sessionmem-verify", "--sessionmem-emulator")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*does not exist, so --sessionmem-verify has nothing to compare the live answers with*"]
    )
    assert inner.cassettes() == []


def test_the_verify_summary_has_no_replay_line(inner) -> None:
    recorded(inner)

    result = inner.run("--sessionmem-verify", "--sessionmem-emulator")

    result.assert_outcomes(passed=1)
    section = result.stdout.str().split("= sessionmem =", 1)[1].split("\n=", 1)[0]
    summary = [line for line in section.splitlines()[1:] if line]
    assert summary[0] == (
        "verify: 4 interaction(s) of 1 cassette(s) compared with the live service, 0 drifted"
    )
    assert not any("replayed" in line for line in summary)
