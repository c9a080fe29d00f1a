"""The sessionmem_config fixture, match_ignore and --sessionmem-scrub-pii in real inner runs."""

from __future__ import annotations

import json

ZEP_PII_TEST = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_pii(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [
        ("user", "I'm alice@example.org, call +1 415 555 0100"),
        ("assistant", "Noted, alice@example.org."),
    ])
    contents = recorded_session.transcript().contents
    if recorded_session.replaying:
        assert contents == ["I'm <EMAIL_1>, call <PHONE_1>", "Noted, <EMAIL_1>."]
    else:
        assert contents[0] == "I'm alice@example.org, call +1 415 555 0100"
"""


def test_scrub_pii_flag_keeps_personal_data_off_disk_and_replays(inner) -> None:
    inner.pytester.makepyfile(test_pii=ZEP_PII_TEST)

    inner.record("--sessionmem-scrub-pii").assert_outcomes(passed=1)

    [cassette] = inner.cassettes()
    text = (inner.path / cassette).read_text()
    assert "alice@example.org" not in text and "555 0100" not in text
    assert text.count("<EMAIL_1>") >= 2 and "<PHONE_1>" in text
    inner.replay_offline("--sessionmem-scrub-pii").assert_outcomes(passed=1)


def test_scrub_pii_as_ini_key_and_as_marker_key(inner) -> None:
    inner.pytester.makepyfile(
        test_pii=ZEP_PII_TEST.replace(
            'provider="zep", session_id="s1"', 'provider="zep", session_id="s1", scrub_pii=True'
        )
    )
    inner.record().assert_outcomes(passed=1)
    [cassette] = inner.cassettes()
    assert "alice@example.org" not in (inner.path / cassette).read_text()


CONFTEST_CONFIG = """
import pytest

@pytest.fixture
def sessionmem_config():
    return {"provider": "eliza", "record_mode": "once", "match_ignore": ["ts"]}
"""

CONFIG_TESTS = """
import time

import pytest

def test_from_config(recorded_session):
    print("SEEN", recorded_session.provider, recorded_session.cassette.mode)

@pytest.mark.sessionmem(provider="meibel")
def test_marker_beats_config(recorded_session):
    print("SEEN", recorded_session.provider, recorded_session.cassette.mode)

def test_match_ignore_from_config(recorded_session):
    client = recorded_session.httpx_client(base_url=recorded_session.base_url)
    # A client that stamps every request: the stamp differs between record and replay.
    response = client.get(
        "/api/messaging/sessions/00000000-0000-4000-8000-000000000000/messages",
        params={"limit": 5, "ts": str(time.time_ns())},
    )
    assert response.status_code == 404
"""


def test_a_conftest_config_fixture_sits_between_marker_and_ini(inner) -> None:
    inner.pytester.makeini(inner.INI + "sessionmem_provider = zep\nsessionmem_record_mode = all\n")
    inner.pytester.makepyfile(test_config=CONFIG_TESTS)
    inner.online(CONFTEST_CONFIG)

    recorded = inner.run("-s", "--sessionmem-emulator")
    recorded.assert_outcomes(passed=3)
    recorded.stdout.fnmatch_lines(["*SEEN eliza once*", "*SEEN meibel once*"])

    inner.offline(CONFTEST_CONFIG)
    replayed = inner.run("-s")
    replayed.assert_outcomes(passed=3)
    # The command line still beats all of them.
    from_cli = inner.run("-s", "--sessionmem-provider=zep", "-k", "from_config")
    from_cli.stdout.fnmatch_lines(["*SEEN zep once*"])


def test_without_match_ignore_the_stamped_request_misses(inner) -> None:
    inner.pytester.makepyfile(test_config=CONFIG_TESTS)
    inner.online(CONFTEST_CONFIG)
    inner.run("--sessionmem-emulator").assert_outcomes(passed=3)

    inner.offline(CONFTEST_CONFIG.replace('"match_ignore": ["ts"]', '"match_ignore": []'))
    result = inner.run("-k", "match_ignore")
    result.assert_outcomes(failed=1, deselected=2)
    result.stdout.fnmatch_lines(["*UnmatchedRequest*", "*query param ts:*"])


def test_a_bad_config_fixture_fails_the_test_with_the_accepted_keys(inner) -> None:
    inner.pytester.makepyfile(test_bad="def test_x(recorded_session):\n    pass\n")
    inner.offline("\n@pytest.fixture\ndef sessionmem_config():\n    return {'mode': 'all'}\n")
    result = inner.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*The sessionmem_config fixture returned unknown key(s) mode. It may return: provider*"]
    )


BEFORE_RECORD_CONFTEST = """
import dataclasses

import pytest

def drop_user_fields(request):
    if request.body.kind == "json" and "first_name" in request.body.value:
        body = {k: v for k, v in request.body.value.items() if k != "first_name"}
        return dataclasses.replace(request, body=dataclasses.replace(request.body, value=body))
    return request

def drop_uuid(response):
    value = response.body.value
    if isinstance(value, dict) and "uuid" in value:
        value = {k: v for k, v in value.items() if k != "uuid"}
        return dataclasses.replace(response, body=dataclasses.replace(response.body, value=value))
    return response

@pytest.fixture
def sessionmem_config():
    return {"before_record_request": drop_user_fields, "before_record_response": drop_uuid}
"""


def test_before_record_hooks_from_the_config_fixture(inner) -> None:
    inner.pytester.makepyfile(
        test_hooks="""
import pytest

@pytest.mark.sessionmem(provider="zep")
def test_user(session_client):
    session_client.add_user("u1", first_name="Alice")
"""
    )
    inner.online(BEFORE_RECORD_CONFTEST)
    inner.run("--sessionmem-emulator", "--sessionmem-record-mode=once").assert_outcomes(passed=1)

    [cassette] = inner.cassettes()
    [interaction] = json.loads((inner.path / cassette).read_text())["interactions"]
    assert interaction["request"]["json"] == {"user_id": "u1"}
    assert "uuid" not in interaction["response"]["json"]
    assert interaction["response"]["json"]["user_id"] == "u1"
    # The hook also runs on replay, so the request still matches.
    inner.offline(BEFORE_RECORD_CONFTEST)
    inner.run().assert_outcomes(passed=1)
