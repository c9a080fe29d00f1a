"""Anthropic messages (``POST .../messages``).

The prompt is the top-level ``system`` (a string or text blocks) as the first ``system``
message, then ``messages``. Within one message, consecutive text blocks are joined with
newlines into one turn; each ``tool_use`` block becomes an assistant message with ``tool_id``,
``tool_name`` and ``arguments`` (its ``input``), each ``tool_result`` block a ``tool`` message
answering that ``tool_use_id`` (its text; ``is_error`` in ``metadata``), in block order.
Images, documents and thinking blocks add no text.

The reply is the response's text blocks, joined as they came, and its ``tool_use`` blocks as
tool calls. A streamed reply is put together from ``message_start``, ``content_block_start``,
``content_block_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta``) and
``message_delta``; ``ping`` and unknown events are passed over.
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

API = "messages"

_TEXT = ("text",)
_CALLS = ("tool_use", "server_tool_use", "mcp_tool_use")


def _tool_call(block: JSON) -> ToolCall:
    return ToolCall(
        id=as_str(block.get("id")),
        name=as_str(block.get("name")) or "",
        arguments=parse_arguments(block.get("input")),
        kind=as_str(block.get("type")),
        raw=block,
    )


def _message_turns(item: JSON, calls: list[ToolCall]) -> list[Message] | None:
    wire_role = as_str(item.get("role"))
    content = item.get("content")
    if wire_role is None:
        return None
    role = Role.parse(wire_role)
    if isinstance(content, str):
        return [Message(role=role, kind=wire_role, content=content, raw=item)]
    blocks = dict_items(content)
    if blocks is None:
        return None
    turns: list[Message] = []
    texts: list[str] = []

    def flush() -> None:
        if texts:
            turns.append(Message(role=role, kind=wire_role, content="\n".join(texts), raw=item))
            texts.clear()

    for block in blocks:
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind in _CALLS:
            flush()
            call = _tool_call(block)
            calls.append(call)
            turns.append(tool_call_turn(call))
        elif kind == "tool_result":
            text = text_of(block.get("content"), _TEXT)
            if text is None:
                return None
            flush()
            turns.append(
                tool_result_turn(
                    kind="tool_result",
                    tool_id=as_str(block.get("tool_use_id")),
                    content=text,
                    calls=calls,
                    raw=block,
                    metadata={"is_error": True} if block.get("is_error") is True else None,
                )
            )
    flush()
    return turns or [Message(role=role, kind=wire_role, raw=item)]


def read_prompt(body: JSON) -> tuple[Message, ...] | None:
    """``system`` and ``messages`` as turns, or ``None`` when one of them cannot be read."""
    items = dict_items(body.get("messages"))
    if items is None:
        return None
    turns: list[Message] = []
    if "system" in body:
        system = text_of(body["system"], _TEXT)
        if system is None:
            return None
        turns.append(Message(role=Role.SYSTEM, kind="system", content=system))
    calls: list[ToolCall] = []
    for item in items:
        made = _message_turns(item, calls)
        if made is None:
            return None
        turns.extend(made)
    return tuple(turns)


def read_reply(payload: JSON) -> Reply | None:
    """The reply a ``message`` object holds in its ``content`` blocks."""
    blocks = dict_items(payload.get("content"))
    if blocks is None:
        return None
    texts = [
        b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)
    ]
    calls = tuple(_tool_call(b) for b in blocks if b.get("type") in _CALLS)
    metadata: dict[str, Any] = {}
    for key in ("stop_reason", "model"):
        if isinstance(payload.get(key), str):
            metadata[key] = payload[key]
    if isinstance(payload.get("error"), dict):
        metadata["error"] = payload["error"]
    reply = Message(
        id=as_str(payload.get("id")),
        role=Role.ASSISTANT,
        kind=as_str(payload.get("role")) or "assistant",
        content="".join(texts),
        metadata=metadata,
        raw={"content": blocks},
    )
    return Reply(reply, calls, as_str(payload.get("model")))


def _append(block: JSON, key: str, fragment: Any) -> None:
    if isinstance(fragment, str):
        before = block.get(key)
        block[key] = (before if isinstance(before, str) else "") + fragment


def _finish_input(block: JSON, partial: str) -> None:
    # The SDK parses the joined fragments at content_block_stop; an empty input stays {}.
    if not partial:
        return
    parsed = parse_arguments(partial)
    block["input"] = parsed if parsed is not None else partial


def assemble_stream(events: list[SSEEvent]) -> JSON | None:
    """The ``message`` a stream of events amounts to; ``None`` when it holds none."""
    message: JSON | None = None
    blocks: dict[int, JSON] = {}
    partial: dict[int, str] = {}
    for event in events:
        data = event.json()
        if not isinstance(data, dict):
            continue
        kind = data.get("type", event.event)
        if kind == "message_start" and isinstance(data.get("message"), dict):
            message = copy.deepcopy(data["message"])
            continue
        if kind == "message_delta":
            delta = as_dict(data.get("delta")) or {}
            message = message if message is not None else {}
            message.update(
                {k: v for k, v in delta.items() if k in ("stop_reason", "stop_sequence")}
            )
            continue
        if kind == "error":
            message = message if message is not None else {}
            message["error"] = as_dict(data.get("error")) or {}
            continue
        index = data.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            continue
        if kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            blocks[index] = copy.deepcopy(data["content_block"])
        elif kind == "content_block_delta":
            delta = as_dict(data.get("delta")) or {}
            block = blocks.setdefault(index, {})
            if delta.get("type") == "text_delta":
                block.setdefault("type", "text")
                _append(block, "text", delta.get("text"))
            elif delta.get("type") == "input_json_delta":
                if isinstance(delta.get("partial_json"), str):
                    partial[index] = partial.get(index, "") + delta["partial_json"]
            elif delta.get("type") == "thinking_delta":
                _append(block, "thinking", delta.get("thinking"))
            elif delta.get("type") == "signature_delta":
                _append(block, "signature", delta.get("signature"))
        elif kind == "content_block_stop" and index in partial:
            _finish_input(blocks.setdefault(index, {}), partial.pop(index))
    for index, text in partial.items():  # cut off before content_block_stop
        _finish_input(blocks.setdefault(index, {}), text)
    if message is None and not blocks:
        return None
    assembled: JSON = message if message is not None else {"type": "message", "role": "assistant"}
    if blocks or "content" not in assembled:
        assembled["content"] = [blocks[index] for index in sorted(blocks)]
    return assembled
