"""Assertions as plain data, for reports that outlive the test process (the HTML report).

:func:`transcript_review` turns one ``assert_transcript`` comparison into rows aligned turn
by turn (expected beside actual), each marked ``same``, ``differs``, ``missing``,
``extra`` or ``outside`` (an actual turn the mode does not compare), with, for a
differing turn, every differing field: the name of the matcher that failed (``equality``
for a plain value) and the inline character diff as ``[tag, text]`` segments.
:func:`memory_review` does the same for ``assert_memory``: the facts with their ratings.

Everything returned is JSON-able (strings, numbers, lists, dicts), so pytest-xdist can
send it from a worker to the controller. :func:`observe` lets a caller (the pytest plugin)
receive each review as the assertion runs; nothing is collected when nobody observes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from pytest_sessionmem.assertions.render import render_note
from pytest_sessionmem.assertions.transcript_compare import (
    ExpectedTurn,
    ExtraTurn,
    FieldMismatch,
    MissingTurn,
    TranscriptReport,
    TurnMismatch,
)
from pytest_sessionmem.matchers import describe, is_matcher
from pytest_sessionmem.models import Fact, Memory, Message

__all__ = ["memory_review", "notify", "observe", "transcript_review"]

Review = dict[str, Any]
_observers: list[Callable[[Review], None]] = []
_MAX_TEXT = 4000


@contextlib.contextmanager
def observe(callback: Callable[[Review], None]) -> Iterator[None]:
    """Call ``callback`` with the review of every assertion made inside the block."""
    _observers.append(callback)
    try:
        yield
    finally:
        _observers.remove(callback)


def observing() -> bool:
    return bool(_observers)


def notify(review: Review) -> None:
    for callback in list(_observers):
        callback(review)


def _text(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _shown(value: object) -> str:
    if is_matcher(value):
        return describe(value)
    return _text(value)


def _matcher_name(mismatch: FieldMismatch) -> str:
    if mismatch.missing:
        return "missing key"
    if mismatch.unexpected:
        return "unexpected key"
    if mismatch.matcher:
        return type(mismatch.expected).__name__
    return "equality"


def inline_segments(expected: str, actual: str) -> list[list[str]]:
    """``[["same", "Welcome to "], ["removed", "Porto"], ["added", "Lisbon"], ...]``."""
    matcher = SequenceMatcher(None, expected, actual, autojunk=False)
    out: list[list[str]] = []
    for tag, e1, e2, a1, a2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(["same", expected[e1:e2]])
            continue
        if e2 > e1:
            out.append(["removed", expected[e1:e2]])
        if a2 > a1:
            out.append(["added", actual[a1:a2]])
    return out


def _field(mismatch: FieldMismatch) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": mismatch.path,
        "matcher": _matcher_name(mismatch),
        "expected": "(absent)" if mismatch.unexpected else _shown(mismatch.expected),
        "actual": "(absent)" if mismatch.missing else _shown(mismatch.actual),
        "inline": None,
    }
    want, got = mismatch.expected, mismatch.actual
    if (
        not mismatch.matcher
        and isinstance(want, str)
        and isinstance(got, str)
        and max(len(want), len(got)) <= _MAX_TEXT
    ):
        data["inline"] = inline_segments(want, got)
    return data


def _expected(turn: ExpectedTurn) -> dict[str, Any]:
    fields = turn.fields
    role = fields.get("role")
    content = fields.get("content")
    others = {key: _shown(value) for key, value in fields.items() if key not in ("role", "content")}
    return {
        "role": "any role" if role is None else _shown(getattr(role, "value", role)),
        "content": None if "content" not in fields else _shown(content),
        "content_matcher": type(content).__name__ if is_matcher(content) else None,
        "fields": others,
        "source": turn.source,
    }


def _actual(message: Message) -> dict[str, Any]:
    return {
        "role": message.role.value,
        "name": message.name,
        "content": _text(message.content),
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def transcript_review(
    report: TranscriptReport,
    actual: Sequence[Message],
    expected: Sequence[ExpectedTurn],
    *,
    message: Sequence[str] = (),
) -> Review:
    """The rows of one transcript comparison (see the module docstring)."""
    mismatched = {
        (p.expected_index, p.actual_index): p
        for p in report.problems
        if isinstance(p, TurnMismatch)
    }
    missing = {p.expected_index for p in report.problems if isinstance(p, MissingTurn)}
    extra = {p.actual_index for p in report.problems if isinstance(p, ExtraTurn)}
    closest = {
        p.expected_index: p.closest
        for p in report.problems
        if isinstance(p, MissingTurn) and p.closest is not None
    }
    if report.mode in ("contains", "subsequence"):
        return _review(report, _listed(report, actual, expected), message)
    start = _first_compared(report, actual, expected)
    rows = [_row("outside", actual=actual[a]) for a in range(min(start, len(actual)))]
    e, a = 0, start
    while e < len(expected) or a < len(actual):
        if e < len(expected) and e in missing:
            near = closest.get(e)
            rows.append(_row("missing", e, expected=expected[e], near=near))
            e += 1
        elif a < len(actual) and a in extra:
            rows.append(_row("extra", actual_index=a, actual=actual[a]))
            a += 1
        elif e < len(expected) and a < len(actual):
            problem = mismatched.get((e, a))
            status = "differs" if problem else "same"
            rows.append(_row(status, e, a, expected=expected[e], actual=actual[a], near=problem))
            e += 1
            a += 1
        elif a < len(actual):
            rows.append(_row("outside", actual_index=a, actual=actual[a]))
            a += 1
        else:
            rows.append(_row("missing", e, expected=expected[e]))
            e += 1
    return _review(report, rows, message)


def _listed(
    report: TranscriptReport, actual: Sequence[Message], expected: Sequence[ExpectedTurn]
) -> list[dict[str, Any]]:
    """``contains`` / ``subsequence``: both sides listed, the failing expected turns marked."""
    failing = {p.expected_index: p for p in report.problems if isinstance(p, MissingTurn)}
    rows: list[dict[str, Any]] = []
    for index in range(max(len(actual), len(expected))):
        problem = failing.get(index)
        rows.append(
            _row(
                "missing" if problem is not None else "listed",
                index,
                index,
                expected=expected[index] if index < len(expected) else None,
                actual=actual[index] if index < len(actual) else None,
                near=problem.closest if problem is not None else None,
            )
        )
    return rows


def _row(
    status: str,
    expected_index: int | None = None,
    actual_index: int | None = None,
    *,
    expected: ExpectedTurn | None = None,
    actual: Message | None = None,
    near: TurnMismatch | None = None,
) -> dict[str, Any]:
    """One row of the table; ``near`` is the turn pairing whose differing fields it shows.

    A row numbers only the sides it has an index for (leading ``outside`` rows: none).
    """
    row: dict[str, Any] = {
        "status": status,
        "expected": None if expected is None else _expected(expected),
        "actual": None if actual is None else _actual(actual),
        "fields": [_field(f) for f in near.fields] if near else [],
    }
    if expected_index is not None:
        row["expected_number"] = expected_index + 1
    if actual_index is not None:
        row["actual_number"] = actual_index + 1
    return row


def _review(report: TranscriptReport, rows: list[dict[str, Any]], message: Sequence[str]) -> Review:
    return {
        "kind": "transcript",
        "ok": report.ok,
        "mode": report.mode,
        "expected_count": report.expected_count,
        "actual_count": report.actual_count,
        "rows": rows,
        "notes": [render_note(note) for note in report.notes],
        "message": list(message),
    }


def _first_compared(
    report: TranscriptReport, actual: Sequence[Message], expected: Sequence[ExpectedTurn]
) -> int:
    """Where the expected turns start in ``actual``: 0, or the tail for ``suffix``."""
    if report.mode == "suffix":
        return max(0, len(actual) - len(expected))
    return 0


def memory_review(
    memory: Memory,
    problems: Sequence[str],
    *,
    min_rating: float | None,
    expected: Mapping[str, Any],
) -> Review:
    """One ``assert_memory`` call: its facts with ratings, context, summary and problems."""

    def fact(item: Fact) -> dict[str, Any]:
        counted = min_rating is None or (item.rating is not None and item.rating >= min_rating)
        return {"content": _text(item.content), "rating": item.rating, "counted": counted}

    return {
        "kind": "memory",
        "ok": not problems,
        "facts": [fact(f) for f in memory.facts],
        "min_rating": min_rating,
        "context": None if memory.context is None else _text(memory.context),
        "summary": None if memory.summary is None else _text(memory.summary),
        "expected": {key: _shown(value) for key, value in expected.items() if value is not None},
        "message": list(problems),
    }
