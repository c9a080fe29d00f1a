"""The one way secret values are replaced, in error messages and in everything written.

A secret becomes a placeholder in angle brackets: ``<ZEP_API_KEY>`` when its name is
known (the environment variable it came from), ``<REDACTED>`` otherwise. Each secret is
found in its raw, URL-quoted and JSON-escaped forms, longest first, so a secret that
contains another is replaced whole. :mod:`pytest_sessionmem.cassette.scrub` applies this
to recordings; the clients apply it to error messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "Redactor"]

REDACTED = "<REDACTED>"

# Query parameters that carry credentials in some APIs; none of ours do, but a user
# may paste such a URL as base_url and it must not leak into an error message.
_SECRET_QUERY = re.compile(r"(key|token|secret|password|auth|signature)", re.IGNORECASE)


class Redactor:
    """Replaces secret values by placeholders in text, nested values and URLs.

    ``secrets`` maps a name to its value (``{"ZEP_API_KEY": "z_..."}``), or is a plain
    list of values; unset (empty or ``None``) values are skipped, so they never replace
    the empty string everywhere.
    """

    def __init__(self, secrets: Mapping[str, str | None] | Iterable[str | None] = ()) -> None:
        named = (
            [(f"<{name}>", value) for name, value in secrets.items()]
            if isinstance(secrets, Mapping)
            else [(REDACTED, value) for value in secrets]
        )
        self._replacements: list[tuple[str, str]] = []
        for placeholder, value in sorted(
            ((p, v) for p, v in named if v), key=lambda item: -len(item[1])
        ):
            for form in dict.fromkeys((value, quote(value, safe=""), json.dumps(value)[1:-1])):
                self._replacements.append((form, placeholder))

    @property
    def forms(self) -> tuple[str, ...]:
        """Every literal string :meth:`text` replaces (each secret in each of its forms)."""
        return tuple(form for form, _ in self._replacements)

    def text(self, value: str) -> str:
        for secret, placeholder in self._replacements:
            value = value.replace(secret, placeholder)
        return value

    def data(self, value: bytes) -> bytes:
        """Raw bytes (a binary body) with every secret form replaced."""
        for secret, placeholder in self._replacements:
            value = value.replace(secret.encode("utf-8"), placeholder.encode("utf-8"))
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
        """``url`` without user:password, secret-named query values, or secret values."""
        parts = urlsplit(str(url))
        netloc = parts.netloc.rpartition("@")[2]  # drop user:password@
        query = urlencode(
            [
                (k, REDACTED if _SECRET_QUERY.search(k) else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="<>",
        )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
