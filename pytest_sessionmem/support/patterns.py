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
#: ``x-api-key``: Anthropic, ElizaOS, LangGraph; ``api-key``: Azure OpenAI;
#: ``x-goog-api-key``: Google's Gemini API.
CREDENTIAL_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "meibel-api-key",
)

_REMOVED = r"(?:<[A-Za-z_][A-Za-z0-9_.-]*>|\[REDACTED\]|\*+)"
#: What the product writes in place of a removed value.
PLACEHOLDER = re.compile(rf"^{_REMOVED}$")
_COOKIE_ATTRIBUTE = (
    r"(?i:(?:path|domain|expires|max-age|samesite)=[^;]*|secure|httponly|partitioned)"
)
# A credential header's value once scrubbed: a scheme before the placeholder
# (``Api-Key <ZEP_API_KEY>``, ``Basic <REDACTED>``), or cookies whose values are placeholders.
_SCRUBBED_CREDENTIAL = re.compile(
    rf"(?:[A-Za-z][A-Za-z0-9_-]*\s+)?{_REMOVED}"
    rf"|[^\s=;]+={_REMOVED}(?:;\s*(?:[^\s=;]+={_REMOVED}|{_COOKIE_ATTRIBUTE}))*"
)
# The angle brackets of a placeholder as JSON, a URL or HTML escape them.
_ANGLE_ESCAPE = re.compile(r"(?i)\\u003[ce]|%3[ce]|&[lg]t;")

_TOKEN = r"[A-Za-z0-9._~+/=-]"
# Where a key starts: not inside a longer word or key.
_START = r"(?<![A-Za-z0-9_-])"
_KEY = r"[A-Za-z0-9_-]"

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
    # The LLM APIs' keys, as issued: each before the generic sk- shape, which would take it.
    # Anthropic: sk-ant-api03-<93 characters> (and sk-ant-admin01-, sk-ant-oat01-).
    ("Anthropic API key", re.compile(rf"{_START}sk-ant-[a-z]+[0-9]*-{_KEY}{{20,}}")),
    # OpenAI: sk-proj-, sk-svcacct-, sk-admin- and more than 100 characters.
    (
        "OpenAI API key",
        re.compile(rf"{_START}sk-(?:proj|svcacct|admin|None)-{_KEY}{{20,}}"),
    ),
    ("Google API key", re.compile(rf"{_START}AIza[A-Za-z0-9_-]{{35}}")),
    ("Groq API key", re.compile(rf"{_START}gsk_[A-Za-z0-9]{{20,}}")),
    ("xAI API key", re.compile(rf"{_START}xai-[A-Za-z0-9]{{20,}}")),
    ("Perplexity API key", re.compile(rf"{_START}pplx-[A-Za-z0-9]{{20,}}")),
    ("Hugging Face token", re.compile(rf"{_START}hf_[A-Za-z0-9]{{30,}}")),
    ("Replicate API token", re.compile(rf"{_START}r8_[A-Za-z0-9]{{20,}}")),
    ("LangSmith API key", re.compile(rf"{_START}lsv2_(?:pt|sk)_[0-9a-f]{{32}}_[0-9a-f]{{10}}")),
    # Legacy OpenAI keys (sk- and 48 characters), DeepSeek, OpenRouter (sk-or-v1-), Stripe
    # (sk_live_): sk-, pk- or rk- and 16 or more key characters, at least one a digit.
    (
        "API key (sk-/pk- shape)",
        re.compile(rf"{_START}(?:sk|pk|rk)[-_](?=[A-Za-z_-]*[0-9]){_KEY}{{16,}}"),
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
    """True for values the product wrote in place of a secret (``<REDACTED>``, ``<EMAIL_1>``).

    A credential header's value counts when only its secret was replaced: ``Api-Key
    <ZEP_API_KEY>`` or ``Bearer <OPENAI_API_KEY>`` (a server echoing the header it got), or
    ``sid=<REDACTED>; Path=/`` (a cookie).
    """
    value = _ANGLE_ESCAPE.sub(
        lambda m: "<" if m.group().lower() in ("\\u003c", "%3c", "&lt;") else ">", value.strip()
    )
    return not value or bool(_SCRUBBED_CREDENTIAL.fullmatch(value))
