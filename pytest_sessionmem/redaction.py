"""Removing secret values from text, values and URLs before they reach an error message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

# Query parameters that carry credentials in some APIs; none of ours do, but a user
# may paste such a URL as base_url and it must not leak into an error message.
_SECRET_QUERY = re.compile(r"(key|token|secret|password|auth|signature)", re.IGNORECASE)

class Redactor:
    """Removes secret values from URLs and text before they reach an error message."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return value

    def value(self, value: Any) -> Any:
        """``value`` with secrets removed from every string inside it (for error ``detail``)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value

    def url(self, url: object) -> str:
        parts = urlsplit(str(url))
        netloc = parts.netloc.rpartition("@")[2]  # drop user:password@
        query = urlencode(
            [
                (k, REDACTED if _SECRET_QUERY.search(k) else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="[]",
        )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
