"""The cassette file format, version 1, and its conversion to and from plain JSON values.

A cassette is one JSON document per test::

    {
      "version": 1,
      "recorded_with": "pytest-sessionmem",
      "base_url": "http://127.0.0.1/zep/api/v2",
      "recorded_against": "emulator",   # or "service"; absent in older files
      "interactions": [
        {
          "request": {
            "method": "GET",
            "path": "/sessions/s1/messages",        # relative to base_url
            "query": {"cursor": "1", "limit": "100"},  # a list value when a key repeats
            "headers": {"content-type": "application/json"},
            "json": {}                  # or "text": "...", or "base64": "...", or absent
          },
          "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "json": {"messages": [], "row_count": 0}
          }
        }
      ]
    }

A request to any other host (an LLM API, say) also stores its ``origin``
(``"https://api.openai.com"``: scheme, host and the port when it is not the scheme's
default) and its full path; the provider's own requests have no ``origin`` and replay
against any base URL.

``recorded_against`` says where the interactions came from: the embedded emulator, or a
real service. Error messages use it to print a record command that works when copied.

Exactly one of ``json`` / ``text`` / ``base64`` holds a non-empty body; the key names the
encoding, so a reader never has to guess. The document carries no timestamps or durations:
recording the same traffic twice gives the same bytes. A cassette nests objects and lists
at most ``jsonfast.MAX_DEPTH`` (254) levels deep; a JSON body that would go deeper is kept
under ``text``, as it was sent.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_sessionmem.errors import CassetteCorrupt
from pytest_sessionmem.support.jsonfast import MAX_DEPTH, dumps_compact, loads, nests_within

__all__ = [
    "SCHEMA_VERSION",
    "Body",
    "Cassette",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "cassette_from_data",
    "cassette_to_data",
]

SCHEMA_VERSION = 1
RECORDED_WITH = "pytest-sessionmem"

# A JSON body sits four levels deep in a cassette (the document, "interactions", the
# interaction, its request or response); a deeper body is stored as text.
MAX_BODY_DEPTH = MAX_DEPTH - 4

BodyKind = Literal["empty", "json", "text", "base64"]
_BODY_KEYS: tuple[BodyKind, ...] = ("json", "text", "base64")

Pairs = tuple[tuple[str, str], ...]


def _looks_like_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


@dataclass(frozen=True)
class Body:
    """A request or response body, kept in the most readable lossless form.

    ``value`` is a parsed JSON structure (``json``), a ``str`` (``text``), ``bytes``
    (``base64``) or ``None`` (``empty``).
    """

    kind: BodyKind
    value: Any = None

    @classmethod
    def from_bytes(cls, content: bytes, content_type: str = "") -> Body:
        """Classify bytes: JSON if declared (or undeclared and an object/array), text, or binary."""
        if not content:
            return cls("empty")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return cls("base64", content)
        if _looks_like_json(content_type) or (not content_type and text.lstrip()[:1] in "[{"):
            try:
                parsed = loads(content, text)
            except (ValueError, RecursionError):
                pass
            else:
                # Nested deeper than a cassette may hold it: kept as the text it is.
                if nests_within(parsed, MAX_BODY_DEPTH):
                    return cls("json", parsed)
        return cls("text", text)

    def to_bytes(self, *, standard_json: bool = False) -> bytes:
        """The bytes to send (replayed response) for this body.

        ``standard_json=True`` promises a JSON value holds no ``NaN`` or infinity (it was
        read from standard JSON), which lets the fast writer produce it.
        """
        if self.kind == "json":
            if standard_json:
                return dumps_compact(self.value)
            return _dump_json_body(self.value).encode("utf-8")
        if self.kind == "text":
            return str(self.value).encode("utf-8")
        if self.kind == "base64":
            return bytes(self.value)
        return b""

    def canonical(self) -> tuple[str, str]:
        """Comparison key: JSON (key order ignored; ``1``, ``1.0``, ``true`` differ)."""
        if self.kind == "json":
            return ("json", json.dumps(self.value, sort_keys=True, ensure_ascii=False))
        if self.kind == "text":
            return ("text", str(self.value))
        if self.kind == "base64":
            return ("base64", base64.b64encode(bytes(self.value)).decode("ascii"))
        return ("empty", "")


def _dump_json_body(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class RecordedRequest:
    """A request as stored: scrubbed, path relative to the base URL, headers reduced.

    ``origin`` is empty for the provider's own traffic (``path`` is relative to its base
    URL); for any other host it is ``scheme://host[:port]`` and ``path`` is the full path.
    """

    method: str
    path: str
    query: Pairs = ()
    headers: Pairs = ()
    body: Body = Body("empty")
    origin: str = ""

    @property
    def target(self) -> str:
        """What replay matches besides method, query and body: origin and path together."""
        return self.origin + self.path

    def describe(self) -> str:
        """``GET /sessions/s1/messages?cursor=2&limit=100``: how error messages name a request."""
        if not self.query:
            return f"{self.method} {self.origin}{self.path}"
        query = "&".join(f"{key}={value}" for key, value in self.query)
        return f"{self.method} {self.origin}{self.path}?{query}"


@dataclass(frozen=True)
class RecordedResponse:
    """A response as stored: scrubbed, headers reduced, body decoded (no content-encoding)."""

    status: int
    headers: Pairs = ()
    body: Body = Body("empty")


@dataclass(frozen=True)
class Interaction:
    """One request and the response it got."""

    request: RecordedRequest
    response: RecordedResponse


@dataclass(frozen=True)
class Cassette:
    """The whole file: metadata plus interactions in recorded order."""

    base_url: str
    interactions: tuple[Interaction, ...] = ()
    recorded_with: str = RECORDED_WITH
    version: int = SCHEMA_VERSION
    recorded_against: str = ""
    """``"emulator"``, ``"service"``, or ``""`` when unknown (files from older releases)."""
    standard_json: bool = field(default=True, compare=False)
    """False when the file holds values outside standard JSON (``NaN``); not stored."""


# -- writing -------------------------------------------------------------------------------------


def _body_fields(body: Body) -> dict[str, Any]:
    if body.kind == "empty":
        return {}
    if body.kind == "base64":
        return {"base64": base64.b64encode(bytes(body.value)).decode("ascii")}
    return {body.kind: body.value}


def _query_to_data(query: Pairs) -> dict[str, str | list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in query:
        grouped.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}


def _interaction_to_data(interaction: Interaction) -> dict[str, Any]:
    request, response = interaction.request, interaction.response
    request_data: dict[str, Any] = {"method": request.method}
    if request.origin:
        request_data["origin"] = request.origin
    request_data["path"] = request.path
    if request.query:
        request_data["query"] = _query_to_data(request.query)
    request_data["headers"] = dict(request.headers)
    request_data.update(_body_fields(request.body))
    response_data: dict[str, Any] = {"status": response.status, "headers": dict(response.headers)}
    response_data.update(_body_fields(response.body))
    return {"request": request_data, "response": response_data}


def cassette_to_data(cassette: Cassette) -> dict[str, Any]:
    """The JSON document for a cassette, keys in a fixed order."""
    data: dict[str, Any] = {
        "version": cassette.version,
        "recorded_with": cassette.recorded_with,
        "base_url": cassette.base_url,
    }
    if cassette.recorded_against:
        data["recorded_against"] = cassette.recorded_against
    data["interactions"] = [_interaction_to_data(item) for item in cassette.interactions]
    return data


# -- reading -------------------------------------------------------------------------------------


class _ShapeError(Exception):
    """Internal: where in the document the shape is wrong, and how."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    # bool is an int in Python; a status of `true` is still wrong.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _ShapeError(where, f"expected {what}, got {json.dumps(value)[:60]}")
    return value


def _object(
    value: Any, where: str, required: Sequence[str], optional: Sequence[str]
) -> Mapping[str, Any]:
    mapping = _expect(value, dict, where, "an object")
    missing = [key for key in required if key not in mapping]
    if missing:
        raise _ShapeError(where, f"missing key {missing[0]!r}")
    unknown = sorted(set(mapping) - set(required) - set(optional))
    if unknown:
        raise _ShapeError(where, f"unknown key {unknown[0]!r}")
    return mapping  # type: ignore[no-any-return]


def _headers_from_data(value: Any, where: str) -> Pairs:
    mapping = _expect(value, dict, where, "an object of header names to strings")
    for name, header in mapping.items():
        _expect(header, str, f"{where}.{name}", "a string")
    return tuple(sorted(mapping.items()))


def _query_from_data(value: Any, where: str) -> Pairs:
    mapping = _expect(value, dict, where, "an object of parameter names to strings")
    pairs: list[tuple[str, str]] = []
    for key, item in mapping.items():
        values = item if isinstance(item, list) else [item]
        for single in values:
            pairs.append(
                (key, _expect(single, str, f"{where}.{key}", "a string or a list of strings"))
            )
    return tuple(pairs)


def _body_from_data(mapping: Mapping[str, Any], where: str) -> Body:
    present = [key for key in _BODY_KEYS if key in mapping]
    if len(present) > 1:
        raise _ShapeError(
            where, f"has both {present[0]!r} and {present[1]!r}; a body has one encoding"
        )
    if not present:
        return Body("empty")
    kind = present[0]
    value = mapping[kind]
    if kind == "text":
        return Body("text", _expect(value, str, f"{where}.text", "a string"))
    if kind == "base64":
        encoded = _expect(value, str, f"{where}.base64", "a base64 string")
        try:
            return Body("base64", base64.b64decode(encoded, validate=True))
        except binascii.Error as exc:
            raise _ShapeError(f"{where}.base64", f"not valid base64 ({exc})") from exc
    return Body("json", value)


_REQUEST_KEYS = ("method", "path")
_REQUEST_OPTIONAL = ("origin", "query", "headers", *_BODY_KEYS)
_RESPONSE_OPTIONAL = ("headers", *_BODY_KEYS)


def _interaction_from_data(value: Any, where: str) -> Interaction:
    item = _object(value, where, ("request", "response"), ())
    req_where, resp_where = f"{where}.request", f"{where}.response"
    req = _object(item["request"], req_where, _REQUEST_KEYS, _REQUEST_OPTIONAL)
    resp = _object(item["response"], resp_where, ("status",), _RESPONSE_OPTIONAL)
    request = RecordedRequest(
        method=_expect(req["method"], str, f"{req_where}.method", "a string"),
        path=_expect(req["path"], str, f"{req_where}.path", "a string"),
        query=_query_from_data(req.get("query", {}), f"{req_where}.query"),
        headers=_headers_from_data(req.get("headers", {}), f"{req_where}.headers"),
        body=_body_from_data(req, req_where),
        origin=_expect(req.get("origin", ""), str, f"{req_where}.origin", "a string"),
    )
    status = _expect(resp["status"], int, f"{resp_where}.status", "an integer HTTP status")
    if not 100 <= status <= 599:
        raise _ShapeError(f"{resp_where}.status", f"{status} is not an HTTP status")
    response = RecordedResponse(
        status=status,
        headers=_headers_from_data(resp.get("headers", {}), f"{resp_where}.headers"),
        body=_body_from_data(resp, resp_where),
    )
    return Interaction(request, response)


#: The one wording for recording a damaged cassette afresh: record mode ``all`` reads no
#: old file, so nothing needs deleting first.
REPLACE = "record it again (the old file is replaced)"
#: How a corrupt cassette's message ends when the caller knows no better command.
RERECORD = f"{REPLACE} with --sessionmem-record-mode=all."


def cassette_from_data(data: Any, *, path: str, rerecord: str = RERECORD) -> Cassette:
    """Validate a parsed document; ``CassetteCorrupt`` names the file, the place and the problem.

    ``rerecord`` ends each message: how to record the cassette again (after "or ").
    """
    try:
        top = _expect(data, dict, "top level", "an object")
        version = top.get("version")
        if type(version) is not int or version != SCHEMA_VERSION:  # `true` == 1 in Python
            shown = "no version" if version is None else f"version {json.dumps(version)}"
            raise CassetteCorrupt(
                f"Cassette {path} has {shown}; this pytest-sessionmem reads cassette version "
                f"{SCHEMA_VERSION}. Use the pytest-sessionmem release that wrote it, or "
                f"{rerecord}",
                path=path,
            )
        top = _object(
            top,
            "top level",
            ("version", "interactions"),
            ("recorded_with", "base_url", "recorded_against"),
        )
        items = _expect(top["interactions"], list, "interactions", "a list")
        return Cassette(
            base_url=_expect(top.get("base_url", ""), str, "base_url", "a string"),
            recorded_with=_expect(top.get("recorded_with", ""), str, "recorded_with", "a string"),
            recorded_against=_expect(
                top.get("recorded_against", ""), str, "recorded_against", "a string"
            ),
            interactions=tuple(
                _interaction_from_data(item, f"interactions[{index}]")
                for index, item in enumerate(items)
            ),
        )
    except _ShapeError as exc:
        raise CassetteCorrupt(
            f"Cassette {path} is not a valid cassette: {exc}. Fix it by hand, or {rerecord}",
            path=path,
        ) from None
