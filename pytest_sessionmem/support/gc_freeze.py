"""Keeping the cyclic garbage collector off the objects that bulk work did not make.

Building a 10,000-message transcript, loading a cassette or comparing two long transcripts
allocates tens of thousands of objects that all stay alive. Each allocation burst makes
CPython's collector run, and its full collections walk every live object in the process
(pytest's own, the loaded cassette, the messages built so far): about half of the CPU time
of such work, for nothing. For the length of the bulk call the objects alive when it began
are frozen (``gc.freeze``): collections then walk only what the call makes, so the garbage
cycles it leaves behind (httpx's responses are cycles) are still collected as it goes, and
memory stays where it was. Afterwards the frozen objects return to the oldest generation.

Frozen is counted, so nested and concurrent calls (threads, async tasks) end together, and
objects someone else froze (a server that freezes before forking) are left frozen.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["old_objects_frozen"]

_lock = threading.Lock()
_depth = 0
_frozen_by_us = False


@contextmanager
def old_objects_frozen() -> Iterator[None]:
    """Run the body with every object alive now out of the collector's walks."""
    global _depth, _frozen_by_us
    with _lock:
        if _depth == 0 and gc.get_freeze_count() == 0:
            gc.freeze()
            _frozen_by_us = True
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _frozen_by_us:
                _frozen_by_us = False
                gc.unfreeze()
