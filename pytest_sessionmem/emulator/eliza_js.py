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
from typing import Any
from urllib.parse import quote

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

# The server's validateUuid: any version, either case.
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

_LEADING_INT = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_RADIX_LITERAL = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
# encodeURIComponent leaves these unescaped besides ASCII letters and digits.
_URI_COMPONENT_SAFE = "-_.!~*'()"


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_PATTERN.match(value) is not None


def js_parse_int(value: str) -> float:
    """``parseInt(value, 10)``: leading whitespace, a sign and digits; NaN when there are none.

    Returns a float so that NaN and Infinity (more than ~308 digits) can be represented; callers
    check ``math.isfinite`` exactly as the server checks ``isNaN``/``isFinite``.
    """
    match = _LEADING_INT.match(value.lstrip())
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
        text = value.strip()
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
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


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
    return len(text.encode("utf-16-le")) // 2


def json_length(value: object) -> int:
    """``JSON.stringify(value).length``."""
    return utf16_length(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


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
