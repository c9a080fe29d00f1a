"""Recorded text made safe to print on a terminal.

A cassette is data from outside: a service's answers, or a file in someone's pull request.
Its text may hold characters a terminal obeys instead of showing: an ESC sequence clears
the screen, sets the window title or adds a hyperlink (OSC 8), BEL rings, CR and backspace
go back and overwrite what was printed, a C1 control (``\\u009b`` is CSI) starts a sequence
on its own, and a bidirectional override shows text in another order than it is stored.
Printed raw, a cassette could hide its content from the person reviewing it.

:func:`escape_controls` shows each such character as a visible escape instead (``\\x1b``,
``\\r``, ``\\x07``, ``\\u009b``, ``\\u202e``); newline and tab stay where the caller's
layout wants them. Every place that prints recorded text as text goes through it.
:func:`escape_json_output` does the same for JSON the product prints, where the standard
library leaves C1 controls and bidirectional overrides as they are.
"""

from __future__ import annotations

from functools import cache

__all__ = ["escape_controls", "escape_json_output"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 controls, DEL, C1 controls, and the marks, embeddings, overrides and isolates that
# reorder bidirectional text.
_CONTROLS = (
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)


def _shown(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


@cache
def _table(keep: str) -> dict[int, str]:
    return {code: _shown(code) for code in _CONTROLS if chr(code) not in keep}


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with every control character written as a visible escape.

    ``keep`` names the characters left alone: ``"\\n\\t"`` for text shown over several lines,
    ``"\\t"`` for one line. Everything else is unchanged (a backslash too).
    """
    if text.isprintable():  # the common case, checked in C
        return text
    return text.translate(_table(keep))


_JSON_TABLE = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x7F}


def escape_json_output(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with DEL, the C1 controls and the
    bidirectional controls written as ``\\uXXXX`` escapes: the same JSON value, nothing a
    terminal obeys. The standard library already escapes the C0 controls, and these
    characters can only stand inside strings."""
    if text.isascii() and "\x7f" not in text:
        return text
    return text.translate(_JSON_TABLE)
