"""JavaScript value rules that the ElizaOS server's behaviour depends on, done in Python.

The real server is JavaScript, and several observable quirks come straight from the language:
``parseInt("2030-01-01T00:00:00Z", 10)`` is 2030, ``Number("")`` is 0, ``{..."ab"}`` is
``{"0": "a", "1": "b"}``, string lengths count UTF-16 code units, and ``stringToUuid`` hashes the
``encodeURIComponent`` form of a name. Keeping these in one place lets the emulator copy the
quirks exactly instead of approximating them route by route.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..support.json_types import json_type

__all__ = [
    "UUID_PATTERN",
    "is_uuid",
    "js_number",
    "js_parse_int",
    "js_spread",
    "js_truthy",
    "js_typeof",
    "json_length",
    "json_number",
    "string_to_uuid",
    "utf16_length",
]

# The server's validateUuid: any version, either case, and nothing after the last digit
# (JavaScript's `$` does not match before a trailing newline, Python's does: use fullmatch).
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# ASCII digits only: Python's \d, int() and float() also take Arabic-Indic or fullwidth digits.
_LEADING_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_RADIX_LITERAL = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
# encodeURIComponent leaves these unescaped besides ASCII letters and digits.
_URI_COMPONENT_SAFE = "-_.!~*'()"


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_PATTERN.fullmatch(value) is not None


def js_parse_int(value: str) -> float:
    """``parseInt(value, 10)``: leading whitespace, a sign and digits; NaN when there are none.

    Returns a float so that NaN and Infinity (more than ~308 digits) can be represented; callers
    check ``math.isfinite`` exactly as the server checks ``isNaN``/``isFinite``.
    """
    match = _LEADING_INT.match(value.lstrip(JS_WHITESPACE))
    if match is None:
        return math.nan
    try:
        return float(int(match.group()))
    except OverflowError:
        return math.inf if not match.group().startswith("-") else -math.inf


def js_number(value: object) -> float:
    """``Number(value)`` for JSON values (NaN for objects, arrays with more than one item...)."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return js_number(value[0]) if len(value) == 1 else (0.0 if not value else math.nan)
    if isinstance(value, str):
        text = js_trim(value)
        if not text:
            return 0.0
        if _DECIMAL.fullmatch(text):
            return float(text)
        if _RADIX_LITERAL.fullmatch(text):
            return float(int(text, 0))
        if text.lstrip("+-") == "Infinity" and text.count("-") + text.count("+") <= 1:
            return -math.inf if text.startswith("-") else math.inf
    return math.nan


def js_truthy(value: object) -> bool:
    """JavaScript truthiness of a JSON value (empty objects and arrays are truthy)."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def js_typeof(value: object) -> str:
    """``typeof`` of a JSON value: JavaScript calls ``null`` and arrays objects too."""
    kind = json_type(value)
    return "object" if kind in ("null", "array") else kind


def js_spread(value: object) -> dict[str, Any]:
    """The keys ``{...value}`` contributes: an object's own keys, a string's or array's indices."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (str, list)):
        return {str(index): item for index, item in enumerate(value)}
    return {}


def json_number(value: float) -> int | float:
    """A number as ``JSON.stringify`` writes it: integral values without a trailing ``.0``."""
    if math.isfinite(value) and value == int(value):
        return int(value)
    return value


def utf16_length(text: str) -> int:
    """``text.length`` in JavaScript (UTF-16 code units, so an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def json_length(value: object) -> int:
    """``JSON.stringify(value).length``."""
    return utf16_length(js_dumps(value))


def string_to_uuid(name: str) -> str:
    """``stringToUuid`` from ``@elizaos/core``: the id an agent gets from its character name.

    UUIDs pass through unchanged; anything else is SHA-1 of its ``encodeURIComponent`` form,
    truncated to 16 bytes with the variant bits set and the version nibble cleared (so the
    result is *not* a version-5 UUID, exactly as the server computes it).
    """
    if is_uuid(name):
        return name
    digest = bytearray(hashlib.sha1(quote(name, safe=_URI_COMPONENT_SAFE).encode()).digest()[:16])
    digest[8] = digest[8] & 0x3F | 0x80
    digest[6] = digest[6] & 0x0F
    hexed = digest.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


# --- JSON.stringify -------------------------------------------------------------------------------

# ECMAScript WhiteSpace and LineTerminator: what String.prototype.trim, Number() and parseInt skip.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def js_trim(text: str) -> str:
    """``String.prototype.trim``: JavaScript's whitespace set, not Python's."""
    return text.strip(JS_WHITESPACE)


def js_number_text(value: float) -> str:
    """``Number.prototype.toString`` for a finite double (``JSON.stringify`` uses it)."""
    if value == 0:
        return "0"  # also -0
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that round-trip, exactly the digits JavaScript picks.
    exact = Decimal(repr(abs(value))).as_tuple()
    assert isinstance(exact.exponent, int)
    digits = "".join(map(str, exact.digits))
    n = len(digits) + exact.exponent  # where the decimal point goes, counted from the left
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _js_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    # A lone surrogate cannot be written as UTF-8; JSON.stringify escapes it (ES2019).
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def js_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object as ``JSON.parse`` builds it: array-index keys first, ascending, then the rest
    in order; a repeated key keeps its first place and its last value."""
    obj = dict(pairs)
    keys = _js_keys(obj)
    return obj if keys == list(obj) else {k: obj[k] for k in keys}


def _js_keys(obj: dict[str, Any]) -> list[str]:
    """Own-property order: array-index keys ascending, then the others in insertion order."""
    indices = sorted((k for k in obj if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1), key=int)
    index_set = set(indices)
    return indices + [k for k in obj if k not in index_set]


# Where Python's JSON text can differ from JavaScript's: integral floats ("1.0", "-0.0",
# "1e+16".."9.2e+18"), exponents with a leading zero ("1e-07"), non-finite numbers, lone
# surrogates. Plain substring tests, because a regular expression over a 100-message page costs
# more than encoding it; a false alarm (the text inside a string) only costs the slow path.
# Not looked for, because the emulator never holds them: Python ints beyond 2**53 (parsed bodies
# hold doubles) and array-index keys out of JavaScript's order (the body parser puts them first,
# as JSON.parse does, and js_spread makes them in order).
_PYTHON_ONLY = (".0,", ".0}", ".0]", "e+1", "e+20", "Infinity", "NaN")
# An exponent with a leading zero ends the number ("1e-07,"); UUIDs, full of "e-0", never do.
_LEADING_ZERO_EXPONENT = re.compile(r"e-0[1-9][,}\]]")
# An integer past 2**53 (16 digits or more) is a double in JavaScript and loses its last
# digits; a digit run that long inside a string merely takes the exact path.
_LONG_DIGIT_RUN = re.compile(r"\d{16,}")


def _python_only(text: str) -> bool:
    if text.endswith(".0") or any(marker in text for marker in _PYTHON_ONLY):
        return True
    if _LEADING_ZERO_EXPONENT.search(text) is not None or text.endswith(
        ("e-05", "e-06", "e-07", "e-08", "e-09")
    ):
        return True
    if _LONG_DIGIT_RUN.search(text) is not None:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def js_dumps(value: Any) -> str:
    """``JSON.stringify(value)``: JavaScript's number text, key order and string escapes.

    Non-finite numbers become ``null``, integral doubles lose their ``.0``, ``-0`` is ``0``.
    The common case goes through the C encoder of :mod:`json`; a text in which Python and
    JavaScript could differ is written again by :func:`_js_dumps`.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return _js_dumps(value)
    return _js_dumps(value) if _python_only(text) else text


def _js_dumps(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _js_string(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 2**53 else _js_dumps(float(value))
    if isinstance(value, float):
        return js_number_text(value) if math.isfinite(value) else "null"
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{_js_string(k)}:{_js_dumps(value[k])}" for k in _js_keys(value)) + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_js_dumps(item) for item in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def jsonb_order(value: Any) -> Any:
    """A value as PostgreSQL's ``jsonb`` hands it back: object keys sorted by length, then bytes."""
    if isinstance(value, dict):
        keys = sorted(
            value,
            key=lambda k: (
                len(k.encode("utf-8", "surrogatepass")),
                k.encode("utf-8", "surrogatepass"),
            ),
        )
        return {k: jsonb_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [jsonb_order(item) for item in value]
    return value


def unstorable_text(value: Any) -> bool:
    """True when a string anywhere in ``value`` (keys included) holds a NUL or a lone
    surrogate: PostgreSQL refuses both in text and jsonb columns, so the real server fails."""
    if isinstance(value, str):
        return "\x00" in value or _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable_text(k) or unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable_text(item) for item in value)
    return False
