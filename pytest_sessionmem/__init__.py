"""pytest-sessionmem: test what your AI agent remembers.

The public API. Names load lazily on first use, because pytest imports this package
for every run through the plugin entry point and pydantic and httpx together cost
far more than the plugin's 30 ms import budget.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pytest_sessionmem.version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Fact": "models",
    "LLMCall": "models",
    "Memory": "models",
    "Message": "models",
    "Role": "models",
    "Session": "models",
    "ToolCall": "models",
    "Transcript": "models",
    "AuthenticationError": "errors",
    "CassetteCorrupt": "errors",
    "CassetteDrift": "errors",
    "CassetteError": "errors",
    "CassetteNotFound": "errors",
    "ConfigError": "errors",
    "NetworkBlocked": "errors",
    "ProviderError": "errors",
    "ProviderUnavailable": "errors",
    "RateLimited": "errors",
    "SessionExpired": "errors",
    "SessionNotFound": "errors",
    "SessionmemError": "errors",
    "UnguardedSubprocessWarning": "errors",
    "UnmatchedRequest": "errors",
    "UnsupportedOperation": "errors",
    "UnusedInteractionsWarning": "errors",
    "AsyncSessionClient": "client",
    "SessionClient": "client",
    "assert_memory": "assertions",
    "assert_transcript": "assertions",
    "ANY": "matchers",
    "Contains": "matchers",
    "Regex": "matchers",
    "WaitTimeout": "assertions.polling",
    "async_wait_until": "assertions.polling",
    "wait_until": "assertions.polling",
    "CassetteSession": "cassette",
    "FinishReport": "cassette",
    "RecordMode": "cassette",
    "ScrubConfig": "cassette",
    "RecordingTransport": "cassette.transports",
    "ReplayTransport": "cassette.transports",
    "TranscriptFileError": "assertions.transcript_file",
    "RecordedSession": "plugin.context",
    "EmulatorServer": "emulator.runner",
}

__all__ = [
    "ANY",
    "AsyncSessionClient",
    "AuthenticationError",
    "CassetteCorrupt",
    "CassetteDrift",
    "CassetteError",
    "CassetteNotFound",
    "CassetteSession",
    "ConfigError",
    "Contains",
    "EmulatorServer",
    "Fact",
    "FinishReport",
    "LLMCall",
    "Memory",
    "Message",
    "NetworkBlocked",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "RecordMode",
    "RecordedSession",
    "RecordingTransport",
    "Regex",
    "ReplayTransport",
    "Role",
    "ScrubConfig",
    "Session",
    "SessionClient",
    "SessionExpired",
    "SessionNotFound",
    "SessionmemError",
    "ToolCall",
    "Transcript",
    "TranscriptFileError",
    "UnguardedSubprocessWarning",
    "UnmatchedRequest",
    "UnsupportedOperation",
    "UnusedInteractionsWarning",
    "WaitTimeout",
    "__version__",
    "assert_memory",
    "assert_transcript",
    "async_wait_until",
    "wait_until",
]


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
    from pytest_sessionmem.assertions import (
        assert_memory,
        assert_transcript,
    )
    from pytest_sessionmem.assertions.polling import (
        WaitTimeout,
        async_wait_until,
        wait_until,
    )
    from pytest_sessionmem.assertions.transcript_file import (
        TranscriptFileError,
    )
    from pytest_sessionmem.cassette import (
        CassetteSession,
        FinishReport,
        RecordMode,
        ScrubConfig,
    )
    from pytest_sessionmem.cassette.transports import (
        RecordingTransport,
        ReplayTransport,
    )
    from pytest_sessionmem.client import (
        AsyncSessionClient,
        SessionClient,
    )
    from pytest_sessionmem.emulator.runner import (
        EmulatorServer,
    )
    from pytest_sessionmem.errors import (
        AuthenticationError,
        CassetteCorrupt,
        CassetteDrift,
        CassetteError,
        CassetteNotFound,
        ConfigError,
        NetworkBlocked,
        ProviderError,
        ProviderUnavailable,
        RateLimited,
        SessionExpired,
        SessionmemError,
        SessionNotFound,
        UnguardedSubprocessWarning,
        UnmatchedRequest,
        UnsupportedOperation,
        UnusedInteractionsWarning,
    )
    from pytest_sessionmem.matchers import (
        ANY,
        Contains,
        Regex,
    )
    from pytest_sessionmem.models import (
        Fact,
        LLMCall,
        Memory,
        Message,
        Role,
        Session,
        ToolCall,
        Transcript,
    )
    from pytest_sessionmem.plugin.context import (
        RecordedSession,
    )
