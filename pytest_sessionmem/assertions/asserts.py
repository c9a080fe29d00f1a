"""Assertion helpers: thin wrappers that raise ``AssertionError`` with a review-style message.

The comparing happens in :mod:`.transcript_compare` and :mod:`.memory_compare`, the
wording in :mod:`.render`.
Each helper sets ``__tracebackhide__`` so pytest shows the test's line, not ours; pytest
itself is not imported (the variable alone is what pytest looks for).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from pytest_sessionmem.assertions import review
from pytest_sessionmem.assertions.memory_compare import MemoryExpectation, check_memory
from pytest_sessionmem.assertions.render import render_report
from pytest_sessionmem.assertions.transcript_compare import (
    ContentMode,
    compare_transcripts,
    ignored_paths,
    to_actual_messages,
    to_expected_turns,
)
from pytest_sessionmem.assertions.transcript_file import read_expected
from pytest_sessionmem.models import Memory, Message, Transcript
from pytest_sessionmem.support.gc_freeze import old_objects_frozen

__all__ = ["assert_memory", "assert_transcript", "explain_transcript_equality"]


def assert_transcript(
    actual: Transcript | Sequence[Message],
    expected: object,
    *,
    mode: str = "exact",
    ignore: Iterable[str] = (),
    content: ContentMode = "exact",
    provider: str | None = None,
) -> None:
    """Fail with a turn-by-turn review unless ``actual`` matches ``expected`` under ``mode``.

    ``expected`` is a Transcript, a transcript file path or its text, or a list whose items are
    Messages, dicts of Message fields, ``(role, content)`` pairs or file turns; only the
    fields an item specifies are compared. ``mode`` is ``exact``, ``prefix``, ``suffix``,
    ``contains`` (one contiguous run) or ``subsequence`` (in order, gaps allowed).
    ``ignore`` adds dotted paths to the provider's default ignore list; ``content`` is
    ``"exact"``, ``"normalized"`` (whitespace collapsed, case folded) or a callable.
    """
    __tracebackhide__ = True
    # Comparing long transcripts builds a key per turn: objects that all stay alive.
    with old_objects_frozen():
        messages, actual_provider = to_actual_messages(actual)
        skipped = ignored_paths(provider or actual_provider, ignore)
        if isinstance(expected, (str, os.PathLike)):
            turns = read_expected(expected)
        else:
            turns = to_expected_turns(expected, ignore=skipped)
        report = compare_transcripts(messages, turns, mode=mode, ignore=skipped, content=content)
        lines = render_report(report) if not report.ok else []
        if review.observing():
            review.notify(review.transcript_review(report, messages, turns, message=lines))
    if not report.ok:
        raise AssertionError("\n".join(lines))


def assert_memory(
    memory: Memory,
    *,
    facts: Sequence[Any] | None = None,
    facts_include: Sequence[Any] | None = None,
    context_contains: Any = None,
    summary_contains: Any = None,
    min_rating: float | None = None,
) -> None:
    """Fail unless a Zep memory holds the given facts, context and summary text.

    ``facts``: exactly these fact contents, in any order (strings or matchers);
    ``facts_include``: at least these; ``context_contains`` / ``summary_contains``: a
    string (substring), a matcher, or a list of them. ``min_rating`` keeps only facts
    rated at least that high (unrated facts drop out), as Zep's ``minRating`` does.
    """
    __tracebackhide__ = True
    asked: MemoryExpectation = {
        "facts": facts,
        "facts_include": facts_include,
        "context_contains": context_contains,
        "summary_contains": summary_contains,
    }
    problems = check_memory(memory, asked, min_rating=min_rating)
    if review.observing():
        review.notify(review.memory_review(memory, problems, min_rating=min_rating, expected=asked))
    if problems:
        raise AssertionError("\n".join(["Memory mismatch", *problems]))


def explain_transcript_equality(left: object, right: object) -> list[str] | None:
    """Lines for ``pytest_assertrepr_compare`` when ``==`` between transcripts failed.

    ``None`` (at once) unless one side is a Transcript and the other a Transcript, list
    or tuple. ``==`` compares every field but ``raw``, so nothing is ignored here.
    """
    if isinstance(left, Transcript):
        actual, expected = left, right
    elif isinstance(right, Transcript):
        actual, expected = right, left
    else:
        return None
    if not isinstance(expected, (Transcript, list, tuple)):
        return None
    try:
        turns = to_expected_turns(expected, ignore=frozenset())
    except ValueError:  # ConfigError: a list of something else; pytest's own repr is all we have
        return None
    report = compare_transcripts(actual.messages, turns, mode="exact")
    lines = render_report(report)
    if report.ok:
        lines.append(
            "every specified field matches; == compares whole Messages, so use "
            "assert_transcript() to compare dicts, pairs or matchers"
        )
    return lines
