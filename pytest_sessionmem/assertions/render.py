"""Render comparison results as a conversation review, not as a repr diff of nested dicts.

Pure functions from values to lines of text. What the reader must never be left guessing:

* which turn and which field differ, and what matcher failed (by its own repr);
* where in a long text the first difference is: a caret under it, an inline
  ``[-removed-][+added+]`` view, and for multi-line text a line diff;
* invisible characters: tabs, carriage returns, zero-width and other non-printing
  characters are escaped (``\\t``, ``\\u200b``); trailing spaces show inside quotes, or as
  ``\\x20`` where no quotes surround the text.

Everything is capped (characters around the first difference, lines of a line diff,
number of turns reported), so a 10,000-turn transcript or a 1 MB message renders in
milliseconds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from enum import Enum
from typing import Any, Final

from pytest_sessionmem.assertions.transcript_compare import (
    ExpectedTurn,
    ExtraTurn,
    FieldMismatch,
    MissingTurn,
    Note,
    Problem,
    TranscriptReport,
    TurnMismatch,
)
from pytest_sessionmem.matchers import describe, is_matcher
from pytest_sessionmem.models import Message

__all__ = [
    "MAX_PROBLEMS",
    "display_width",
    "escape",
    "quote",
    "render_note",
    "render_report",
    "render_value",
    "text_difference",
]

#: How many differences a message lists before "... and N more".
MAX_PROBLEMS: Final = 10
# Characters shown before / after the first difference of a long text.
_BEFORE: Final = 50
_AFTER: Final = 70
# A value shown on one line (missing / extra turns, other fields) is cut to this length.
_ONE_LINE: Final = 80
# Lines of a line diff shown before it is cut.
_LINE_DIFF_LIMIT: Final = 30
_ELLIPSIS: Final = "…"
# Strings up to this length outside ``content`` are shown as "expected 'a', actual 'b'".
_SHORT: Final = 40
# Below this similarity an inline diff is a jumble of fragments; the two values say more.
_INLINE_MIN_SIMILARITY: Final = 0.5


# --------------------------------------------------------------------------- text primitives


def escape(text: str, *, trailing: bool = False) -> str:
    """``text`` with backslashes and non-printing characters escaped, as ``repr`` would.

    ``trailing=True`` also escapes trailing spaces (``\\x20``), for places without quotes.
    """
    if text.isprintable() and "\\" not in text:
        escaped = text
    else:
        escaped = "".join(
            "\\\\" if ch == "\\" else ch if ch.isprintable() else repr(ch)[1:-1] for ch in text
        )
    if trailing and escaped.endswith(" "):
        stripped = escaped.rstrip(" ")
        escaped = stripped + "\\x20" * (len(escaped) - len(stripped))
    return escaped


def quote(text: str) -> str:
    """``text`` escaped and in single quotes (quotes inside are left alone: this is for reading)."""
    return f"'{escape(text)}'"


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide CJK and emoji count 2, combining marks 0."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _shorten(text: str, limit: int = _ONE_LINE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def render_value(value: Any, *, limit: int = _ONE_LINE) -> str:
    """A value for a one-line mention: strings quoted and cut, matchers by their repr."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        if len(value) > limit:
            return quote(value[: limit - 1]) + f"{_ELLIPSIS} ({len(value)} chars)"
        return quote(value)
    if is_matcher(value):
        return describe(value)
    return _shorten(repr(value), limit)


def _first_difference(left: str, right: str) -> int:
    shortest = min(len(left), len(right))
    if left[:shortest] == right[:shortest]:
        return shortest
    low, high = 0, shortest  # binary search on equal prefixes: fast on very long strings
    while low < high:
        middle = (low + high) // 2
        if left[low : middle + 1] == right[low : middle + 1]:
            low = middle + 1
        else:
            high = middle
    return low


def _window(text: str, index: int) -> tuple[str, bool, bool]:
    """The part of ``text`` around ``index`` and whether it was cut at the start / end."""
    start = max(0, index - _BEFORE)
    end = min(len(text), index + _AFTER)
    return text[start:end], start > 0, end < len(text)


def _inline(expected: str, actual: str) -> str | None:
    """``[-removed-][+added+]`` markup, or None when the texts share too little for it to help."""
    matcher = SequenceMatcher(None, expected, actual, autojunk=False)
    if matcher.ratio() < _INLINE_MIN_SIMILARITY:
        return None
    parts: list[str] = []
    for tag, e1, e2, a1, a2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(escape(expected[e1:e2]))
            continue
        if e2 > e1:
            parts.append(f"[-{escape(expected[e1:e2])}-]")
        if a2 > a1:
            parts.append(f"[+{escape(actual[a1:a2])}+]")
    return "".join(parts)


def text_difference(expected: str, actual: str, *, indent: str = "  ") -> list[str]:
    """Expected and actual text with a caret at the first difference and an inline diff.

    Multi-line texts get a line diff instead, with an inline diff of the first changed line.
    """
    if "\n" in expected or "\n" in actual:
        return _line_difference(expected, actual, indent=indent)
    index = _first_difference(expected, actual)
    start = max(0, index - _BEFORE)
    exp_shown, exp_cut_start, exp_cut_end = _window(expected, index)
    act_shown, act_cut_start, act_cut_end = _window(actual, index)
    lines = [
        f"{indent}expected: {_framed(exp_shown, exp_cut_start, exp_cut_end)}",
        f"{indent}actual:   {_framed(act_shown, act_cut_start, act_cut_end)}",
    ]
    before_caret = f"{indent}actual:   " + ("'" + _ELLIPSIS if act_cut_start else "'")
    before_caret += escape(actual[start:index])
    where = f"first difference at char {index + 1}"
    if len(expected) != len(actual) and index == min(len(expected), len(actual)):
        longer = "actual" if len(actual) > len(expected) else "expected"
        where += f" ({longer} is longer: {len(expected)} vs {len(actual)} chars)"
    inline = _inline(exp_shown, act_shown)
    if inline is None and index == 0:
        return lines  # nothing in common: a caret at char 1 and a jumble would only add noise
    lines.append(" " * display_width(before_caret) + "^ " + where)
    if inline is not None:
        lines.append(
            f"{indent}inline:   "
            + (_ELLIPSIS if exp_cut_start else "")
            + inline
            + (_ELLIPSIS if exp_cut_end or act_cut_end else "")
        )
    return lines


def _framed(shown: str, cut_start: bool, cut_end: bool) -> str:
    return (
        "'"
        + (_ELLIPSIS if cut_start else "")
        + escape(shown)
        + (_ELLIPSIS if cut_end else "")
        + "'"
    )


def _line_difference(expected: str, actual: str, *, indent: str) -> list[str]:
    exp_lines, act_lines = expected.split("\n"), actual.split("\n")
    matcher = SequenceMatcher(None, exp_lines, act_lines, autojunk=False)
    body: list[str] = []
    first_changed: int | None = None
    inline_done = False
    for group in matcher.get_grouped_opcodes(1):
        if body:
            body.append(f"{indent}  {_ELLIPSIS}")
        for tag, e1, e2, a1, a2 in group:
            if tag == "equal":
                body.extend(
                    f"{indent}    {escape(line, trailing=True)}" for line in exp_lines[e1:e2]
                )
                continue
            if first_changed is None:
                first_changed = e1 + 1
            body.extend(f"{indent}  - {escape(line, trailing=True)}" for line in exp_lines[e1:e2])
            body.extend(f"{indent}  + {escape(line, trailing=True)}" for line in act_lines[a1:a2])
            if tag == "replace" and not inline_done:
                inline_done = True
                left, right = exp_lines[e1], act_lines[a1]
                index = _first_difference(left, right)
                left_win, cut, _ = _window(left, index)
                right_win, _, _ = _window(right, index)
                inline = _inline(left_win, right_win)
                if inline is not None:
                    body.append(f"{indent}  ? inline: " + (_ELLIPSIS if cut else "") + inline)
    if len(body) > _LINE_DIFF_LIMIT:
        hidden = len(body) - _LINE_DIFF_LIMIT
        body = [*body[:_LINE_DIFF_LIMIT], f"{indent}  {_ELLIPSIS} {hidden} more diff lines"]
    head = (
        f"{indent}line diff (- expected, + actual; {len(exp_lines)} vs {len(act_lines)} lines), "
        f"first difference on line {first_changed or 1}:"
    )
    if first_changed is None:  # same lines after splitting: only possible if identical
        return [head, f"{indent}  (no line-level difference)"]
    return [head, *body]


# --------------------------------------------------------------------------- transcripts


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _role_of(turn: ExpectedTurn) -> str:
    role = turn.role
    if role is None:
        return "any role"
    return describe(role) if is_matcher(role) else str(role)


def _expected_summary(turn: ExpectedTurn) -> str:
    if "content" in turn.fields:
        text = render_value(turn.content)
    else:
        text = ", ".join(
            f"{k}={render_value(v, limit=30)}" for k, v in turn.fields.items() if k != "role"
        )
        text = text or "(any turn)"
    source = f" [{turn.source}]" if turn.source else ""
    return f"{text}{source}"


def _actual_label(problem: TurnMismatch, *, with_role: bool = True) -> str:
    parts = [str(problem.actual.role)] if with_role else []
    if problem.expected_index != problem.actual_index:
        parts.append(f"expected turn {problem.expected_index + 1}")
    if problem.expected.source:
        parts.append(problem.expected.source)
    suffix = f" ({', '.join(parts)})" if parts else ""
    return f"turn {problem.actual_index + 1}{suffix}"


def render_turn_mismatch(problem: TurnMismatch, *, indent: str = "") -> list[str]:
    """One differing turn: a headline, then one block per differing field."""
    fields = problem.fields
    normalised = " after normalizing" if problem.normalised else ""
    only = fields[0] if len(fields) == 1 else None
    if only is not None and only.path == "content" and only.matcher:
        return [
            f"{indent}{_actual_label(problem)}: {describe(only.expected)} did not match "
            f"{render_value(only.actual)}"
        ]
    if only is not None and only.path == "content":
        lines = [f"{indent}{_actual_label(problem, with_role=False)}: content differs{normalised}"]
        lines.append(f"{indent}  role:     {problem.actual.role}")
        lines.extend(_field_block(only, indent=indent + "  "))
        return lines
    names = ", ".join(dict.fromkeys(f.path.split(".", 1)[0] for f in fields))
    verb = "differs" if len(fields) == 1 else "differ"
    lines = [f"{indent}{_actual_label(problem)}: {names} {verb}"]
    for mismatch in fields:
        lines.extend(_field_block(mismatch, indent=indent + "  ", labelled=True))
    return lines


def _field_block(mismatch: FieldMismatch, *, indent: str, labelled: bool = False) -> list[str]:
    label = f"{indent}{mismatch.path}: " if labelled else indent
    if mismatch.missing:
        return [f"{label}missing (expected {render_value(mismatch.expected)})"]
    if mismatch.unexpected:
        return [f"{label}unexpected key (actual {render_value(mismatch.actual)})"]
    if mismatch.matcher:
        return [
            f"{label}{describe(mismatch.expected)} did not match {render_value(mismatch.actual)}"
        ]
    nested = _nested_differences(mismatch.expected, mismatch.actual)
    if nested:
        at = f"{indent}{mismatch.path} " if labelled else indent
        return [f"{at}{line}" for line in nested]
    if _wants_text_diff(mismatch):
        block = text_difference(
            mismatch.expected, mismatch.actual, indent=indent + ("  " if labelled else "")
        )
        return [label.rstrip(), *block] if labelled else block
    return [
        f"{label}expected {render_value(mismatch.expected)}, actual {render_value(mismatch.actual)}"
    ]


_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """JSON-like data only: no matchers or other objects that compare in their own way."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    return isinstance(value, _PLAIN) and not isinstance(value, Enum)


def _nested_differences(expected: Any, actual: Any) -> list[str] | None:
    """``at ['tool']['args']['city']: 'Paris' != 'Lyon'`` for each difference inside two
    nested values (lists and dicts); ``None`` when they are not both plain containers.

    DeepDiff does the walk; it is imported only here, when such a field differs.
    """
    containers = (dict, list, tuple)
    if not (isinstance(expected, containers) and isinstance(actual, containers)):
        return None
    if not (_plain(expected) and _plain(actual)):
        return None
    from deepdiff import DeepDiff

    diff = DeepDiff(expected, actual, verbose_level=2)
    lines: list[str] = []
    for kind, changes in diff.items():
        if not isinstance(changes, dict):
            continue
        for path, change in changes.items():
            where = str(path).removeprefix("root") or "the top level"
            if kind in ("values_changed", "type_changes"):
                old, new = change.get("old_value"), change.get("new_value")
                lines.append(f"at {where}: {render_value(old)} != {render_value(new)}")
            elif kind.endswith("_added"):
                lines.append(f"at {where}: unexpected {render_value(change)}")
            elif kind.endswith("_removed"):
                lines.append(f"at {where}: missing (expected {render_value(change)})")
    return lines or None


def _wants_text_diff(mismatch: FieldMismatch) -> bool:
    """Content, and long or multi-line strings, get a caret and inline diff; short values one line."""
    want, got = mismatch.expected, mismatch.actual
    # Roles are str subclasses, but "expected user, actual assistant" says it better than a diff.
    if not all(isinstance(v, str) and not isinstance(v, Enum) for v in (want, got)):
        return False
    return mismatch.path == "content" or max(len(want), len(got)) > _SHORT or "\n" in want + got


def _render_problem(problem: Problem) -> list[str]:
    if isinstance(problem, TurnMismatch):
        return render_turn_mismatch(problem)
    if isinstance(problem, ExtraTurn):
        turn = problem.actual
        return [f"extra turn {problem.actual_index + 1} ({turn.role}): {_message_summary(turn)}"]
    return _render_missing(problem)


def _render_missing(problem: MissingTurn) -> list[str]:
    turn = problem.expected
    described = f"({_role_of(turn)}): {_expected_summary(turn)}"
    if not problem.searched:
        return [f"missing turn {problem.expected_index + 1} {described}"]
    where = (
        f"not found after actual turn {problem.after_actual + 1}"
        if problem.after_actual is not None
        else "not found anywhere in the transcript"
    )
    lines = [f"expected turn {problem.expected_index + 1} {described} {where}"]
    if problem.closest is not None:
        lines.append("  closest candidate:")
        lines.extend(render_turn_mismatch(problem.closest, indent="    "))
    else:
        lines.append("  (no actual turns left to search)")
    return lines


def _message_summary(message: Message) -> str:
    return render_value(message.content)


def render_note(note: Note) -> str:
    """A comparison's note about the whole transcript, in words (text and HTML report alike)."""
    n = note.expected
    if note.kind == "anchored_too_short":
        return (
            f"expected {_plural(n, 'turn')} at the {note.where} of the transcript, "
            f"but it has only {_plural(note.actual, 'turn')}"
        )
    if note.kind == "anchored_window":
        return (
            f"expected turns 1-{n} at the {note.where} of the transcript "
            f"(actual turns {note.start}-{note.start + n - 1})"
        )
    if note.kind == "contiguous_too_short":
        return (
            f"expected turns 1-{n} as a contiguous run, but the transcript has only "
            f"{_plural(note.actual, 'turn')}"
        )
    if note.kind == "contiguous_best":
        return (
            f"expected turns 1-{n} as a contiguous run; best match starts at actual turn "
            f"{note.start}, differs at turn {note.differs_at} ({note.matched} of {n} turns "
            "match there)"
        )
    return (
        f"expected {_plural(n, 'turn')} in this order, gaps allowed; "
        f"{note.missing} could not be found"
    )


def render_report(report: TranscriptReport, *, limit: int = MAX_PROBLEMS) -> list[str]:
    """The whole failure message, one string per line."""
    lines = [
        f"Transcript mismatch (mode={report.mode}, "
        f"{_plural(report.expected_count, 'expected turn')}, "
        f"{_plural(report.actual_count, 'actual turn')})"
    ]
    lines.extend(render_note(note) for note in report.notes)
    shown: Sequence[Problem] = report.problems[:limit]
    for problem in shown:
        lines.extend(_render_problem(problem))
    hidden = len(report.problems) - len(shown)
    if hidden > 0:
        lines.append(f"... and {_plural(hidden, 'more difference')}")
    return lines


def join(lines: Iterable[str]) -> str:
    return "\n".join(lines)
