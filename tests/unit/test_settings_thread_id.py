"""``thread_id=`` in the marker is another name for ``session_id=`` (Zep threads)."""

from __future__ import annotations

import pytest

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.plugin.settings import MARKER_KEYS, resolve_settings


def test_thread_id_sets_the_session_id() -> None:
    settings = resolve_settings(marker={"provider": "zep-v3", "thread_id": "support-1"})
    assert (settings.provider, settings.session_id) == ("zep-v3", "support-1")
    assert "thread_id" in MARKER_KEYS


def test_the_same_value_under_both_names_is_fine() -> None:
    settings = resolve_settings(marker={"thread_id": "t1", "session_id": "t1"})
    assert settings.session_id == "t1"


def test_two_different_ids_fail_naming_both() -> None:
    with pytest.raises(ConfigError) as excinfo:
        resolve_settings(marker={"thread_id": "t1", "session_id": "t2"})
    assert str(excinfo.value) == (
        "@pytest.mark.sessionmem got session_id='t2' and thread_id='t1'; "
        "thread_id is another name for session_id, so pass only one of them."
    )


@pytest.mark.parametrize("provider", ["zep-v3", "zep-v4"])
def test_the_thread_providers_are_valid_keys(provider: str) -> None:
    assert resolve_settings(cli={"provider": provider}).provider == provider
