"""The comparison engine's notes are data; the words are render's, shared by text and HTML."""

from __future__ import annotations

from pytest_sessionmem.assertions.render import render_note, render_report
from pytest_sessionmem.assertions.review import transcript_review
from pytest_sessionmem.assertions.transcript_compare import (
    Note,
    compare_transcripts,
    to_expected_turns,
)
from pytest_sessionmem.models import Message, Role, Transcript

ACTUAL = Transcript(
    messages=tuple(
        Message(role=Role.USER if i % 2 == 0 else Role.ASSISTANT, content=f"turn {i + 1}")
        for i in range(5)
    )
)


def _report(expected: list[tuple[str, str]], mode: str):  # type: ignore[no-untyped-def]
    turns = to_expected_turns(expected, ignore=frozenset())
    return compare_transcripts(ACTUAL.messages, turns, mode=mode)


def test_a_contiguous_miss_is_a_note_of_numbers_not_words() -> None:
    report = _report([("assistant", "turn 2"), ("user", "nope")], "contains")
    assert report.notes == [
        Note("contiguous_best", expected=2, actual=5, start=2, differs_at=3, matched=1)
    ]
    words = render_note(report.notes[0])
    assert words == (
        "expected turns 1-2 as a contiguous run; best match starts at actual turn 2, differs "
        "at turn 3 (1 of 2 turns match there)"
    )
    assert words in render_report(report)
    # The HTML report reads the same note through the same words.
    turns = to_expected_turns([("assistant", "turn 2"), ("user", "nope")], ignore=frozenset())
    review = transcript_review(report, ACTUAL.messages, turns)
    assert review["notes"] == [words]


def test_every_kind_of_note_has_its_words() -> None:
    cases = {
        "prefix": [("user", "a")] * 6,
        "suffix": [("user", "x"), ("user", "y")],
        "subsequence": [("user", "missing")],
    }
    seen = {}
    for mode, expected in cases.items():
        (note,) = _report(expected, mode).notes
        seen[note.kind] = render_note(note)
    assert seen == {
        "anchored_too_short": "expected 6 turns at the start of the transcript, but it has "
        "only 5 turns",
        "anchored_window": "expected turns 1-2 at the end of the transcript (actual turns 4-5)",
        "subsequence_missing": "expected 1 turn in this order, gaps allowed; 1 could not be found",
    }
