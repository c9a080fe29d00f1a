"""Every error pytest-sessionmem raises, under one root.

::

    SessionmemError
    ├── ProviderError              the provider answered badly (HTTP status or payload)
    │   ├── SessionNotFound        404: unknown session id
    │   ├── SessionExpired         410: the session timed out (ElizaOS answers 410 once, then 404)
    │   ├── AuthenticationError    401 / 403: missing or wrong API key
    │   ├── RateLimited            429: too many requests (``retry_after`` in seconds)
    │   └── ProviderUnavailable    no answer at all: connection refused or dropped, timeout
    ├── UnsupportedOperation       the provider has no such endpoint (memory outside Zep)
    ├── ConfigError                a bad option, marker argument or client argument
    ├── NetworkBlocked             a socket to a non-loopback host while a test replays
    └── CassetteError              record/replay problems
        ├── CassetteNotFound       replaying without a cassette file
        ├── CassetteCorrupt        the file is not a cassette this version can read
        ├── UnmatchedRequest       a request the cassette holds no answer for
        └── CassetteDrift          --sessionmem-verify: a live answer no longer has the recorded shape

``UnusedInteractionsWarning`` (a ``UserWarning``) reports cassette traffic a test no longer
makes; ``UnguardedSubprocessWarning`` (a ``UserWarning``) a subprocess started by a replaying
test, whose network the guard does not cover. Each message says what happened, to which request
(method and URL, with secrets removed) and how to fix it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "CassetteCorrupt",
    "CassetteDrift",
    "CassetteError",
    "CassetteNotFound",
    "ConfigError",
    "NetworkBlocked",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "SessionExpired",
    "SessionNotFound",
    "SessionmemError",
    "UnguardedSubprocessWarning",
    "UnmatchedRequest",
    "UnsupportedOperation",
    "UnusedInteractionsWarning",
]


class SessionmemError(Exception):
    """Root of every error this package raises."""


class ProviderError(SessionmemError):
    """The provider answered with an error status, or with a payload that does not fit its schema.

    ``status`` is ``None`` when the HTTP exchange succeeded but the body was unusable.
    ``detail`` carries the provider's own explanation (for 400/422 its validation detail).
    ``method`` and ``url`` name the request; ``url`` never contains a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        detail: Any = None,
        body: str | None = None,
    ) -> None:
        self.provider = provider
        self.method = method
        self.url = url
        self.status = status
        self.detail = detail
        self.body = body
        where = f" ({method} {url})" if method and url else ""
        super().__init__(f"{message}{where}")


class SessionNotFound(ProviderError):
    """404: the provider does not know this session."""


class SessionExpired(ProviderError):
    """410: the session existed but has expired (ElizaOS); later reads answer 404."""


class AuthenticationError(ProviderError):
    """401/403: the API key is missing, wrong, or lacks access."""


class RateLimited(ProviderError):
    """429 after the configured retries ran out. ``retry_after`` is the provider's hint, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ProviderUnavailable(ProviderError):
    """No usable answer: connection refused or dropped, or a timeout.

    ``original`` is the exception the HTTP library raised (an ``httpx.TransportError``). It is
    kept here rather than chained as ``__cause__``, so a failing test prints one error, not
    the library's tracebacks before it.
    """

    def __init__(
        self, message: str, *, original: BaseException | None = None, **kwargs: Any
    ) -> None:
        self.original = original
        super().__init__(message, **kwargs)


class UnsupportedOperation(SessionmemError):
    """The provider has no endpoint for this call (for example memory on Meibel or ElizaOS)."""


class ConfigError(SessionmemError, ValueError):
    """A bad option value, marker argument or client argument."""


class NetworkBlocked(SessionmemError):
    """A connection to a host other than loopback (or an allowed host) while a test replays.

    Raised before any DNS look-up or connect. ``host`` and ``port`` name where it was going;
    ``library`` the installed library (an SDK such as ``openai``) whose code opened the socket,
    ``None`` when no library was on the stack.
    """

    def __init__(
        self, message: str, *, host: str, port: int | None = None, library: str | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.library = library
        super().__init__(message)


class CassetteError(SessionmemError):
    """Base of the record/replay errors; ``path`` is the cassette file."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class CassetteNotFound(CassetteError):
    """Replay was asked for but the cassette file does not exist."""


class CassetteCorrupt(CassetteError):
    """The cassette file cannot be read: bad JSON, wrong shape, or a schema version we do not know."""


class UnmatchedRequest(CassetteError):
    """The cassette has no (unplayed) interaction for a request and recording is off."""


class CassetteDrift(CassetteError):
    """``--sessionmem-verify``: the live service answered with another shape than the cassette.

    ``interaction`` names the recorded interaction (its number and request), ``paths`` lists
    what changed (``messages[0].sentiment added``, ``status changed from 200 to 404``).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        interaction: str | None = None,
        paths: tuple[str, ...] = (),
    ) -> None:
        self.interaction = interaction
        self.paths = paths
        super().__init__(message, path=path)


class UnusedInteractionsWarning(UserWarning):
    """Recorded interactions a test did not play: the cassette holds traffic it no longer makes.

    A warning, not an error, by default; ``--sessionmem-unused=error`` makes it fail the test.
    """


class UnguardedSubprocessWarning(UserWarning):
    """A replaying test started a subprocess: the network guard covers this process only.

    Reported once per test, at the test. For a test whose subprocess needs no network:
    ``@pytest.mark.filterwarnings("ignore::pytest_sessionmem.UnguardedSubprocessWarning")``.
    """
