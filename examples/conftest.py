"""Shared set-up for the examples: nothing here is needed by pytest-sessionmem itself.

The plugin is active as soon as it is installed. These examples replay the cassettes
committed beside them, so they run offline with no API keys. To re-record them against
the embedded emulator::

    python -m pytest examples --sessionmem-emulator --sessionmem-record-mode=all
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_zep_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # The zep-cloud SDK lets ZEP_API_URL override the base_url it is given.
    monkeypatch.delenv("ZEP_API_URL", raising=False)
