"""Resolve the plugin's settings for one test from every source, in one place.

Precedence, the same for every scalar key::

    command line  >  @pytest.mark.sessionmem(...)  >  sessionmem_config fixture  >  ini file
                  >  default

List keys (the ``scrub_*`` options, ``secret_env``, ``match_ignore`` and ``allowed_hosts``) are
different on purpose: they are *merged* across all sources, because scrubbing more is never
unsafe and a marker should not be able to silently drop a header the ini file scrubs.

This module knows nothing of pytest: the plugin hands it plain mappings in which an
unset value is ``None``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.providers.registry import PROVIDERS as _REGISTRY

__all__ = [
    "CAPTURE_MODES",
    "CONFIG_KEYS",
    "MARKER_KEYS",
    "PROVIDERS",
    "RECORD_MODES",
    "UNUSED_POLICIES",
    "Settings",
    "resolve_settings",
]

PROVIDERS = tuple(_REGISTRY)
RECORD_MODES = ("none", "once", "new_episodes", "all")
UNUSED_POLICIES = ("warn", "error", "ignore")
#: ``all``: every HTTP request of the test goes through its cassette; ``provider``: only the
#: memory provider's own requests (the others go live).
CAPTURE_MODES = ("all", "provider")

_LIST_KEYS = (
    "scrub_headers",
    "scrub_query_params",
    "scrub_json_paths",
    "scrub_patterns",
    "secret_env",
    "match_ignore",
    "allowed_hosts",
)
_CALLABLE_KEYS = ("before_record_request", "before_record_response")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Settings:
    """Everything the plugin needs to know about one test's record/replay context."""

    record_mode: str = "none"
    provider: str | None = None
    base_url: str | None = None
    cassette_dir: str = "cassettes"
    transcript_dir: str = "transcripts"
    update: bool = False
    emulator: bool = False
    unused: str = "warn"
    keep_failed: bool = False
    intercept_httpx: bool = False
    capture: str = "all"
    session_id: str | None = None
    cassette: str | None = None
    scrub_headers: tuple[str, ...] = ()
    scrub_query_params: tuple[str, ...] = ()
    scrub_json_paths: tuple[str, ...] = ()
    scrub_patterns: tuple[str, ...] = ()
    scrub_pii: bool = False
    secret_env: tuple[str, ...] = ()
    """Environment variables whose values are scrubbed on top of the built-in list."""
    match_ignore: tuple[str, ...] = ()
    before_record_request: Callable[[Any], Any] | None = None
    before_record_response: Callable[[Any], Any] | None = None
    allowed_hosts: tuple[str, ...] = ()
    base_urls: tuple[tuple[str, str], ...] = ()
    """Every provider's base URL from the command line and ini (``PROVIDER=URL``)."""
    # Run-wide tools: command line and ini only.
    prune: bool = False
    html: str | None = None
    verify: bool = False

    def describe(self) -> str:
        """One line for the report header."""
        parts = [f"record_mode={self.record_mode}"]
        if self.provider:
            parts.append(f"provider={self.provider}")
        if self.base_urls:
            parts.append("base_url=" + ",".join(f"{p}={u}" for p, u in self.base_urls))
        elif self.base_url:
            parts.append(f"base_url={self.base_url}")
        parts.append(f"cassettes=<test dir>/{self.cassette_dir}")
        parts.append(f"transcripts=<test dir>/{self.transcript_dir}")
        if self.update:
            parts.append("update=on")
        if self.emulator:
            parts.append("emulator=on")
        parts.append(f"unused={self.unused}")
        if self.capture != "all":
            parts.append(f"capture={self.capture}")
        if self.scrub_pii:
            parts.append("scrub_pii=on")
        if self.verify:
            parts.append("verify=on")
        if self.allowed_hosts:
            parts.append(f"allowed_hosts={','.join(self.allowed_hosts)}")
        return ", ".join(parts)


_FIELD_NAMES = tuple(f.name for f in fields(Settings))

# What a marker may set. Run-wide switches (update, emulator, directories) are not per-test.
MARKER_KEYS: tuple[str, ...] = (
    "provider",
    "session_id",
    "thread_id",
    "cassette",
    "record_mode",
    "base_url",
    "unused",
    "keep_failed",
    "intercept_httpx",
    "capture",
    "scrub_pii",
    *_LIST_KEYS,
    *_CALLABLE_KEYS,
)
#: What a ``sessionmem_config`` fixture may return: the marker's keys.
CONFIG_KEYS = MARKER_KEYS


def resolve_settings(
    *,
    cli: Mapping[str, Any] | None = None,
    marker: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    ini: Mapping[str, Any] | None = None,
) -> Settings:
    """Combine the four sources into validated :class:`Settings`.

    ``config`` is what the ``sessionmem_config`` fixture returned.

    ``None`` values mean "not set here". Unknown marker keys and bad values raise
    :class:`~pytest_sessionmem.errors.ConfigError` listing what is allowed.
    """
    cli = dict(cli or {})
    marker = _thread_alias(dict(marker or {}))
    ini = dict(ini or {})
    if not isinstance(config, Mapping) and config is not None:
        raise ConfigError(
            f"The sessionmem_config fixture returned {type(config).__name__}; it must return a "
            "dict of marker keys, such as {'provider': 'zep', 'match_ignore': ['request_id']}."
        )
    config = _thread_alias(dict(config or {}))
    stray_config = sorted(set(config) - set(CONFIG_KEYS))
    if stray_config:
        raise ConfigError(
            f"The sessionmem_config fixture returned unknown key(s) {', '.join(stray_config)}"
            f"{_did_you_mean(stray_config, CONFIG_KEYS)}. It may return: {', '.join(CONFIG_KEYS)}."
        )
    unknown = sorted(set(marker) - set(MARKER_KEYS))
    if unknown:
        raise ConfigError(
            f"@pytest.mark.sessionmem got unknown argument(s) {', '.join(unknown)}"
            f"{_did_you_mean(unknown, MARKER_KEYS)}. It accepts: {', '.join(MARKER_KEYS)}."
        )
    for source in (cli, ini):
        stray = sorted(set(source) - set(_FIELD_NAMES))
        if stray:
            raise ConfigError(f"Unknown sessionmem setting(s): {', '.join(stray)}.")
    # Command line and ini give one base URL per provider (PROVIDER=URL); the marker and the
    # config fixture give this test's URL. Each is resolved once the provider is known.
    cli_urls = _base_urls(cli.pop("base_url", None), "--sessionmem-base-url")
    ini_urls = _base_urls(ini.pop("base_url", None), "the sessionmem_base_url ini key")

    values: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        if name in _LIST_KEYS:
            merged: list[str] = []
            for source in (ini, config, marker, cli):
                for item in _as_list(source.get(name), name):
                    if item not in merged:
                        merged.append(item)
            values[name] = tuple(merged)
            continue
        for source in (cli, marker, config, ini):
            value = source.get(name)
            if value is not None and value != "":
                values[name] = value
                break
    provider = values.get("provider")
    if isinstance(provider, str):
        own = cli_urls.get(provider.strip())
        if own is None and values.get("base_url") in (None, ""):
            own = ini_urls.get(provider.strip())
        if own is not None:
            values["base_url"] = own
    values["base_urls"] = tuple(sorted({**ini_urls, **cli_urls}.items()))
    settings = Settings(**{k: _coerce(k, v) for k, v in values.items()})
    _validate(settings)
    return settings


def _base_urls(value: Any, where: str) -> dict[str, str]:
    """``["eliza=http://localhost:3000", ...]`` -> ``{"eliza": "http://localhost:3000"}``.

    A bare URL is refused: it would send every provider's tests to one server.
    """
    urls: dict[str, str] = {}
    for entry in _as_list(value, "base_url"):
        name, sep, url = entry.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or "://" in name or not url:
            raise ConfigError(
                f"{where} takes PROVIDER=URL, one per provider, such as "
                f"--sessionmem-base-url eliza=http://localhost:3000 (ini: one "
                f"'eliza=http://localhost:3000' per line); got {entry!r}. A bare URL would "
                "send the other providers' requests there too. For one test, use "
                "@pytest.mark.sessionmem(base_url=...)."
            )
        if name not in PROVIDERS:
            raise ConfigError(
                f"{where} names an unknown provider {name!r} in {entry!r}; providers: "
                f"{', '.join(PROVIDERS)}."
            )
        urls[name] = url
    return urls


def _check_url(url: str, what: str) -> None:
    """A base URL every request can be built on: scheme, host, port, path and nothing else."""
    if not re.match(r"^https?://", url):
        raise ConfigError(f"{what} must start with http:// or https://, got {url!r}.")
    problem = _url_problem(url)
    if problem:
        raise ConfigError(
            f"{what} is not a usable base URL: {problem}, in {url!r}. Give scheme, host, an "
            "optional port and path, such as http://localhost:3000 or https://api.getzep.com."
        )


def _url_problem(url: str) -> str | None:
    from urllib.parse import urlsplit

    if any(char.isspace() for char in url):
        return "it holds a space"
    try:
        parts = urlsplit(url)
        port = parts.port  # reading it checks it: a port past 65535 or not a number raises
    except ValueError as exc:
        return str(exc)
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0 names no server"
    if parts.query or parts.fragment:
        return "a base URL has no query string or fragment (every request adds its own)"
    return None


def _did_you_mean(unknown: list[str], known: tuple[str, ...]) -> str:
    """`` (did you mean session_id?)`` for the first unknown key close to a known one."""
    import difflib

    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            return f" (did you mean {close[0]}?)"
    return ""


def _thread_alias(marker: dict[str, Any]) -> dict[str, Any]:
    """``thread_id=`` is another name for ``session_id=`` (Zep threads, zep-v3 and zep-v4)."""
    if "thread_id" not in marker:
        return marker
    thread_id = marker.pop("thread_id")
    session_id = marker.get("session_id")
    if session_id is not None and thread_id is not None and session_id != thread_id:
        raise ConfigError(
            f"@pytest.mark.sessionmem got session_id={session_id!r} and thread_id={thread_id!r}; "
            "thread_id is another name for session_id, so pass only one of them."
        )
    if thread_id is not None:
        marker["session_id"] = thread_id
    return marker


def _as_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # ini and CLI give strings: comma- or newline-separated
        return [part.strip() for part in re.split(r"[,\n]", value) if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    raise ConfigError(f"sessionmem setting {name} must be a list of strings, got {value!r}.")


def _coerce(name: str, value: Any) -> Any:
    default = getattr(Settings, name, None)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"sessionmem setting {name} must be true or false, got {value!r}.")
    if isinstance(value, str):
        return value.strip()
    return value


def _validate(settings: Settings) -> None:
    _one_of("record_mode", settings.record_mode, RECORD_MODES)
    _one_of("unused", settings.unused, UNUSED_POLICIES)
    _one_of("capture", settings.capture, CAPTURE_MODES)
    if settings.provider is not None:
        _one_of("provider", settings.provider, PROVIDERS)
    if settings.session_id is not None and (
        not isinstance(settings.session_id, str) or not settings.session_id.strip()
    ):
        raise ConfigError(
            f"sessionmem session_id must be a non-empty string, got {settings.session_id!r}; "
            "ids are sent in URLs as text, e.g. session_id='5'."
        )
    for provider, url in settings.base_urls:
        _check_url(url, f"sessionmem base URL for {provider}")
    if settings.base_url is not None:
        _check_url(settings.base_url, "sessionmem base_url")
    for name in _CALLABLE_KEYS:
        hook = getattr(settings, name)
        if hook is not None and not callable(hook):
            raise ConfigError(
                f"sessionmem {name} must be a function taking the recorded request or response "
                f"and returning it, got {hook!r}."
            )
    for name in settings.secret_env:
        if not _ENV_NAME.fullmatch(name):
            # Shown cut short: the entry may be the secret itself, pasted by mistake.
            raise ConfigError(
                f"sessionmem secret_env {name[:4]!r}... is not an environment variable name. "
                "Name the variable, not its value, such as "
                "--sessionmem-secret-env=MY_SERVICE_TOKEN (ini: one name per line in "
                "sessionmem_secret_env); its value is read from the environment and scrubbed "
                "as <MY_SERVICE_TOKEN>."
            )
    for host in settings.allowed_hosts:
        if not _is_host(host):
            raise ConfigError(
                f"sessionmem allowed host {host!r} is not a host name; give the name alone, "
                "such as --sessionmem-allowed-host=api.example.com (no scheme, port or path)."
            )
    if settings.scrub_patterns:
        # Imported here: a run without scrub patterns keeps the plugin's start-up light.
        from pytest_sessionmem.cassette.scrub import check_pattern

        for pattern in settings.scrub_patterns:
            check_pattern(pattern, "sessionmem scrub pattern")


def _is_host(host: str) -> bool:
    """A host name or an IP address: no scheme, port or path (IPv6 may be bracketed)."""
    if re.fullmatch(r"[\w.-]+", host):
        return True
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{value!r} is not a valid sessionmem {name}. Valid values: {', '.join(allowed)}."
        )
