"""Cassettes: per-test record/replay files for the providers' HTTP traffic.

Public names::

    RecordMode      none / once / new_episodes / all (vcrpy meanings)
    ScrubConfig     what to remove before anything is stored or matched
    CassetteSession one test's cassette: transports, counters, finish()
    FinishReport    what finish() did
    goes_live       the one decision whether a test records or replays

Modules: ``schema`` (file format), ``store`` (atomic load/save), ``matching`` (request
identity and miss explanations), ``scrub`` (scrubbing), ``capture`` (httpx conversion),
``recorder`` (the record/replay state machine), ``intercept`` (every HTTP library's traffic
routed through the cassette).
"""

from __future__ import annotations

from pytest_sessionmem.cassette.recorder import (
    CassetteSession,
    FinishReport,
    RecordMode,
    goes_live,
)
from pytest_sessionmem.cassette.schema import Interaction, RecordedRequest, RecordedResponse
from pytest_sessionmem.cassette.scrub import ScrubConfig

__all__ = [
    "CassetteSession",
    "FinishReport",
    "Interaction",
    "RecordMode",
    "RecordedRequest",
    "RecordedResponse",
    "ScrubConfig",
    "goes_live",
]
