"""Zep emulation (placeholder while being written)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .core import EmulatorState

__all__ = ["ZepState", "control_routes", "routes"]


@dataclass
class ZepState:
    """Everything the Zep emulation remembers."""


def routes(state: EmulatorState) -> list[BaseRoute]:
    return []


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    return []
