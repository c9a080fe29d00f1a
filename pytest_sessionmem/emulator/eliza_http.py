"""The HTTP layer of ``@elizaos/server`` 1.7.2 in front of its routes, done in Python.

The real server is an Express 5 app; what a client meets before any route runs is:

1. **CORS** (``cors`` with ``origin: true, credentials: true``): every answer carries
   ``Vary: Origin`` and ``Access-Control-Allow-Credentials: true``, plus
   ``Access-Control-Allow-Origin: <the request's Origin>`` when there is one. Any ``OPTIONS``
   request is a preflight, answered ``204`` with an empty body (before auth and body parsing).
2. **The JSON body parser** (``express.json({limit: "2mb"})``, body-parser 2), for every path
   and method: only bodies whose media type is ``application/json`` are parsed; the charset must
   start with ``utf-`` and be one the decoder knows; ``Content-Encoding`` may be ``identity``,
   ``gzip``, ``deflate`` or ``br``; at most 2 MiB after decompression; a UTF-8 BOM is dropped;
   an empty body is ``{}``; otherwise the text must start (after JSON whitespace) with ``{`` or
   ``[`` and be valid JSON. A failure answers ``500 {"success": false, "error": {"message",
   "code": 500}}`` (the ``/api`` error handler turns every body-parser status into 500).
3. ``/api`` **key check** (when a key is configured).
4. **The Content-Type check** of the ``/api`` router: a ``POST``/``PUT``/``PATCH`` that declares a
   non-zero ``Content-Length`` needs a ``Content-Type`` *containing* (case-sensitively)
   ``application/json``, ``multipart/form-data`` or ``application/x-www-form-urlencoded``.
   A chunked body has no ``Content-Length`` and skips the check, as on the real server.

Numbers in a parsed body are JavaScript doubles (Python floats): ``9223372036854775808`` is
``9223372036854775808.0``, ``1e400`` is ``inf``; :func:`~.eliza_js.js_dumps` writes them back as
JavaScript does (``9223372036854776000``, ``null``).
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from .eliza_js import js_dumps, js_number, js_object

__all__ = [
    "BODY_LIMIT",
    "NO_BODY",
    "BodyError",
    "ElizaJSONResponse",
    "content_type_accepted",
    "cors_headers",
    "parse_json_body",
    "preflight",
]

BODY_LIMIT = 2 * 1024 * 1024  # "2mb" as the `bytes` package reads it
NO_BODY: Any = None  # `req.body` left undefined

_MEDIA_TYPER = re.compile(
    r" *[A-Za-z0-9][A-Za-z0-9!#$&^_-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126} *"
)
_JSON_SPACE = " \t\n\r"
_ACCEPTED_TYPES = ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")
_PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,PATCH,OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type,Authorization,X-API-KEY",
}


class BodyError(Exception):
    """The body parser refused the body; ``str()`` is the message the server answers with."""


class ElizaJSONResponse(Response):
    """``res.json(body)``: ``JSON.stringify`` text, ``application/json; charset=utf-8``."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return js_dumps(content).encode("utf-8")

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        self.raw_headers = [
            (k, b"application/json; charset=utf-8" if k == b"content-type" else v)
            for k, v in self.raw_headers
        ]


def cors_headers(origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin", "Access-Control-Allow-Credentials": "true"}
    if origin is not None:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def preflight(origin: str | None) -> Response:
    """The ``204`` the cors middleware answers to every ``OPTIONS`` request."""
    return Response(
        status_code=204,
        headers={**cors_headers(origin), **_PREFLIGHT_HEADERS, "Content-Length": "0"},
    )


def content_type_accepted(method: str, headers: Mapping[str, str]) -> bool:
    """``validateContentTypeMiddleware`` of the ``/api`` router."""
    if method not in ("POST", "PUT", "PATCH"):
        return True
    length = headers.get("content-length")
    if not length or length == "0":
        return True
    content_type = headers.get("content-type")
    return content_type is not None and any(t in content_type for t in _ACCEPTED_TYPES)


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    """``content-type`` 2's lenient ``parse``: the type before the first ``;``, lower-cased,
    then ``key=value`` parameters (keys lower-cased, the first one wins, a quoted value may
    hold ``\\``-escapes, a parameter without ``=`` is skipped)."""
    end = header.find(";")
    media = (header if end == -1 else header[:end]).strip(" \t").lower()
    params: dict[str, str] = {}
    size = len(header)
    index = size if end == -1 else end
    while index < size:
        index += 1  # past the ";"
        while index < size and header[index] in " \t":
            index += 1
        key_start = index
        while index < size and header[index] not in ";=":
            index += 1
        if index >= size or header[index] == ";":
            continue
        key = header[key_start:index].rstrip(" \t").lower()
        index += 1  # past the "="
        while index < size and header[index] in " \t":
            index += 1
        if index < size and header[index] == '"':
            index += 1
            value = []
            while index < size:
                char = header[index]
                index += 1
                if char == '"':
                    while index < size and header[index] != ";":
                        index += 1
                    break
                if char == "\\" and index < size:
                    value.append(header[index])
                    index += 1
                    continue
                value.append(char)
            params.setdefault(key, "".join(value))
            continue
        value_start = index
        while index < size and header[index] != ";":
            index += 1
        params.setdefault(key, header[value_start:index].rstrip(" \t"))
    return media, params


def _has_body(headers: Mapping[str, str]) -> bool:
    """type-is ``hasBody``: a Transfer-Encoding, or a Content-Length that is a number."""
    if "transfer-encoding" in headers:
        return True
    length = headers.get("content-length")
    return length is not None and not math.isnan(js_number(length))


def _canonical_charset(name: str) -> str:
    """iconv-lite's name canonicalisation (``UTF-8``, ``utf8`` and ``utf-_8`` are one)."""
    return re.sub(r"[^0-9a-z]", "", re.sub(r":\d{4}$", "", name.lower()))


def _utf16_guess(data: bytes) -> str:
    """iconv-lite's choice for ``utf-16`` without a BOM: the byte order with more ASCII."""
    little = big = 0
    for index in range(0, min(len(data), 100) - 1, 2):
        first, second = data[index], data[index + 1]
        if first == 0 and second != 0:
            big += 1
        elif first != 0 and second == 0:
            little += 1
    return "utf-16-be" if big > little else "utf-16-le"


_KNOWN_CHARSETS = (
    "utf8",
    "utf16",
    "utf16le",
    "utf16be",
    "utf32",
    "utf32le",
    "utf32be",
    "utf7",
    "utf7imap",
)


def _decode(data: bytes, charset: str) -> str:
    """Bytes to text as iconv-lite decodes them (BOM stripped, bad bytes become U+FFFD)."""
    canonical = _canonical_charset(charset)
    if canonical == "utf8":
        codec = "utf-8"
    elif canonical in ("utf16le", "utf16be", "utf32le", "utf32be"):
        codec = f"{canonical[:5]}-{canonical[5:]}".replace("utf16", "utf-16").replace(
            "utf32", "utf-32"
        )
    elif canonical == "utf16":
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
            data = data[2:]
        else:
            codec = _utf16_guess(data)
    elif canonical == "utf32":
        codec = "utf-32-be" if data[:4] == b"\x00\x00\xfe\xff" else "utf-32-le"
    elif canonical in ("utf7", "utf7imap"):
        codec = "utf-7"
    else:
        raise BodyError(f'unsupported charset "{charset.upper()}"')
    text = data.decode(codec, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _inflate(data: bytes, encoding: str) -> bytes:
    """Decompress as Node's zlib streams do; errors carry zlib's own message."""
    if encoding == "br":
        return _unbrotli(data)
    wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, BODY_LIMIT + 1)
    except zlib.error as exc:
        raise BodyError(str(exc).split(": ", 1)[-1]) from None
    if len(out) > BODY_LIMIT:
        raise BodyError("request entity too large")
    if not inflater.eof:
        raise BodyError("unexpected end of file")
    return out


def _unbrotli(data: bytes) -> bytes:
    import brotli  # the `emulator` extra installs it

    decompressor = brotli.Decompressor()
    try:
        out: bytes = decompressor.process(data)
    except brotli.error:
        raise BodyError("Decompression failed") from None
    if len(out) > BODY_LIMIT:
        raise BodyError("request entity too large")
    if not decompressor.is_finished():
        raise BodyError("unexpected end of file")
    return out


def _js_double(literal: str) -> int | float:
    """A JSON number as JavaScript holds it: a double. Integral values that a double holds
    exactly stay Python ints (so the common case renders through the C encoder)."""
    value = float(literal)
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token '{name[0]}', \"{name}\" is not valid JSON")


def _parse_strict(text: str) -> Any:
    """body-parser's strict JSON: ``{}`` for an empty body, objects and arrays only."""
    if not text:
        return {}
    first = text.lstrip(_JSON_SPACE)[:1]
    if first not in ("{", "["):
        shown = f"'{first}'" if first else "end of JSON input"
        raise BodyError(f'Unexpected token {shown}, "{text[:30]}" is not valid JSON')
    try:
        return json.loads(
            text,
            parse_int=_js_double,
            parse_float=_js_double,
            parse_constant=_reject_constant,
            object_pairs_hook=js_object,
        )
    except RecursionError:
        raise BodyError("Maximum call stack size exceeded") from None
    except json.JSONDecodeError as exc:
        # V8's wording where it is easy to match; the position is Python's.
        if exc.pos >= len(text.rstrip(_JSON_SPACE)):
            raise BodyError("Unexpected end of JSON input") from None
        raise BodyError(f"{exc.msg} in JSON at position {exc.pos}") from None
    except ValueError as exc:  # NaN or Infinity
        raise BodyError(str(exc)) from None


def parse_json_body(headers: Mapping[str, str], raw: bytes) -> Any:
    """``req.body`` after ``express.json``: :data:`NO_BODY` when the parser does not apply."""
    if not _has_body(headers):
        return NO_BODY
    header = headers.get("content-type", "")
    media, params = _media_type(header)
    # type-is checks the type with media-typer's pattern, then compares it exactly.
    if not header or not _MEDIA_TYPER.fullmatch(media) or media.strip(" ") != "application/json":
        return NO_BODY
    charset = params.get("charset", "utf-8").lower()
    if not charset.startswith("utf-"):
        raise BodyError(f'unsupported charset "{charset.upper()}"')
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding not in ("identity", "gzip", "deflate", "br"):
        raise BodyError(f'unsupported content encoding "{encoding}"')
    if _canonical_charset(charset) not in _KNOWN_CHARSETS:
        raise BodyError(f'unsupported charset "{charset.upper()}"')
    if encoding == "identity":
        if len(raw) > BODY_LIMIT:
            raise BodyError("request entity too large")
        data = raw
    else:
        data = _inflate(raw, encoding)
    return _parse_strict(_decode(data, charset))
