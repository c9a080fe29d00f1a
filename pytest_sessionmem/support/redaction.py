"""The one way secret values are replaced, in error messages and in everything written.

A secret becomes a placeholder in angle brackets: ``<ZEP_API_KEY>`` when its name is
known (the environment variable it came from), ``<REDACTED>`` otherwise. Each secret is
found in every form it takes on its way through URLs, headers and bodies:

* raw;
* percent-encoded, whichever characters an encoder left as they are (``/`` escaped as
  ``%2F`` or not, hex digits in either case);
* ``+`` for a space, and what a form decoder makes of a ``+`` in the secret (a space);
* JSON-escaped (``\\"``, ``\\/``, ``\\u00e9``), also when that JSON sits in a JSON string;
* base64-encoded inside a longer value, such as Basic auth's ``user:secret``: the whole
  base64 run that holds it is replaced.

Secrets are tried longest first, so a secret that contains another is replaced whole.
:mod:`pytest_sessionmem.cassette.scrub` applies this to recordings, ``sessionmem lint``
looks for the same forms, and the clients apply it to error messages.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "Redactor", "SecretMatch"]

REDACTED = "<REDACTED>"

# Query parameters that carry credentials in some APIs; none of ours do, but a user
# may paste such a URL as base_url and it must not leak into an error message.
_SECRET_QUERY = re.compile(r"(key|token|secret|password|auth|signature)", re.IGNORECASE)

# Characters no percent-encoder or JSON writer changes.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_JSON_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
# A secret shorter than this is not looked for inside base64: its encoded core would be a
# few characters that could turn up by chance in any base64 data.
_BASE64_MIN_LENGTH = 8
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")


class SecretMatch(NamedTuple):
    """Where one form of one secret sits in a text."""

    start: int
    end: int
    placeholder: str
    """``<NAME>`` of the secret found, or ``<REDACTED>``."""
    base64: bool
    """Found base64-encoded (the span is the whole base64 run)."""


def _hex_digits(number: int, width: int) -> str:
    """``number`` in hex, each letter matching either case."""
    return "".join(
        f"[{digit}{digit.lower()}]" if digit.isalpha() else digit for digit in f"{number:0{width}X}"
    )


def _char_pattern(char: str) -> str:
    """A regex for one character of a secret, in each form it may be written in."""
    if char in _UNRESERVED:
        return re.escape(char)
    options = [re.escape(char), "".join("%" + _hex_digits(b, 2) for b in char.encode())]
    # A JSON escape's backslash may itself be escaped, once per level of JSON in a string
    # (a JSON text body stored in a JSON cassette).
    if char in _JSON_SHORT_ESCAPES:
        options.append(r"\\+" + re.escape(_JSON_SHORT_ESCAPES[char][1]))
    code = ord(char)
    units: tuple[int, ...]
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        code -= 0x10000
        units = (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    else:
        units = (code,)
    options.append("".join(r"\\+u" + _hex_digits(unit, 4) for unit in units))
    if char == "+":
        # A form decoder reads "+" as a space, and an encoder may write that space as %20.
        options += [" ", "%20"]
    elif char == " ":
        options.append(re.escape("+"))
    return "(?:" + "|".join(options) + ")"


def _base64_cores(value: str) -> list[str]:
    """What base64 text holds ``value`` wherever it sits in the encoded bytes.

    Base64 writes 3 bytes as 4 characters, so the characters that stand for ``value``
    depend on its offset modulo 3; for each offset, the characters encoding only bytes of
    ``value`` are the same whatever surrounds it. Standard and URL-safe alphabets.
    """
    data = value.encode("utf-8")
    if len(data) < _BASE64_MIN_LENGTH:
        return []
    cores: list[str] = []
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode("ascii")
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(data)) // 6]
        cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return list(dict.fromkeys(cores))


class _Secret(NamedTuple):
    """One secret's patterns, and the literal text each of their matches must contain."""

    placeholder: str
    plain: re.Pattern[str]
    anchor: str
    encoded: re.Pattern[str] | None
    encoded_anchors: tuple[str, ...]


def _longest_run(text: str, allowed: frozenset[str]) -> str:
    """The longest stretch of ``text`` made of ``allowed`` characters."""
    runs = re.split("[^" + re.escape("".join(sorted(allowed))) + "]", text)
    return max(runs, key=len)


_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def _secret(placeholder: str, value: str) -> _Secret:
    cores = _base64_cores(value)
    encoded = (
        re.compile("|".join("".join(map(_char_pattern, core)) for core in cores)) if cores else None
    )
    return _Secret(
        placeholder=placeholder,
        plain=re.compile("".join(map(_char_pattern, value))),
        # No form changes an unreserved character, so every match holds these verbatim:
        # a substring search rules out most texts before any regex runs.
        anchor=_longest_run(value, _UNRESERVED),
        encoded=encoded,
        encoded_anchors=tuple(dict.fromkeys(_longest_run(core, _ALNUM) for core in cores)),
    )


def _base64_run(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole run of base64 characters (and its padding) around ``text[start:end]``."""
    while start > 0 and text[start - 1] in _BASE64_CHARS:
        start -= 1
    while end < len(text) and text[end] in _BASE64_CHARS:
        end += 1
    while end < len(text) and text[end] == "=":
        end += 1
    return start, end


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
        ordered = sorted(((p, v) for p, v in named if v), key=lambda item: -len(item[1]))
        self._secrets = [_secret(placeholder, value) for placeholder, value in ordered]

    def __bool__(self) -> bool:
        """Whether there is any secret to look for."""
        return bool(self._secrets)

    def found(self, text: str) -> bool:
        """Whether ``text`` holds any secret in any form."""
        return next(self.matches(text), None) is not None

    def matches(self, text: str) -> Iterator[SecretMatch]:
        """Every secret in ``text``, left to right, never overlapping.

        Where two overlap, the one starting first wins, and of two starting together the
        longer: a secret that contains another is replaced whole.
        """
        found: list[SecretMatch] = []
        for secret in self._secrets:
            if secret.anchor in text:
                for m in secret.plain.finditer(text):
                    found.append(SecretMatch(m.start(), m.end(), secret.placeholder, False))
            if secret.encoded is None:
                continue
            for anchor in secret.encoded_anchors:
                if anchor in text:
                    for m in secret.encoded.finditer(text):
                        start, end = _base64_run(text, m.start(), m.end())
                        found.append(SecretMatch(start, end, secret.placeholder, True))
                    break
        if not found:
            return
        done = 0
        for match in sorted(found, key=lambda m: (m.start, -m.end)):
            if match.start >= done:
                done = match.end
                yield match

    def text(self, value: str) -> str:
        if not self._secrets:
            return value
        parts: list[str] = []
        done = 0
        for match in self.matches(value):
            parts += [value[done : match.start], match.placeholder]
            done = match.end
        if not parts:
            return value
        parts.append(value[done:])
        return "".join(parts)

    def data(self, value: bytes) -> bytes:
        """Raw bytes (a binary body) with every secret form replaced."""
        if not self._secrets:
            return value
        text = value.decode("utf-8", "surrogateescape")
        return self.text(text).encode("utf-8", "surrogateescape")

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
