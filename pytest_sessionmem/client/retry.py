"""When to ask again, and how long to wait first.

* 429 and 5xx are retried for idempotent methods (GET, DELETE, ...), as are network
  errors.
* A POST is retried only on 429 and on failures to *connect*: a 5xx or a dropped
  connection after the request went out may mean the write already happened, and
  repeating it would duplicate messages.
* Other 4xx are never retried: asking again will not change the answer.
* Waits grow ``backoff * 2**attempt`` up to ``max_backoff``. A ``Retry-After`` header
  (seconds or HTTP date) replaces the computed wait. If it asks for longer than
  ``max_backoff`` the client does not wait at all but fails at once (the error carries
  ``retry_after``): silently stalling a test for minutes is worse than a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["RetryPolicy", "parse_retry_after"]

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

    def delay_after_response(
        self, request: httpx.Request, response: httpx.Response, attempt: int
    ) -> float | None:
        """Seconds to wait before asking again, or None to stop with this response."""
        status = response.status_code
        retryable = status == 429 or (status >= 500 and request.method in _IDEMPOTENT)
        if status < 400 or not retryable or attempt >= self.max_retries:
            return None
        hint = parse_retry_after(response.headers.get("retry-after"))
        if hint is None:
            return self.backoff_delay(attempt)
        return None if hint > self.max_backoff else hint  # fail fast rather than stall

    def delay_after_transport_error(
        self, request: httpx.Request, exc: httpx.TransportError, attempt: int
    ) -> float | None:
        """Seconds to wait before sending again, or None to give up."""
        # A connect failure means nothing was sent, so even a POST is safe to repeat.
        connect_failed = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        if not (request.method in _IDEMPOTENT or connect_failed) or attempt >= self.max_retries:
            return None
        return self.backoff_delay(attempt)


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
