"""Anthropic messages read back as an ``LLMCall``: requests as the real SDK sends them, answers
(plain and streamed) in the shapes the SDK parses, checked against the SDK's own reading."""

from __future__ import annotations

import json
from typing import Any

from pytest_sessionmem import Role, ToolCall
from pytest_sessionmem.llm import read_llm_call

MODEL = "claude-sonnet-4-5-20250929"

HISTORY: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What's the weather at home?"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": "AA"},
            },
            {"type": "text", "text": "And tomorrow?"},
        ],
    },
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_w1",
                "name": "get_weather",
                "input": {"city": "Lisbon"},
            },
        ],
    },
    {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_w1",
                "content": [{"type": "text", "text": "18C, sunny"}],
            },
            {"type": "text", "text": "Thanks!"},
        ],
    },
]


def message(content: list[dict[str, Any]], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 12},
    }


def event_stream(events: list[dict[str, Any]]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


def streamed_events(text_parts: list[str], json_parts: list[str]) -> list[dict[str, Any]]:
    """What the service sends for a reply of one text block and one tool_use block."""
    start = {**message([], "end_turn"), "stop_reason": None}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
        for t in text_parts
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {},
            },
        },
    ]
    events += [
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": part},
        }
        for part in json_parts
    ]
    events += [
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 40},
        },
        {"type": "message_stop"},
    ]
    return events


STREAM_EVENTS = streamed_events(["Checking ", "Lisbon."], ["", '{"city": ', '"Lisbon"}'])


def read(body: dict[str, Any], answer: Any, **overrides: Any) -> Any:
    streamed = isinstance(answer, str)
    arguments: dict[str, Any] = {
        "method": "POST",
        "path": "/v1/messages",
        "request_body": body,
        "response_status": 200,
        "response_content_type": "text/event-stream" if streamed else "application/json",
        "response_body": answer,
    }
    return read_llm_call(**{**arguments, **overrides})


def test_the_system_prompt_comes_first_and_blocks_are_kept_in_order(llm_wire) -> None:
    client = llm_wire.anthropic(message([{"type": "text", "text": "Sunny."}]))
    client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=1024,
        system=[
            {"type": "text", "text": "You are a travel assistant."},
            {"type": "text", "text": "The user lives in Lisbon."},
        ],
        messages=HISTORY,
    )

    call = llm_wire.read()

    assert call is not None
    assert (call.provider, call.api, call.model) == ("anthropic", "messages", "claude-sonnet-4-5")
    assert [(m.role, m.kind, m.content) for m in call.messages] == [
        (Role.SYSTEM, "system", "You are a travel assistant.\nThe user lives in Lisbon."),
        (Role.USER, "user", "What's the weather at home?\nAnd tomorrow?"),
        (Role.ASSISTANT, "assistant", "Let me check."),
        (Role.ASSISTANT, "tool_use", ""),
        (Role.TOOL, "tool_result", "18C, sunny"),
        (Role.USER, "user", "Thanks!"),
    ]
    tool_use, tool_result = call.messages[3], call.messages[4]
    assert (tool_use.tool_id, tool_use.tool_name, tool_use.arguments) == (
        "toolu_w1",
        "get_weather",
        {"city": "Lisbon"},
    )
    assert (tool_result.tool_id, tool_result.tool_name, tool_result.metadata) == (
        "toolu_w1",
        "get_weather",
        {},
    )


def test_a_string_system_prompt_and_string_content(llm_wire) -> None:
    client = llm_wire.anthropic(message([{"type": "text", "text": "Hi!"}]))
    client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=64,
        system="You know the user lives in Lisbon.",
        messages=[{"role": "user", "content": "Hello"}],
    )

    call = llm_wire.read()

    assert call is not None
    assert [(m.role, m.content) for m in call.messages] == [
        (Role.SYSTEM, "You know the user lives in Lisbon."),
        (Role.USER, "Hello"),
    ]


def test_a_failed_tool_result_says_so() -> None:
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": "timeout",
                        "is_error": True,
                    }
                ],
            }
        ],
    }

    call = read(body, message([{"type": "text", "text": "Sorry."}]))

    assert call is not None
    [turn] = call.messages
    assert (turn.role, turn.content, turn.tool_id, turn.tool_name, turn.metadata) == (
        Role.TOOL,
        "timeout",
        "t1",
        None,  # no call with that id in this prompt: no name is made up
        {"is_error": True},
    )


def test_a_plain_reply_with_tool_use_reads_as_the_sdk_reads_it(llm_wire) -> None:
    answer = message(
        [
            {"type": "thinking", "thinking": "The user wants weather.", "signature": "sig"},
            {"type": "text", "text": "Checking "},
            {"type": "text", "text": "Lisbon."},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {"city": "Lisbon"},
            },
        ],
        stop="tool_use",
    )
    client = llm_wire.anthropic(answer)
    sdk = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )

    call = llm_wire.read()

    assert call is not None
    assert call.reply.content == "".join(b.text for b in sdk.content if b.type == "text")
    assert (call.reply.id, call.reply.role) == (sdk.id, Role.ASSISTANT)
    assert call.reply.metadata == {"stop_reason": "tool_use", "model": MODEL}
    assert call.tool_calls == tuple(
        ToolCall(id=b.id, name=b.name, arguments=b.input, kind="tool_use")
        for b in sdk.content
        if b.type == "tool_use"
    )


def test_a_streamed_reply_is_the_final_message_the_sdk_builds(llm_wire) -> None:
    client = llm_wire.anthropic(event_stream(STREAM_EVENTS))
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()

    call = llm_wire.read()

    assert call is not None
    assert llm_wire.request_body()["stream"] is True
    assert call.streamed is True
    assert call.reply.content == "".join(texts) == "Checking Lisbon."
    assert call.reply.metadata == {"stop_reason": final.stop_reason, "model": final.model}
    assert [(c.id, c.name, c.arguments) for c in call.tool_calls] == [
        (b.id, b.name, b.input) for b in final.content if b.type == "tool_use"
    ]
    assert call.tool_calls[0].arguments == {"city": "Lisbon"}


def test_the_sdks_raw_stream_events_are_the_ones_the_reader_uses(llm_wire) -> None:
    client = llm_wire.anthropic(event_stream(STREAM_EVENTS))
    kinds = [
        e.type
        for e in client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
        )
    ]

    assert kinds == [e["type"] for e in STREAM_EVENTS if e["type"] != "ping"]
    call = llm_wire.read()
    assert call is not None and call.reply.content == "Checking Lisbon."


def test_a_stream_cut_off_gives_the_reply_so_far() -> None:
    body = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    events = STREAM_EVENTS
    last_json = max(
        n for n, e in enumerate(events) if e.get("delta", {}).get("type") == "input_json_delta"
    )

    call = read({**body, "stream": True}, event_stream(events[:last_json]))

    assert call is not None
    assert call.reply.content == "Checking Lisbon."
    assert "stop_reason" not in call.reply.metadata
    [tool] = call.tool_calls
    assert (tool.id, tool.name, tool.arguments) == ("toolu_1", "get_weather", None)
    assert tool.raw["input"] == '{"city": '

    text_only = read(body, event_stream(events[:4]))  # start, block start, ping, one delta
    assert text_only is not None
    assert (text_only.reply.content, text_only.tool_calls) == ("Checking ", ())


def test_unknown_events_non_json_data_and_errors() -> None:
    body = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    noise = (
        'event: future_event\ndata: {"type": "future_event", "index": 0}\n\n'
        "event: content_block_delta\ndata: not json\n\n"
        ": comment\n\n"
    )
    events = STREAM_EVENTS[:4]
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

    call = read(body, noise + event_stream([*events, overloaded]))

    assert call is not None
    assert call.reply.content == "Checking "
    assert call.reply.metadata["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_odd_requests_and_answers_give_none() -> None:
    good = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    answer = message([{"type": "text", "text": "Hey"}])
    assert read(good, answer) is not None

    for body in (
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}]},  # no max_tokens, no hint
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": 3}]},
        {"model": "m", "max_tokens": 5, "messages": [{"content": "no role"}]},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": ["x"]}]},
        {"model": "m", "max_tokens": 5, "system": 7, "messages": []},
        {
            "model": "m",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": [{"type": "tool_result", "content": 1}]}],
        },
    ):
        assert read(body, answer) is None, body
    assert read(good, {"type": "error", "error": {"type": "x"}}, response_status=529) is None
    assert read(good, {"type": "message"}) is None  # no content
    assert read({**good, "stream": True}, 'event: ping\ndata: {"type": "ping"}\n\n') is None
    # A memory service's own messages endpoint is no Anthropic call.
    zep_write = {"messages": [{"role": "user", "content": "Hi", "role_type": "user"}]}
    assert read(zep_write, {"ok": True}, path="/sessions/s1/messages") is None


def test_an_anthropic_header_stands_in_for_max_tokens() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    answer = message([{"type": "text", "text": "Hey"}])

    call = read(body, answer, request_headers={"anthropic-version": "2023-06-01"})

    assert call is not None
    assert call.reply.content == "Hey"
