"""The OpenAI Responses API (``POST .../responses``).

The prompt is ``instructions`` (a ``system`` message first) and ``input``: a string is one
``user`` message; a list holds message items (``system`` and ``developer`` become ``system``;
their ``input_text`` / ``output_text`` parts joined with newlines), ``function_call`` items (an
assistant message with ``tool_id`` = ``call_id``, ``tool_name``, ``arguments``) and
``function_call_output`` items (a ``tool`` message answering that ``call_id``). Items of other
types (reasoning, built-in tool calls, references) are kept as ``norole`` messages whose
``kind`` is the item's type.

The reply is the response's ``output``: the text of its assistant message items (joined as the
SDK's ``output_text`` joins them) and its ``function_call`` items as tool calls. A streamed
reply is the ``response`` of its final ``response.completed`` (``.incomplete``, ``.failed``)
event; a stream cut off before it is put together from the item and delta events it holds.
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_sessionmem.llm.common import (
    JSON,
    Reply,
    as_dict,
    as_str,
    dict_items,
    parse_arguments,
    text_of,
    tool_call_turn,
    tool_result_turn,
)
from pytest_sessionmem.llm.sse import SSEEvent
from pytest_sessionmem.models import Message, Role, ToolCall

__all__ = ["API", "assemble_stream", "read_prompt", "read_reply"]

API = "responses"

_ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
}
_TEXT = ("input_text", "output_text", "text")
_CALLS = ("function_call", "custom_tool_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output")
_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")


def _tool_call(item: JSON) -> ToolCall:
    kind = as_str(item.get("type")) or "function_call"
    return ToolCall(
        id=as_str(item.get("call_id")),
        name=as_str(item.get("name")) or "",
        arguments=parse_arguments(item.get("arguments", item.get("input"))),
        kind=kind,
        raw=item,
    )


def read_prompt(body: JSON) -> tuple[Message, ...] | None:
    """``instructions`` and ``input`` as turns, or ``None`` when an item cannot be read."""
    turns: list[Message] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        turns.append(Message(role=Role.SYSTEM, kind="instructions", content=instructions))
    elif instructions is not None:
        return None
    given = body.get("input")
    if isinstance(given, str):
        turns.append(Message(role=Role.USER, kind="user", content=given))
        return tuple(turns)
    items = dict_items(given)
    if items is None:
        return None
    calls: list[ToolCall] = []
    for item in items:
        kind = as_str(item.get("type")) or "message"
        if kind == "message":
            wire_role = as_str(item.get("role"))
            text = text_of(item.get("content"), _TEXT)
            if wire_role is None or text is None:
                return None
            role = _ROLES.get(wire_role) or Role.parse(wire_role)
            turns.append(Message(role=role, kind=wire_role, content=text, raw=item))
        elif kind in _CALLS:
            call = _tool_call(item)
            calls.append(call)
            turns.append(tool_call_turn(call))
        elif kind in _OUTPUTS:
            output = item.get("output")
            text = text_of(output, _TEXT)
            if text is None:
                return None
            turns.append(
                tool_result_turn(
                    kind=kind,
                    tool_id=as_str(item.get("call_id")),
                    content=text,
                    calls=calls,
                    raw=item,
                )
            )
        else:
            turns.append(Message(role=Role.NOROLE, kind=kind, raw=item))
    return tuple(turns)


def read_reply(payload: JSON) -> Reply | None:
    """The reply a ``response`` object holds in its ``output``."""
    items = dict_items(payload.get("output"))
    if items is None:
        return None
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[ToolCall] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            for part in dict_items(item.get("content")) or ():
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    refusals.append(part["refusal"])
        elif kind in _CALLS:
            calls.append(_tool_call(item))
    metadata: dict[str, Any] = {}
    for key in ("status", "model"):
        if isinstance(payload.get(key), str):
            metadata[key] = payload[key]
    if refusals:
        metadata["refusal"] = "".join(refusals)
    for key in ("error", "incomplete_details"):
        if isinstance(payload.get(key), dict):
            metadata[key] = payload[key]
    reply = Message(
        id=as_str(payload.get("id")),
        role=Role.ASSISTANT,
        kind="assistant",
        content="".join(texts),
        metadata=metadata,
        raw={"output": items},
    )
    return Reply(reply, tuple(calls), as_str(payload.get("model")))


def _part(item: JSON, index: Any) -> JSON | None:
    content = item.setdefault("content", [])
    if not isinstance(content, list) or not isinstance(index, int) or not 0 <= index < 1000:
        return None
    while len(content) <= index:
        content.append({})
    part = content[index]
    return part if isinstance(part, dict) else None


def _append(target: JSON | None, key: str, fragment: Any) -> None:
    if target is not None and isinstance(fragment, str):
        before = target.get(key)
        target[key] = (before if isinstance(before, str) else "") + fragment


def assemble_stream(events: list[SSEEvent]) -> JSON | None:
    """The ``response`` a stream of events amounts to; ``None`` when it holds none."""
    payloads = [value for value in (e.json() for e in events) if isinstance(value, dict)]
    response: JSON | None = None
    items: dict[int, JSON] = {}
    for data in payloads:
        kind = data.get("type")
        snapshot = as_dict(data.get("response"))
        if snapshot is not None and isinstance(snapshot.get("output"), list):
            if kind in _FINAL_EVENTS:
                return snapshot
            if response is None:
                response = copy.deepcopy(snapshot)
        index = data.get("output_index")
        if kind == "error":
            response = response if response is not None else {}
            response["error"] = {k: v for k, v in data.items() if k != "type"}
        if not isinstance(index, int) or isinstance(index, bool):
            continue
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = as_dict(data.get("item"))
            if item is not None:
                items[index] = copy.deepcopy(item)
            continue
        item = items.setdefault(index, {})
        if kind == "response.content_part.added" and isinstance(data.get("part"), dict):
            part = _part(item, data.get("content_index"))
            if part is not None:
                part.clear()
                part.update(copy.deepcopy(data["part"]))
        elif kind == "response.output_text.delta":
            part = _part(item, data.get("content_index"))
            if part is not None:
                part.setdefault("type", "output_text")
            _append(part, "text", data.get("delta"))
        elif kind == "response.refusal.delta":
            part = _part(item, data.get("content_index"))
            if part is not None:
                part.setdefault("type", "refusal")
            _append(part, "refusal", data.get("delta"))
        elif kind == "response.function_call_arguments.delta":
            _append(item, "arguments", data.get("delta"))
    if response is None and not items:
        return None
    assembled = response if response is not None else {}
    assembled["output"] = [items[index] for index in sorted(items)]
    return assembled
