"""Server-sent events read from a recorded event-stream body, as the HTML standard parses them.

Lines end at CRLF, LF or CR; a line starting with ``:`` is a comment; ``field: value`` loses
one space after the colon; ``data`` lines of one event are joined with ``\\n``; a blank line
ends the event. An event still open when the text ends was cut off and is dropped, as a browser
drops it, and so is an event with no ``data`` line. Nothing here raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pytest_sessionmem.support.jsonfast import loads

__all__ = ["NOT_JSON", "SSEEvent", "parse_sse"]

_LINE_END = re.compile(r"\r\n|\r|\n")

NOT_JSON: Any = object()
"""What :meth:`SSEEvent.json` gives for data that is not JSON (``[DONE]``, a keep-alive)."""


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event: its type (``""`` when the stream named none) and its data."""

    event: str
    data: str

    def json(self) -> Any:
        """The data as a JSON value, or :data:`NOT_JSON`."""
        text = self.data
        try:
            return loads(text.encode("utf-8", "surrogatepass"), text)
        except (ValueError, RecursionError):
            return NOT_JSON


def parse_sse(text: str) -> list[SSEEvent]:
    """The complete events of ``text``, in order."""
    events: list[SSEEvent] = []
    event = ""
    data: list[str] = []
    has_data = False
    lines = _LINE_END.split(text.removeprefix("\ufeff"))
    # The last piece follows the last line end: a line cut off mid-way, or "".
    for line in lines[:-1]:
        if not line:
            if has_data:
                events.append(SSEEvent(event, "\n".join(data)))
            event, data, has_data = "", [], False
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
            has_data = True
        elif name == "event":
            event = value
        # id and retry steer a live reconnection; a recording has nothing to reconnect.
    return events
