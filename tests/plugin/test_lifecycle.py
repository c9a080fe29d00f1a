"""What happens around a test: failed recordings, unused interactions, the terminal summary
and header, expected-transcript files and the report of unused ones."""

from __future__ import annotations

from pathlib import Path

SHOW_UNUSED_AS_WARNING = ("-W", "default::pytest_sessionmem.UnusedInteractionsWarning")

CHAT = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_chat(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "My name is Ann"), ("assistant", "Hello Ann")])
    {check}
"""


def _chat(inner, check: str = "pass", name: str = "test_chat") -> None:
    inner.pytester.makepyfile(**{name: CHAT.replace("{check}", check)})


# -- failing tests while recording ----------------------------------------------------------


def test_a_failing_test_leaves_no_cassette(inner) -> None:
    _chat(inner, "assert False, 'the agent forgot'")
    result = inner.record()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "0 cassettes replayed, 0 recorded (3 interactions added), 0 unused interactions",
            "  discarded: cassettes/test_chat/test_chat.json was not written because "
            "test_chat.py::test_chat failed (--sessionmem-keep-failed keeps it)",
        ]
    )
    assert inner.cassettes() == []
    assert [p.name for p in inner.files("cassettes/**/*")] == []  # no temp files either


def test_keep_failed_keeps_the_cassette(inner) -> None:
    _chat(inner, "assert False, 'the agent forgot'")
    result = inner.record("--sessionmem-keep-failed")
    result.assert_outcomes(failed=1)
    assert inner.cassettes() == [Path("cassettes/test_chat/test_chat.json")]
    result.stdout.no_fnmatch_line("*discarded*")


# -- unused interactions ----------------------------------------------------------------------


def _record_two_then_shrink(inner) -> None:
    two_tests = CHAT.replace("{check}", "pass") + CHAT.replace("{check}", "pass").replace(
        "def test_chat", "def test_other"
    ).replace("import pytest\n", "")
    inner.pytester.makepyfile(test_chat=two_tests)
    inner.record().assert_outcomes(passed=2)
    # Both tests now stop before their last write: one unused interaction each.
    shrunk = two_tests.replace(
        '    session_client.add_messages("s1", [("user", "My name is Ann"), ("assistant", "Hello Ann")])\n',
        "",
    )
    inner.pytester.makepyfile(test_chat=shrunk)


def test_unused_interactions_warn_once_per_test(inner) -> None:
    _record_two_then_shrink(inner)
    result = inner.replay_offline(*SHOW_UNUSED_AS_WARNING)
    result.assert_outcomes(passed=2, warnings=2)
    result.stdout.fnmatch_lines(
        [
            "*UnusedInteractionsWarning: 1 recorded interaction in cassettes/test_chat/"
            "test_chat.json was not used by test_chat.py::test_chat: * To drop them, record the "
            "test again (pytest test_chat.py::test_chat --sessionmem-record-mode=all "
            "--sessionmem-emulator)*",
            "*UnusedInteractionsWarning: 1 recorded interaction in cassettes/test_chat/"
            "test_other.json was not used by test_chat.py::test_other: *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "2 cassettes replayed, 0 recorded (0 interactions added), 2 unused interactions",
            "  unused: 1 interaction in cassettes/test_chat/test_chat.json (test_chat.py::test_chat)",
            "  unused: 1 interaction in cassettes/test_chat/test_other.json (test_chat.py::test_other)",
        ]
    )


def test_unused_error_makes_it_a_test_error(inner) -> None:
    _record_two_then_shrink(inner)
    result = inner.replay_offline("--sessionmem-unused=error")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_chat*",
            "UnusedInteractions: 1 recorded interaction in *test_chat.json was not used by "
            "test_chat.py::test_chat: *",
            "*ERROR at teardown of test_other*",
        ]
    )


def test_unused_ignore_is_silent(inner) -> None:
    _record_two_then_shrink(inner)
    result = inner.replay_offline("--sessionmem-unused=ignore")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*UnusedInteractionsWarning*")


# -- header and summary ---------------------------------------------------------------------


def test_report_header_shows_the_resolved_settings(inner) -> None:
    inner.pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = inner.run("--sessionmem-provider=zep", "--sessionmem-record-mode=new_episodes")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "sessionmem: record_mode=new_episodes, provider=zep, cassettes=<test dir>/cassettes, "
            "transcripts=<test dir>/transcripts, unused=warn"
        ]
    )
    # A run that used no cassette and has no transcript folder prints no summary numbers.
    result.stdout.no_fnmatch_line("*cassettes replayed*")


# -- expected-transcript files --------------------------------------------------------------

TRANSCRIPT = Path("transcripts/test_chat/test_chat.txt")


def test_missing_transcript_file_names_the_update_flag(inner) -> None:
    _chat(inner, "recorded_session.assert_transcript()")
    result = inner.record()
    # The recording is kept; the test errors at teardown with the command that writes it.
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_chat*",
            "No expected-transcript file at *test_chat.txt yet. The recording was kept. Write "
            "it from the recording:",
            "    pytest test_chat.py::test_chat --sessionmem-update",
        ]
    )
    assert not (inner.path / TRANSCRIPT).exists()
    assert (inner.path / "cassettes" / "test_chat" / "test_chat.json").exists()
    # Replaying, the missing file fails the test at once, with the same command.
    replayed = inner.replay_offline()
    replayed.assert_outcomes(failed=1)
    replayed.stdout.fnmatch_lines(
        [
            "E * No expected-transcript file at *test_chat.txt yet. Write it from the cassette:",
            "E *    pytest test_chat.py::test_chat --sessionmem-update",
        ]
    )


def test_update_writes_the_file_and_later_runs_compare(inner) -> None:
    _chat(inner, "recorded_session.assert_transcript()")
    written = inner.record("--sessionmem-update")
    written.assert_outcomes(passed=1)
    written.stdout.fnmatch_lines([f"  transcript written: {TRANSCRIPT}"])
    text = (inner.path / TRANSCRIPT).read_text(encoding="utf-8")
    assert text == (
        "# sessionmem transcript 1\n\n--- user\nMy name is Ann\n\n--- assistant\nHello Ann\n\n"
    )
    inner.replay_offline().assert_outcomes(passed=1)
    # An expectation that no longer holds fails with the turn-level review.
    (inner.path / TRANSCRIPT).write_text(text.replace("Hello Ann", "Hello Bob"), encoding="utf-8")
    failed = inner.replay_offline()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*Hello Bob*", "*Hello Ann*"])


def test_hand_written_matcher_survives_an_update(inner) -> None:
    _chat(inner, "recorded_session.assert_transcript()")
    inner.record("--sessionmem-update").assert_outcomes(passed=1)
    path = inner.path / TRANSCRIPT
    written = path.read_text(encoding="utf-8")
    edited = written.replace(
        "--- assistant\nHello Ann", "--- assistant match=regex\n^Hello [A-Z][a-z]+$"
    )
    assert edited != written
    path.write_text(edited, encoding="utf-8")
    result = inner.replay_offline("--sessionmem-update")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*transcript written*")
    assert (inner.path / TRANSCRIPT).read_text(encoding="utf-8") == edited


def test_unused_transcript_files_are_reported_after_a_full_run_only(inner) -> None:
    _chat(inner, "recorded_session.assert_transcript()")
    inner.record("--sessionmem-update").assert_outcomes(passed=1)
    _chat(inner, "pass", name="test_extra")
    stale = inner.path / "transcripts/test_chat/test_renamed.txt"
    stale.write_text("# sessionmem transcript 1\n", encoding="utf-8")
    # Only files with the transcript suffix are expected transcripts.
    (stale.parent / "notes.md").write_text("# not a transcript\n", encoding="utf-8")

    full = inner.replay_offline()
    full.assert_outcomes(passed=1, failed=1)  # test_extra has no cassette
    full.stdout.fnmatch_lines(
        ["1 expected-transcript file no test used:", "  transcripts/test_chat/test_renamed.txt"]
    )
    assert full.stdout.str().count("test_chat/test_chat.txt") == 0
    assert "notes.md" not in full.stdout.str()

    partial = inner.replay_offline("-k", "test_extra")
    partial.assert_outcomes(failed=1)
    partial.stdout.no_fnmatch_line("*no test used*")

    by_node_id = inner.replay_offline("test_chat.py::test_chat")
    by_node_id.assert_outcomes(passed=1)
    by_node_id.stdout.no_fnmatch_line("*no test used*")


def test_a_test_that_stopped_using_its_file_makes_it_unused(inner) -> None:
    _chat(inner, "recorded_session.assert_transcript()")
    inner.record("--sessionmem-update").assert_outcomes(passed=1)
    _chat(inner, "pass")
    result = inner.replay_offline(*SHOW_UNUSED_AS_WARNING)
    result.assert_outcomes(passed=1, warnings=1)  # it no longer reads the messages either
    result.stdout.fnmatch_lines(["1 expected-transcript file no test used:", f"  {TRANSCRIPT}"])


def test_update_rewrites_a_file_that_no_longer_matches(inner) -> None:
    flag = "--sessionmem-update"
    _chat(inner, "recorded_session.assert_transcript()")
    inner.record(flag).assert_outcomes(passed=1)
    path = inner.path / TRANSCRIPT
    path.write_text(path.read_text(encoding="utf-8").replace("Ann", "Bob"), encoding="utf-8")
    result = inner.replay_offline(flag)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"  transcript written: {TRANSCRIPT}"])
    assert "Bob" not in path.read_text(encoding="utf-8")


# -- every recording test gets a fresh emulator -----------------------------------------------


def test_keys_one_test_sets_on_the_emulator_do_not_reach_the_next(inner) -> None:
    inner.pytester.makepyfile(
        test_keys="""
import pytest

from pytest_sessionmem import AuthenticationError


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_a_turns_auth_on(recorded_session, session_client):
    recorded_session.emulator.control.set_keys(zep="secret")
    with pytest.raises(AuthenticationError):
        session_client.add_user("u1")


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_b_expects_a_fresh_emulator(recorded_session, session_client):
    assert recorded_session.emulator.control.info()["auth"]["zep"] is False
    session_client.add_user("u1")
"""
    )
    result = inner.record()  # inner runs keep file order: test_a runs first
    result.assert_outcomes(passed=2)


# -- two tests, one file name -------------------------------------------------------------------


CLASHING_IDS = """
import pytest

@pytest.mark.parametrize("user", {params})
@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_user(recorded_session, session_client, user):
    session_client.add_user(user)
"""


def test_tests_whose_names_map_to_one_file_fail_before_recording(inner) -> None:
    inner.pytester.makepyfile(test_clash=CLASHING_IDS.format(params='["a b", "a/b"]'))
    result = inner.record()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ConfigError: test_clash.py::test_user?a b? and 'test_user?a/b?' in the same module "
            "would share one cassette and one expected-transcript file, test_user?a_b?.*: their "
            "names differ only in characters a file name cannot hold*",
        ]
    )
    assert inner.cassettes() == []


def test_distinct_ids_fix_the_clash(inner) -> None:
    params = '[pytest.param("a b", id="a-space-b"), pytest.param("a/b", id="a-slash-b")]'
    inner.pytester.makepyfile(test_clash=CLASHING_IDS.format(params=params))
    inner.record().assert_outcomes(passed=2)
    assert len(inner.cassettes()) == 2
    inner.replay_offline().assert_outcomes(passed=2)
