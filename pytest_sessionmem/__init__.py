"""pytest-sessionmem: test what your AI agent remembers.

The public API. Names load lazily on first use, because pytest imports this package
for every run through the plugin entry point and pydantic and httpx together cost
far more than the plugin's 30 ms import budget.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # models
    "Fact": "models",
    "Memory": "models",
    "Message": "models",
    "Role": "models",
    "Session": "models",
    "Transcript": "models",
    # errors
    "AuthenticationError": "errors",
    "CassetteCorrupt": "errors",
    "CassetteError": "errors",
    "CassetteNotFound": "errors",
    "ConfigError": "errors",
    "ProviderError": "errors",
    "ProviderUnavailable": "errors",
    "RateLimited": "errors",
    "SessionExpired": "errors",
    "SessionNotFound": "errors",
    "SessionmemError": "errors",
    "UnmatchedRequest": "errors",
    "UnsupportedOperation": "errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_sessionmem' has no attribute {name!r}")
    value = getattr(import_module(f"pytest_sessionmem.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from pytest_sessionmem.errors import (
        AuthenticationError,
        CassetteCorrupt,
        CassetteError,
        CassetteNotFound,
        ConfigError,
        ProviderError,
        ProviderUnavailable,
        RateLimited,
        SessionExpired,
        SessionmemError,
        SessionNotFound,
        UnmatchedRequest,
        UnsupportedOperation,
    )
    from pytest_sessionmem.models import Fact, Memory, Message, Role, Session, Transcript
