"""The whole emulator's state: the shared part and each provider's store, reset together.

It sits above the provider modules, which know only :mod:`.core` and their own store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .core import SharedState
from .eliza_rules import ElizaState
from .meibel import MeibelState
from .zep import ZepStore

__all__ = ["EmulatorState"]


@dataclass
class EmulatorState(SharedState):
    """All the emulator's mutable state. Build with :meth:`create`; wipe with :meth:`reset`."""

    zep: ZepStore = field(default_factory=ZepStore)
    meibel: MeibelState = field(default_factory=MeibelState)
    eliza: ElizaState = field(default_factory=ElizaState)

    def reset(self, seed: int | None = None) -> None:
        """Forget every user, session, message and fault; restart clock and ids from ``seed``.

        API keys survive: they are server configuration, not data, so a test that resets between
        cases keeps the auth setup the server was started with.
        """
        with self.lock:
            super().reset(seed)
            for store in (self.zep, self.meibel, self.eliza):
                store.clear()
