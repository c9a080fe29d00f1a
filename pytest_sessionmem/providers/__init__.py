"""One adapter per provider API; see :mod:`pytest_sessionmem.providers.base`.

The registry is an explicit dict: adding a provider means adding a line here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.providers.base import Provider
from pytest_sessionmem.providers.eliza import ElizaProvider
from pytest_sessionmem.providers.meibel import MeibelProvider
from pytest_sessionmem.providers.zep import ZepProvider

__all__ = ["PROVIDERS", "Provider", "make_provider", "provider_class"]

PROVIDERS: dict[str, type[Provider]] = {
    "zep": ZepProvider,
    "meibel": MeibelProvider,
    "eliza": ElizaProvider,
}


def provider_class(name: str) -> type[Provider]:
    """The adapter factory for ``name``, or a ConfigError listing the valid names."""
    try:
        return PROVIDERS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(p) for p in PROVIDERS)
        raise ConfigError(f"unknown provider {name!r}; choose one of {valid}") from None


def make_provider(name: str, base_url: str | None = None) -> Provider:
    """An adapter bound to ``base_url`` (the provider's default when None)."""
    factory = provider_class(name)
    return factory(_checked_base_url(base_url) if base_url else factory.default_base_url)


def _checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"base_url must be an http(s) URL such as 'http://127.0.0.1:8000', got {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            "base_url must not carry a query or fragment; paths are appended to it "
            "(pass credentials with api_key=)"
        )
    return base_url
