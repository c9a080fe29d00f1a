"""Checks on a Zep :class:`Memory`: which facts it holds, what its context and summary say.

Pure: returns the lines of a failure message (empty when everything holds);
:func:`pytest_sessionmem.assertions.assert_memory` raises with them.

``min_rating`` filters, as Zep's ``minRating`` query parameter does: only facts rated at
least that high count, and unrated facts do not. A fact that would have matched but was
filtered out is named in the message with its rating, so the cause is plain.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any, Final, TypedDict

from pytest_sessionmem.assertions.render import escape, quote, render_value
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.matchers import describe, is_matcher
from pytest_sessionmem.models import Fact, Memory

__all__ = ["MemoryExpectation", "check_memory"]

# How much text to show around the place a missing phrase was looked for.
_EXCERPT_RADIUS: Final = 60
_CLOSEST_SHOWN: Final = 3


class MemoryExpectation(TypedDict, total=False):
    """What one ``assert_memory`` call asks of a memory; ``None`` or no key: not asked."""

    facts: Sequence[Any] | None
    facts_include: Sequence[Any] | None
    context_contains: Any
    summary_contains: Any


def check_memory(
    memory: Memory, expected: MemoryExpectation, *, min_rating: float | None = None
) -> list[str]:
    """Every problem with ``memory``, as message lines; an empty list when it passes."""
    if not isinstance(memory, Memory):
        raise ConfigError(
            f"assert_memory() takes a Memory (from client.get_memory(session_id)), "
            f"not {type(memory).__name__}."
        )
    problems: list[str] = []
    considered, filtered_out = _rated_facts(memory.facts, min_rating)
    facts, facts_include = expected.get("facts"), expected.get("facts_include")
    context_contains = expected.get("context_contains")
    summary_contains = expected.get("summary_contains")
    if facts is not None:
        problems.extend(
            _check_facts(_as_list(facts, "facts"), considered, filtered_out, exact=True)
        )
    if facts_include is not None:
        problems.extend(
            _check_facts(
                _as_list(facts_include, "facts_include"), considered, filtered_out, exact=False
            )
        )
    if context_contains is not None:
        problems.extend(
            _check_text("context", memory.context, _as_list(context_contains, "context_contains"))
        )
    if summary_contains is not None:
        problems.extend(
            _check_text("summary", memory.summary, _as_list(summary_contains, "summary_contains"))
        )
    return problems


def _as_list(value: Any, argument: str) -> list[Any]:
    if isinstance(value, str) or is_matcher(value):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    raise ConfigError(f"{argument}= takes a string, a matcher or a list of them, not {value!r}.")


def _rated_facts(facts: Sequence[Fact], min_rating: float | None) -> tuple[list[Fact], list[Fact]]:
    if min_rating is None:
        return list(facts), []
    kept = [f for f in facts if f.rating is not None and f.rating >= min_rating]
    dropped = [f for f in facts if not (f.rating is not None and f.rating >= min_rating)]
    return kept, dropped


# --------------------------------------------------------------------------- facts


def _check_facts(
    expected: list[Any], actual: list[Fact], filtered_out: list[Fact], *, exact: bool
) -> list[str]:
    pairing = _pair(expected, [f.content for f in actual])
    missing = [e for e in range(len(expected)) if e not in pairing]
    used = set(pairing.values())
    unexpected = [f for i, f in enumerate(actual) if i not in used] if exact else []
    if not missing and not unexpected:
        return []
    argument = "facts" if exact else "facts_include"
    wanted = "exactly" if exact else "at least"
    lines = [
        f"{argument}: {len(missing)} missing"
        + (f", {len(unexpected)} unexpected" if exact else "")
        + f" (expected {wanted} {len(expected)} facts, memory has {len(actual)}"
        + (f" rated high enough, {len(filtered_out)} below min_rating" if filtered_out else "")
        + ")"
    ]
    for e in missing:
        lines.append(f"  missing fact: {render_value(expected[e], limit=120)}")
        lines.extend(_explain_missing(expected[e], actual, filtered_out))
    for fact in unexpected:
        lines.append(f"  unexpected fact: {render_value(fact.content, limit=120)}{_rating(fact)}")
    return lines


def _pair(expected: list[Any], contents: list[str]) -> dict[int, int]:
    """Expected index -> fact index, as many as possible (bipartite matching, Kuhn's algorithm).

    Greedy pairing would fail ``[Contains('Paris'), 'Alice lives in Paris']`` against facts
    ``['Alice lives in Paris', 'Bob visited Paris']`` if the matcher took the first fact.
    """
    edges = [[j for j, c in enumerate(contents) if _fits(want, c)] for want in expected]
    owner: dict[int, int] = {}  # fact index -> expected index

    def claim(e: int, seen: set[int]) -> bool:
        for j in edges[e]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or claim(owner[j], seen):
                owner[j] = e
                return True
        return False

    for e in range(len(expected)):
        claim(e, set())
    return {e: j for j, e in owner.items()}


def _fits(want: Any, content: str) -> bool:
    try:
        return bool(want == content)
    except Exception:  # a matcher that cannot handle a string does not match it
        return False


def _explain_missing(want: Any, actual: list[Fact], filtered_out: list[Fact]) -> list[str]:
    lines = [
        f"    present but rated {fact.rating} (below min_rating): "
        f"{render_value(fact.content, limit=100)}"
        for fact in filtered_out
        if _fits(want, fact.content)
    ]
    if lines or not isinstance(want, str) or not actual:
        return lines
    ranked = sorted(
        ((SequenceMatcher(None, want.casefold(), f.content.casefold()).ratio(), f) for f in actual),
        key=lambda pair: -pair[0],
    )[:_CLOSEST_SHOWN]
    shown = ", ".join(f"{render_value(f.content, limit=80)} ({score:.2f})" for score, f in ranked)
    return [f"    closest: {shown}"]


def _rating(fact: Fact) -> str:
    return f" (rating {fact.rating})" if fact.rating is not None else ""


# --------------------------------------------------------------------------- context / summary


def _check_text(what: str, text: str | None, wanted: list[Any]) -> list[str]:
    if text is None:
        return [
            f"{what}: memory has no {what}, expected it to contain "
            + ", ".join(map(render_value, wanted))
        ]
    lines: list[str] = []
    for want in wanted:
        if isinstance(want, str):
            if want in text:
                continue
            lines.append(f"{what} does not contain {quote(want)}")
            lines.append(f"  {_excerpt(text, want)}")
        elif not _fits(want, text):
            lines.append(f"{what}: {describe(want)} did not match")
            lines.append(f"  {_excerpt(text, None)}")
    return lines


def _excerpt(text: str, wanted: str | None) -> str:
    """The part of ``text`` where ``wanted`` came closest, or its start."""
    position, why = 0, "start"
    if wanted is not None:
        folded = text.casefold().find(wanted.casefold())
        if folded >= 0:
            position, why = folded, "same text in another case"
        else:
            word = max(wanted.split(), key=len, default="")
            found = text.casefold().find(word.casefold()) if word else -1
            if found >= 0:
                position, why = found, f"nearest word {quote(word)}"
    if len(text) <= 2 * _EXCERPT_RADIUS:
        return f"{len(text)} chars: {quote(text)}"
    start = max(0, position - _EXCERPT_RADIUS)
    end = min(len(text), position + _EXCERPT_RADIUS)
    body = ("…" if start else "") + escape(text[start:end]) + ("…" if end < len(text) else "")
    return f"{len(text)} chars, around char {position + 1} ({why}): '{body}'"
