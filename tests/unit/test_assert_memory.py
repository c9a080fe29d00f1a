"""assert_memory: facts (exact / include / matchers / min_rating), context and summary."""

from __future__ import annotations

import pytest

from pytest_sessionmem.assertions import assert_memory
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.matchers import Contains, Regex
from pytest_sessionmem.models import Fact, Memory

MEMORY = Memory(
    context="FACTS: Alice lives in Berlin. Alice likes hiking. "
    + "Filler text. " * 20
    + "Prefers window seats.",
    facts=(
        Fact(id="f1", content="Alice lives in Berlin", rating=0.9),
        Fact(id="f2", content="Alice likes hiking", rating=0.4),
        Fact(id="f3", content="Alice prefers window seats"),
    ),
    summary="Alice asked about her flight.",
)


def failure(**kwargs: object) -> list[str]:
    with pytest.raises(AssertionError) as info:
        assert_memory(MEMORY, **kwargs)  # type: ignore[arg-type]
    lines = str(info.value).splitlines()
    assert lines[0] == "Memory mismatch"
    return lines[1:]


def test_passing_checks_return_none() -> None:
    assert (
        assert_memory(
            MEMORY,
            facts=["Alice likes hiking", Contains("window"), Regex("^Alice lives")],
            facts_include=["Alice lives in Berlin"],
            context_contains=["Alice likes hiking", Contains("window seats")],
            summary_contains="flight",
        )
        is None
    )


def test_exact_facts_list_missing_and_unexpected_with_closest_candidates() -> None:
    lines = failure(facts=["Alice lives in Paris", "Alice likes hiking"])
    assert lines[0] == "facts: 1 missing, 2 unexpected (expected exactly 2 facts, memory has 3)"
    assert lines[1] == "  missing fact: 'Alice lives in Paris'"
    assert lines[2].startswith("    closest: 'Alice lives in Berlin' (0.")
    assert "  unexpected fact: 'Alice lives in Berlin' (rating 0.9)" in lines
    assert "  unexpected fact: 'Alice prefers window seats'" in lines


def test_facts_include_ignores_extra_facts() -> None:
    assert_memory(MEMORY, facts_include=["Alice likes hiking"])
    lines = failure(facts_include=["Bob lives in Rome"])
    assert lines[0] == "facts_include: 1 missing (expected at least 1 facts, memory has 3)"


def test_matchers_and_strings_are_paired_without_stealing() -> None:
    # Contains('Alice') could take any fact; the pairing still finds a home for every string.
    assert_memory(
        MEMORY,
        facts=[Contains("Alice"), "Alice lives in Berlin", "Alice prefers window seats"],
    )
    lines = failure(facts_include=[Regex("Bob")])
    assert lines[1] == "  missing fact: Regex('Bob')"


def test_min_rating_filters_and_explains_filtered_matches() -> None:
    assert_memory(MEMORY, facts=["Alice lives in Berlin"], min_rating=0.5)
    lines = failure(facts_include=["Alice likes hiking"], min_rating=0.5)
    assert lines[0] == (
        "facts_include: 1 missing (expected at least 1 facts, memory has 1 rated high enough, "
        "2 below min_rating)"
    )
    assert lines[2] == "    present but rated 0.4 (below min_rating): 'Alice likes hiking'"


def test_context_miss_shows_excerpt_where_it_looked() -> None:
    lines = failure(context_contains="prefers aisle seats")
    assert lines[0] == "context does not contain 'prefers aisle seats'"
    assert lines[1].startswith("  ")
    assert "around char" in lines[1] and "nearest word 'prefers'" in lines[1]
    assert "Prefers window seats" in lines[1]


def test_context_case_difference_is_pointed_out() -> None:
    lines = failure(context_contains="alice lives in berlin")
    assert "same text in another case" in lines[1]


def test_summary_and_matchers_on_text() -> None:
    lines = failure(summary_contains=Regex("^Bob"))
    assert lines == [
        "summary: Regex('^Bob') did not match",
        "  29 chars: 'Alice asked about her flight.'",
    ]
    with pytest.raises(AssertionError, match="memory has no summary, expected it to contain 'x'"):
        assert_memory(Memory(), summary_contains="x")


def test_bad_arguments_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="takes a Memory"):
        assert_memory({"facts": []})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="context_contains= takes a string"):
        assert_memory(MEMORY, context_contains=3)
