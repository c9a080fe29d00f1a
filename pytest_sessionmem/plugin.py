"""pytest hooks, options, markers and fixtures. No logic lives here."""

from __future__ import annotations
