"""Meibel emulation (placeholder while being written)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .core import EmulatorState

__all__ = ["MeibelState", "control_routes", "routes"]


@dataclass
class MeibelState:
    """Everything the Meibel emulation remembers."""


def routes(state: EmulatorState) -> list[BaseRoute]:
    return []


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    return []
