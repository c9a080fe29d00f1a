"""The one HTTP path every client call takes: retries, backoff and error mapping.

Provider adapters are sans-IO generators (see :mod:`pytest_sessionmem.providers.base`):
they yield ``httpx.Request`` objects and receive ``httpx.Response`` objects. This module
drives such a generator with ``httpx.Client`` or ``httpx.AsyncClient``. The decisions
(retry or not, how long to wait, which error to raise) are plain functions shared by the
sync and the async driver, so both behave identically.

Retry policy, and why:

* 429 and 5xx are retried for idempotent methods (GET, DELETE, ...), as are network
  errors.
* A POST is retried only on 429 and on failures to *connect*: a 5xx or a dropped
  connection after the request went out may mean the write already happened, and
  repeating it would duplicate messages.
* Other 4xx are never retried: asking again will not change the answer.
* Waits grow ``backoff * 2**attempt`` up to ``max_backoff``. A ``Retry-After`` header
  (seconds or HTTP date) replaces the computed wait. If it asks for longer than
  ``max_backoff`` the client does not wait at all but raises :class:`RateLimited`
  (or the 5xx error) at once with ``retry_after`` set: silently stalling a test for
  minutes is worse than a clear error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from pytest_sessionmem.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SessionExpired,
    SessionmemError,
    SessionNotFound,
)
from pytest_sessionmem.providers.operation import ErrorInfo, Operation
from pytest_sessionmem.redaction import Redactor

T = TypeVar("T")

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; see the module docstring for the rules."""

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0

    def backoff_delay(self, attempt: int) -> float:
        """Wait before retry number ``attempt + 1`` (0-based), without a server hint."""
        return float(min(self.max_backoff, self.backoff * (2**attempt)))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class _Decision:
    """What to do after one attempt: wait ``delay`` and retry, or stop."""

    retry: bool
    delay: float = 0.0


class Exchange:
    """Sends one request with retries and turns failures into :mod:`errors` exceptions.

    Holds everything both drivers need: provider name, base URL (for messages),
    default headers, the retry policy and the secret redactor.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: dict[str, str],
        policy: RetryPolicy,
        redactor: Redactor,
        describe_error: Callable[[httpx.Response], ErrorInfo],
    ) -> None:
        self.provider = provider
        self.base_url = base_url
        self.headers = headers
        self.policy = policy
        self.redactor = redactor
        self.describe_error = describe_error

    # -- shared decisions -------------------------------------------------------------

    def prepare(self, request: httpx.Request) -> httpx.Request:
        for name, value in self.headers.items():
            request.headers.setdefault(name, value)
        return request

    def after_response(
        self, request: httpx.Request, response: httpx.Response, attempt: int
    ) -> _Decision:
        status = response.status_code
        if status < 400:
            return _Decision(retry=False)
        retryable = status == 429 or (status >= 500 and request.method in _IDEMPOTENT)
        if not retryable or attempt >= self.policy.max_retries:
            return _Decision(retry=False)
        hint = parse_retry_after(response.headers.get("retry-after"))
        if hint is None:
            return _Decision(retry=True, delay=self.policy.backoff_delay(attempt))
        if hint > self.policy.max_backoff:
            return _Decision(retry=False)  # see module docstring: fail fast, do not stall
        return _Decision(retry=True, delay=hint)

    def after_transport_error(
        self, request: httpx.Request, exc: httpx.TransportError, attempt: int
    ) -> _Decision:
        # A connect failure means nothing was sent, so even a POST is safe to repeat.
        connect_failed = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        safe = request.method in _IDEMPOTENT or connect_failed
        if not safe or attempt >= self.policy.max_retries:
            return _Decision(retry=False)
        return _Decision(retry=True, delay=self.policy.backoff_delay(attempt))

    def scrub(self, error: ProviderError) -> ProviderError:
        """Remove secrets from an error an adapter raised (it knows no key values)."""
        error.args = tuple(self.redactor.text(a) if isinstance(a, str) else a for a in error.args)
        if error.body is not None:
            error.body = self.redactor.text(error.body)
        if error.url is not None:
            error.url = self.redactor.url(error.url)
        error.detail = self.redactor.value(error.detail)
        return error

    def unavailable(self, request: httpx.Request, exc: httpx.TransportError) -> ProviderUnavailable:
        cause = self.redactor.text(str(exc) or type(exc).__name__)
        return ProviderUnavailable(
            f"could not reach {self.provider} at {self.redactor.url(self.base_url)}: {cause}; "
            "is the server running / is the base URL right?",
            provider=self.provider,
            method=request.method,
            url=self.redactor.url(request.url),
        )

    def error_for(self, request: httpx.Request, response: httpx.Response) -> ProviderError:
        """The typed error for a non-2xx response (after retries ran out)."""
        status = response.status_code
        info = self.describe_error(response)
        said = self.redactor.text(info.message) if info.message else None
        body = self.redactor.text(_body_text(response))
        what = f"{self.provider} answered {status} {response.reason_phrase}".rstrip()
        if said:
            what = f"{what}: {said}"
        kwargs: dict[str, Any] = {
            "provider": self.provider,
            "method": request.method,
            "url": self.redactor.url(request.url),
            "status": status,
            "detail": self.redactor.value(info.detail),
            "body": body,
        }
        if status in (401, 403):
            hint = "check the API key (api_key= or the provider's environment variable)"
            return AuthenticationError(f"{what}; {hint}", **kwargs)
        if status == 404 and info.code in (None, "SESSION_NOT_FOUND"):
            return SessionNotFound(f"{what}; check the session id (or it expired)", **kwargs)
        if status == 410:
            return SessionExpired(f"{what}; the session timed out, create a new one", **kwargs)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None and retry_after > self.policy.max_backoff:
                hint = (
                    f"the server asks to wait {retry_after:g}s, more than max_backoff="
                    f"{self.policy.max_backoff:g}s, so the client did not wait; retry later "
                    "or raise max_backoff"
                )
            else:
                hint = "retries exhausted; slow down or raise max_retries"
            return RateLimited(f"{what}; {hint}", retry_after=retry_after, **kwargs)
        return ProviderError(what, **kwargs)


def _body_text(response: httpx.Response, limit: int = 2000) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return text if len(text) <= limit else text[:limit] + "..."


def run_sync(
    operation: Operation[T],
    *,
    exchange: Exchange,
    client: httpx.Client,
    sleep: Callable[[float], None],
) -> T:
    """Drive ``operation`` over a sync client; returns what the operation returns."""
    response: httpx.Response | None = None
    while True:
        try:
            request = operation.send(response)  # type: ignore[arg-type]  # first send must be None
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except ProviderError as error:  # a payload that did not fit
            raise exchange.scrub(error) from error.__cause__
        response = _send_sync(exchange, client, exchange.prepare(request), sleep)


def _send_sync(
    exchange: Exchange, client: httpx.Client, request: httpx.Request, sleep: Callable[[float], None]
) -> httpx.Response:
    attempt = 0
    while True:
        try:
            response = client.send(request)
        except SessionmemError:
            raise  # e.g. a cassette miss from a replay transport: already the right error
        except httpx.TransportError as exc:
            decision = exchange.after_transport_error(request, exc, attempt)
            if not decision.retry:
                raise exchange.unavailable(request, exc) from exc
        else:
            decision = exchange.after_response(request, response, attempt)
            if not decision.retry:
                if response.status_code >= 400:
                    raise exchange.error_for(request, response)
                return response
            response.close()
        sleep(decision.delay)
        attempt += 1


async def run_async(
    operation: Operation[T],
    *,
    exchange: Exchange,
    client: httpx.AsyncClient,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Drive ``operation`` over an async client; the same decisions as :func:`run_sync`."""
    response: httpx.Response | None = None
    while True:
        try:
            request = operation.send(response)  # type: ignore[arg-type]
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except ProviderError as error:
            raise exchange.scrub(error) from error.__cause__
        response = await _send_async(exchange, client, exchange.prepare(request), sleep)


async def _send_async(
    exchange: Exchange,
    client: httpx.AsyncClient,
    request: httpx.Request,
    sleep: Callable[[float], Awaitable[None]],
) -> httpx.Response:
    attempt = 0
    while True:
        try:
            response = await client.send(request)
        except SessionmemError:
            raise
        except httpx.TransportError as exc:
            decision = exchange.after_transport_error(request, exc, attempt)
            if not decision.retry:
                raise exchange.unavailable(request, exc) from exc
        else:
            decision = exchange.after_response(request, response, attempt)
            if not decision.retry:
                if response.status_code >= 400:
                    raise exchange.error_for(request, response)
                return response
            await response.aclose()
        await sleep(decision.delay)
        attempt += 1
