"""Fast JSON with the standard library's exact results.

orjson parses and writes JSON an order of magnitude faster than :mod:`json`, but it does not
always give the same answer: it reads integers beyond 64 bits as floats, rejects ``NaN``
and lone surrogates, and writes some floats differently (``1e-05`` as ``0.00001``). Every
function here uses orjson where its answer is provably the standard library's and falls back
to :mod:`json` everywhere else, so callers get :mod:`json`'s values, bytes and errors.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["FAILED", "dumps_compact", "dumps_indented", "fast_loads", "loads"]

# orjson reads an integer beyond 64 bits (20 digits, or 19 after a minus sign) as a float.
# Any run of 19 digits sends the text to the standard library instead; runs inside strings
# count too, which only costs the slower parse. Found by mapping every digit to "0" and
# searching for nineteen of them: two passes in C, where a regex scan takes a second on 8 MB.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGIT_RUN = b"0" * 19


def _may_hold_big_integer(raw: bytes) -> bool:
    return _LONG_DIGIT_RUN in raw.translate(_DIGITS_TO_ZERO)


FAILED: Any = object()
"""What :func:`fast_loads` returns when only the standard library can decide."""


def fast_loads(raw: bytes) -> Any:
    """The value ``json.loads`` gives for UTF-8 ``raw``, or :data:`FAILED`.

    :data:`FAILED` for anything orjson cannot read exactly: big integers, ``NaN``, a lone
    surrogate, a byte-order mark, invalid UTF-8 or invalid JSON. A value it does return
    holds standard JSON only (no ``NaN``, no infinities).
    """
    if _may_hold_big_integer(raw):
        return FAILED
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return FAILED


def loads(raw: bytes, text: str | None = None) -> Any:
    """``json.loads(text if text is not None else raw)``: the same value or ``ValueError``.

    ``text``, when given, is ``raw`` decoded; the standard library then reads it, as the
    caller would have.
    """
    value = fast_loads(raw)
    if value is FAILED:
        return json.loads(raw if text is None else text)
    return value


def dumps_compact(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()``, fast.

    The bytes may differ in how a float is written (``1e-05``), never in the value, except
    that ``NaN`` and infinities come out as ``null``: use it only for values read with
    :func:`loads` from standard JSON, such as a response body to replay.
    """
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def dumps_indented(value: Any) -> bytes:
    """Exactly ``json.dumps(value, indent=2, ensure_ascii=False).encode()``.

    The standard library writes ``indent=2`` with its pure-Python encoder (seconds for a
    large document). orjson writes the same layout; its compact output is checked against
    the standard library's C encoder, so every scalar is known to be written alike, and
    the standard library writes the document itself whenever they disagree.
    """
    try:
        compact = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        compact = b""
    if compact:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        if compact == expected:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")
