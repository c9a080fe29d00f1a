"""ElizaOS server (>= 1.5) sessions API emulation: ``/eliza/api/messaging/sessions/...``.

Placeholder: the provider contract is described in :mod:`pytest_sessionmem.emulator.core`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .core import EmulatorState

__all__ = ["ElizaState", "control_routes", "routes"]


@dataclass
class ElizaState:
    """Everything the ElizaOS emulation remembers (empty for now)."""


def routes(state: EmulatorState) -> list[BaseRoute]:
    """Public ElizaOS routes, mounted under ``/eliza``."""
    return []


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """ElizaOS seeding routes, mounted under ``/_emulator/eliza``."""
    return []
