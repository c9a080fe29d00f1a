"""LLM exchanges in a cassette: ``llm_calls`` reads them in order, ``sessionmem show`` prints them
as the conversation they hold (text and ``--json``), with nothing unprintable reaching the terminal."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_sessionmem import Role
from pytest_sessionmem.cassette.conversation import conversation_from_cassette
from pytest_sessionmem.cassette.llm_calls import llm_calls
from pytest_sessionmem.cassette.schema import cassette_from_data
from pytest_sessionmem.cassette.store import load_cassette

SYSTEM = "You are a travel assistant. What you remember: Alice lives in Lisbon."


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_sessionmem.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=dict(os.environ),
        check=False,
    )


def exchange(
    path: str,
    request: Any,
    status: int,
    answer: Any,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    key = "text" if isinstance(answer, str) else "json"
    return {
        "request": {
            "method": "POST",
            "path": path,
            "headers": {"content-type": "application/json", **(headers or {})},
            "json": request,
        },
        "response": {"status": status, "headers": {"content-type": content_type}, key: answer},
    }


def chat_stream(*pieces: str) -> str:
    chunks = [{"role": "assistant", "content": ""}, *({"content": p} for p in pieces)]
    lines = [
        {
            "id": "chatcmpl-7",
            "object": "chat.completion.chunk",
            "created": 1735689600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
        for delta in chunks
    ]
    lines.append({**lines[0], "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in lines) + "data: [DONE]\n\n"


def anthropic_reply(text: str) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "text", "text": text},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "book_hotel",
                "input": {"city": "Lisbon"},
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 30, "output_tokens": 20},
    }


def agent_cassette(llm_wire: Any) -> dict[str, Any]:
    """A whole agent's test: a memory read, then an OpenAI and an Anthropic call made with the
    real SDKs (their request bodies as sent), and a rate-limited retry that was never answered."""
    openai = llm_wire.openai(chat_stream("Sunny, ", "18C."))
    openai.chat.completions.create(
        model="gpt-4o-mini",
        stream=True,
        messages=[
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "What's the weather at home?\nAnd tomorrow?"},
        ],
    )
    chat_request = llm_wire.request_body()
    anthropic = llm_wire.anthropic(anthropic_reply("Booking it."))
    anthropic.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        system=SYSTEM,
        messages=[{"role": "user", "content": "Book me a hotel."}],
    )
    anthropic_request = llm_wire.request_body()
    messages_page = {
        "messages": [
            {
                "uuid": "m1",
                "role": "Alice",
                "role_type": "user",
                "content": "I moved to Lisbon.",
                "created_at": "2025-01-01T00:00:00Z",
            }
        ],
        "row_count": 1,
        "total_count": 1,
    }
    return {
        "version": 1,
        "recorded_with": "pytest-sessionmem",
        "base_url": "http://127.0.0.1/zep/api/v2",
        "interactions": [
            {
                "request": {"method": "GET", "path": "/sessions/s1/messages", "headers": {}},
                "response": {
                    "status": 200,
                    "headers": {"content-type": "application/json"},
                    "json": messages_page,
                },
            },
            exchange(
                "/v1/chat/completions",
                chat_request,
                200,
                chat_stream("Sunny, ", "18C."),
                content_type="text/event-stream; charset=utf-8",
            ),
            exchange(
                "/v1/messages",
                anthropic_request,
                429,
                {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
                headers={"anthropic-version": "2023-06-01"},
            ),
            exchange(
                "/v1/messages",
                anthropic_request,
                200,
                anthropic_reply("Booking it."),
                headers={"anthropic-version": "2023-06-01"},
            ),
        ],
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "cassettes" / "test_agent" / "test_trip.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def test_llm_calls_reads_each_exchange_of_a_cassette_in_order(llm_wire, tmp_path: Path) -> None:
    cassette = load_cassette(write(tmp_path, agent_cassette(llm_wire)))

    calls = llm_calls(cassette.interactions)

    # The memory read is no LLM call, and the 429 got no answer to read.
    assert [(c.provider, c.model, c.streamed) for c in calls] == [
        ("openai", "gpt-4o-mini", True),
        ("anthropic", "claude-sonnet-4-5", False),
    ]
    assert [(m.role, m.content) for m in calls[0].messages] == [
        (Role.SYSTEM, SYSTEM),
        (Role.USER, "What's the weather at home?\nAnd tomorrow?"),
    ]
    assert calls[0].reply.content == "Sunny, 18C."
    assert calls[1].messages[0].content == SYSTEM
    assert [(t.name, t.arguments) for t in calls[1].tool_calls] == [
        ("book_hotel", {"city": "Lisbon"})
    ]
    assert calls[0].raw["response"] == cassette.interactions[1].response.body.value


def test_a_binary_answer_is_no_llm_call_and_show_says_so() -> None:
    data = {
        "version": 1,
        "base_url": "",
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "path": "/v1/chat/completions",
                    "json": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                },
                "response": {"status": 200, "base64": base64.b64encode(b"\xff\xfe").decode()},
            }
        ],
    }

    cassette = cassette_from_data(data, path="c.json")

    assert llm_calls(cassette.interactions) == []
    conversation = conversation_from_cassette(cassette, path="c.json")
    assert conversation.llm_calls == []
    assert [e.what for e in conversation.exchanges] == [
        "openai chat.completions: answer not readable"
    ]


def test_show_prints_each_llm_call_as_its_conversation(llm_wire, tmp_path: Path) -> None:
    result = run_cli("show", str(write(tmp_path, agent_cassette(llm_wire))))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  session s1\n      1. user (Alice)  2025-01-01T00:00:00.000Z\n" in out
    first = out.split("  LLM call 1 ", 1)[1].split("\n\n", 1)[0]
    assert first.splitlines() == [
        "(exchange 2): openai chat.completions, model gpt-4o-mini, streamed",
        "    prompt, 2 turn(s):",
        f"        1. system: {SYSTEM}",
        "        2. user: What's the weather at home?\\nAnd tomorrow?",
        "    reply (finish_reason stop):",
        "         Sunny, 18C.",
    ]
    second = out.split("  LLM call 2 ", 1)[1].split("\n\n", 1)[0]
    assert second.splitlines() == [
        "(exchange 4): anthropic messages, model claude-sonnet-4-5",
        "    prompt, 2 turn(s):",
        f"        1. system: {SYSTEM}",
        "        2. user: Book me a hotel.",
        "    reply (stop_reason tool_use):",
        "         Booking it.",
        '    tool call: book_hotel {"city": "Lisbon"}  (id toolu_01)',
    ]
    exchanges = out.split("  HTTP exchanges:\n", 1)[1].splitlines()
    assert [line.split("  ")[-1] for line in exchanges] == [
        "1 message(s), 1 new",
        "LLM call 1: gpt-4o-mini, 2 turn(s)",
        "anthropic messages: error 429",
        "LLM call 2: claude-sonnet-4-5, 2 turn(s), 1 tool call(s)",
    ]


def test_a_long_prompt_turn_is_shortened_to_one_line(tmp_path: Path) -> None:
    long_turn = "Remember: " + "Alice likes tea. " * 20
    request = {"model": "m", "messages": [{"role": "user", "content": long_turn + "\nMore."}]}
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Ok.\nDone."}}]}
    data = {
        "version": 1,
        "base_url": "",
        "interactions": [exchange("/v1/chat/completions", request, 200, answer)],
    }
    conversation = conversation_from_cassette(
        cassette_from_data(data, path="c.json"), path="c.json"
    )

    from pytest_sessionmem.cassette.conversation import render_conversation

    lines = render_conversation(conversation).splitlines()
    [turn] = [line for line in lines if line.startswith("        1. user: ")]
    assert turn.endswith("...")
    assert len(turn) == len("        1. user: ") + 100
    assert lines[lines.index(turn) + 2 : lines.index(turn) + 4] == [
        "         Ok.",
        "         Done.",
    ]


def test_show_json_holds_the_llm_calls_in_full(llm_wire, tmp_path: Path) -> None:
    result = run_cli("show", "--json", str(write(tmp_path, agent_cassette(llm_wire))))

    assert result.returncode == 0, result.stderr
    [data] = json.loads(result.stdout)
    first, second = data["llm_calls"]
    assert {k: first[k] for k in ("exchange", "provider", "api", "model", "streamed")} == {
        "exchange": 2,
        "provider": "openai",
        "api": "chat.completions",
        "model": "gpt-4o-mini",
        "streamed": True,
    }
    assert [(m["role"], m["content"]) for m in first["messages"]] == [
        ("system", SYSTEM),
        ("user", "What's the weather at home?\nAnd tomorrow?"),
    ]
    assert first["reply"]["content"] == "Sunny, 18C."
    assert first["reply"]["metadata"] == {
        "finish_reason": "stop",
        "model": "gpt-4o-mini-2024-07-18",
    }
    assert second["tool_calls"] == [
        {
            "id": "toolu_01",
            "name": "book_hotel",
            "arguments": {"city": "Lisbon"},
            "kind": "tool_use",
        }
    ]
    assert [e["what"] for e in data["exchanges"]][1] == "LLM call 1: gpt-4o-mini, 2 turn(s)"


HOSTILE = "red \x1b[31mLisbon\x1b[0m\rOVERWRITE \x9b2J \u202eevil\x7f"


def hostile_cassette() -> dict[str, Any]:
    request = {
        "model": "gpt\x1b]0;title\x07-4o",
        "messages": [
            {"role": "system", "content": HOSTILE},
            {"role": "user", "name": "a\x1bb", "content": "hi"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call\x1b1",
                        "type": "function",
                        "function": {"name": "f\x1b", "arguments": json.dumps({"k": HOSTILE})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call\x1b1", "content": HOSTILE},
        ],
    }
    answer = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop\x1b",
                "message": {
                    "role": "assistant",
                    "content": HOSTILE + "\n" + HOSTILE,
                    "refusal": HOSTILE,
                    "tool_calls": [
                        {
                            "id": "c\x1b",
                            "type": "function",
                            "function": {"name": HOSTILE, "arguments": json.dumps({"k": HOSTILE})},
                        }
                    ],
                },
            }
        ],
    }
    return {
        "version": 1,
        "recorded_with": "pytest-sessionmem",
        "base_url": "",
        "interactions": [exchange("/v1/chat/completions", request, 200, answer)],
    }


def test_show_escapes_control_characters_from_an_llm_exchange(tmp_path: Path) -> None:
    result = run_cli("show", str(write(tmp_path, hostile_cassette())))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert all(ch == "\n" or ch.isprintable() for ch in out), [
        ch for ch in out if ch != "\n" and not ch.isprintable()
    ]
    assert (
        "        1. system: red \\x1b[31mLisbon\\x1b[0m\\rOVERWRITE \\x9b2J \\u202eevil\\x7f" in out
    )
    assert "model gpt\\x1b]0;title\\x07-4o" in out
    assert "         refusal: red \\x1b[31m" in out


def test_show_json_escapes_them_and_keeps_the_values(tmp_path: Path) -> None:
    result = run_cli("show", "--json", str(write(tmp_path, hostile_cassette())))

    assert result.returncode == 0, result.stderr
    assert all(ch == "\n" or ch.isprintable() for ch in result.stdout)
    [data] = json.loads(result.stdout)
    [call] = data["llm_calls"]
    assert call["messages"][0]["content"] == HOSTILE
    assert call["reply"]["content"] == HOSTILE + "\n" + HOSTILE
    assert call["tool_calls"][0]["arguments"] == {"k": HOSTILE}
