"""Pausing the cyclic garbage collector around bulk work that makes no garbage.

Building a 10,000-message transcript, loading a cassette or comparing two long transcripts
allocates tens of thousands of objects that all stay alive. Each allocation burst makes
CPython's collector run, and its full collections walk every live object in the process
(pytest's own, the loaded cassette, the messages built so far): about half of the CPU time
of such work, for nothing, since reference counting frees everything that is not a cycle.
Pausing the collector for the length of the bulk call removes those walks; the collector
catches up once, after the call, on the objects that are still alive then.

The pause is counted, so nested and concurrent pauses (threads, async tasks) end together,
and it never turns on a collector that the user had turned off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]

_lock = threading.Lock()
_depth = 0
_paused_by_us = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (if it was on)."""
    global _depth, _paused_by_us
    with _lock:
        if _depth == 0 and gc.isenabled():
            gc.disable()
            _paused_by_us = True
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _paused_by_us:
                _paused_by_us = False
                gc.enable()
