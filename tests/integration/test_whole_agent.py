"""Whole-agent capture, end to end: the real LLM SDKs and a memory provider's SDK in one test,
each in its default set-up (no client handed to it), recorded and replayed.

Each outer test writes an inner test module, records it (``--sessionmem-record-mode=once
--sessionmem-emulator``) while the loopback stand-in LLM server (``standin_llm_server.py``) runs,
then replays it: once with the stand-in still running, which must see no request at all,
and, where it says so, once more with the stand-in stopped and every socket refused. The
inner tests read ``recorded_session.llm_calls()`` themselves, so what they check holds the
same while recording and in replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Imported here so that they outlive every inner run (see tests/conftest.py): an inner run
# that imported them first would have them dropped again, with httpx2's lazily imported
# httpcore2 among them.
import anthropic  # noqa: F401
import httpcore2  # noqa: F401
import httpx2  # noqa: F401
import openai  # noqa: F401
import pytest
import requests  # noqa: F401
from standin_llm_server import LLMStandin

# -- the inner tests --------------------------------------------------------------------------

# What every inner module starts with: the stand-in's URL, the memory it recalls, and checks
# of the LLM calls the test made.
PREAMBLE = '''
import os

import pytest

from pytest_sessionmem import LLMCall, Role

STANDIN = os.environ["STANDIN_URL"]
FACT = "Alice lives in Lisbon"
QUESTION = "Where do I live?"


def answer_to(system):
    """What the stand-in answers a prompt whose system text is ``system``."""
    return f"You told me: {system}"


def check_calls(recorded_session, expected):
    """``expected``: (provider, api, streamed) of each LLM call, in order. Each prompt starts
    with the system message that holds the recalled fact, and each reply (streamed ones put
    together) is the stand-in's answer to it."""
    calls = recorded_session.llm_calls()
    assert all(isinstance(call, LLMCall) for call in calls)
    assert [(c.provider, c.api, c.streamed) for c in calls] == expected
    for call in calls:
        system = call.messages[0]
        assert system.role is Role.SYSTEM and FACT in system.content, call.messages
        assert call.messages[-1].content == QUESTION
        assert call.reply.role is Role.ASSISTANT
        assert call.reply.content == answer_to(system.content)
    return calls
'''

SDK_TESTS = (
    PREAMBLE
    + '''
import anthropic
import openai
from zep_cloud.client import AsyncZep, Zep
from zep_cloud.types import Message as ZepMessage

pytestmark = pytest.mark.sessionmem(provider="zep")

REMEMBER_TOOL = {
    "type": "function",
    "function": {"name": "remember", "parameters": {"type": "object", "properties": {}}},
}


@pytest.fixture(autouse=True)
def no_zep_url(monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)


@pytest.fixture
def zep(recorded_session):
    """The Zep SDK as an agent builds it: no client handed to it."""
    client = Zep(api_key=recorded_session.api_key, base_url=recorded_session.base_url)
    yield client
    # The SDK has no close(); its own httpx client keeps a connection to the emulator.
    client._client_wrapper.httpx_client.httpx_client.close()


@pytest.fixture
async def async_zep(recorded_session):
    client = AsyncZep(api_key=recorded_session.api_key, base_url=recorded_session.base_url)
    yield client
    await client._client_wrapper.httpx_client.httpx_client.aclose()


@pytest.fixture
def seed(recorded_session, request):
    """The fact the memory service extracted: seeded through the control API while recording
    (never part of the cassette); in replay the recorded memory read already holds it."""

    def seed(session_id):
        if not recorded_session.replaying:
            control = request.getfixturevalue("sessionmem_emulator").control
            control.zep_add_facts(session_id, [FACT])

    return seed


def turn(role, content):
    return [ZepMessage(role_type=role, content=content)]


def recalled(memory):
    return "What you remember: " + "; ".join(fact.fact for fact in memory.relevant_facts)


def test_openai_sync(recorded_session, zep, seed):
    zep.user.add(user_id="alice")
    zep.memory.add_session(session_id="s-openai", user_id="alice")
    zep.memory.add("s-openai", messages=turn("user", QUESTION))
    seed("s-openai")
    system = recalled(zep.memory.get("s-openai"))
    prompt = [{"role": "system", "content": system}, {"role": "user", "content": QUESTION}]

    with openai.OpenAI(api_key="sk-test-openai", base_url=STANDIN + "/v1") as llm:
        plain = llm.chat.completions.create(model="gpt-4o-mini", messages=prompt)
        chunks = llm.chat.completions.create(model="gpt-4o-mini", messages=prompt, stream=True)
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        tool = llm.chat.completions.create(
            model="gpt-4o-mini", messages=prompt, tools=[REMEMBER_TOOL]
        )
        response = llm.responses.create(model="gpt-4o", instructions=system, input=QUESTION)
        events = list(llm.responses.create(
            model="gpt-4o", instructions=system, input=QUESTION, stream=True
        ))

    reply = answer_to(system)
    assert plain.choices[0].message.content == streamed == response.output_text == reply
    assert [e.type for e in events][-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == reply
    assert events[-1].response.output_text == reply
    assert tool.choices[0].message.tool_calls[0].function.name == "remember"
    zep.memory.add("s-openai", messages=turn("assistant", reply))
    assert recorded_session.transcript("s-openai").contents == [QUESTION, reply]

    calls = check_calls(
        recorded_session,
        [
            ("openai", "chat.completions", False),
            ("openai", "chat.completions", True),
            ("openai", "chat.completions", False),
            ("openai", "responses", False),
            ("openai", "responses", True),
        ],
    )
    assert [(t.name, t.arguments) for t in calls[2].tool_calls] == [("remember", {"note": reply})]


async def test_openai_async(recorded_session, async_zep, seed):
    zep = async_zep
    await zep.user.add(user_id="alice")
    await zep.memory.add_session(session_id="s-openai-a", user_id="alice")
    await zep.memory.add("s-openai-a", messages=turn("user", QUESTION))
    seed("s-openai-a")
    system = recalled(await zep.memory.get("s-openai-a"))
    prompt = [{"role": "system", "content": system}, {"role": "user", "content": QUESTION}]

    async with openai.AsyncOpenAI(api_key="sk-test-openai", base_url=STANDIN + "/v1") as llm:
        plain = await llm.chat.completions.create(model="gpt-4o-mini", messages=prompt)
        chunks = await llm.chat.completions.create(
            model="gpt-4o-mini", messages=prompt, tools=[REMEMBER_TOOL], stream=True
        )
        deltas = [c.choices[0].delta async for c in chunks if c.choices]
        response = await llm.responses.create(model="gpt-4o", instructions=system, input=QUESTION)
        stream = await llm.responses.create(
            model="gpt-4o", instructions=system, input=QUESTION, stream=True
        )
        events = [event async for event in stream]

    reply = answer_to(system)
    assert plain.choices[0].message.content == response.output_text == reply
    assert "".join(d.content or "" for d in deltas) == reply
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == reply
    await zep.memory.add("s-openai-a", messages=turn("assistant", reply))
    page = await zep.memory.get_session_messages("s-openai-a")
    assert [m.content for m in page.messages] == [QUESTION, reply]

    calls = check_calls(
        recorded_session,
        [
            ("openai", "chat.completions", False),
            ("openai", "chat.completions", True),
            ("openai", "responses", False),
            ("openai", "responses", True),
        ],
    )
    # the streamed tool call, put together from its argument fragments
    assert [(t.name, t.arguments) for t in calls[1].tool_calls] == [("remember", {"note": reply})]


def test_anthropic_sync(recorded_session, zep, seed):
    zep.user.add(user_id="alice")
    zep.memory.add_session(session_id="s-claude", user_id="alice")
    zep.memory.add("s-claude", messages=turn("user", QUESTION))
    seed("s-claude")
    system = recalled(zep.memory.get("s-claude"))
    ask = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": system,
        "messages": [{"role": "user", "content": QUESTION}],
    }

    with anthropic.Anthropic(api_key="sk-ant-test", base_url=STANDIN) as llm:
        plain = llm.messages.create(**ask)
        events = list(llm.messages.create(**ask, stream=True))
        with llm.messages.stream(**ask) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()

    reply = answer_to(system)
    assert plain.content[0].text == text == final.content[0].text == reply
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert final.stop_reason == "end_turn"
    zep.memory.add("s-claude", messages=turn("assistant", reply))
    assert recorded_session.transcript("s-claude").contents == [QUESTION, reply]

    calls = check_calls(
        recorded_session,
        [
            ("anthropic", "messages", False),
            ("anthropic", "messages", True),
            ("anthropic", "messages", True),
        ],
    )
    assert {call.reply.metadata["stop_reason"] for call in calls} == {"end_turn"}


def test_anthropic_error_the_service_says_not_to_retry(recorded_session):
    ask = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=STANDIN) as llm:
        # The SDK retries a 500 unless the answer says x-should-retry: false, as this one
        # does: one request, recording or replaying.
        with pytest.raises(anthropic.InternalServerError, match="stand-in failure"):
            llm.messages.create(**ask, extra_headers={"x-standin-status": "500"})
    assert recorded_session.llm_calls() == []  # an error answer is no LLM call


async def test_anthropic_async(recorded_session, async_zep, seed):
    zep = async_zep
    await zep.user.add(user_id="alice")
    await zep.memory.add_session(session_id="s-claude-a", user_id="alice")
    await zep.memory.add("s-claude-a", messages=turn("user", QUESTION))
    seed("s-claude-a")
    system = recalled(await zep.memory.get("s-claude-a"))
    ask = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": system,
        "messages": [{"role": "user", "content": QUESTION}],
    }

    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=STANDIN) as llm:
        plain = await llm.messages.create(**ask)
        stream = await llm.messages.create(**ask, stream=True)
        deltas = [e.delta.text async for e in stream if e.type == "content_block_delta"]
        async with llm.messages.stream(**ask) as managed:
            text = await managed.get_final_text()

    reply = answer_to(system)
    assert plain.content[0].text == "".join(deltas) == text == reply
    assert len(deltas) == 2  # the events arrive as they were sent, not merged
    await zep.memory.add("s-claude-a", messages=turn("assistant", reply))
    page = await zep.memory.get_session_messages("s-claude-a")
    assert [m.content for m in page.messages] == [QUESTION, reply]

    check_calls(
        recorded_session,
        [
            ("anthropic", "messages", False),
            ("anthropic", "messages", True),
            ("anthropic", "messages", True),
        ],
    )
'''
)


# Raw LLM requests, as an agent without an SDK sends them.
RAW_PROMPT = '''
import json

SYSTEM = f"What you remember: {FACT}"
PROMPT = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
}
STREAM = {**PROMPT, "stream": True}
REPLY = answer_to(SYSTEM)


def check_stream(lines):
    """The event-stream lines of a streamed chat completion: the reply in its chunks."""
    events = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == REPLY
'''

BARE_CLIENT_TESTS = (
    PREAMBLE
    + RAW_PROMPT
    + """
import httpx
import httpx2
import requests

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1")

EXPECTED = [("openai", "chat.completions", False), ("openai", "chat.completions", True)]


def test_requests(recorded_session):
    with requests.Session() as http:
        http.get(f"{STANDIN}/login")  # the session keeps the cookie it sets
        plain = http.post(f"{STANDIN}/v1/chat/completions", json=PROMPT)
        with http.post(f"{STANDIN}/v1/chat/completions", json=STREAM, stream=True) as streamed:
            check_stream(list(streamed.iter_lines(decode_unicode=True)))
        echo = http.get(f"{STANDIN}/echo", params={"q": "1"})
    assert plain.json()["choices"][0]["message"]["content"] == REPLY
    assert echo.json()["query"] == "q=1"
    assert echo.json()["cookie"] == "sid=standin-session"  # sent while recording
    check_calls(recorded_session, EXPECTED)


def test_httpx2_client(recorded_session):
    with httpx2.Client() as http:
        plain = http.post(f"{STANDIN}/v1/chat/completions", json=PROMPT)
        with http.stream("POST", f"{STANDIN}/v1/chat/completions", json=STREAM) as streamed:
            check_stream(list(streamed.iter_lines()))
        echo = http.get(f"{STANDIN}/echo", params={"q": "2"})
    assert plain.json()["choices"][0]["message"]["content"] == REPLY
    assert echo.json()["query"] == "q=2"
    check_calls(recorded_session, EXPECTED)


async def test_httpx_async_client(recorded_session):
    async with httpx.AsyncClient() as http:
        plain = await http.post(f"{STANDIN}/v1/chat/completions", json=PROMPT)
        async with http.stream("POST", f"{STANDIN}/v1/chat/completions", json=STREAM) as streamed:
            check_stream([line async for line in streamed.aiter_lines()])
        echo = await http.get(f"{STANDIN}/echo", params={"q": "3"})
    assert plain.json()["choices"][0]["message"]["content"] == REPLY
    assert echo.json()["query"] == "q=3"
    check_calls(recorded_session, EXPECTED)
"""
)

ENCODING_TESTS = (
    PREAMBLE
    + RAW_PROMPT
    + """
import httpx
import httpx2
import requests
import urllib3

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1")

ASK = "x-standin-encoding"  # the stand-in compresses its answer with this encoding
URL = f"{STANDIN}/v1/chat/completions"


def with_httpx(module, body, encoding):
    with module.Client() as http:
        if body.get("stream"):
            with http.stream("POST", URL, json=body, headers={ASK: encoding}) as response:
                return response.headers.get("content-encoding"), list(response.iter_lines())
        response = http.post(URL, json=body, headers={ASK: encoding})
        return response.headers.get("content-encoding"), response.json()


def with_requests(body, encoding):
    with requests.post(URL, json=body, headers={ASK: encoding}, stream=True) as response:
        if body.get("stream"):
            lines = list(response.iter_lines(decode_unicode=True))
            return response.headers.get("content-encoding"), lines
        return response.headers.get("content-encoding"), response.json()


def with_urllib3(body, encoding):
    headers = {ASK: encoding}
    if body.get("stream"):  # read as it comes: preload_content=False
        response = urllib3.request("POST", URL, json=body, headers=headers, preload_content=False)
        text = b"".join(response.stream(64)).decode()
        response.release_conn()
        return response.headers.get("content-encoding"), text.split("\\n")
    response = urllib3.request("POST", URL, json=body, headers=headers)  # preloaded
    return response.headers.get("content-encoding"), response.json()


SEND = {
    "httpx": lambda body, encoding: with_httpx(httpx, body, encoding),
    "httpx2": lambda body, encoding: with_httpx(httpx2, body, encoding),
    "requests": with_requests,
    "urllib3": with_urllib3,
}
# zstd: httpx decodes it with zstandard; httpx2, requests and urllib3 only with backports.zstd
CASES = [(c, e) for c in SEND for e in ("gzip", "deflate", "br")] + [("httpx", "zstd")]


@pytest.mark.parametrize(("client", "encoding"), CASES)
def test_a_compressed_answer(recorded_session, client, encoding):
    header, answer = SEND[client](PROMPT, encoding)
    stream_header, lines = SEND[client](STREAM, encoding)
    # Recording, the compressed answer reaches the client, which decodes it; a replay hands
    # back the decoded body the cassette holds, with no content-encoding left to undo.
    expected = None if recorded_session.replaying else encoding
    assert header == stream_header == expected
    assert answer["choices"][0]["message"]["content"] == REPLY
    check_stream(lines)
    check_calls(
        recorded_session,
        [("openai", "chat.completions", False), ("openai", "chat.completions", True)],
    )
"""
)

CAPTURE_PROVIDER_TESTS = """
import os

import openai
import pytest

from pytest_sessionmem import NetworkBlocked

STANDIN = os.environ["STANDIN_URL"]
PROMPT = [{"role": "system", "content": "What you remember: tea"}, {"role": "user", "content": "?"}]

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1"MARKER)


def test_only_the_memory_provider_is_captured(recorded_session, session_client):
    session_client.add_user("u1")  # the provider's traffic: through the cassette
    with openai.OpenAI(api_key="sk-test", base_url=STANDIN + "/v1", max_retries=0) as llm:
        reply = llm.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    # Loopback: live, recording or replaying, and never in the cassette.
    assert reply.choices[0].message.content == "You told me: What you remember: tea"
    assert recorded_session.llm_calls() == []
    if recorded_session.replaying:
        # Anywhere else: the network guard stops it before any look-up.
        remote = openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1")
        with remote, pytest.raises(NetworkBlocked, match="may not connect to api.openai.com:443"):
            remote.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
"""

CHANGED_PROMPT_TESTS = """
import os

import openai
import pytest


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_agent(recorded_session):
    system = "What you remember: " + os.environ["RECALLED"]
    prompt = [{"role": "system", "content": system}, {"role": "user", "content": "Where?"}]
    with openai.OpenAI(api_key="sk-test", base_url=os.environ["STANDIN_URL"] + "/v1") as llm:
        reply = llm.chat.completions.create(model="gpt-4o-mini", messages=prompt)
    assert reply.choices[0].message.content == "You told me: " + system
"""


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMStandin]:
    """The stand-in LLM server, running; inner tests find it in ``STANDIN_URL``."""
    with LLMStandin() as server:
        monkeypatch.setenv("STANDIN_URL", server.url)
        yield server


def _interactions(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    interactions: list[dict[str, Any]] = data["interactions"]
    return interactions


def _standin_interactions(inner: Any, standin: LLMStandin) -> list[dict[str, Any]]:
    """Every recorded request to the stand-in, in all of the inner run's cassettes."""
    return [
        item
        for cassette in inner.cassettes()
        for item in _interactions(inner.path / cassette)
        if item["request"].get("origin") == standin.url
    ]


def _record_then_replay(inner: Any, standin: LLMStandin, passed: int) -> int:
    """Record (the stand-in answers), then replay with the stand-in still running: it must
    get no request. Returns how many requests the recording sent it."""
    inner.record().assert_outcomes(passed=passed)
    sent = standin.count
    assert sent > 0
    replayed = inner.run()
    replayed.assert_outcomes(passed=passed)
    replayed.stdout.fnmatch_lines([f"{passed} cassettes replayed, 0 recorded*"])
    assert standin.count == sent, standin.seen[sent:]
    return sent


# -- the tests --------------------------------------------------------------------------------


def test_llm_sdks_and_a_memory_sdk_record_and_replay_in_their_default_set_up(
    inner: Any, standin: LLMStandin
) -> None:
    inner.pytester.makepyfile(test_agent=SDK_TESTS)
    sent = _record_then_replay(inner, standin, passed=5)
    assert sent == 5 + 4 + 3 + 1 + 3
    recorded = _standin_interactions(inner, standin)
    assert len(recorded) == sent
    assert {item["request"]["path"] for item in recorded} == {
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/messages",
    }
    # The memory provider's own requests stay relative to its base URL, with no origin.
    memory = [
        item
        for cassette in inner.cassettes()
        for item in _interactions(inner.path / cassette)
        if "origin" not in item["request"]
    ]
    assert memory and all(item["request"]["path"].startswith("/") for item in memory)
    # Streams are stored as the readable text that was sent.
    streams = _stream_texts(inner, standin)
    assert len(streams) == 1 + 1 + 2 + 1 + 1 + 2  # chat, responses, messages; sync + async
    for text in streams:
        assert text.startswith(("data: {", "event: response.created\ndata: {", "event: message_"))
        assert text.endswith(("data: [DONE]\n\n", "}\n\n"))

    standin.stop()  # and again with nothing listening, every socket refused
    inner.replay_offline().assert_outcomes(passed=5)


def _stream_texts(inner: Any, standin: LLMStandin) -> list[str]:
    return [
        item["response"]["text"]
        for item in _standin_interactions(inner, standin)
        if item["response"]["headers"].get("content-type", "").startswith("text/event-stream")
    ]


def test_bare_requests_httpx2_and_async_httpx_calls_are_captured_and_replayed(
    inner: Any, standin: LLMStandin
) -> None:
    inner.pytester.makepyfile(test_clients=BARE_CLIENT_TESTS)
    assert _record_then_replay(inner, standin, passed=3) == 3 * 3 + 1
    by_cassette = {
        cassette.name: [
            (item["request"]["method"], item["request"]["path"], item["request"].get("query"))
            for item in _interactions(inner.path / cassette)
            if item["request"].get("origin") == standin.url
        ]
        for cassette in inner.cassettes()
    }
    chat = ("POST", "/v1/chat/completions", None)
    assert by_cassette == {
        "test_requests.json": [("GET", "/login", None), chat, chat, ("GET", "/echo", {"q": "1"})],
        "test_httpx2_client.json": [chat, chat, ("GET", "/echo", {"q": "2"})],
        "test_httpx_async_client.json": [chat, chat, ("GET", "/echo", {"q": "3"})],
    }


def test_compressed_answers_are_stored_decoded_and_replayed_decoded(
    inner: Any, standin: LLMStandin
) -> None:
    inner.pytester.makepyfile(test_encodings=ENCODING_TESTS)
    cases = 4 * 3 + 1
    assert _record_then_replay(inner, standin, passed=cases) == 2 * cases
    cassettes = inner.cassettes()
    assert len(cassettes) == cases
    for cassette in cassettes:
        text = (inner.path / cassette).read_text()
        assert "content-encoding" not in text.lower(), cassette
        plain, streamed = _interactions(inner.path / cassette)
        # readable: the JSON answer as JSON, the stream as its text; nothing as base64
        assert set(plain["response"]) == {"status", "headers", "json"}, cassette
        assert plain["response"]["json"]["choices"][0]["message"]["content"].startswith(
            "You told me: What you remember: Alice lives in Lisbon"
        )
        assert set(streamed["response"]) == {"status", "headers", "text"}, cassette
        assert streamed["response"]["text"].startswith('data: {"id": "chatcmpl-standin"')
        assert streamed["response"]["text"].endswith("\n\ndata: [DONE]\n\n")


@pytest.mark.parametrize("how", ["marker", "option", "ini"])
def test_capture_provider_keeps_llm_requests_live_and_out_of_the_cassette(
    inner: Any, standin: LLMStandin, how: str
) -> None:
    marker = ', capture="provider"' if how == "marker" else ""
    inner.pytester.makepyfile(test_provider=CAPTURE_PROVIDER_TESTS.replace("MARKER", marker))
    args = ("--sessionmem-capture=provider",) if how == "option" else ()
    if how == "ini":
        ini = inner.path / "tox.ini"  # what pytester.makeini() wrote
        ini.write_text(ini.read_text() + "\nsessionmem_capture = provider\n")

    inner.record(*args).assert_outcomes(passed=1)
    assert standin.count == 1
    [cassette] = inner.cassettes()
    sent = [item["request"] for item in _interactions(inner.path / cassette)]
    assert sent and all("origin" not in request for request in sent)  # Zep's only

    inner.run(*args).assert_outcomes(passed=1)
    assert standin.count == 2  # the loopback request went live in replay as well


def test_a_changed_llm_request_fails_replay_with_unmatched_request(
    inner: Any, standin: LLMStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECALLED", "Alice lives in Lisbon")
    inner.pytester.makepyfile(test_changed=CHANGED_PROMPT_TESTS)
    inner.record().assert_outcomes(passed=1)
    assert standin.count == 1

    monkeypatch.setenv("RECALLED", "Alice lives in Porto")  # the memory recalled another fact
    result = inner.run()
    result.assert_outcomes(failed=1)
    assert standin.count == 1  # no live call
    result.stdout.fnmatch_lines(
        [
            "E *.UnmatchedRequest: No recorded interaction matches "
            f"POST {standin.url}/v1/chat/completions in cassette *",
            "E * body at `messages?0?.content`: *Porto' != *Lisbon'",
        ]
    )
    assert "APIConnectionError" not in result.stdout.str()
