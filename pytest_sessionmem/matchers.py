"""Matchers: values that stand in for a field of an expected turn or fact.

A matcher is any object whose ``__eq__`` decides whether an actual value is acceptable.
The three here cover the common cases; dirty-equals objects (``IsStr(regex=...)``,
``IsPositiveInt``...) and any other ``__eq__`` implementation work the same way,
because comparisons always put the expected value on the left: ``expected == actual``.

``Regex`` uses :func:`re.search`, like ``grep``: it matches anywhere in the value unless
the pattern anchors itself with ``^`` / ``$`` (or ``\\A`` / ``\\Z``). That keeps short
patterns short (``Regex(r"9:4\\d")``) and makes anchoring visible in the pattern.
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum
from typing import Any, Final

__all__ = ["ANY", "Contains", "Matcher", "Regex", "describe", "is_matcher"]


class Matcher:
    """Base of the bundled matchers: equality with a plain value asks :meth:`matches`."""

    def matches(self, value: object) -> bool:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Matcher):
            return repr(self) == repr(other)
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(repr(self))


class _Any(Matcher):
    """Accepts every value, including ``None``."""

    def matches(self, value: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY: Final[Matcher] = _Any()


class Regex(Matcher):
    """A string that the pattern finds (``re.search``); anchor with ``^...$`` to match it whole."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled = re.compile(pattern, flags)

    def matches(self, value: object) -> bool:
        return isinstance(value, str) and self._compiled.search(value) is not None

    def __repr__(self) -> str:
        if self.flags:
            return f"Regex({self.pattern!r}, flags={re.RegexFlag(self.flags)!s})"
        return f"Regex({self.pattern!r})"


class Contains(Matcher):
    """A string that contains ``substring`` (optionally ignoring case)."""

    def __init__(self, substring: str, case_sensitive: bool = True) -> None:
        self.substring = substring
        self.case_sensitive = case_sensitive
        self._needle = substring if case_sensitive else substring.casefold()

    def matches(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        haystack = value if self.case_sensitive else value.casefold()
        return self._needle in haystack

    def __repr__(self) -> str:
        if self.case_sensitive:
            return f"Contains({self.substring!r})"
        return f"Contains({self.substring!r}, case_sensitive=False)"


# Values compared by plain equality; anything else in an expected field is treated as a
# matcher, so failure messages say "Regex('^Bye') did not match" rather than "differs".
_PLAIN_TYPES: Final = (str, bytes, int, float, bool, type(None), dict, list, tuple)


def is_matcher(value: object) -> bool:
    """True for values that decide equality themselves (ours, dirty-equals, custom ``__eq__``)."""
    if isinstance(value, Matcher):
        return True
    if isinstance(value, _PLAIN_TYPES):
        return False
    return not isinstance(value, (Enum, date))


def describe(value: Any) -> str:
    """How a matcher names itself in a failure message (its repr, kept short)."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
