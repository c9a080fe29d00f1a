"""Comparing what a session holds with what a test expects.

``asserts`` holds the public entry points; ``transcript_compare`` and ``memory_compare``
decide what differs, ``render`` turns that into text, ``transcript_file`` reads and
writes expected-transcript files, and ``polling`` waits for eventually-consistent memory.
"""

from pytest_sessionmem.assertions.asserts import assert_memory, assert_transcript

__all__ = ["assert_memory", "assert_transcript"]
