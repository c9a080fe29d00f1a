"""Cassette misses a replaying test caught itself: the ones it expected, and the ones it hid.

A request the cassette cannot answer raises ``CassetteNotFound`` or ``UnmatchedRequest``. A
test (or the agent it runs) that catches a broad ``SessionmemError``, ``CassetteError`` or
``Exception`` swallows that miss and can pass on an answer nobody recorded. The cassette
session remembers every miss it raised; when a test passed although it caught one, the
``recorded_session`` fixture fails it at teardown, naming the request.

The rule for a miss the test expects: it was caught by ``pytest.raises`` whose expected
types are all ``CassetteNotFound`` or ``UnmatchedRequest`` (or subclasses of them), such as
``pytest.raises(UnmatchedRequest)`` or ``pytest.raises(UnmatchedRequest, match="GET /x")``.
A broader ``pytest.raises(CassetteError)`` or ``pytest.raises(SessionmemError)`` does not
say which failure it expects, so a miss it catches is still reported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from pytest_sessionmem.errors import CassetteNotFound, UnmatchedRequest

__all__ = ["MAX_NAMED_MISSES", "swallowed_message", "watching_raises"]

_MISSES = (CassetteNotFound, UnmatchedRequest)

#: How many swallowed misses the teardown message spells out before "and N more".
MAX_NAMED_MISSES = 3


@contextlib.contextmanager
def watching_raises() -> Iterator[set[int]]:
    """While the block runs, note (by ``id``) each miss a miss-naming ``pytest.raises`` caught.

    ``pytest.raises`` returns the same context-manager class in every use (its function form
    runs one too), so its ``__exit__`` is wrapped for the block and restored after it.
    """
    expected: set[int] = set()
    raises_class: Any = type(pytest.raises(Exception))
    own = "__exit__" in vars(raises_class)  # else a base class defines it
    original = raises_class.__exit__

    def __exit__(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        __tracebackhide__ = True
        suppressed: bool = original(self, exc_type, exc_val, exc_tb)
        if suppressed and isinstance(exc_val, _MISSES) and _names_a_miss(self):
            expected.add(id(exc_val))
        return suppressed

    raises_class.__exit__ = __exit__
    try:
        yield expected
    finally:
        if own:
            raises_class.__exit__ = original
        else:
            del raises_class.__exit__


def _names_a_miss(context: Any) -> bool:
    """True when every type this ``pytest.raises`` expects is a miss class (or a subclass)."""
    # pytest >= 8.4 keeps a tuple in ``expected_exceptions``; older ones a type or a tuple
    # in ``expected_exception``.
    found: Any = getattr(context, "expected_exceptions", None)
    if found is None:
        found = getattr(context, "expected_exception", ())
    types: tuple[Any, ...] = (found,) if isinstance(found, type) else tuple(found)
    return bool(types) and all(
        isinstance(kind, type) and issubclass(kind, _MISSES) for kind in types
    )


def swallowed_message(
    misses: Sequence[CassetteNotFound | UnmatchedRequest], expected: set[int], *, nodeid: str
) -> str | None:
    """The teardown failure for the misses a passing test caught without expecting them."""
    hidden = [miss for miss in misses if id(miss) not in expected]
    if not hidden:
        return None
    count = len(hidden)
    what = "a request" if count == 1 else f"{count} requests"
    lines = [
        f"{nodeid} passed, but its cassette could not answer {what} and the test caught the "
        f"error{'' if count == 1 else 's'} itself (an except clause such as `except "
        "SessionmemError:` around the call), so it went on without the recorded answer. "
        "Fix the cassette as the error says; if the test expects the miss, write `with "
        f"pytest.raises({type(hidden[0]).__name__}):` around the call.",
    ]
    for miss in hidden[:MAX_NAMED_MISSES]:
        lines.append(f"{type(miss).__name__}: {miss}")
    if count > MAX_NAMED_MISSES:
        lines.append(f"... and {count - MAX_NAMED_MISSES} more")
    return "\n".join(lines)
