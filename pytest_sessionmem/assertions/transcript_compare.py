"""The transcript comparison engine: expected turns in, a list of problems out.

Pure and pytest-free. :mod:`pytest_sessionmem.assertions.render` renders what this module finds;
:mod:`pytest_sessionmem.assertions` turns a non-empty result into an ``AssertionError``.

Three ideas carry the design:

* Every expected turn is reduced to an :class:`ExpectedTurn`: a mapping of the Message
  fields it *specifies*. A ``(role, content)`` pair specifies two fields, a dict the keys it
  has, a full :class:`Message` every field except the ignored ones. Unspecified fields are
  never compared, so expectations stay as small as the test's intent.
* Volatile fields (ids, timestamps, session metadata a provider stamps on every message)
  are ignored by default, per provider, through :data:`DEFAULT_IGNORE`.
* The alignment is cheap first: common prefix and suffix are matched turn by turn, and
  only a small differing middle gets an edit-distance alignment. A 10,000-turn transcript
  with one bad turn is one linear pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import Enum
from functools import lru_cache
from operator import attrgetter
from typing import Any, Final, Literal

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.matchers import is_matcher
from pytest_sessionmem.models import Message, Role, Transcript
from pytest_sessionmem.providers.registry import PROVIDERS

__all__ = [
    "COMPARED_FIELDS",
    "DEFAULT_IGNORE",
    "ContentMode",
    "ExpectedTurn",
    "ExtraTurn",
    "FieldMismatch",
    "MissingTurn",
    "Mode",
    "Note",
    "Problem",
    "TranscriptReport",
    "TurnMismatch",
    "compare_transcripts",
    "content_normaliser",
    "ignored_paths",
    "to_actual_messages",
    "to_expected_turns",
]

Mode = Literal["exact", "prefix", "suffix", "contains", "subsequence"]
MODES: Final[tuple[str, ...]] = ("exact", "prefix", "suffix", "contains", "subsequence")
ContentMode = Literal["exact", "normalized"] | Callable[[str], str]

#: Message fields that take part in comparisons (``raw`` never does), in display order.
COMPARED_FIELDS: Final[tuple[str, ...]] = (
    "role",
    "content",
    "name",
    "kind",
    "tool_id",
    "tool_name",
    "arguments",
    "result",
    "metadata",
    "id",
    "created_at",
)

#: Dotted paths left out of comparisons by default, per provider key; ``"*"`` applies to all.
#: Change it once in a ``conftest.py``, e.g. ``DEFAULT_IGNORE["zep"] += ("metadata.seq",)``.
#: A path is ignored when the expectation comes from a full Message (or Transcript); a dict
#: expectation that names a field or metadata key explicitly always compares it.
DEFAULT_IGNORE: dict[str, tuple[str, ...]] = {
    # Server-assigned on every write: never the same twice across recordings.
    "*": ("id", "created_at"),
    # Per provider: the fields its registry entry names as different on every recording.
    **{name: spec.volatile_fields for name, spec in PROVIDERS.items()},
}


def ignored_paths(provider: str | None, extra: Iterable[str] = ()) -> frozenset[str]:
    """The dotted paths to ignore for ``provider``: defaults for all, for it, plus ``extra``."""
    paths = set(DEFAULT_IGNORE.get("*", ()))
    if provider:
        paths.update(DEFAULT_IGNORE.get(provider, ()))
    for path in extra:
        if not isinstance(path, str) or not path:
            raise ConfigError(
                f"ignore= takes dotted field paths such as 'metadata.seq', got {path!r}."
            )
        head = path.split(".", 1)[0]
        if head not in COMPARED_FIELDS:
            raise ConfigError(
                f"ignore= path {path!r} does not start with a Message field; "
                f"fields are: {', '.join(COMPARED_FIELDS)}."
            )
        paths.add(path)
    return frozenset(paths)


# --------------------------------------------------------------------------- expected side


@dataclass(frozen=True)
class ExpectedTurn:
    """One expected turn: the Message fields it specifies, each a value or a matcher.

    ``strict`` (set for full Messages) compares dict fields such as ``metadata`` whole;
    otherwise a dict value only requires the keys it lists. ``source`` says where the
    turn was written (``path:line`` for transcript files) for failure messages.
    """

    fields: Mapping[str, Any]
    strict: bool = False
    source: str | None = None

    @property
    def role(self) -> Any:
        return self.fields.get("role")

    @property
    def content(self) -> Any:
        return self.fields.get("content")


def to_expected_turns(expected: object, *, ignore: frozenset[str]) -> list[ExpectedTurn]:
    """Normalise a Transcript or a list of turns into a list of :class:`ExpectedTurn`.

    A transcript file path is read by :mod:`.transcript_file`, one layer up.
    """
    if isinstance(expected, Transcript):
        items: Sequence[object] = expected.messages
    elif isinstance(expected, Sequence) and not isinstance(expected, (bytes, Mapping)):
        items = expected
    else:
        raise ConfigError(
            f"expected must be a Transcript, a list of turns or a transcript file path, "
            f"not {type(expected).__name__}."
        )
    return [_to_expected_turn(item, index, ignore) for index, item in enumerate(items, 1)]


_SETTABLE_FIELDS: Final[frozenset[str]] = frozenset(COMPARED_FIELDS)


def _to_expected_turn(item: object, number: int, ignore: frozenset[str]) -> ExpectedTurn:
    if isinstance(item, ExpectedTurn):
        return item
    if isinstance(item, Message):
        return _from_message(item, ignore)
    if isinstance(item, Mapping):
        unknown = sorted(str(key) for key in item if key not in _SETTABLE_FIELDS)
        if unknown:
            raise ConfigError(
                f"expected turn {number}: unknown field(s) {', '.join(map(repr, unknown))}; "
                f"a turn may specify {', '.join(COMPARED_FIELDS)}."
            )
        fields = dict(item)
        if "role" in fields:
            fields["role"] = _expected_role(fields["role"], number)
        return ExpectedTurn(fields)
    if isinstance(item, (tuple, list)) and len(item) == 2:
        role, content = item
        return ExpectedTurn({"role": _expected_role(role, number), "content": content})
    raise ConfigError(
        f"expected turn {number} is a {type(item).__name__}; give a Message, a dict of Message "
        f"fields, or a (role, content) pair."
    )


def _from_message(message: Message, ignore: frozenset[str]) -> ExpectedTurn:
    names, read, stripped = _message_reader(ignore)
    fields = dict(zip(names, read(message), strict=True))
    for name, paths in stripped:
        value = fields[name]
        if isinstance(value, dict):
            fields[name] = _strip(value, paths)
    return ExpectedTurn(fields, strict=True)


@lru_cache(maxsize=256)
def _message_reader(
    ignore: frozenset[str],
) -> tuple[tuple[str, ...], Callable[[Message], tuple[Any, ...]], tuple[tuple[str, Any], ...]]:
    """The compared fields under ``ignore``, one getter for all of them, and the dict fields
    with ignored sub-paths: worked out once, not for each of 100,000 messages."""
    names = tuple(name for name in COMPARED_FIELDS if name not in ignore)
    read: Callable[[Message], tuple[Any, ...]]
    if len(names) > 1:
        read = attrgetter(*names)  # a tuple of every value, read in C
    else:
        read = lambda message: tuple(getattr(message, name) for name in names)  # noqa: E731
    stripped = tuple((name, paths) for name in names if (paths := _sub_paths(ignore, name)))
    return names, read, stripped


def _expected_role(value: object, number: int) -> Any:
    if isinstance(value, Role) or is_matcher(value):
        return value
    if isinstance(value, str):
        role = Role.parse(value)
        if role is Role.NOROLE and value.strip().lower() != Role.NOROLE.value:
            raise ConfigError(
                f"expected turn {number}: unknown role {value!r}; roles are "
                f"{', '.join(r.value for r in Role)}. To match a speaker's name, use name=..."
            )
        return role
    raise ConfigError(
        f"expected turn {number}: role must be a string, a Role or a matcher, not {value!r}."
    )


def to_actual_messages(actual: object) -> tuple[Sequence[Message], str | None]:
    """The actual messages and the provider they came from (``None`` when unknown)."""
    if isinstance(actual, Transcript):
        return actual.messages, actual.provider
    if isinstance(actual, Sequence) and all(isinstance(m, Message) for m in actual):
        return actual, None
    raise ConfigError(
        f"actual must be a Transcript or a list of Message, not {type(actual).__name__}; "
        f"fetch one with client.get_messages(session_id)."
    )


# --------------------------------------------------------------------------- content modes


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def content_normaliser(content: ContentMode) -> Callable[[str], str] | None:
    """The function applied to both sides' content before comparing (``None``: as is)."""
    if content == "exact":
        return None
    if content == "normalized":
        return _normalised
    if callable(content):
        return content
    raise ConfigError(f"content= must be 'exact', 'normalized' or a callable, not {content!r}.")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class FieldMismatch:
    """One field of one turn that did not match. ``path`` is dotted (``metadata.seq``)."""

    path: str
    expected: Any
    actual: Any
    matcher: bool = False
    missing: bool = False  # the actual dict has no such key
    unexpected: bool = False  # the actual dict has a key the expected one lacks


@dataclass(frozen=True)
class TurnMismatch:
    expected_index: int
    actual_index: int
    expected: ExpectedTurn
    actual: Message
    fields: tuple[FieldMismatch, ...]
    normalised: bool = False


@dataclass(frozen=True)
class ExtraTurn:
    actual_index: int
    actual: Message


@dataclass(frozen=True)
class MissingTurn:
    expected_index: int
    expected: ExpectedTurn
    searched: bool = False  # subsequence: looked for anywhere after ``after_actual``
    after_actual: int | None = None
    closest: TurnMismatch | None = None


Problem = TurnMismatch | ExtraTurn | MissingTurn


NoteKind = Literal[
    "anchored_too_short", "anchored_window", "contiguous_too_short", "contiguous_best",
    "subsequence_missing",
]  # fmt: skip


@dataclass(frozen=True)
class Note:
    """What a mode found about the whole transcript, as data; ``render`` puts it in words.

    ``expected`` and ``actual`` are turn counts; ``where`` is ``"start"`` or ``"end"`` (prefix
    and suffix); ``start`` the 1-based actual turn a window begins at; ``differs_at`` the
    first actual turn that differs there; ``matched`` how many expected turns match there;
    ``missing`` how many expected turns were not found.
    """

    kind: NoteKind
    expected: int
    actual: int = 0
    where: str = ""
    start: int = 0
    differs_at: int = 0
    matched: int = 0
    missing: int = 0


@dataclass
class TranscriptReport:
    """Everything a failure message needs; ``problems`` empty means the transcripts match."""

    mode: str
    expected_count: int
    actual_count: int
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.notes


# --------------------------------------------------------------------------- one turn


class _TurnComparer:
    """Compares an expected turn with an actual message under one ignore set and content mode."""

    def __init__(self, ignore: frozenset[str], normaliser: Callable[[str], str] | None) -> None:
        self.normaliser = normaliser
        self._sub_ignore = {name: _sub_paths(ignore, name) for name in COMPARED_FIELDS}
        # The fields a full Message expects, and one reader of them all, as _from_message has.
        self._whole_names, whole, _ = _message_reader(ignore)
        self._whole: Callable[[Message], tuple[Any, ...]] | None = whole

    def matches(self, expected: ExpectedTurn, actual: Message) -> bool:
        return not self.mismatches(expected, actual)

    def _same_whole(self, expected: ExpectedTurn, actual: Message) -> bool:
        """A full Message expected, equal in every field: one C-level tuple comparison.

        Comparing two long transcripts is mostly this case. Any difference (or a value whose
        ``==`` raises) goes through the field-by-field walk, which has the last word; like
        the walk's dict comparison, the tuple takes an object as equal to itself.
        """
        if self._whole is None or self.normaliser is not None or not expected.strict:
            return False
        fields = expected.fields
        if tuple(fields) != self._whole_names:
            return False
        try:
            return bool(tuple(fields.values()) == self._whole(actual))
        except Exception:
            return False

    def mismatches(self, expected: ExpectedTurn, actual: Message) -> list[FieldMismatch]:
        if self._same_whole(expected, actual):
            return []
        found: list[FieldMismatch] = []
        for name, want in expected.fields.items():
            got = getattr(actual, name)
            if name == "content" and self.normaliser is not None and isinstance(want, str):
                if not isinstance(got, str) or self.normaliser(want) != self.normaliser(got):
                    found.append(FieldMismatch(name, want, got))
                continue
            if isinstance(want, dict) and isinstance(got, dict):
                if want != got:  # cheap check first; the walk below only runs on failure
                    strip = self._sub_ignore[name]
                    if strip:
                        got = _strip(got, [p for p in strip if not _holds_path(want, p)])
                    found.extend(_dict_mismatches(name, want, got, strict=expected.strict))
                continue
            if not _equal(want, got):
                found.append(FieldMismatch(name, want, got, matcher=is_matcher(want)))
        return found

    # Keys for the diff that cuts a large differing middle (see ``_keyed_blocks``). Equal
    # keys mean "very likely a match"; the comparer above still has the last word.

    def expected_key(self, turn: ExpectedTurn, names: tuple[str, ...]) -> Hashable:
        """A hashable stand-in for ``turn``; a unique one when no key can be faithful."""
        if tuple(turn.fields) != names:
            return object()
        parts: list[Hashable] = []
        try:
            for name, want in turn.fields.items():
                if isinstance(want, dict) and not turn.strict:
                    return object()  # a subset dict matches many values
                if name == "content" and self.normaliser is not None and isinstance(want, str):
                    want = self.normaliser(want)
                parts.append(_value_key(want))
        except _Unkeyable:
            return object()  # a matcher decides for itself
        return tuple(parts)

    def actual_key(self, message: Message, names: tuple[str, ...]) -> Hashable:
        """The key of ``message`` over the fields ``names``, ignored sub-paths left out."""
        parts: list[Hashable] = []
        for name in names:
            got = getattr(message, name, None)
            if name == "content" and self.normaliser is not None and isinstance(got, str):
                got = self.normaliser(got)
            elif isinstance(got, dict) and self._sub_ignore.get(name):
                got = _strip(got, self._sub_ignore[name])
            try:
                parts.append(_value_key(got))
            except _Unkeyable:
                parts.append(object())
        return tuple(parts)


class _Unkeyable(Exception):
    """Internal: a value holds a matcher, so no key can stand for it."""


def _value_key(value: Any) -> Hashable:
    """An order-free hashable form of a JSON-like value; :class:`_Unkeyable` for a matcher."""
    if value is None or isinstance(value, (str, int, float, Enum)):
        return value
    if isinstance(value, dict):
        return ("dict", frozenset((key, _value_key(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_value_key(item) for item in value))
    if is_matcher(value):
        raise _Unkeyable
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return value  # type: ignore[no-any-return]


def _equal(want: Any, got: Any) -> bool:
    try:
        return bool(want == got)
    except Exception:  # a matcher that cannot handle this value simply does not match
        return False


def _dict_mismatches(
    path: str, want: Mapping[str, Any], got: Mapping[str, Any], *, strict: bool
) -> list[FieldMismatch]:
    found: list[FieldMismatch] = []
    for key, value in want.items():
        sub = f"{path}.{key}"
        if key not in got:
            found.append(FieldMismatch(sub, value, None, missing=True))
        elif isinstance(value, dict) and isinstance(got[key], dict):
            found.extend(_dict_mismatches(sub, value, got[key], strict=strict))
        elif not _equal(value, got[key]):
            found.append(FieldMismatch(sub, value, got[key], matcher=is_matcher(value)))
    if strict:
        found.extend(
            FieldMismatch(f"{path}.{key}", None, got[key], unexpected=True)
            for key in got
            if key not in want
        )
    return found


def _holds_path(value: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Does ``value`` spell out ``path`` itself? Then an ignored path was asked for by name."""
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return False
        value = value[key]
    return True


@lru_cache(maxsize=256)
def _sub_paths(ignore: frozenset[str], field_name: str) -> tuple[tuple[str, ...], ...]:
    # Cached: building the expectation of a 100,000-message transcript asks 100,000 times.
    prefix = field_name + "."
    return tuple(sorted(tuple(p[len(prefix) :].split(".")) for p in ignore if p.startswith(prefix)))


def _strip(value: dict[str, Any], paths: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """A copy of ``value`` without the given key paths; ``value`` itself when none is present."""
    if not paths:
        return value
    result = value
    for path in paths:
        head, rest = path[0], path[1:]
        if head not in result:
            continue
        if result is value:
            result = dict(value)
        if not rest:
            del result[head]
        elif isinstance(result[head], dict):
            result[head] = _strip(result[head], [rest])
    return result


# --------------------------------------------------------------------------- alignment

# Above this many (expected x actual) cells the edit-distance alignment of a differing middle
# would be slow; the comparison then falls back to pairing turns by position.
_ALIGNMENT_CELL_LIMIT: Final = 40_000
# The contains mode scores every window only while that stays this cheap.
_WINDOW_SCORING_LIMIT: Final = 200_000
# How many candidates a missing subsequence turn is compared with to find its closest one.
_CLOSEST_CANDIDATE_LIMIT: Final = 2_000


def compare_transcripts(
    actual: Sequence[Message],
    expected: Sequence[ExpectedTurn],
    *,
    mode: str = "exact",
    ignore: frozenset[str] = frozenset(),
    content: ContentMode = "exact",
) -> TranscriptReport:
    """Compare ``actual`` with ``expected`` under ``mode``; the report lists every problem."""
    if mode not in MODES:
        raise ConfigError(f"mode={mode!r} is not a transcript mode; use one of {', '.join(MODES)}.")
    report = TranscriptReport(mode, len(expected), len(actual))
    comparison = _Comparison(_TurnComparer(ignore, content_normaliser(content)), actual, expected)
    if mode == "exact":
        comparison.exact(report)
    elif mode == "prefix":
        comparison.anchored(report, start=0)
    elif mode == "suffix":
        comparison.anchored(report, start=len(actual) - len(expected))
    elif mode == "contains":
        comparison.contains(report)
    else:
        comparison.subsequence(report)
    return report


class _Comparison:
    """One comparison's two sides: each mode, and each step of the alignment, works on them.

    ``e`` indexes the expected turns, ``a`` the actual messages; ``rows`` and ``cols`` are
    the ranges of actual and expected indices a step looks at.
    """

    def __init__(
        self, comparer: _TurnComparer, act: Sequence[Message], exp: Sequence[ExpectedTurn]
    ) -> None:
        self.comparer = comparer
        self.act = act
        self.exp = exp

    def turn_mismatch(self, e: int, a: int, fields: Sequence[FieldMismatch]) -> TurnMismatch:
        normalised = self.comparer.normaliser is not None
        return TurnMismatch(e, a, self.exp[e], self.act[a], tuple(fields), normalised)

    def mismatch(self, e: int, a: int) -> TurnMismatch | None:
        fields = self.comparer.mismatches(self.exp[e], self.act[a])
        return self.turn_mismatch(e, a, fields) if fields else None

    # -- the modes

    def exact(self, report: TranscriptReport) -> None:
        exp, act, matches = self.exp, self.act, self.comparer.matches
        n_exp, n_act = len(exp), len(act)
        shortest = min(n_exp, n_act)
        head = 0
        while head < shortest and matches(exp[head], act[head]):
            head += 1
        if head == n_exp == n_act:
            return
        tail = 0
        while tail < shortest - head and matches(exp[n_exp - 1 - tail], act[n_act - 1 - tail]):
            tail += 1
        report.problems.extend(self.align(range(head, n_act - tail), range(head, n_exp - tail)))

    def anchored(self, report: TranscriptReport, *, start: int) -> None:
        """prefix (start 0) and suffix (start len(actual) - len(expected)): pair by position."""
        problems = self.anchored_problems(start)
        if not problems:
            return
        n_exp, n_act = len(self.exp), len(self.act)
        where = "start" if report.mode == "prefix" else "end"
        if n_act < n_exp:
            report.notes.append(Note("anchored_too_short", n_exp, n_act, where=where))
        else:
            report.notes.append(Note("anchored_window", n_exp, n_act, where=where, start=start + 1))
        report.problems.extend(problems)

    def contains(self, report: TranscriptReport) -> None:
        exp, act, matches = self.exp, self.act, self.comparer.matches
        n_exp, n_act = len(exp), len(act)
        if n_exp == 0:
            return
        if n_act < n_exp:
            report.notes.append(Note("contiguous_too_short", n_exp, n_act))
            report.problems.extend(self.anchored_problems(0))
            return
        best_start, best_score = 0, -1
        score_all = n_exp * (n_act - n_exp + 1) <= _WINDOW_SCORING_LIMIT
        for start in range(n_act - n_exp + 1):
            run = 0
            while run < n_exp and matches(exp[run], act[start + run]):
                run += 1
            if run == n_exp:
                return
            score = run
            if score_all:  # count every matching turn of the window, not only the leading run
                score = run + sum(matches(exp[e], act[start + e]) for e in range(run + 1, n_exp))
            if score > best_score:
                best_start, best_score = start, score
        window = [p for e in range(n_exp) if (p := self.mismatch(e, best_start + e)) is not None]
        first_bad = window[0].actual_index + 1
        report.notes.append(
            Note(
                "contiguous_best",
                n_exp,
                n_act,
                start=best_start + 1,
                differs_at=first_bad,
                matched=best_score,
            )
        )
        report.problems.extend(window)

    def subsequence(self, report: TranscriptReport) -> None:
        """Greedy earliest match, which finds a subsequence whenever one exists."""
        act, matches = self.act, self.comparer.matches
        position = 0  # next actual index to search from
        last_found: int | None = None
        for e, turn in enumerate(self.exp):
            found = next((a for a in range(position, len(act)) if matches(turn, act[a])), None)
            if found is None:
                closest = self.closest(e, range(position, len(act)))
                report.problems.append(
                    MissingTurn(e, turn, searched=True, after_actual=last_found, closest=closest)
                )
                continue  # later expected turns are still searched from the same place
            last_found, position = found, found + 1
        if report.problems:
            report.notes.append(
                Note(
                    "subsequence_missing",
                    len(self.exp),
                    len(self.act),
                    missing=len(report.problems),
                )
            )

    # -- the steps

    def anchored_problems(self, start: int) -> list[Problem]:
        """Expected turn ``e`` against actual turn ``start + e``; out of range means missing."""
        problems: list[Problem] = []
        for e in range(len(self.exp)):
            a = start + e
            if 0 <= a < len(self.act):
                problem = self.mismatch(e, a)
                if problem:
                    problems.append(problem)
            else:
                problems.append(MissingTurn(e, self.exp[e]))
        return problems

    def align(self, rows: range, cols: range) -> list[Problem]:
        """The problems of a differing middle: an edit alignment, split first when it is large.

        A middle up to :data:`_ALIGNMENT_CELL_LIMIT` cells gets the edit-distance alignment
        directly. A larger one is first cut by :meth:`keyed_blocks` (a linear-ish diff of
        per-turn keys) into runs of equal turns and small differing blocks; each block is then
        aligned the same way, and every pair of an equal run is still checked by the comparer.
        """
        if len(rows) * len(cols) <= _ALIGNMENT_CELL_LIMIT:
            return self.edit_alignment(rows, cols)
        problems: list[Problem] = []
        for tag, e1, e2, a1, a2 in self.keyed_blocks(rows, cols):
            if tag == "equal":
                problems.extend(self.positional(range(a1, a2), range(e1, e2)))
            elif (e2 - e1) * (a2 - a1) <= _ALIGNMENT_CELL_LIMIT:
                problems.extend(self.edit_alignment(range(a1, a2), range(e1, e2)))
            else:  # one huge block with no common turn at all: pair by position
                problems.extend(self.positional(range(a1, a2), range(e1, e2)))
        return problems

    def positional(self, rows: range, cols: range) -> list[Problem]:
        problems: list[Problem] = []
        for e, a in zip(cols, rows, strict=False):
            problem = self.mismatch(e, a)
            if problem:
                problems.append(problem)
        problems.extend(MissingTurn(e, self.exp[e]) for e in cols[len(rows) :])
        problems.extend(ExtraTurn(a, self.act[a]) for a in rows[len(cols) :])
        return problems

    def keyed_blocks(self, rows: range, cols: range) -> list[tuple[str, int, int, int, int]]:
        """``(tag, e1, e2, a1, a2)`` blocks of the middle, from a diff of hashed per-turn keys.

        Two turns with equal keys are (nearly always) a match; a turn whose expectation holds
        a matcher, or a subset dict, gets a key of its own, so it lands in a differing block
        and the edit alignment decides with the real comparer.
        """
        names = tuple(self.exp[cols[0]].fields) if cols else ()
        exp_keys = [self.comparer.expected_key(self.exp[e], names) for e in cols]
        act_keys = [self.comparer.actual_key(self.act[a], names) for a in rows]
        counts: dict[Hashable, int] = {}
        for key in act_keys:
            counts[key] = counts.get(key, 0) + 1
        pairs = sum(counts.get(key, 0) for key in exp_keys)
        matcher = SequenceMatcher(None, exp_keys, act_keys, autojunk=pairs > _KEY_PAIR_LIMIT)
        e0, a0 = cols.start, rows.start
        return [
            (tag, e0 + e1, e0 + e2, a0 + a1, a0 + a2)
            for tag, e1, e2, a1, a2 in matcher.get_opcodes()
        ]

    def edit_alignment(self, rows: range, cols: range) -> list[Problem]:
        """Levenshtein over turns: a differing turn costs 1, as does a missing or extra one.

        Substituting a turn of another role costs 1.5, so a turn that changed role is more
        often explained as one missing plus one extra turn.
        """
        r, c = len(rows), len(cols)
        mismatch_cache: dict[tuple[int, int], list[FieldMismatch]] = {}

        def cost(i: int, j: int) -> float:
            fields = self.comparer.mismatches(self.exp[cols[j]], self.act[rows[i]])
            mismatch_cache[(i, j)] = fields
            return _cost(fields)

        dist = [[0.0] * (c + 1) for _ in range(r + 1)]
        for i in range(1, r + 1):
            dist[i][0] = float(i)
        for j in range(1, c + 1):
            dist[0][j] = float(j)
        for i in range(1, r + 1):
            for j in range(1, c + 1):
                dist[i][j] = min(
                    dist[i - 1][j - 1] + cost(i - 1, j - 1),
                    dist[i - 1][j] + 1.0,
                    dist[i][j - 1] + 1.0,
                )
        problems: list[Problem] = []
        i, j = r, c
        while i or j:
            if i and j and dist[i][j] == dist[i - 1][j - 1] + _cost(mismatch_cache[(i - 1, j - 1)]):
                fields = mismatch_cache[(i - 1, j - 1)]
                if fields:
                    problems.append(self.turn_mismatch(cols[j - 1], rows[i - 1], fields))
                i, j = i - 1, j - 1
            elif i and dist[i][j] == dist[i - 1][j] + 1.0:
                problems.append(ExtraTurn(rows[i - 1], self.act[rows[i - 1]]))
                i -= 1
            else:
                problems.append(MissingTurn(cols[j - 1], self.exp[cols[j - 1]]))
                j -= 1
        problems.reverse()
        return problems

    def closest(self, e: int, candidates: range) -> TurnMismatch | None:
        """The candidate turn with fewest differing fields, then the most similar content."""
        best: tuple[int, float, int, list[FieldMismatch]] | None = None
        want = self.exp[e].content
        for a in candidates[:_CLOSEST_CANDIDATE_LIMIT]:
            fields = self.comparer.mismatches(self.exp[e], self.act[a])
            similarity = _similarity(want, self.act[a].content) if isinstance(want, str) else 0.0
            key = (len(fields), -similarity, a)
            if best is None or key < (best[0], -best[1], best[2]):
                best = (len(fields), similarity, a, fields)
        if best is None:
            return None
        return self.turn_mismatch(e, best[2], best[3])


# A diff of keys compares every turn with every other turn that has the same key; past this
# many such pairs (a transcript of one turn repeated thousands of times) frequent keys are
# left out of the search for matching runs, as difflib's own ``autojunk`` does.
_KEY_PAIR_LIMIT: Final = 2_000_000


def _cost(fields: Sequence[FieldMismatch]) -> float:
    """What pairing two turns costs in the edit alignment (see :meth:`_Comparison.edit_alignment`)."""
    if not fields:
        return 0.0
    return 1.5 if any(f.path == "role" for f in fields) else 1.0


_WORD: Final = re.compile(r"\w+")


def _similarity(left: str, right: str) -> float:
    """Share of words in common (Jaccard): cheap enough to run on thousands of turns."""
    a, b = set(_WORD.findall(left.casefold())), set(_WORD.findall(right.casefold()))
    if not a and not b:
        return 1.0 if left == right else 0.0
    return len(a & b) / len(a | b)
