"""Fixtures for the plugin's end-to-end tests (see plugin_harness)."""

from __future__ import annotations

import pytest
from plugin_harness import INNER_INI, Inner


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Inner:
    pytester.makeini(INNER_INI)
    # The inner runs must not see a developer's or CI's credentials or Zep URL override.
    for name in ("ZEP_API_KEY", "MEIBEL_API_KEY", "ELIZA_SERVER_AUTH_TOKEN", "ZEP_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return Inner(pytester)
