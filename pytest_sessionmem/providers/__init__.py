"""Provider adapters, one module per API, and the registry that names them.

:mod:`.registry` says what each provider key means; :func:`make_provider` builds the
adapter for a key. The adapters are imported only when a client is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.providers.registry import PROVIDERS, ProviderSpec, provider_spec

if TYPE_CHECKING:
    from pytest_sessionmem.providers.base import Provider

__all__ = ["PROVIDERS", "ProviderSpec", "make_provider", "provider_spec"]


def make_provider(name: str, base_url: str | None = None) -> Provider:
    """The adapter for ``name`` bound to ``base_url`` (the provider's default when None)."""
    spec = provider_spec(name)
    return spec.adapter_class()(_checked_base_url(base_url) if base_url else spec.default_base_url)


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
