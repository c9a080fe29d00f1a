"""The OpenAI Responses API read back as an ``LLMCall``: requests as the real SDK sends them,
answers (plain and streamed) in the shapes the SDK parses, checked against the SDK's reading."""

from __future__ import annotations

import json
from typing import Any

from pytest_sessionmem import Role
from pytest_sessionmem.llm import read_llm_call

MODEL = "gpt-4o-2024-08-06"


def response(output: list[dict[str, Any]], status: str = "completed") -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1735689600,
        "status": status,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
    }


def text_item(text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def call_item(arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": "fc_1",
        "type": "function_call",
        "status": status,
        "call_id": "call_w1",
        "name": "get_weather",
        "arguments": arguments,
    }


def event_stream(events: list[dict[str, Any]]) -> str:
    numbered = [{**event, "sequence_number": n} for n, event in enumerate(events)]
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in numbered)


def streamed_events(text_parts: list[str], argument_parts: list[str]) -> list[dict[str, Any]]:
    """What the service sends for a reply of one text item and one function call item."""
    text, arguments = "".join(text_parts), "".join(argument_parts)
    item_ids = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response([], "in_progress")},
        {"type": "response.in_progress", "response": response([], "in_progress")},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**text_item("", "in_progress"), "content": []},
        },
        {
            "type": "response.content_part.added",
            **item_ids,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    events += [
        {"type": "response.output_text.delta", **item_ids, "delta": part, "logprobs": []}
        for part in text_parts
    ]
    events += [
        {"type": "response.output_text.done", **item_ids, "text": text, "logprobs": []},
        {
            "type": "response.content_part.done",
            **item_ids,
            "part": {"type": "output_text", "text": text, "annotations": []},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": text_item(text)},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": call_item("", "in_progress"),
        },
    ]
    events += [
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 1,
            "delta": part,
        }
        for part in argument_parts
    ]
    events += [
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 1,
            "arguments": arguments,
        },
        {"type": "response.output_item.done", "output_index": 1, "item": call_item(arguments)},
        {
            "type": "response.completed",
            "response": response([text_item(text), call_item(arguments)]),
        },
    ]
    return events


STREAM_EVENTS = streamed_events(["Checking ", "Lisbon", "."], ['{"city"', ': "Lisbon"}'])


def read(body: dict[str, Any], answer: Any, **overrides: Any) -> Any:
    streamed = isinstance(answer, str)
    arguments: dict[str, Any] = {
        "method": "POST",
        "path": "/v1/responses",
        "request_body": body,
        "response_status": 200,
        "response_content_type": "text/event-stream" if streamed else "application/json",
        "response_body": answer,
    }
    return read_llm_call(**{**arguments, **overrides})


def test_instructions_and_input_items_are_the_prompt(llm_wire) -> None:
    client = llm_wire.openai(response([text_item("It is sunny.")]))
    client.responses.create(
        model="gpt-4o",
        instructions="You are a travel assistant. The user lives in Lisbon.",
        input=[
            {"role": "developer", "content": "Answer briefly."},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Weather at home?"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                ],
            },
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}],
            },
            {
                "type": "function_call",
                "call_id": "call_w1",
                "name": "get_weather",
                "arguments": '{"city": "Lisbon"}',
            },
            {"type": "function_call_output", "call_id": "call_w1", "output": "18C, sunny"},
        ],
    )

    call = llm_wire.read()

    assert call is not None
    assert (call.provider, call.api, call.model) == ("openai", "responses", "gpt-4o")
    assert [(m.role, m.kind, m.content) for m in call.messages] == [
        (Role.SYSTEM, "instructions", "You are a travel assistant. The user lives in Lisbon."),
        (Role.SYSTEM, "developer", "Answer briefly."),
        (Role.USER, "user", "Weather at home?"),
        (Role.NOROLE, "reasoning", ""),
        (Role.ASSISTANT, "assistant", "Let me look."),
        (Role.ASSISTANT, "function_call", ""),
        (Role.TOOL, "function_call_output", "18C, sunny"),
    ]
    tool_call, tool_answer = call.messages[5], call.messages[6]
    assert (tool_call.tool_id, tool_call.tool_name, tool_call.arguments) == (
        "call_w1",
        "get_weather",
        {"city": "Lisbon"},
    )
    assert (tool_answer.tool_id, tool_answer.tool_name) == ("call_w1", "get_weather")


def test_a_string_input_is_one_user_turn(llm_wire) -> None:
    client = llm_wire.openai(response([text_item("Hi!")]))
    client.responses.create(model="gpt-4o", input="Hello")

    call = llm_wire.read()

    assert call is not None
    assert [(m.role, m.content) for m in call.messages] == [(Role.USER, "Hello")]
    assert call.reply.content == "Hi!"


def test_a_plain_reply_reads_as_the_sdk_reads_it(llm_wire) -> None:
    answer = response([text_item("Checking Lisbon."), call_item('{"city": "Lisbon"}')])
    client = llm_wire.openai(answer)
    sdk = client.responses.create(model="gpt-4o", input="Weather?")

    call = llm_wire.read()

    assert call is not None
    assert call.reply.content == sdk.output_text == "Checking Lisbon."
    assert (call.reply.role, call.reply.id) == (Role.ASSISTANT, "resp_1")
    assert call.reply.metadata == {"status": "completed", "model": MODEL}
    [sdk_call] = [item for item in sdk.output if item.type == "function_call"]
    assert [(c.id, c.name, c.arguments, c.kind) for c in call.tool_calls] == [
        (sdk_call.call_id, sdk_call.name, json.loads(sdk_call.arguments), "function_call")
    ]


def test_a_streamed_reply_is_the_final_response_the_sdk_builds(llm_wire) -> None:
    client = llm_wire.openai(event_stream(STREAM_EVENTS))
    with client.responses.stream(model="gpt-4o", input="Weather?") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()

    call = llm_wire.read()

    assert call is not None
    assert call.streamed is True
    assert call.reply.content == final.output_text == "".join(deltas) == "Checking Lisbon."
    [sdk_call] = [item for item in final.output if item.type == "function_call"]
    assert [(c.name, c.arguments) for c in call.tool_calls] == [
        (sdk_call.name, json.loads(sdk_call.arguments))
    ]


def test_a_stream_cut_before_it_completed_is_put_together_from_its_deltas() -> None:
    body = {"model": "gpt-4o", "input": "Weather?", "stream": True}
    events = STREAM_EVENTS
    # Cut inside the function call's arguments: the text item is done, the call is not.
    cut = next(
        n for n, e in enumerate(events) if e["type"] == "response.function_call_arguments.delta"
    )

    call = read(body, event_stream(events[: cut + 1]))

    assert call is not None
    assert call.reply.content == "Checking Lisbon."
    assert call.reply.metadata["status"] == "in_progress"
    [tool] = call.tool_calls
    assert (tool.id, tool.name, tool.arguments) == ("call_w1", "get_weather", None)
    assert tool.raw["arguments"] == '{"city"'

    # Cut in the middle of the text, before the item was done: the deltas so far.
    first_delta = next(n for n, e in enumerate(events) if e["type"] == "response.output_text.delta")
    partial = read(body, event_stream(events[: first_delta + 2]))
    assert partial is not None
    assert partial.reply.content == "Checking Lisbon"
    assert partial.tool_calls == ()


def test_a_failed_response_and_an_error_event_are_kept_in_the_reply_metadata() -> None:
    body = {"model": "gpt-4o", "input": "Weather?", "stream": True}
    failed = {**response([], "failed"), "error": {"code": "server_error", "message": "boom"}}
    text = event_stream(
        [
            {"type": "response.created", "response": response([], "in_progress")},
            {"type": "response.failed", "response": failed},
        ]
    )

    call = read(body, text)

    assert call is not None
    assert call.reply.content == ""
    assert call.reply.metadata["status"] == "failed"
    assert call.reply.metadata["error"] == {"code": "server_error", "message": "boom"}

    errored = read(
        body,
        event_stream([{"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}]),
    )
    assert errored is not None
    assert errored.reply.metadata["error"]["code"] == "rate_limit_exceeded"


def test_unknown_events_and_non_json_data_are_passed_over() -> None:
    body = {"model": "gpt-4o", "input": "Weather?", "stream": True}
    noise = (
        ": comment\n\n"
        'event: response.future_thing\ndata: {"type": "response.future_thing"}\n\n'
        "data: {not json\n\n"
    )

    call = read(body, noise + event_stream(STREAM_EVENTS))

    assert call is not None
    assert call.reply.content == "Checking Lisbon."


def test_odd_requests_and_answers_give_none() -> None:
    good = {"model": "gpt-4o", "input": "hi"}
    answer = response([text_item("hey")])
    assert read(good, answer) is not None

    for body in (
        {"model": "gpt-4o", "input": 42},
        {"model": "gpt-4o", "input": ["hi"]},
        {"model": "gpt-4o", "input": [{"role": "user", "content": 7}]},
        {"model": "gpt-4o", "input": [{"type": "message", "content": "no role"}]},
        {"model": "gpt-4o", "input": "hi", "instructions": ["not", "text"]},
        {"model": "gpt-4o", "prompt": "no input"},
    ):
        assert read(body, answer) is None, body
    assert read(good, {"error": {"message": "bad"}}, response_status=400) is None
    assert read(good, {"id": "resp_1", "object": "response"}) is None  # no output
    assert read(good, {"output": "text"}) is None
    assert read({**good, "stream": True}, ": only a comment\n\ndata: [DONE]\n\n") is None
    assert read(good, answer, path="/v1/responses/resp_1/cancel") is None
