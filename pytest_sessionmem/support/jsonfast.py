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
import re
import sys
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson

__all__ = [
    "FAILED",
    "MAX_DEPTH",
    "DocumentProblem",
    "dumps_compact",
    "dumps_indented",
    "fast_load_document",
    "fast_loads",
    "load_document",
    "loads",
    "nests_within",
]

MAX_DEPTH = 254
"""The deepest nesting of objects and lists orjson writes, and so the deepest a document
read with :func:`load_document` may have (a test holds orjson to it)."""

# orjson reads an integer beyond 64 bits (20 digits, or 19 after a minus sign) as a float,
# of magnitude 9.2e18 or more, which it writes back with an exponent ("1.2e+19"). So the
# parsed value is written back compactly (a millisecond or two) and only when that holds
# "e+" is the text searched for a run of 19 digits: every digit is mapped to "0" and
# nineteen of them are searched for, two passes in C. Runs inside strings count too, which
# only costs the slower parse. A one-byte search is a memchr, some 30 times faster than the
# two-byte one, and most documents hold no "+" at all.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGIT_RUN = b"0" * 19


def _fast(raw: bytes, option: int = 0) -> tuple[Any, bytes] | None:
    """orjson's value for ``raw`` and that value written again (with ``option``), when it is
    exactly the standard library's value; ``None`` otherwise."""
    try:
        value = orjson.loads(raw)
        # Raises for nesting deeper than MAX_DEPTH (orjson reads deeper than it writes).
        written = orjson.dumps(value, option=option)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    if b"+" in written and b"e+" in written and _LONG_DIGIT_RUN in raw.translate(_DIGITS_TO_ZERO):
        return None  # may hold an integer beyond 64 bits
    return value, written


FAILED: Any = object()
"""What :func:`fast_loads` returns when only the standard library can decide."""


def fast_loads(raw: bytes) -> Any:
    """The value ``json.loads`` gives for UTF-8 ``raw``, or :data:`FAILED`.

    :data:`FAILED` for anything orjson cannot read exactly: big integers, ``NaN``, a lone
    surrogate, a byte-order mark, invalid UTF-8 or invalid JSON, and nesting deeper than
    :data:`MAX_DEPTH`. A value it does return holds standard JSON only (no ``NaN``, no
    infinities).
    """
    fast = _fast(raw)
    return FAILED if fast is None else fast[0]


def fast_load_document(raw: bytes) -> Any:
    """:func:`fast_loads`, also :data:`FAILED` when an object may name a key twice.

    orjson keeps the last of two equal keys, so the value has fewer members than ``raw``.
    A file this product wrote is the value written again with ``indent=2`` (plus a newline),
    byte for byte, which nothing with a repeated key can be: one comparison in C. Otherwise
    the colons are counted in both texts: one per member, and those inside strings, which
    both writers leave alone. A count that differs for another reason (a colon written as
    ``\\u003a``) only costs the exact check of :func:`load_document`.
    """
    fast = _fast(raw, orjson.OPT_INDENT_2)
    if fast is None:
        return FAILED
    value, written = fast
    same = raw.startswith(written) and raw[len(written) :] in (b"", b"\n")
    if not same and raw.count(b":") != written.count(b":"):
        return FAILED
    return value


class DocumentProblem(ValueError):
    """What :func:`load_document` refuses, and where: ``msg``, ``lineno``, ``colno``."""

    def __init__(self, msg: str, pos: int, text: str) -> None:
        self.msg = msg
        self.pos = pos
        self.lineno = text.count("\n", 0, pos) + 1
        self.colno = pos - text.rfind("\n", 0, pos)
        super().__init__(f"{msg} at line {self.lineno} column {self.colno}")


def load_document(text: str) -> Any:
    """``json.loads(text)`` for a document the product keeps, such as a cassette.

    Raises :class:`json.JSONDecodeError` for invalid JSON and :class:`DocumentProblem` for
    nesting deeper than :data:`MAX_DEPTH`, an integer longer than the interpreter converts
    (``sys.get_int_max_str_digits``) and an object that names a key twice. Each says where.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:  # too deep, or an integer too long
        found = _first_problem(text)
        raise DocumentProblem(*(found or (str(exc), 0)), text) from None
    try:
        compact = orjson.dumps(value)
    except orjson.JSONEncodeError:  # too deep, or an integer beyond 64 bits: look closer
        compact = None
    if compact is None or text.count(":") != compact.count(b":"):
        found = _first_problem(text)
        if found is not None:
            raise DocumentProblem(*found, text)
    return value


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:]|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')


def _first_problem(text: str) -> tuple[str, int] | None:
    """The first place in valid JSON ``text`` that :func:`load_document` refuses: (what, where).

    A walk over the tokens in Python; it runs only when the fast checks said it might
    find something.
    """
    digits_limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    stack: list[set[str] | None] = []  # the keys of each open object; None for a list
    string: re.Match[str] | None = None  # the string just read: a key if ":" follows
    for token in _TOKEN.finditer(text):
        first = token.group()[0]
        if first == '"':
            string = token
            continue
        if first == ":":
            keys = stack[-1] if stack else None
            if string is not None and keys is not None:
                key = json.loads(string.group())
                if key in keys:
                    return f"key {key!r} appears twice in one object", string.start()
                keys.add(key)
        elif first in "{[":
            stack.append(set() if first == "{" else None)
            if len(stack) > MAX_DEPTH:
                return f"objects and lists nest deeper than {MAX_DEPTH} levels", token.start()
        elif first in "}]":
            if stack:
                stack.pop()
        elif digits_limit and not any(c in token.group() for c in ".eE"):
            digits = len(token.group().lstrip("-"))
            if digits > digits_limit:
                return (
                    f"an integer of {digits} digits (this Python reads at most {digits_limit})",
                    token.start(),
                )
        string = None
    return None


def nests_within(value: Any, depth: int) -> bool:
    """True when ``value`` (a parsed JSON value) nests objects and lists ``depth`` levels deep
    at most (``depth`` <= :data:`MAX_DEPTH`). orjson answers in C; a walk decides only when it
    cannot (an integer beyond 64 bits)."""
    wrapped = value
    for _ in range(MAX_DEPTH - depth):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
    except orjson.JSONEncodeError:
        pass
    else:
        return True
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, at = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if at > depth:
                return False
            pending.extend((child, at + 1) for child in item)
    return True


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
