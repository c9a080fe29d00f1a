"""Turning a failed call into one typed error, with every secret removed from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from pytest_sessionmem.client.retry import parse_retry_after
from pytest_sessionmem.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SessionExpired,
    SessionNotFound,
)
from pytest_sessionmem.providers.operation import ErrorInfo
from pytest_sessionmem.providers.registry import provider_spec
from pytest_sessionmem.support.redaction import Redactor

__all__ = ["ErrorMapper"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ErrorMapper:
    """Builds the error for a non-2xx answer or a network fault of one provider."""

    provider: str
    base_url: str
    redactor: Redactor
    describe_error: Callable[[httpx.Response], ErrorInfo]
    max_backoff: float

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
        # httpx's own texts end with a full stop ("... without sending a response."), which
        # does not belong inside the parentheses.
        cause = self.redactor.text(str(exc) or type(exc).__name__).rstrip(".")
        return ProviderUnavailable(
            f"could not reach {self.provider} at {self.redactor.url(self.base_url)} ({cause}): "
            "start the server there, or point base_url at one that runs",
            provider=self.provider,
            method=request.method,
            url=self.redactor.url(request.url),
            original=exc,
        )

    def error_for(self, request: httpx.Request, response: httpx.Response) -> ProviderError:
        """The typed error for a non-2xx response (after retries ran out)."""
        status = response.status_code
        info = self.describe_error(response)
        said = self.redactor.text(info.message) if info.message else None
        what = f"{self.provider} answered {status} {response.reason_phrase}".rstrip()
        if said:
            what = f"{what}: {said}"
        kwargs: dict[str, Any] = {
            "provider": self.provider,
            "method": request.method,
            "url": self.redactor.url(request.url),
            "status": status,
            "detail": self.redactor.value(info.detail),
            "body": self.redactor.text(_body_text(response)),
        }
        if status in (401, 403):
            return AuthenticationError(f"{what}; {self._key_hint(request)}", **kwargs)
        if status == 404 and info.code in (None, "SESSION_NOT_FOUND"):
            return SessionNotFound(f"{what}; check the session id (or it expired)", **kwargs)
        if status == 410:
            return SessionExpired(f"{what}; the session timed out, create a new one", **kwargs)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None and retry_after > self.max_backoff:
                hint = (
                    f"the server asks to wait {retry_after:g}s, more than max_backoff="
                    f"{self.max_backoff:g}s, so the client did not wait; retry later "
                    "or raise max_backoff"
                )
            else:
                hint = "retries exhausted; slow down or raise max_retries"
            return RateLimited(f"{what}; {hint}", retry_after=retry_after, **kwargs)
        return ProviderError(what, **kwargs)

    def _key_hint(self, request: httpx.Request) -> str:
        """Which key variable, sent or not, and the service that refused it."""
        spec = provider_spec(self.provider)
        service = self.redactor.url(self.base_url)
        if request.headers.get(spec.auth_header):
            return (
                f"the key sent to {service} (from {spec.api_key_env}, or the client's "
                f"api_key=) was refused: check that {spec.api_key_env} holds a valid key for "
                "that service"
            )
        return (
            f"no key was sent to {service}: set {spec.api_key_env} to your key (or pass "
            "api_key= to the client)"
        )


def _body_text(response: httpx.Response, limit: int = 2000) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return text if len(text) <= limit else text[:limit] + "..."
