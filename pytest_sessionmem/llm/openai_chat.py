"""OpenAI chat completions (``POST .../chat/completions``), as OpenAI and compatible servers speak it.

The prompt is the request's ``messages``: ``system`` and ``developer`` turns are ``system``
messages; ``tool`` turns keep their ``tool_call_id`` as ``tool_id`` (and the name of the call
it answers); an assistant turn's ``tool_calls`` (or legacy ``function_call``) follow it as one
assistant message each, with ``tool_id``, ``tool_name`` and ``arguments``. Text parts of a
content list are joined with newlines; other parts (images, audio, files) add no text.

The reply is choice 0's ``message``; a streamed reply is its ``chat.completion.chunk`` deltas
put together (text, refusal and tool-call fragments by their ``index``) up to ``[DONE]``.
"""

from __future__ import annotations

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

API = "chat.completions"

_ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
    "function": Role.FUNCTION,
}
_TEXT = ("text",)


def _tool_call(raw: JSON) -> ToolCall | None:
    kind = as_str(raw.get("type")) or "function"
    spec = as_dict(raw.get(kind)) or as_dict(raw.get("function"))
    if spec is None:
        return None
    arguments = spec.get("arguments", spec.get("input"))
    return ToolCall(
        id=as_str(raw.get("id")),
        name=as_str(spec.get("name")) or "",
        arguments=parse_arguments(arguments),
        kind=kind,
        raw=raw,
    )


def _tool_calls(message: JSON) -> tuple[ToolCall, ...] | None:
    """An assistant message's tool calls (and legacy ``function_call``); ``None``: unreadable."""
    calls: list[ToolCall] = []
    listed = message.get("tool_calls")
    if listed is not None:
        items = dict_items(listed)
        if items is None:
            return None
        for item in items:
            call = _tool_call(item)
            if call is None:
                return None
            calls.append(call)
    legacy = message.get("function_call")
    if legacy is not None:
        if not isinstance(legacy, dict):
            return None
        calls.append(
            ToolCall(
                name=as_str(legacy.get("name")) or "",
                arguments=parse_arguments(legacy.get("arguments")),
                kind="function_call",
                raw=legacy,
            )
        )
    return tuple(calls)


def read_prompt(body: JSON) -> tuple[Message, ...] | None:
    """The request's ``messages`` as turns, or ``None`` when one of them cannot be read."""
    items = dict_items(body.get("messages"))
    if items is None:
        return None
    turns: list[Message] = []
    calls: list[ToolCall] = []
    for item in items:
        wire_role = as_str(item.get("role"))
        text = text_of(item.get("content"), _TEXT)
        if wire_role is None or text is None:
            return None
        role = _ROLES.get(wire_role) or Role.parse(wire_role)
        name = as_str(item.get("name"))
        if role is Role.TOOL:
            turns.append(
                tool_result_turn(
                    kind=wire_role,
                    tool_id=as_str(item.get("tool_call_id")),
                    content=text,
                    calls=calls,
                    raw=item,
                )
            )
            continue
        if role is Role.FUNCTION:
            turns.append(Message(role=role, kind=wire_role, content=text, tool_name=name, raw=item))
            continue
        made = _tool_calls(item) if role is Role.ASSISTANT else ()
        if made is None:
            return None
        if text or not made:
            turns.append(Message(role=role, kind=wire_role, content=text, name=name, raw=item))
        calls.extend(made)
        # A turn's kind names where it came from: the message's tool_calls or function_call.
        turns.extend(
            tool_call_turn(
                call, kind="function_call" if call.kind == "function_call" else "tool_call"
            )
            for call in made
        )
    return tuple(turns)


def read_reply(payload: JSON) -> Reply | None:
    """Choice 0 of a ``chat.completion`` (or of one assembled from a stream)."""
    choices = dict_items(payload.get("choices"))
    if choices is None:
        return None
    choice = next((c for c in choices if c.get("index", 0) == 0), {})
    message = as_dict(choice.get("message", {}))
    if message is None:
        return None
    text = text_of(message.get("content"), _TEXT)
    calls = _tool_calls(message)
    if text is None or calls is None:
        return None
    metadata: dict[str, Any] = {}
    for key, value in (
        ("finish_reason", choice.get("finish_reason")),
        ("refusal", message.get("refusal")),
        ("model", payload.get("model")),
    ):
        if isinstance(value, str):
            metadata[key] = value
    if isinstance(payload.get("error"), dict):
        metadata["error"] = payload["error"]
    reply = Message(
        id=as_str(payload.get("id")),
        role=Role.ASSISTANT,
        kind=as_str(message.get("role")) or "assistant",
        content=text,
        metadata=metadata,
        raw=message,
    )
    return Reply(reply, calls, as_str(payload.get("model")))


def _add_text(target: JSON, key: str, fragment: Any) -> None:
    if isinstance(fragment, str):
        before = target.get(key)
        target[key] = (before if isinstance(before, str) else "") + fragment


def _add_tool_call(calls: dict[int, JSON], fragment: JSON) -> None:
    index = fragment.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        # No index (some compatible servers): a fragment with an id starts a new call.
        index = len(calls) if fragment.get("id") or not calls else max(calls)
    call = calls.setdefault(index, {"id": None, "type": "function", "function": {}})
    _add_text(call, "id", fragment.get("id"))
    kind = fragment.get("type")
    if isinstance(kind, str):
        call["type"] = kind
    function = as_dict(fragment.get("function"))
    if function is not None:
        _add_text(call["function"], "name", function.get("name"))
        _add_text(call["function"], "arguments", function.get("arguments"))


def assemble_stream(events: list[SSEEvent]) -> JSON | None:
    """The ``chat.completion`` a stream of chunks amounts to; ``None`` when it holds no chunk."""
    chunks = [value for value in (e.json() for e in events) if isinstance(value, dict)]
    if not chunks:
        return None
    message: JSON = {"role": "assistant", "content": None}
    choice: JSON = {"index": 0, "message": message, "finish_reason": None}
    payload: JSON = {"object": "chat.completion", "choices": [choice]}
    calls: dict[int, JSON] = {}
    for chunk in chunks:
        for key in ("id", "model"):
            if key not in payload and isinstance(chunk.get(key), str):
                payload[key] = chunk[key]
        if isinstance(chunk.get("error"), dict):
            payload["error"] = chunk["error"]
        for part in dict_items(chunk.get("choices")) or ():
            if part.get("index", 0) != 0:
                continue
            if isinstance(part.get("finish_reason"), str):
                choice["finish_reason"] = part["finish_reason"]
            delta = as_dict(part.get("delta")) or {}
            _add_text(message, "content", delta.get("content"))
            _add_text(message, "refusal", delta.get("refusal"))
            for fragment in dict_items(delta.get("tool_calls")) or ():
                _add_tool_call(calls, fragment)
    if calls:
        message["tool_calls"] = [calls[index] for index in sorted(calls)]
    return payload
