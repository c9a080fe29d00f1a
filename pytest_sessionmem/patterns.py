"""Shapes of secrets and personal data, shared by the cassette scrubber and ``sessionmem lint``.

Pure regular expressions, no I/O. Placeholders the product writes itself (``<REDACTED>``,
``<ZEP_API_KEY>``, ``<EMAIL_1>``, ``[REDACTED]``) never match a secret shape.
"""

from __future__ import annotations

import re

__all__ = [
    "CREDENTIAL_HEADERS",
    "EMAIL",
    "PHONE",
    "PLACEHOLDER",
    "SECRET_SHAPES",
    "is_placeholder",
]

#: Header names whose value is a credential; a cassette must never hold their values.
CREDENTIAL_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "meibel-api-key",
)

#: What the product writes in place of a removed value.
PLACEHOLDER = re.compile(r"^(?:<[A-Za-z_][A-Za-z0-9_.-]*>|\[REDACTED\]|\*+)$")

_TOKEN = r"[A-Za-z0-9._~+/=-]"

#: (name, pattern) of values shaped like a credential. The match is the secret itself.
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Zep Cloud project keys start with "z_"; Zep's header scheme is "Api-Key <key>".
    ("Zep API key", re.compile(r"(?<![A-Za-z0-9_])z_[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*")),
    ("Zep Api-Key credential", re.compile(rf"\bApi-Key\s+(?![<\[*]){_TOKEN}{{8,}}")),
    # Meibel sends its key in the Meibel-API-Key header; in bodies and text it shows up
    # next to its name (MEIBEL_API_KEY=..., "meibel_api_key": "...").
    (
        "Meibel API key",
        re.compile(
            r"(?i)meibel[-_]?api[-_]?key(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?"
            r"(?![<\[*])[A-Za-z0-9._~+/=-]{8,}"
        ),
    ),
    ("bearer token", re.compile(rf"\bBearer\s+(?![<\[*]){_TOKEN}{{8,}}")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    (
        "API key (sk-/pk- shape)",
        re.compile(r"(?<![A-Za-z0-9_-])(?:sk|pk|rk)[-_](?:[a-z]+[-_])?[A-Za-z0-9]{24,}"),
    ),
    (
        "credential-named value",
        re.compile(
            r"(?i)\"(?:api[-_]?key|apikey|access[-_]?token|auth[-_]?token|refresh[-_]?token|"
            r"client[-_]?secret|secret[-_]?key|password)\"\s*:\s*\"(?![<\[*])[^\"]{8,}\""
        ),
    ),
)

#: An e-mail address.
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)

#: A phone number written with separators (``+1 415 555 0100``, ``(030) 1234-5678``), which
#: keeps dates, epoch timestamps, ids and version numbers out.
PHONE = re.compile(
    r"(?<![\w.+-])"
    r"(?:\+\d{1,3}[ .-]?)?"
    r"(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])"
    r"\d{2,4}[ .-]\d{3,4}"
    r"(?![\w-]|\.\d)"
)


def is_placeholder(value: str) -> bool:
    """True for values the product wrote in place of a secret (``<REDACTED>``, ``<EMAIL_1>``)."""
    return not value.strip() or bool(PLACEHOLDER.match(value.strip()))
