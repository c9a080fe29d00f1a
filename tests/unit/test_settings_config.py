"""The documented precedence, as a table: CLI > marker > sessionmem_config > ini > default."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.plugin.settings import CONFIG_KEYS, resolve_settings

# (cli, marker, sessionmem_config, ini) -> the record mode a test gets
PRECEDENCE = [
    ("all", "once", "new_episodes", "none", "all"),
    (None, "once", "new_episodes", "all", "once"),
    (None, None, "new_episodes", "all", "new_episodes"),
    (None, None, None, "all", "all"),
    (None, None, None, None, "none"),
    ("all", None, "once", None, "all"),
    (None, "all", None, "once", "all"),
]


@pytest.mark.parametrize(("cli", "marker", "config", "ini", "expected"), PRECEDENCE)
def test_record_mode_precedence_table(
    cli: str | None, marker: str | None, config: str | None, ini: str | None, expected: str
) -> None:
    settings = resolve_settings(
        cli={"record_mode": cli},
        marker={"record_mode": marker} if marker else {},
        config={"record_mode": config} if config else {},
        ini={"record_mode": ini},
    )
    assert settings.record_mode == expected


@pytest.mark.parametrize(
    ("cli", "marker", "config", "ini", "expected"),
    [
        (True, False, False, False, True),
        (None, True, False, False, True),
        (None, None, True, False, True),
        (None, None, None, "true", True),
        (None, None, False, "true", False),
        (None, None, None, None, False),
    ],
)
def test_scrub_pii_precedence_table(
    cli: bool | None, marker: Any, config: Any, ini: Any, expected: bool
) -> None:
    settings = resolve_settings(
        cli={"scrub_pii": cli},
        marker={} if marker is None else {"scrub_pii": marker},
        config={} if config is None else {"scrub_pii": config},
        ini={"scrub_pii": ini},
    )
    assert settings.scrub_pii is expected


def test_match_ignore_is_merged_from_every_source() -> None:
    settings = resolve_settings(
        cli={"match_ignore": ["cli_param"]},
        marker={"match_ignore": ["marker_param"]},
        config={"match_ignore": ["body.request_id", "marker_param"]},
        ini={"match_ignore": "ini_param\nts"},
    )
    assert settings.match_ignore == (
        "ini_param",
        "ts",
        "body.request_id",
        "marker_param",
        "cli_param",
    )


def test_the_config_fixture_takes_marker_keys_plus_the_hooks() -> None:
    assert {"match_ignore", "before_record_request", "before_record_response"} <= set(CONFIG_KEYS)
    hook = resolve_settings(config={"before_record_request": print}).before_record_request
    assert hook is print


def test_an_unknown_config_key_names_the_accepted_ones() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(config={"record": "all"})
    message = str(info.value)
    assert message.startswith(
        "The sessionmem_config fixture returned unknown key(s) record (did you mean record_mode?)."
    )
    assert "record_mode" in message and "before_record_response" in message


def test_a_config_fixture_must_return_a_dict() -> None:
    with pytest.raises(ConfigError, match="returned list; it must return a dict of marker keys"):
        resolve_settings(config=["provider", "zep"])  # type: ignore[arg-type]


def test_a_hook_must_be_callable() -> None:
    with pytest.raises(ConfigError, match="before_record_response must be a function"):
        resolve_settings(marker={"before_record_response": "strip_ids"})


def test_run_wide_tools_are_not_marker_keys() -> None:
    with pytest.raises(ConfigError, match="unknown argument"):
        resolve_settings(marker={"prune": True})
