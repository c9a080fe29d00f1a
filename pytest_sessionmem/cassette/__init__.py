"""Cassettes: per-test record/replay files for the providers' HTTP traffic.

Public names::

    RecordMode      none / once / new_episodes / all (vcrpy meanings)
    ScrubConfig     what to remove before anything is stored or matched
    CassetteSession one test's cassette: transports, counters, finish()
    FinishReport    what finish() did

Modules: ``schema`` (file format), ``store`` (atomic load/save), ``matching`` (request
identity and miss explanations), ``redact`` (scrubbing), ``capture`` (httpx conversion),
``session`` (the record/replay state machine).
"""

from __future__ import annotations

from pytest_sessionmem.cassette.recorder import CassetteSession, FinishReport, RecordMode
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
]
