"""Assertions inside inner tests: ``==`` on transcripts shows the turn-level review, and
``wait_until`` under replay never sleeps."""

from __future__ import annotations

EQUALITY = """
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_equality(recorded_session, session_client):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages(
        "s1", [("user", "My name is Ann"), ("assistant", "Hello Ann"), ("user", "Bye")]
    )
    transcript = recorded_session.transcript()
    assert transcript == [("user", "My name is Ann"), ("assistant", "Hello Bob"), ("user", "Bye")]
"""


def test_transcript_equality_shows_the_turn_level_review(inner) -> None:
    inner.pytester.makepyfile(test_eq=EQUALITY)
    inner.record("--sessionmem-keep-failed").assert_outcomes(failed=1)
    result = inner.replay_offline()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    # the review names the differing turn and both contents; pytest's generic list diff
    # ("At index 1 diff") is replaced
    result.stdout.fnmatch_lines(
        [
            "E*assert Transcript mismatch (mode=exact, 3 expected turns, 3 actual turns)",
            "E*turn 2: content differs",
            "E*role:     assistant",
            "E*expected: 'Hello Bob'",
            "E*actual:   'Hello Ann'",
        ]
    )
    assert "At index 1 diff" not in output


POLLING = """
import time

import pytest

ATTEMPTS = []


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_facts_appear(recorded_session, session_client, request):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    if not recorded_session.replaying:
        control = request.getfixturevalue("sessionmem_emulator").control
        control.zep_processing(after_reads=3)  # facts show on the fourth read
        control.zep_add_facts("s1", ["Ann likes tea"])
    session_client.add_messages("s1", [("user", "I like tea")])

    def fetch():
        ATTEMPTS.append(1)
        return recorded_session.memory()

    memory = recorded_session.wait_until(fetch, lambda m: len(m.facts) == 1, interval=0.05)
    assert [f.content for f in memory.facts] == ["Ann likes tea"]
    print(f"ATTEMPTS={len(ATTEMPTS)}")
"""

NO_SLEEP = """

import time as _time


def _no_real_sleep(seconds):
    raise AssertionError(f"time.sleep({seconds}) was called during replay")


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(_time, "sleep", _no_real_sleep)
"""


def test_wait_until_replays_every_poll_without_sleeping(inner) -> None:
    inner.pytester.makepyfile(test_poll=POLLING)
    recorded = inner.record("-s")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*ATTEMPTS=4*"])
    inner.offline(NO_SLEEP)
    replayed = inner.run("-s")
    replayed.assert_outcomes(passed=1)
    # the same polls, answered in recorded order, with time.sleep forbidden
    replayed.stdout.fnmatch_lines(["*ATTEMPTS=4*"])
    replayed.stdout.fnmatch_lines(
        ["1 cassette replayed, 0 recorded (0 interactions added), 0 unused*"]
    )


def test_the_no_sleep_guard_catches_a_real_sleep(inner) -> None:
    """The guard above is real: a replayed test that sleeps fails."""
    inner.pytester.makepyfile(
        test_sleep="import time\n\ndef test_sleep():\n    time.sleep(0.001)\n"
    )
    inner.offline(NO_SLEEP)
    result = inner.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*time.sleep(0.001) was called during replay*"])
