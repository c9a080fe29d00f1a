"""The precedence table: command line > marker > ini > default, for every scalar key."""

from __future__ import annotations

import re

import pytest

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.plugin.settings import MARKER_KEYS, Settings, resolve_settings

# (cli, marker, ini) -> expected record_mode
PRECEDENCE = [
    ({}, {}, {}, "none"),
    ({}, {}, {"record_mode": "once"}, "once"),
    ({}, {"record_mode": "all"}, {"record_mode": "once"}, "all"),
    (
        {"record_mode": "new_episodes"},
        {"record_mode": "all"},
        {"record_mode": "once"},
        "new_episodes",
    ),
    ({"record_mode": "new_episodes"}, {}, {}, "new_episodes"),
    ({"record_mode": None}, {"record_mode": "all"}, {}, "all"),
    ({}, {"record_mode": None}, {"record_mode": "once"}, "once"),
]


@pytest.mark.parametrize(("cli", "marker", "ini", "expected"), PRECEDENCE)
def test_record_mode_precedence(cli: dict, marker: dict, ini: dict, expected: str) -> None:
    assert resolve_settings(cli=cli, marker=marker, ini=ini).record_mode == expected


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("provider", ("zep", "meibel", "eliza")),
        ("unused", ("error", "ignore", "warn")),
    ],
)
def test_every_scalar_key_follows_the_same_order(key: str, values: tuple[str, str, str]) -> None:
    cli, marker, ini = ({key: v} for v in values)
    assert getattr(resolve_settings(cli=cli, marker=marker, ini=ini), key) == values[0]
    assert getattr(resolve_settings(marker=marker, ini=ini), key) == values[1]
    assert getattr(resolve_settings(ini=ini), key) == values[2]


def test_base_url_is_per_provider_and_follows_the_same_order() -> None:
    cli = {"base_url": ["zep=http://cli", "eliza=http://eliza-cli"]}
    marker = {"provider": "zep", "base_url": "http://marker"}
    ini = {"base_url": "zep=http://ini\nmeibel=http://meibel-ini"}
    assert resolve_settings(cli=cli, marker=marker, ini=ini).base_url == "http://cli"
    assert resolve_settings(marker=marker, ini=ini).base_url == "http://marker"
    assert resolve_settings(marker={"provider": "zep"}, ini=ini).base_url == "http://ini"


def test_a_base_url_never_sends_one_provider_to_another_providers_server() -> None:
    cli = {"base_url": ["eliza=http://localhost:3000"]}
    for provider in ("zep", "meibel"):
        assert resolve_settings(cli=cli, marker={"provider": provider}).base_url is None
    assert resolve_settings(cli=cli, marker={"provider": "eliza"}).base_url == (
        "http://localhost:3000"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://localhost:3000", "takes PROVIDER=URL, one per provider"),
        ("zap=http://x", "unknown provider 'zap'"),
        ("zep=api.getzep.com", "must start with http:// or https://"),
        ("zep=http://[::1", "is not a usable base URL: Invalid IPv6 URL, in 'http://[::1'"),
        ("zep=http://a b", "is not a usable base URL: it holds a space"),
        ("zep=http://127.0.0.1:99999", "is not a usable base URL: Port out of range 0-65535"),
        ("zep=http:///nohost", "is not a usable base URL: it names no host"),
        ("zep=http://127.0.0.1:8000/api?x=1", "no query string or fragment"),
    ],
)
def test_a_bad_base_url_entry_shows_the_form(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        resolve_settings(cli={"base_url": [value]})


def test_defaults() -> None:
    assert resolve_settings() == Settings()
    assert Settings().record_mode == "none"


def test_list_keys_merge_across_sources_without_duplicates() -> None:
    settings = resolve_settings(
        cli={"scrub_headers": ["X-Cli"]},
        marker={"scrub_headers": ["X-Marker", "X-Cli"]},
        ini={"scrub_headers": "X-Ini\nX-Other"},
    )
    assert settings.scrub_headers == ("X-Ini", "X-Other", "X-Marker", "X-Cli")


def test_bool_strings_from_ini_are_parsed() -> None:
    assert resolve_settings(ini={"update": "true"}).update is True
    assert resolve_settings(cli={"update": False}, ini={"update": "yes"}).update is False
    with pytest.raises(ConfigError, match="must be true or false"):
        resolve_settings(ini={"update": "maybe"})


def test_unknown_marker_key_lists_the_accepted_ones() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(marker={"recordmode": "once"})
    message = str(info.value)
    assert "unknown argument(s) recordmode" in message
    for key in MARKER_KEYS:
        assert key in message


def test_run_wide_switches_are_not_marker_keys() -> None:
    with pytest.raises(ConfigError, match="update"):
        resolve_settings(marker={"update": True})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"record_mode": "sometimes"},
            "'sometimes' is not a valid sessionmem record_mode. Valid values: none, once, new_episodes, all.",
        ),
        (
            {"provider": "mem0"},
            "'mem0' is not a valid sessionmem provider. Valid values: zep, meibel, eliza, zep-v3, zep-v4.",
        ),
        ({"unused": "loud"}, "'loud' is not a valid sessionmem unused"),
        ({"base_url": "zep=api.getzep.com"}, "must start with http:// or https://"),
        ({"scrub_patterns": ["("]}, "is not a valid regex"),
    ],
)
def test_bad_values_name_the_valid_ones(source: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(ini=source)
    assert message in str(info.value)


@pytest.mark.parametrize("value", [5, "  ", ["s1"]])
def test_a_session_id_that_is_no_text_fails_when_the_settings_are_read(value: object) -> None:
    with pytest.raises(ConfigError, match="session_id must be a non-empty string"):
        resolve_settings(marker={"provider": "zep", "session_id": value})


def test_capture_is_all_by_default_and_follows_the_same_order() -> None:
    assert resolve_settings().capture == "all"
    assert resolve_settings(ini={"capture": "provider"}).capture == "provider"
    both = {"marker": {"capture": "all"}, "ini": {"capture": "provider"}}
    assert resolve_settings(**both).capture == "all"
    assert resolve_settings(cli={"capture": "provider"}, **both).capture == "provider"
    assert resolve_settings(config={"capture": "provider"}).capture == "provider"


def test_a_capture_value_outside_the_two_is_refused_with_both_named() -> None:
    with pytest.raises(ConfigError, match=r"'everything' is not a valid sessionmem capture\. "
                       r"Valid values: all, provider\."):  # fmt: skip
        resolve_settings(marker={"capture": "everything"})


def test_secret_env_names_merge_from_every_source() -> None:
    settings = resolve_settings(
        cli={"secret_env": ["CLI_TOKEN"]},
        marker={"secret_env": ["MARKER_TOKEN", "CLI_TOKEN"]},
        config={"secret_env": ["FIXTURE_TOKEN"]},
        ini={"secret_env": "INI_TOKEN\nOTHER_INI_TOKEN"},
    )
    # Merged like every list key: a marker can add a variable, never drop the ini's.
    assert settings.secret_env == (
        "INI_TOKEN",
        "OTHER_INI_TOKEN",
        "FIXTURE_TOKEN",
        "MARKER_TOKEN",
        "CLI_TOKEN",
    )
    assert resolve_settings().secret_env == ()


@pytest.mark.parametrize("name", ["sk-live-1234567890", "MY TOKEN", "1TOKEN", "$MY_TOKEN"])
def test_a_secret_env_entry_that_is_no_variable_name_is_refused(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(cli={"secret_env": [name]})
    # Cut short, as the entry may be the secret itself.
    assert str(info.value) == (
        f"sessionmem secret_env {name[:4]!r}... is not an environment variable name. Name the "
        "variable, not its value, such as --sessionmem-secret-env=MY_SERVICE_TOKEN (ini: one "
        "name per line in sessionmem_secret_env); its value is read from the environment and "
        "scrubbed as <MY_SERVICE_TOKEN>."
    )
