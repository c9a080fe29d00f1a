"""Errors a user meets, with their text: missing and unmatched cassettes, corrupt and foreign
files, unknown marker keys, a bad record mode."""

from __future__ import annotations

import json

import pytest

READER = """
import pytest

@pytest.mark.sessionmem(provider="zep")
def test_read(session_client):
    print("BODY RAN")
    assert session_client.get_messages("{session}").contents == ["hi"]
"""


def _reader(inner, session: str = "s1") -> None:
    inner.pytester.makepyfile(test_read=READER.replace("{session}", session))


def _record_reader(inner) -> None:
    inner.pytester.makepyfile(
        test_read="""
import pytest

@pytest.mark.sessionmem(provider="zep")
def test_read(session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "hi")])
    assert session_client.get_messages("s1").contents == ["hi"]
"""
    )
    inner.record().assert_outcomes(passed=1)


def test_missing_cassette_names_the_file_and_the_command(inner) -> None:
    _reader(inner)
    result = inner.replay_offline()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteNotFound: Cassette *cassettes/test_read/test_read.json does not exist*",
            "*pytest test_read.py::test_read --sessionmem-record-mode=once --sessionmem-emulator",
            "*pytest test_read.py::test_read --sessionmem-record-mode=once",
        ]
    )
    assert inner.cassettes() == []


def test_unmatched_request_names_request_candidates_and_flag(inner) -> None:
    _record_reader(inner)
    _reader(inner, session="s2")
    result = inner.replay_offline()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequest: No recorded interaction matches GET */sessions/s2/messages*",
            "*Closest recorded requests*",
            "*1. GET /sessions/s1/messages?*",
            "*path: '/sessions/s2/messages' != '/sessions/s1/messages'",
            # Recorded against the emulator: new_episodes cannot work there.
            "*new_episodes cannot work against the emulator*",
            "*pytest test_read.py::test_read --sessionmem-record-mode=all --sessionmem-emulator",
        ]
    )


def test_corrupt_cassette_names_file_and_problem(inner) -> None:
    _reader(inner)
    path = inner.path / "cassettes/test_read/test_read.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "interactions": [', encoding="utf-8")
    result = inner.replay_offline()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*Cassette {path} *"])
    result.stdout.no_fnmatch_line("*BODY RAN*")
    result.stdout.no_fnmatch_line("*load_cassette*")  # the message, not the plugin's traceback


def test_foreign_version_names_file_and_version(inner) -> None:
    _reader(inner)
    path = inner.path / "cassettes/test_read/test_read.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 7, "interactions": []}), encoding="utf-8")
    result = inner.replay_offline()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*Cassette {path} has version 7; this pytest-sessionmem reads*"])


def test_unknown_marker_key_fails_before_the_test_body(inner) -> None:
    inner.pytester.makepyfile(
        test_marker="""
import pytest

@pytest.mark.sessionmem(provider="zep", recordmode="all")
def test_typo(recorded_session):
    print("BODY RAN")
"""
    )
    result = inner.replay_offline("-s")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "ConfigError: @pytest.mark.sessionmem got unknown argument(s) recordmode (did you "
            "mean record_mode?). It accepts: provider,*"
        ]
    )
    result.stdout.no_fnmatch_line("*BODY RAN*")


def test_bad_record_mode_is_a_usage_error_listing_the_values(inner) -> None:
    inner.pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = inner.run("--sessionmem-record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*'sometimes' is not a valid sessionmem record_mode. "
            "Valid values: none, once, new_episodes, all.*"
        ]
    )


def test_a_failed_replay_reports_its_failure_not_unused_interactions(inner) -> None:
    _record_reader(inner)
    _reader(inner, session="s2")
    result = inner.replay_offline()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*UnusedInteractionsWarning*")
    result.stdout.fnmatch_lines(
        ["0 cassettes replayed, 0 recorded (0 interactions added), 0 unused*"]
    )
