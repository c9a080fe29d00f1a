"""Scrubbing: what is removed or masked before a request or response is stored or matched.

Applied to every recorded request and response before it reaches disk, and to every
incoming request before matching, so a replay without the real API key (or with a
different one) still matches the scrubbed recording.

What happens, in order:

1. Headers: credentials (:data:`ALWAYS_DROPPED_HEADERS`) are always dropped, as are the
   configured ``headers`` and any header whose value *is* a configured secret. Of the rest,
   only a small allow-list is kept (:data:`KEPT_REQUEST_HEADERS`, :data:`KEPT_RESPONSE_HEADERS`,
   plus ``keep_headers``): the file stays small and reviewable and cannot leak a header
   nobody thought of.
2. Query parameters named in ``query_params`` get the value ``<REDACTED>``.
3. JSON bodies: values at ``json_paths`` (dotted, ``*`` for any key or list item) become
   ``<REDACTED>``.
4. Everywhere (URL path, query, header values, JSON keys and strings, text and binary
   bodies): every occurrence of a configured secret becomes ``<NAME>``, in every form
   :class:`~pytest_sessionmem.support.redaction.Redactor` knows (raw, percent-encoded, ``+`` for a
   space, JSON-escaped, base64 as in Basic auth), and every match of a configured regex
   becomes ``<REDACTED>``. Binary bodies get the secret replacement only.
5. With ``pii=True``: every e-mail address becomes ``<EMAIL_n>`` and every phone number
   ``<PHONE_n>``, numbered by first appearance. One :class:`Redactor` serves one cassette,
   so the same value gets the same placeholder everywhere in that cassette.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from pytest_sessionmem.cassette.schema import Body, Pairs, RecordedRequest, RecordedResponse
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.support.patterns import CREDENTIAL_HEADERS, EMAIL, PHONE
from pytest_sessionmem.support.redaction import REDACTED, Redactor

__all__ = [
    "ALWAYS_DROPPED_HEADERS",
    "KEPT_REQUEST_HEADERS",
    "KEPT_RESPONSE_HEADERS",
    "REDACTED",
    "ScrubConfig",
    "Scrubber",
    "check_pattern",
]


#: Credentials of the providers, the LLM APIs and the usual HTTP ones; cannot be switched off.
ALWAYS_DROPPED_HEADERS = frozenset(CREDENTIAL_HEADERS)
#: Request headers worth keeping: the body's encoding.
KEPT_REQUEST_HEADERS = frozenset({"content-type"})
#: Response headers clients act on: parsing, redirects, back-off.
KEPT_RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "location",
        "retry-after",
        "retry-after-ms",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        # the OpenAI and Anthropic SDKs retry, or not, as this says
        "x-should-retry",
    }
)

_PLACEHOLDER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def check_pattern(pattern: str, what: str = "Scrub pattern") -> None:
    """Raise :class:`ConfigError` unless ``pattern`` compiles; the message starts with ``what``."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{what} {pattern!r} is not a valid regex: {exc}.") from None


@dataclass(frozen=True)
class ScrubConfig:
    """What to scrub on top of the credential headers that are always dropped.

    ``headers``: extra header names to drop (case-insensitive). ``query_params``: query
    parameters whose values become ``<REDACTED>``. ``json_paths``: dotted paths into JSON
    bodies, ``*`` for any list item or key (``"messages.*.metadata.email"``).
    ``patterns``: regexes replaced by ``<REDACTED>`` anywhere in URLs, headers and bodies.
    ``secrets``: placeholder name -> secret value; every occurrence becomes ``<NAME>``.
    ``keep_headers``: extra header names to keep in the file (never a credential header).
    ``pii``: replace e-mail addresses and phone numbers with stable placeholders.
    """

    headers: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    json_paths: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    keep_headers: tuple[str, ...] = ()
    pii: bool = False

    def __post_init__(self) -> None:
        for name in self.secrets:
            if not _PLACEHOLDER_NAME.match(name):
                raise ConfigError(
                    f"Secret placeholder name {name!r} is not usable; use letters, digits and "
                    "underscores, such as 'ZEP_API_KEY'."
                )
        for pattern in self.patterns:
            check_pattern(pattern)
            if re.fullmatch(pattern, ""):
                raise ConfigError(
                    f"Scrub pattern {pattern!r} matches the empty string, so it would insert "
                    f"{REDACTED} between every character; make it match at least one character."
                )
        for path in self.json_paths:
            if not path or "" in path.split("."):
                raise ConfigError(
                    f"JSON path {path!r} is not a dotted path such as 'messages.*.content'."
                )
        credentials = sorted({h.lower() for h in self.keep_headers} & ALWAYS_DROPPED_HEADERS)
        if credentials:
            raise ConfigError(
                f"keep_headers lists {credentials[0]!r}, a credential header that is never written "
                "to a cassette; remove it from keep_headers."
            )


class Scrubber:
    """Applies one :class:`ScrubConfig` to recorded requests and responses (pure, no I/O)."""

    def __init__(self, config: ScrubConfig) -> None:
        self._config = config
        self._dropped = ALWAYS_DROPPED_HEADERS | {h.lower() for h in config.headers}
        self._kept_extra = frozenset(h.lower() for h in config.keep_headers)
        self._masked_params = frozenset(config.query_params)
        self._patterns = [re.compile(p) for p in config.patterns]
        self._json_paths = [tuple(p.split(".")) for p in config.json_paths]
        self._secret_values = {value for value in config.secrets.values() if value}
        self._secrets = Redactor(config.secrets)
        self._pii = config.pii
        self._pii_placeholders: dict[tuple[str, str], str] = {}
        self._pii_counts: dict[str, int] = {}

    def text(self, value: str) -> str:
        """Secrets to placeholders, then regex matches to ``<REDACTED>``."""
        value = self._secrets.text(value)
        for pattern in self._patterns:
            value = pattern.sub(REDACTED, value)
        if self._pii:
            value = EMAIL.sub(lambda m: self._pii_placeholder("EMAIL", m.group()), value)
            value = PHONE.sub(lambda m: self._pii_placeholder("PHONE", m.group()), value)
        return value

    def _pii_placeholder(self, kind: str, found: str) -> str:
        key = (kind, found.lower() if kind == "EMAIL" else re.sub(r"\D", "", found))
        placeholder = self._pii_placeholders.get(key)
        if placeholder is None:
            number = self._pii_counts[kind] = self._pii_counts.get(kind, 0) + 1
            placeholder = self._pii_placeholders[key] = f"<{kind}_{number}>"
        return placeholder

    def request(self, request: RecordedRequest) -> RecordedRequest:
        """The stored (and matched) form of a request."""
        query = tuple(
            (self.text(key), REDACTED if key in self._masked_params else self.text(value))
            for key, value in request.query
        )
        return replace(
            request,
            origin=self.text(request.origin) if request.origin else "",
            path=self.text(request.path),
            query=query,
            headers=self._headers(request.headers, KEPT_REQUEST_HEADERS),
            body=self._body(request.body),
        )

    def response(self, response: RecordedResponse) -> RecordedResponse:
        """The stored form of a response."""
        return replace(
            response,
            headers=self._headers(response.headers, KEPT_RESPONSE_HEADERS),
            body=self._body(response.body),
        )

    def _headers(self, headers: Pairs, allowed: frozenset[str]) -> Pairs:
        kept: list[tuple[str, str]] = []
        for raw_name, value in headers:
            name = raw_name.lower()
            if name in self._dropped or value.strip() in self._secret_values:
                continue
            if name in allowed or name in self._kept_extra:
                kept.append((name, self.text(value)))
        return tuple(sorted(kept))

    def _body(self, body: Body) -> Body:
        if body.kind == "json":
            masked = body.value
            for path in self._json_paths:
                masked = _mask_path(masked, path)
            if not self._json_needs_walk(masked):
                return body if masked is body.value else Body("json", masked)
            return Body("json", self._json_strings(masked))
        if body.kind == "text":
            return Body("text", self.text(str(body.value)))
        if body.kind == "base64":
            return Body("base64", self._secrets.data(bytes(body.value)))
        return body

    def value(self, value: Any) -> Any:
        """Every string in ``value`` (nested lists and dicts, keys too) through :meth:`text`."""
        return self._json_strings(value)

    def _json_needs_walk(self, value: Any) -> bool:
        """False when no string or key of ``value`` holds anything to replace.

        Decided on the compact JSON text of the whole value: JSON escapes character by
        character, and the secrets are looked for in their JSON-escaped forms too, so a
        string containing a secret shows it in that text.
        (A false alarm only costs the walk.) Regexes and personal-data scrubbing are always
        applied by the walk.
        """
        if self._patterns or self._pii:
            return True
        if not self._secrets:
            return False
        try:
            text = orjson.dumps(value).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            return True
        return self._secrets.found(text)

    def _json_strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._json_strings(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key): self._json_strings(item) for key, item in value.items()}
        return value


def _mask_path(value: Any, path: tuple[str, ...]) -> Any:
    """A copy of ``value`` with whatever sits at ``path`` replaced by ``<REDACTED>``."""
    if not path:
        return REDACTED
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {
            key: _mask_path(item, rest) if head in ("*", key) else item
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _mask_path(item, rest) if head == "*" or head == str(index) else item
            for index, item in enumerate(value)
        ]
    return value  # the path does not exist in this body: nothing to mask
