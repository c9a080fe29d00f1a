"""OpenAI chat completions read back as an ``LLMCall``: requests as the real SDK sends them,
answers (plain and streamed) in the shapes the SDK parses, checked against the SDK's own reading."""

from __future__ import annotations

import json
from typing import Any

from pytest_sessionmem import LLMCall, Message, Role, ToolCall
from pytest_sessionmem.llm import read_llm_call

MODEL = "gpt-4o-mini-2024-07-18"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}

# A conversation that went through one tool round trip, as an agent sends it back.
HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a travel assistant. The user lives in Lisbon."},
    {"role": "developer", "content": [{"type": "text", "text": "Answer in one sentence."}]},
    {
        "role": "user",
        "name": "alice",
        "content": [
            {"type": "text", "text": "What's the weather at home?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "text", "text": "And tomorrow?"},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_w1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Lisbon"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_w1", "content": "18C, sunny"},
]


def completion(message: dict[str, Any], finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1735689600,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49},
    }


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    )
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion.chunk",
        "created": 1735689600,
        "model": MODEL,
        "system_fingerprint": "fp_44709d6fcb",
        "choices": choices,
        **extra,
    }


def event_stream(*chunks: dict[str, Any], done: bool = True) -> str:
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return text + ("data: [DONE]\n\n" if done else "")


def tool_fragment(index: int, arguments: str, **first: Any) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    if "name" in first:
        function["name"] = first.pop("name")
    return {"index": index, **first, "function": function}


TEXT_STREAM = event_stream(
    chunk({"role": "assistant", "content": "", "refusal": None}),
    chunk({"content": "Sunny, 18C"}),
    chunk({"content": " in Lisbon."}),
    chunk({}, "stop"),
    chunk(None, usage={"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45}),
)

TOOL_STREAM = event_stream(
    chunk({"role": "assistant", "content": None}),
    chunk({"tool_calls": [tool_fragment(0, "", id="call_a", type="function", name="get_weather")]}),
    chunk({"tool_calls": [tool_fragment(0, '{"ci')]}),
    chunk({"tool_calls": [tool_fragment(1, "", id="call_b", type="function", name="get_time")]}),
    chunk({"tool_calls": [tool_fragment(0, 'ty": "Lisbon"}')]}),
    chunk({"tool_calls": [tool_fragment(1, '{"zone": "WET"}')]}),
    chunk({}, "tool_calls"),
)


def read(body: dict[str, Any], answer: Any, **overrides: Any) -> LLMCall | None:
    streamed = isinstance(answer, str)
    arguments: dict[str, Any] = {
        "method": "POST",
        "path": "/v1/chat/completions",
        "request_body": body,
        "response_status": 200,
        "response_content_type": "text/event-stream" if streamed else "application/json",
        "response_body": answer,
    }
    return read_llm_call(**{**arguments, **overrides})


def test_the_prompt_is_every_turn_the_sdk_sent(llm_wire) -> None:
    client = llm_wire.openai(completion({"role": "assistant", "content": "Sunny, 18C."}))
    client.chat.completions.create(model="gpt-4o-mini", messages=HISTORY, tools=[WEATHER_TOOL])

    call = llm_wire.read()

    assert call is not None
    assert (call.provider, call.api, call.model, call.streamed) == (
        "openai",
        "chat.completions",
        "gpt-4o-mini",
        False,
    )
    turns = call.messages
    assert [(m.role, m.kind, m.content) for m in turns] == [
        (Role.SYSTEM, "system", "You are a travel assistant. The user lives in Lisbon."),
        (Role.SYSTEM, "developer", "Answer in one sentence."),
        (Role.USER, "user", "What's the weather at home?\nAnd tomorrow?"),
        (Role.ASSISTANT, "tool_call", ""),
        (Role.TOOL, "tool", "18C, sunny"),
    ]
    assert turns[2].name == "alice"
    assert (turns[3].tool_id, turns[3].tool_name, turns[3].arguments) == (
        "call_w1",
        "get_weather",
        {"city": "Lisbon"},
    )
    # The tool's answer names the call it answers, and so the tool.
    assert (turns[4].tool_id, turns[4].tool_name) == ("call_w1", "get_weather")
    assert turns.provider == "openai"
    assert call.raw["request"] == llm_wire.request_body()


def test_a_plain_reply_with_tool_calls_reads_as_the_sdk_reads_it(llm_wire) -> None:
    message = {
        "role": "assistant",
        "content": "Let me check.",
        "refusal": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Lisbon"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_time", "arguments": "{}"},
            },
        ],
    }
    client = llm_wire.openai(completion(message, finish="tool_calls"))
    sdk = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}]
    )

    call = llm_wire.read()

    assert call is not None
    assert call.reply == Message(
        id="chatcmpl-1",
        role=Role.ASSISTANT,
        kind="assistant",
        content=sdk.choices[0].message.content,
        metadata={"finish_reason": "tool_calls", "model": MODEL},
    )
    assert call.tool_calls == tuple(
        ToolCall(
            id=c.id, name=c.function.name, arguments=json.loads(c.function.arguments), kind=c.type
        )
        for c in sdk.choices[0].message.tool_calls
    )
    assert call.raw["response"] == completion(message, finish="tool_calls")


def test_a_streamed_reply_is_assembled_as_the_sdk_assembles_it(llm_wire) -> None:
    client = llm_wire.openai(TEXT_STREAM)
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}]
    ) as stream:
        final = stream.get_final_completion()

    call = llm_wire.read()

    assert call is not None
    assert llm_wire.request_body()["stream"] is True
    assert call.streamed is True
    assert call.reply.content == final.choices[0].message.content == "Sunny, 18C in Lisbon."
    assert call.reply.id == "chatcmpl-2"
    assert call.reply.metadata == {"finish_reason": "stop", "model": MODEL}
    assert call.tool_calls == ()
    assert call.raw["response"] == TEXT_STREAM


def test_streamed_tool_call_fragments_are_joined_by_index(llm_wire) -> None:
    client = llm_wire.openai(TOOL_STREAM)
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather and time?"}]
    ) as stream:
        final = stream.get_final_completion()

    call = llm_wire.read()

    assert call is not None
    sdk_calls = final.choices[0].message.tool_calls
    assert [(c.id, c.name, c.arguments) for c in call.tool_calls] == [
        (c.id, c.function.name, json.loads(c.function.arguments)) for c in sdk_calls
    ]
    assert [(c.id, c.name, c.arguments) for c in call.tool_calls] == [
        ("call_a", "get_weather", {"city": "Lisbon"}),
        ("call_b", "get_time", {"zone": "WET"}),
    ]
    assert call.reply.content == ""
    assert call.reply.metadata["finish_reason"] == "tool_calls"


def test_the_sdks_plain_stream_yields_the_text_the_reader_assembles(llm_wire) -> None:
    client = llm_wire.openai(TEXT_STREAM)
    pieces = [
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], stream=True
        )
        if c.choices
    ]

    call = llm_wire.read()

    assert call is not None
    assert call.reply.content == "".join(pieces)


def test_a_stream_cut_off_gives_the_reply_so_far() -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    whole = event_stream(
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"tool_calls": [tool_fragment(0, '{"city": "Lis', id="c1", name="get_weather")]}),
        chunk({"content": " there"}),
        done=False,
    )
    cut = whole[: whole.rindex("data:") + 30]  # inside the last event

    call = read({**body, "stream": True}, cut)

    assert call is not None
    assert call.reply.content == "Hello"
    assert "finish_reason" not in call.reply.metadata
    # The arguments were cut off too: no object, and the text is kept in raw.
    [tool] = call.tool_calls
    assert (tool.name, tool.arguments) == ("get_weather", None)
    assert tool.raw["function"]["arguments"] == '{"city": "Lis'


def test_comments_unknown_data_and_other_choices_are_passed_over() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 2, "stream": True}
    other = chunk({"content": "IGNORED"})
    other["choices"][0]["index"] = 1
    text = (
        ": keep-alive\n\n"
        "data: not json at all\n\n"
        'event: surprise\ndata: {"whatever": true}\n\n'
        "data: [1, 2]\n\n"
        + event_stream(chunk({"content": "A"}), other, chunk({"content": "B"}), chunk({}, "stop"))
    )

    call = read(body, text)

    assert call is not None
    assert call.reply.content == "AB"


def test_odd_requests_and_answers_give_none() -> None:
    good = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    answer = completion({"role": "assistant", "content": "hey"})
    assert read(good, answer) is not None

    for body in (
        {"model": "m", "messages": "hi"},
        {"model": "m", "messages": [{"content": "no role"}]},
        {"model": "m", "messages": [{"role": "user", "content": 42}]},
        {"model": "m", "messages": ["hi"]},
        {"model": "m", "messages": [{"role": "assistant", "tool_calls": "x"}]},
    ):
        assert read(body, answer) is None, body
    for status in (400, 401, 429, 500, 503):
        assert read(good, {"error": {"message": "nope"}}, response_status=status) is None
    assert read(good, {"object": "list", "data": []}) is None  # not a chat completion
    assert read(good, None) is None
    assert read(good, [answer]) is None
    assert read({**good, "stream": True}, "data: [DONE]\n\n") is None  # no chunk at all
    assert read(good, "plain text", response_content_type="text/plain") is None
    assert read(good, answer, method="GET") is None
    assert read(good, answer, path="/v1/completions") is None


def test_missing_fields_give_a_partial_reply() -> None:
    body = {"messages": [{"role": "user"}]}  # no model, no content
    call = read(body, {"choices": [{"message": {"content": "hey"}}]})

    assert call is not None
    assert call.model is None
    assert [(m.role, m.content) for m in call.messages] == [(Role.USER, "")]
    assert (call.reply.role, call.reply.content, call.reply.metadata) == (
        Role.ASSISTANT,
        "hey",
        {},
    )
    empty = read(body, {"choices": []})
    assert empty is not None and empty.reply.content == ""


def test_a_compatible_server_under_another_prefix_is_read_too() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    call = read(
        body,
        completion({"role": "assistant", "content": "hey"}),
        path="/openai/deployments/gpt4/chat/completions?api-version=2024-06-01",
    )

    assert call is not None
    assert call.model == MODEL  # the request named none: the answer's
    assert call.reply.content == "hey"


def test_a_legacy_function_call_is_a_tool_call() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "function_call": {"name": "f", "arguments": '{"a": 1}'}},
            {"role": "function", "name": "f", "content": "done"},
        ],
    }
    answer = completion({"role": "assistant", "function_call": {"name": "g", "arguments": "{"}})

    call = read(body, answer)

    assert call is not None
    assert [(m.role, m.kind, m.tool_name, m.arguments, m.content) for m in call.messages] == [
        (Role.USER, "user", None, None, "hi"),
        (Role.ASSISTANT, "function_call", "f", {"a": 1}, ""),
        (Role.FUNCTION, "function", "f", None, "done"),
    ]
    assert [(c.kind, c.name, c.arguments) for c in call.tool_calls] == [
        ("function_call", "g", None)
    ]
