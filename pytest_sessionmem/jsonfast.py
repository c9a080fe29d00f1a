"""Fast JSON with the standard library's exact results.

orjson parses and writes JSON an order of magnitude faster than :mod:`json`, but it does not
always give the same answer: it reads integers beyond 64 bits as floats, rejects ``NaN``
and lone surrogates, and writes some floats differently (``1e-05`` as ``0.00001``). Every
function here uses orjson where its answer is provably the standard library's and falls back
to :mod:`json` everywhere else, so callers get :mod:`json`'s values, bytes and errors.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson

__all__ = ["FAILED", "dumps_compact", "dumps_indented", "fast_loads", "loads"]

# orjson reads an integer beyond 64 bits (20 digits, or 19 after a minus sign) as a float,
# of magnitude 9.2e18 or more, which it writes back with an exponent ("1.2e+19"). So the
# parsed value is written back compactly (a millisecond or two) and only when that holds
# "e+" is the text searched for a run of 19 digits: every digit is mapped to "0" and
# nineteen of them are searched for, two passes in C. Runs inside strings count too, which
# only costs the slower parse. A one-byte search is a memchr, some 30 times faster than the
# two-byte one, and most documents hold no "+" at all.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGIT_RUN = b"0" * 19


def _may_hold_big_integer(raw: bytes, value: Any) -> bool:
    compact = orjson.dumps(value)
    if b"+" not in compact or b"e+" not in compact:
        return False
    return _LONG_DIGIT_RUN in raw.translate(_DIGITS_TO_ZERO)


FAILED: Any = object()
"""What :func:`fast_loads` returns when only the standard library can decide."""


def fast_loads(raw: bytes) -> Any:
    """The value ``json.loads`` gives for UTF-8 ``raw``, or :data:`FAILED`.

    :data:`FAILED` for anything orjson cannot read exactly: big integers, ``NaN``, a lone
    surrogate, a byte-order mark, invalid UTF-8 or invalid JSON. A value it does return
    holds standard JSON only (no ``NaN``, no infinities).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return FAILED
    return FAILED if _may_hold_big_integer(raw, value) else value


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
    large document). orjson writes the same layout, and the same text for every string and
    integer; the standard library writes the document itself whenever a float might come
    out differently (see :func:`_floats_written_alike`).
    """
    try:
        indented = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except (TypeError, orjson.JSONEncodeError):
        indented = b""
    if indented and _floats_written_alike(value):
        return indented
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")


_BLANK = itemgetter(slice(0, 0))  # any string -> "", in C
# The standard library's C encoder; None where the interpreter has no C accelerator.
_C_ENCODER: Callable[..., Callable[[Any, int], Any]] | None = getattr(
    json.encoder, "c_make_encoder", None
)


def _floats_written_alike(value: Any) -> bool:
    """True when orjson writes every float in ``value`` as the standard library does.

    The standard library writes a float as ``repr`` does. orjson writes the same text for
    zero and for every finite float of magnitude 1e-4 or more, and other text below that
    (``0.00001`` for ``1e-05``, ``1e-7`` for ``1e-07``); it writes ``NaN`` and infinities as
    ``null``. (Tests hold orjson to both facts, and check that strings and integers come
    out alike.) So the standard library's C encoder walks the document with every string
    blanked, which is about half the cost of encoding it: it raises on ``NaN`` and
    infinities, and only a float below 1e-4 can put ``e-`` into what is left.
    """
    if _C_ENCODER is None:  # compare the whole text instead
        return orjson.dumps(value) == json.dumps(
            value, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
    numbers_only = _C_ENCODER(None, None, _BLANK, None, ":", ",", False, False, False)
    try:
        skeleton = "".join(numbers_only(value, 0))
    except (TypeError, ValueError):  # NaN, infinity, or a value JSON cannot hold
        return False
    return "e-" not in skeleton
