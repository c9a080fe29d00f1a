"""Under pytest-xdist every worker records and replays its own cassettes, and the controller's
summary and unused-transcript report cover the whole run."""

from __future__ import annotations

MANY = """
import pytest

@pytest.mark.sessionmem(provider="zep")
@pytest.mark.parametrize("n", range(20))
def test_many(recorded_session, session_client, n):
    session_client.add_user(f"u{n}")
    session_client.create_session(session_id=f"s{n}", user_id=f"u{n}")
    session_client.add_messages(f"s{n}", [("user", f"hello {n}"), ("assistant", f"hi {n}")])
    recorded_session.assert_transcript(actual=session_client.get_messages(f"s{n}"))
"""


def test_record_and_replay_twenty_tests_on_two_workers(inner) -> None:
    inner.pytester.makepyfile(test_many=MANY)
    inner.online()
    recorded = inner.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", *inner.RECORD_ARGS, "--sessionmem-update"
    )
    recorded.assert_outcomes(passed=20)
    recorded.stdout.fnmatch_lines(
        [
            "0 cassettes replayed, 20 recorded (80 interactions added), 0 unused interactions",
            "  transcript written: transcripts/test_many/test_many[[]0[]].txt",
        ]
    )
    assert len(inner.cassettes()) == 20
    assert len(list(inner.path.glob("transcripts/test_many/*.txt"))) == 20
    recorded.stdout.no_fnmatch_line("*no test used*")

    stale = inner.path / "transcripts/test_many/test_removed.txt"
    stale.write_text("# sessionmem transcript 1\n", encoding="utf-8")
    inner.pytester.makeconftest(inner.OFFLINE_CONFTEST)
    replayed = inner.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    replayed.assert_outcomes(passed=20)
    replayed.stdout.fnmatch_lines(
        [
            "20 cassettes replayed, 0 recorded (0 interactions added), 0 unused interactions",
            "1 expected-transcript file no test used:",
            "  transcripts/test_many/test_removed.txt",
        ]
    )
    # the 20 used files are not reported, and the stale one only once (not once per worker)
    assert replayed.stdout.str().count("test_removed.txt") == 1
    replayed.stdout.no_fnmatch_line("  transcripts/test_many/test_many*")

    # A partial run on two workers (each worker deselects) reports no unused file.
    partial = inner.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "-k", "test_many and 1"
    )
    partial.assert_outcomes(passed=11)  # 1 and 10-19
    partial.stdout.no_fnmatch_line("*no test used*")
