"""Comparing what a session holds with what a test expects.

``asserts`` holds the public entry points; ``transcript_compare`` and ``memory_compare``
decide what differs, ``render`` turns that into text, ``transcript_file`` reads and
writes expected-transcript files, and ``polling`` waits for eventually-consistent memory.

The entry points load on first use: every replaying test imports ``polling`` for its
virtual clock, and that must not cost it the comparison and rendering modules.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["assert_memory", "assert_transcript"]

if TYPE_CHECKING:
    from pytest_sessionmem.assertions.asserts import assert_memory, assert_transcript


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'pytest_sessionmem.assertions' has no attribute {name!r}")
    value = getattr(import_module("pytest_sessionmem.assertions.asserts"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value
