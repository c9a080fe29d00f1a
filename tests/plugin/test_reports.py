"""The end-of-run report: partial runs, unused cassette files, plurals, -qq; option names."""

from __future__ import annotations

import re

import pytest

TWO_TESTS = """
import os

import pytest


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_chat(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "hi")])
    recorded_session.assert_transcript()


def test_flaky():
    assert not os.environ.get("BREAK"), "broken on purpose"
"""


def _section(result: pytest.RunResult) -> list[str]:
    text = result.stdout.str()
    if "= sessionmem =" not in text:
        return []
    body = text.split("= sessionmem =", 1)[1].split("\n", 1)[1]
    return [line for line in body.split("\n=")[0].splitlines() if line.strip()]


def _recorded(inner) -> None:
    inner.pytester.makepyfile(test_chat=TWO_TESTS)
    inner.record("--sessionmem-update").assert_outcomes(passed=2)


def test_last_failed_never_calls_a_transcript_file_unused(
    inner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _recorded(inner)
    inner.offline()
    monkeypatch.setenv("BREAK", "1")
    # With the cache, as a user runs it: the second run selects test_flaky only.
    args = ("-p", "no:randomly")
    inner.pytester.runpytest(*args).assert_outcomes(passed=1, failed=1)
    again = inner.pytester.runpytest("--lf", *args)
    again.assert_outcomes(failed=1)
    assert "run 1 test" in again.stdout.str() or "1 failed" in again.stdout.str()
    assert not any("no test used" in line for line in _section(again))


def test_cassette_files_no_test_uses_are_reported_on_full_runs_only(inner) -> None:
    _recorded(inner)
    folder = inner.path / "cassettes" / "test_chat"
    (folder / "test_renamed.json").write_text((folder / "test_chat.json").read_text())
    inner.offline()
    full = inner.run()
    full.assert_outcomes(passed=2)
    assert _section(full) == [
        "1 cassette replayed, 0 recorded (0 interactions added), 0 unused interactions",
        "1 cassette file no test used:",
        "  cassettes/test_chat/test_renamed.json",
    ]
    partial = inner.run("-k", "flaky")
    partial.assert_outcomes(passed=1)
    assert not any("no test used" in line for line in _section(partial))


def test_counts_are_singular_and_plural(inner) -> None:
    _recorded(inner)
    inner.offline()
    one = inner.run()
    assert _section(one)[0] == (
        "1 cassette replayed, 0 recorded (0 interactions added), 0 unused interactions"
    )


def test_the_section_is_quiet_under_qq(inner) -> None:
    _recorded(inner)
    inner.offline()
    assert _section(inner.run("-q")) != []
    assert _section(inner.run("-qq")) == []


def test_every_flag_has_the_ini_key_of_the_same_name(inner) -> None:
    help_text = inner.run("--help").stdout.str()
    options, ini = re.split(r"^\[pytest\] .*options.*$", help_text, maxsplit=1, flags=re.MULTILINE)
    flags = set(re.findall(r"^\s+(--sessionmem-[a-z-]+)", options, flags=re.MULTILINE))
    ini_keys = set(re.findall(r"^\s+(sessionmem_[a-z_]+)", ini, flags=re.MULTILINE))
    assert flags, "no --sessionmem-* flags in --help"
    assert {"--" + key.replace("_", "-") for key in ini_keys} == flags
