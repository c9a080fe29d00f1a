"""matchers.py: ANY, Regex (search semantics), Contains, and what counts as a matcher."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from dirty_equals import IsStr

from pytest_sessionmem.matchers import ANY, Contains, Regex, is_matcher
from pytest_sessionmem.models import Role


def test_any_accepts_everything() -> None:
    assert ANY == "x"
    assert ANY == None  # noqa: E711 - the comparison is the point
    assert repr(ANY) == "ANY"


def test_regex_searches_and_anchors_only_when_asked() -> None:
    assert Regex(r"9:4\d") == "leaves at 9:45 today"
    assert Regex(r"^9:4\d$") != "leaves at 9:45 today"
    assert Regex("bye", re.IGNORECASE) == "BYE"
    assert Regex("x") != 3
    assert repr(Regex("^Bye")) == "Regex('^Bye')"
    assert repr(Regex("a", re.IGNORECASE)) == "Regex('a', flags=re.IGNORECASE)"


def test_contains_with_and_without_case() -> None:
    assert Contains("Paris") == "lives in Paris"
    assert Contains("paris") != "lives in Paris"
    assert Contains("paris", case_sensitive=False) == "lives in PARIS"
    assert repr(Contains("a", case_sensitive=False)) == "Contains('a', case_sensitive=False)"
    assert Contains("a") != None  # noqa: E711


def test_matchers_compare_equal_to_identical_matchers() -> None:
    assert Regex("a") == Regex("a")
    assert Regex("a") != Regex("b")
    assert hash(Contains("a")) == hash(Contains("a"))


def test_is_matcher_tells_plain_values_from_matchers() -> None:
    assert is_matcher(ANY) and is_matcher(IsStr(regex="x")) and is_matcher(Regex("x"))
    for plain in ("s", 1, 1.5, None, {"a": 1}, [1], Role.USER, datetime.now(timezone.utc)):
        assert not is_matcher(plain)
