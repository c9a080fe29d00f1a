"""The type of a decoded JSON value, by JSON's own names.

The drift check reports a field whose type changed between two recordings, and the ElizaOS
emulator copies JavaScript's ``typeof``; both start from the same six names.
"""

from __future__ import annotations

__all__ = ["json_type"]


def json_type(value: object) -> str:
    """``null``, ``boolean``, ``number``, ``string``, ``array`` or ``object``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
