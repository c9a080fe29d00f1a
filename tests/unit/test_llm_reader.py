"""The LLM reader's edges: event-stream parsing, and input of any shape read without an exception."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_sessionmem import LLMCall, Message, Role, ToolCall, Transcript
from pytest_sessionmem.llm import read_llm_call
from pytest_sessionmem.llm.sse import NOT_JSON, SSEEvent, parse_sse

# -- server-sent events ------------------------------------------------------------------------


def test_events_end_at_a_blank_line_whatever_the_line_ends() -> None:
    text = "data: a\r\n\r\ndata: b\r\rdata: c\n\n"

    assert parse_sse(text) == [SSEEvent("", "a"), SSEEvent("", "b"), SSEEvent("", "c")]


def test_data_lines_join_comments_are_skipped_and_one_space_is_dropped() -> None:
    text = ": comment\nevent: delta\ndata:  two spaces\ndata:none\nid: 7\nretry: 10\nodd\n\n"

    assert parse_sse(text) == [SSEEvent("delta", " two spaces\nnone")]


def test_an_event_without_data_or_cut_off_before_its_blank_line_is_dropped() -> None:
    assert parse_sse("event: ping\n\ndata: whole\n\ndata: cut") == [SSEEvent("", "whole")]
    assert parse_sse("data: cut\n") == []
    assert parse_sse("") == []


def test_a_byte_order_mark_at_the_start_is_not_part_of_the_first_field() -> None:
    assert parse_sse("\ufeffevent: x\ndata: 1\n\n") == [SSEEvent("x", "1")]


def test_event_data_reads_as_json_or_not_json() -> None:
    assert SSEEvent("", '{"a": [1, 2.5]}').json() == {"a": [1, 2.5]}
    assert SSEEvent("", "[DONE]").json() is NOT_JSON
    assert SSEEvent("", "").json() is NOT_JSON
    assert SSEEvent("", "[" * 100_000).json() is NOT_JSON


# -- the model -------------------------------------------------------------------------------


def llm_call(**changes: Any) -> LLMCall:
    values: dict[str, Any] = {
        "provider": "openai",
        "api": "chat.completions",
        "model": "gpt-4o",
        "messages": Transcript(messages=(Message(role=Role.USER, content="hi"),)),
        "reply": Message(role=Role.ASSISTANT, content="hey"),
        "tool_calls": (ToolCall(id="c1", name="f", arguments={"a": 1}),),
        "streamed": False,
        "raw": {"request": {}, "response": {}},
    }
    return LLMCall(**{**values, **changes})


def test_calls_compare_by_every_field_but_raw() -> None:
    assert llm_call() == llm_call(raw={"other": True})
    assert hash(llm_call()) == hash(llm_call(raw={"other": True}))
    assert "raw" not in repr(llm_call())
    for field, other in (
        ("provider", "anthropic"),
        ("api", "responses"),
        ("model", "gpt-4o-mini"),
        ("messages", Transcript()),
        ("reply", Message(role=Role.ASSISTANT, content="hey!")),
        ("tool_calls", ()),
        ("streamed", True),
    ):
        assert llm_call() != llm_call(**{field: other}), field


def test_tool_calls_compare_by_every_field_but_raw() -> None:
    call = ToolCall(id="c1", name="f", arguments={"a": 1}, kind="function", raw={"x": 1})
    assert call == ToolCall(id="c1", name="f", arguments={"a": 1}, kind="function")
    for field, other in (("id", "c2"), ("name", "g"), ("arguments", None), ("kind", "tool_use")):
        assert call != call.model_copy(update={field: other}), field


def test_calls_are_frozen() -> None:
    with pytest.raises(ValueError):
        llm_call().model = "other"  # type: ignore[misc]


# -- any input, no exception -----------------------------------------------------------------

PATHS = ("/v1/chat/completions", "/v1/responses", "/v1/messages")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "input",
                    "max_tokens",
                    "model",
                    "role",
                    "content",
                    "type",
                    "text",
                    "tool_calls",
                    "function",
                    "arguments",
                    "name",
                    "id",
                    "system",
                    "choices",
                    "message",
                    "delta",
                    "index",
                    "output",
                    "call_id",
                    "output_index",
                    "content_index",
                    "item",
                    "response",
                    "partial_json",
                    "content_block",
                    "stop_reason",
                    "error",
                    "stream",
                    "instructions",
                    "tool_call_id",
                    "tool_use_id",
                    "input_json",
                    "function_call",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def as_stream(values: list[Any]) -> str:
    return "".join(f"data: {json.dumps(v)}\n\n" for v in values)


@settings(max_examples=150, deadline=None, database=None)
@given(
    path=st.sampled_from(PATHS),
    request=json_values,
    response=json_values,
    streamed=st.booleans(),
)
def test_any_json_request_and_answer_read_without_an_exception(
    path: str, request: Any, response: Any, streamed: bool
) -> None:
    answer = (
        as_stream(response if isinstance(response, list) else [response]) if streamed else response
    )
    result = read_llm_call(
        method="POST",
        path=path,
        request_body=request,
        response_status=200,
        response_content_type="text/event-stream" if streamed else "application/json",
        response_body=answer,
    )
    assert result is None or isinstance(result, LLMCall)


REALISTIC: list[tuple[str, dict[str, Any], Any]] = [
    (
        "/v1/chat/completions",
        {
            "model": "m",
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "s"}]},
                {
                    "role": "assistant",
                    "content": "a",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c", "content": "r"},
            ],
        },
        {
            "id": "x",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": "hi",
                        "tool_calls": [
                            {
                                "id": "c",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    },
                }
            ],
        },
    ),
    (
        "/v1/responses",
        {
            "model": "m",
            "instructions": "i",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "u"}]},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c", "output": "o"},
            ],
        },
        {
            "id": "r",
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "t"}],
                },
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            ],
        },
    ),
    (
        "/v1/messages",
        {
            "model": "m",
            "max_tokens": 5,
            "system": [{"type": "text", "text": "s"}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "u"}]},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}],
                },
            ],
        },
        {
            "id": "m1",
            "type": "message",
            "content": [
                {"type": "text", "text": "t"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
            ],
            "stop_reason": "end_turn",
        },
    ),
]

ODD_VALUES: tuple[Any, ...] = (None, 0, 1.5, True, "", "x", [], [None], {}, {"type": None})


def places(value: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and index path inside a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*trail, key)
            yield from places(inner, (*trail, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*trail, index)
            yield from places(inner, (*trail, index))


def variants(value: Any) -> Iterator[Any]:
    """``value`` with one place deleted or replaced by an odd value, for every place."""
    for trail in places(value):
        for odd in (*ODD_VALUES, "<delete>"):
            changed = copy.deepcopy(value)
            parent = changed
            for step in trail[:-1]:
                parent = parent[step]
            if odd == "<delete>":
                del parent[trail[-1]]
            else:
                parent[trail[-1]] = odd
            yield changed


@pytest.mark.parametrize(("path", "request_body", "response_body"), REALISTIC, ids=PATHS)
def test_every_field_missing_or_of_another_type_reads_without_an_exception(
    path: str, request_body: dict[str, Any], response_body: Any
) -> None:
    def read(request: Any, response: Any) -> LLMCall | None:
        return read_llm_call(
            method="POST",
            path=path,
            request_body=request,
            response_status=200,
            response_content_type="application/json",
            response_body=response,
        )

    assert isinstance(read(request_body, response_body), LLMCall)
    outcomes = [read(changed, response_body) for changed in variants(request_body)]
    outcomes += [read(request_body, changed) for changed in variants(response_body)]
    # Some changes make the exchange unreadable, others leave a partial call: both happen.
    assert None in outcomes
    assert any(isinstance(outcome, LLMCall) for outcome in outcomes)


def test_a_stream_cut_at_any_character_reads_without_an_exception() -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [], "stream": True}
    events = [
        {"type": "message_start", "message": {"id": "m1", "content": [], "role": "assistant"}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ab"}},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"k": 1}'},
        },
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}},
        {"type": "message_stop"},
    ]
    text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    contents = []
    for end in range(len(text) + 1):
        call = read_llm_call(
            method="POST",
            path="/v1/messages",
            request_body=body,
            response_status=200,
            response_content_type="text/event-stream",
            response_body=text[:end],
        )
        contents.append(None if call is None else call.reply.content)
    assert contents[0] is None
    assert contents[-1] == "ab"
    # The reply only grows as more of the stream arrives.
    seen = [c for c in contents if c is not None]
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(seen))
