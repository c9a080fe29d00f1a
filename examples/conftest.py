"""Shared set-up for the examples: nothing here is needed by pytest-sessionmem itself.

The plugin is active as soon as it is installed. These examples replay the cassettes
committed beside them, so they run offline with no API keys. To re-record them against
the embedded emulator::

    python -m pytest examples --sessionmem-emulator --sessionmem-record-mode=all

``zep_v3/`` and ``zep_v4/`` need zep-cloud 3.x and 4.x, which cannot share an environment with
the 2.x that ``zep/`` uses. Where another generation is installed they are left to
``test_zep_generations.py``, which runs each in its own environment.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

# Example folder -> the zep-cloud major version it is written for.
ZEP_GENERATIONS = {"zep_v3": 3, "zep_v4": 4}


def installed_zep_major() -> int | None:
    try:
        return int(importlib.metadata.version("zep-cloud").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    wanted = ZEP_GENERATIONS.get(collection_path.name)
    if wanted is not None and collection_path.is_dir() and installed_zep_major() != wanted:
        return True
    return None


@pytest.fixture(autouse=True)
def _no_zep_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # The zep-cloud SDK lets ZEP_API_URL override the base_url it is given.
    monkeypatch.delenv("ZEP_API_URL", raising=False)
