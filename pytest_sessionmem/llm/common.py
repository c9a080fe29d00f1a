"""What the three wire formats share: content parts as text, tool arguments, turns and replies.

Every helper takes values straight from a parsed JSON body and checks their types itself, so a
payload of an unexpected shape gives ``None`` (unreadable) and never an exception.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from pytest_sessionmem.models import Message, Role, ToolCall
from pytest_sessionmem.support.jsonfast import loads

__all__ = [
    "Reply",
    "as_dict",
    "as_str",
    "dict_items",
    "parse_arguments",
    "text_of",
    "tool_call_turn",
    "tool_result_turn",
]

JSON = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """An assistant reply as one format's reader understood it."""

    message: Message
    tool_calls: tuple[ToolCall, ...] = ()
    model: str | None = None


def as_dict(value: Any) -> JSON | None:
    return value if isinstance(value, dict) else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def dict_items(value: Any) -> list[JSON] | None:
    """``value`` when it is a list of objects, else ``None`` (unreadable)."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return None
    return value


def text_of(content: Any, text_types: Collection[str]) -> str | None:
    """The text of a message's content: a string, or the text parts of a list joined by newlines.

    Parts of other types (images, audio, files) add nothing; ``None`` content is ``""``.
    ``None`` when the content is neither a string, a list of parts nor null.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    texts: list[str] = []
    for part in content:
        if isinstance(part, str):  # some compatible servers accept bare strings
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") in text_types:
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
    return "\n".join(texts)


def parse_arguments(value: Any) -> dict[str, Any] | None:
    """Tool arguments as an object: given as one, or as the JSON text of one; else ``None``."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return {} if value == "" else None
    try:
        parsed = loads(value.encode("utf-8", "surrogatepass"), value)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def tool_call_turn(call: ToolCall, *, kind: str | None = None) -> Message:
    """A tool call the assistant made earlier in the conversation, as a turn of the prompt.

    ``kind`` is the turn's kind when it is not the call's own (``call.kind``).
    """
    return Message(
        role=Role.ASSISTANT,
        kind=kind or call.kind,
        tool_id=call.id,
        tool_name=call.name or None,
        arguments=call.arguments,
        raw=call.raw,
    )


def tool_result_turn(
    *,
    kind: str,
    tool_id: str | None,
    content: str,
    calls: Iterable[ToolCall],
    raw: JSON,
    metadata: JSON | None = None,
) -> Message:
    """A tool's answer as a turn; its tool name comes from the call with the same id."""
    name = next((c.name for c in calls if tool_id is not None and c.id == tool_id), None)
    return Message(
        role=Role.TOOL,
        kind=kind,
        content=content,
        tool_id=tool_id,
        tool_name=name or None,
        metadata=metadata or {},
        raw=raw,
    )
