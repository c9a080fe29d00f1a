"""Long transcripts: an inserted or deleted turn plus another difference far away.

The report must be the minimal one at any distance: the extra (or missing) turn and the
other difference, nothing else, however many equal turns lie between them.
"""

from __future__ import annotations

import pytest

from pytest_sessionmem.assertions import assert_transcript, transcript_compare
from pytest_sessionmem.assertions.render import render_report
from pytest_sessionmem.assertions.transcript_compare import (
    compare_transcripts,
    ignored_paths,
    to_expected_turns,
)
from pytest_sessionmem.matchers import Regex
from pytest_sessionmem.models import Message, Role, Transcript

TURNS = 10_300
GAPS = (10, 200, 1_000, 10_000)


def conversation(
    turns: int = TURNS,
    *,
    insert_at: int | None = None,
    delete_at: int | None = None,
    edit_at: int | None = None,
) -> Transcript:
    """Alternating user/assistant turns ``turn 0``, ``turn 1``, ...; one edit, one insertion."""
    messages = [
        Message(role=Role.USER if i % 2 == 0 else Role.ASSISTANT, content=f"turn {i}")
        for i in range(turns)
    ]
    if edit_at is not None:
        messages[edit_at] = Message(role=messages[edit_at].role, content=f"turn {edit_at} (edited)")
    if insert_at is not None:
        messages.insert(insert_at, Message(role=Role.USER, content="an extra turn"))
    if delete_at is not None:
        del messages[delete_at]
    return Transcript(messages=tuple(messages), provider="zep")


def failure(actual: Transcript, expected: Transcript) -> str:
    with pytest.raises(AssertionError) as caught:
        assert_transcript(actual, expected)
    return str(caught.value)


def edited(number: int, index: int) -> str:
    """The report block of turn ``index`` (0-based content) edited, shown as turn ``number``."""
    shown = f"turn {index}"
    pad = " " * len(shown)
    return (
        f"  role:     {'user' if index % 2 == 0 else 'assistant'}\n"
        f"  expected: '{shown}'\n"
        f"  actual:   '{shown} (edited)'\n"
        f"             {pad}^ first difference at char {len(shown) + 1} "
        f"(actual is longer: {len(shown)} vs {len(shown) + 9} chars)\n"
        f"  inline:   {shown}[+ (edited)+]"
    )


@pytest.fixture(scope="module")
def expected() -> Transcript:
    return conversation()


@pytest.mark.parametrize("gap", GAPS)
def test_an_extra_turn_then_an_edit_gap_turns_later(expected: Transcript, gap: int) -> None:
    actual = conversation(insert_at=100, edit_at=100 + gap)
    assert failure(actual, expected) == (
        f"Transcript mismatch (mode=exact, {TURNS} expected turns, {TURNS + 1} actual turns)\n"
        "extra turn 101 (user): 'an extra turn'\n"
        f"turn {102 + gap} (expected turn {101 + gap}): content differs\n"
        + edited(102 + gap, 100 + gap)
    )


@pytest.mark.parametrize("gap", GAPS)
def test_a_missing_turn_then_an_edit_gap_turns_later(expected: Transcript, gap: int) -> None:
    actual = conversation(delete_at=100, edit_at=100 + gap)
    assert failure(actual, expected) == (
        f"Transcript mismatch (mode=exact, {TURNS} expected turns, {TURNS - 1} actual turns)\n"
        "missing turn 101 (user): 'turn 100'\n"
        f"turn {100 + gap} (expected turn {101 + gap}): content differs\n"
        + edited(100 + gap, 100 + gap)
    )


@pytest.mark.parametrize("gap", GAPS)
def test_an_edit_then_a_missing_turn_gap_turns_later(expected: Transcript, gap: int) -> None:
    actual = conversation(edit_at=100, delete_at=100 + gap)
    removed = 100 + gap
    assert failure(actual, expected) == (
        f"Transcript mismatch (mode=exact, {TURNS} expected turns, {TURNS - 1} actual turns)\n"
        "turn 101: content differs\n"
        + edited(101, 100)
        + f"\nmissing turn {removed + 1} ({'user' if removed % 2 == 0 else 'assistant'}): "
        f"'turn {removed}'"
    )


def problems_text(actual: Transcript, expected: Transcript) -> list[str]:
    ignore = ignored_paths("zep")
    turns = to_expected_turns(expected, ignore=ignore)
    return render_report(compare_transcripts(actual.messages, turns, ignore=ignore))


@pytest.mark.parametrize(
    "changes",
    [
        {"insert_at": 5, "edit_at": 20},
        {"delete_at": 5, "edit_at": 12},
        {"edit_at": 3, "insert_at": 25},
        {"insert_at": 2, "delete_at": 30},
    ],
    ids=["insert+edit", "delete+edit", "edit+insert", "insert+delete"],
)
def test_the_keyed_diff_reports_what_the_edit_alignment_reports(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, int]
) -> None:
    expected = conversation(40)
    actual = conversation(40, **changes)
    direct = problems_text(actual, expected)
    # Force the large-middle path: every middle above 4 cells is cut by the keyed diff first.
    monkeypatch.setattr(transcript_compare, "_ALIGNMENT_CELL_LIMIT", 4)
    assert problems_text(actual, expected) == direct
    assert len(direct) > 2


def test_matchers_inside_a_long_middle_still_match(expected: Transcript) -> None:
    turns: list[object] = [(m.role.value, m.content) for m in expected]
    turns[5_000] = ("user", Regex(r"^turn \d+$"))  # a matcher between the two differences
    actual = conversation(insert_at=100, edit_at=9_000)
    text = failure(actual, turns)  # type: ignore[arg-type]
    assert text.splitlines()[1:3] == [
        "extra turn 101 (user): 'an extra turn'",
        "turn 9002 (expected turn 9001): content differs",
    ]
    assert "more differences" not in text


def test_a_long_transcript_of_one_repeated_turn() -> None:
    # Every turn is alike, so the keyed diff has nothing to anchor on: pairing by position
    # is then as short a report as any.
    same = [Message(role=Role.USER, content="ok") for _ in range(3_000)]
    expected = Transcript(messages=tuple(same))
    actual = Transcript(
        messages=(
            Message(role=Role.USER, content="hello"),
            *same[1:1_500],
            *same[1_501:-1],
            Message(role=Role.USER, content="bye"),
        )
    )
    assert failure(actual, expected).splitlines()[1:] == [
        "turn 1: content differs",
        "  role:     user",
        "  expected: 'ok'",
        "  actual:   'hello'",
        "turn 2999: content differs",
        "  role:     user",
        "  expected: 'ok'",
        "  actual:   'bye'",
        "missing turn 3000 (user): 'ok'",
    ]
