"""Hostile input: what the emulator could not answer later it refuses at once, storing nothing.

Every body here is sent as raw bytes, because a JSON library would not write most of them:
``NaN``, ``1e400``, a lone surrogate (``\\ud800``), nesting thousands of levels deep. Each is
refused in the provider's own error envelope, and every list and read afterwards still answers.
The control API is covered too, with its own ``{"error": ...}`` envelope, and so is the guard
that keeps web pages away from it.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_sessionmem.emulator._http import MAX_JSON_DEPTH, _may_be_unservable, _unservable
from pytest_sessionmem.emulator.control import refusal
from pytest_sessionmem.emulator.core import Clock, Fault
from pytest_sessionmem.emulator.runner import EmulatorServer

ZEP = "/zep/api/v2"
V4 = "/zep/api/v4"
MEIBEL = "/meibel/v2"
JSON_TYPE = {"content-type": "application/json"}
AGENT_ID = "b850bc30-45f8-0041-a00a-83df46d8555d"

# Values standard JSON in UTF-8 cannot hold, as they appear in a request body.
UNSERVABLE = {
    "NaN": (b"NaN", "finite_number"),
    "Infinity": (b"-Infinity", "finite_number"),
    "1e400": (b"1e400", "finite_number"),
    "lone surrogate": (b'"a\\ud800b"', "string_unicode"),
}


def _post(http: httpx.Client, path: str, raw: bytes) -> httpx.Response:
    return http.post(path, content=raw, headers=JSON_TYPE)


def _json(response: httpx.Response) -> Any:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return json.loads(response.text)


def _deep(levels: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * levels + leaf + b"}" * levels


def _zep_session(http: httpx.Client, session_id: str = "s1") -> None:
    assert http.post(f"{ZEP}/users", json={"user_id": "u1"}).status_code == 200
    created = http.post(f"{ZEP}/sessions", json={"session_id": session_id, "user_id": "u1"})
    assert created.status_code == 201


def _every_zep_list_answers(http: httpx.Client) -> dict[str, Any]:
    answers = {
        "users": http.get(f"{ZEP}/users-ordered"),
        "sessions": http.get(f"{ZEP}/sessions-ordered"),
        "threads": http.get(f"{ZEP}/threads"),
        "v4 users": http.post(f"{V4}/users/list", json={}),
        "v4 threads": http.get(f"{V4}/threads"),
    }
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
    return {name: _json(response) for name, response in answers.items()}


# --- item: refused at once, nothing stored ----------------------------------------------------


def test_a_zep_user_with_a_lone_surrogate_is_refused_and_every_list_still_answers(
    http: httpx.Client,
) -> None:
    response = _post(http, f"{ZEP}/users", b'{"user_id": "\\ud800"}')
    assert response.status_code == 400
    assert _json(response) == {
        "message": "user_id holds a lone surrogate, which UTF-8 cannot encode; "
        "send whole characters"
    }
    lists = _every_zep_list_answers(http)
    assert lists["users"]["total_count"] == 0
    assert lists["v4 users"]["items"] == []


@pytest.mark.parametrize("value", list(UNSERVABLE))
def test_zep_v2_memory_that_could_not_be_read_back_is_refused(
    http: httpx.Client, value: str
) -> None:
    _zep_session(http)
    raw, _ = UNSERVABLE[value]
    body = b'{"messages": [{"role_type": "user", "content": "hi", "metadata": {"n": %b}}]}' % raw
    response = _post(http, f"{ZEP}/sessions/s1/memory", body)
    assert response.status_code == 400
    assert _json(response)["message"].startswith("messages[0].metadata.n ")
    page = http.get(f"{ZEP}/sessions/s1/messages")
    assert (page.status_code, _json(page)["messages"]) == (200, [])
    assert http.get(f"{ZEP}/sessions/s1/memory").status_code == 200
    _every_zep_list_answers(http)


def test_zep_v2_message_content_with_a_lone_surrogate_is_refused(http: httpx.Client) -> None:
    _zep_session(http)
    body = b'{"messages": [{"role_type": "user", "content": "hi \\udfff"}]}'
    response = _post(http, f"{ZEP}/sessions/s1/memory", body)
    assert response.status_code == 400
    assert "messages[0].content holds a lone surrogate" in _json(response)["message"]
    assert _json(http.get(f"{ZEP}/sessions/s1/messages"))["messages"] == []


def test_zep_metadata_update_that_could_not_be_read_back_is_refused(http: httpx.Client) -> None:
    _zep_session(http)
    added = http.post(
        f"{ZEP}/sessions/s1/memory",
        json={"messages": [{"role_type": "user", "content": "hi", "metadata": {"k": 1}}]},
    )
    assert added.status_code == 200
    uuid = http.get(f"{ZEP}/sessions/s1/messages").json()["messages"][0]["uuid"]
    patched = http.patch(
        f"{ZEP}/sessions/s1/messages/{uuid}",
        content=b'{"metadata": {"k": NaN}}',
        headers=JSON_TYPE,
    )
    assert patched.status_code == 400
    assert _json(http.get(f"{ZEP}/sessions/s1/messages"))["messages"][0]["metadata"] == {"k": 1}


@pytest.mark.parametrize("value", list(UNSERVABLE))
def test_zep_thread_messages_that_could_not_be_read_back_are_refused(
    http: httpx.Client, value: str
) -> None:
    _zep_session(http, "t1")
    raw, _ = UNSERVABLE[value]
    body = b'{"messages": [{"role": "user", "content": "hi", "metadata": {"n": %b}}]}' % raw
    v3 = _post(http, f"{ZEP}/threads/t1/messages", body)
    assert v3.status_code == 400
    assert _json(v3)["message"].startswith("messages[0].metadata.n ")
    thread_uuid = _json(http.get(f"{ZEP}/threads"))["threads"][0]["uuid"]
    v4 = _post(http, f"{V4}/threads/{thread_uuid}/messages", body)
    assert v4.status_code == 400
    error = _json(v4)["error"]
    assert error["code"] == "bad_request"
    assert error["message"].startswith("messages[0].metadata.n ")
    assert _json(http.get(f"{ZEP}/threads/t1/messages"))["messages"] == []
    assert _json(http.get(f"{V4}/threads/{thread_uuid}/messages"))["items"] == []
    _every_zep_list_answers(http)


def test_a_v4_user_with_an_unservable_field_is_refused(http: httpx.Client) -> None:
    response = _post(http, f"{V4}/users", b'{"user_id": "u9", "metadata": {"x": 1e400}}')
    assert response.status_code == 400
    assert _json(response)["error"]["message"].startswith("metadata.x is not a finite number")
    assert _every_zep_list_answers(http)["v4 users"]["items"] == []


def test_a_key_holding_a_lone_surrogate_is_refused_and_named_escaped(http: httpx.Client) -> None:
    _zep_session(http)
    body = b'{"messages": [{"role_type": "user", "content": "hi", "metadata": {"\\ud800": 1}}]}'
    response = _post(http, f"{ZEP}/sessions/s1/memory", body)
    assert response.status_code == 400
    assert _json(response)["message"].startswith(
        "messages[0].metadata.\\ud800 is a key holding a lone surrogate"
    )


def test_meibel_chat_with_a_lone_surrogate_is_refused_with_fastapis_422(
    server: EmulatorServer, http: httpx.Client
) -> None:
    session_id = server.control.meibel_create_session("agent-1")
    response = _post(
        http, f"{MEIBEL}/sessions/{session_id}/chat", b'{"user_message": "hi \\ud800"}'
    )
    assert response.status_code == 422
    (detail,) = _json(response)["detail"]
    assert detail["loc"] == ["body", "user_message"]
    assert detail["type"] == "string_unicode"
    messages = http.get(f"{MEIBEL}/sessions/{session_id}/messages")
    assert (messages.status_code, _json(messages)["messages"]) == (200, [])
    assert http.get(f"{MEIBEL}/sessions/{session_id}").status_code == 200
    assert http.get(f"{MEIBEL}/agents/agent-1/sessions").status_code == 200


@pytest.mark.parametrize("value", ["NaN", "1e400"])
def test_meibel_refuses_numbers_no_answer_could_hold(
    server: EmulatorServer, http: httpx.Client, value: str
) -> None:
    response = _post(
        http, f"{MEIBEL}/agents/a1/sessions", b'{"initial_context": {"n": %b}}' % value.encode()
    )
    assert response.status_code == 422
    (detail,) = _json(response)["detail"]
    assert (detail["loc"], detail["type"]) == (["body", "initial_context", "n"], "finite_number")


def test_control_seeding_refuses_numbers_written_as_strings(
    server: EmulatorServer, http: httpx.Client
) -> None:
    # pydantic would read the string "NaN" as a float; the control API must not store it.
    _zep_session(http)
    response = http.post(
        "/_emulator/zep/sessions/s1/facts", json={"facts": [{"content": "x", "rating": "NaN"}]}
    )
    assert response.status_code == 400
    assert "rating" in _json(response)["error"]
    assert _json(http.get(f"{ZEP}/sessions/s1/facts")) == {"facts": []}


def test_a_processing_delay_no_clock_can_reach_is_refused(
    server: EmulatorServer, http: httpx.Client
) -> None:
    response = http.post("/_emulator/zep/processing", json={"after_seconds": 1e300})
    assert response.status_code == 400
    assert "after_seconds" in _json(response)["error"]
    _zep_session(http)
    written = http.post(
        f"{ZEP}/sessions/s1/memory", json={"messages": [{"role_type": "user", "content": "hi"}]}
    )
    assert written.status_code == 200
    assert http.get(f"{ZEP}/sessions/s1/messages").json()["messages"][0]["processed"] is True


@pytest.mark.parametrize("seconds", [1e300, 1e15])
def test_advancing_the_clock_beyond_what_dates_hold_is_refused(
    server: EmulatorServer, http: httpx.Client, seconds: float
) -> None:
    before = _json(http.get("/_emulator/info"))["now"]
    response = http.post("/_emulator/clock/advance", json={"seconds": seconds})
    assert response.status_code == 400
    assert "past 9000-01-01" in _json(response)["error"]
    assert _json(http.get("/_emulator/info"))["now"] >= before
    assert http.post("/_emulator/clock/advance", json={"seconds": 60}).status_code == 200


def test_the_clock_refuses_a_step_that_is_not_finite() -> None:
    clock = Clock(deterministic=True)
    with pytest.raises(ValueError, match="finite"):
        clock.advance(math.inf)
    with pytest.raises(ValueError, match="past 9000-01-01"):
        clock.advance(1e12)
    assert clock.peek().year == 2025


def test_zep_search_refuses_a_score_no_double_holds(http: httpx.Client) -> None:
    _zep_session(http)
    body = b'{"text": "hi", "min_score": 1%b}' % (b"0" * 400)
    response = _post(http, f"{ZEP}/sessions/s1/search", body)
    assert response.status_code == 400
    assert _json(response) == {"message": "min_score must be a number a double can hold"}


def test_nesting_up_to_the_limit_is_stored_and_read_back(http: httpx.Client) -> None:
    _zep_session(http)
    # The body, its "messages" list and the message are three levels; the metadata the rest.
    value: Any = 1
    for _ in range(MAX_JSON_DEPTH - 3):
        value = {"a": value}
    message = {"role_type": "user", "content": "deep", "metadata": value}
    accepted = http.post(f"{ZEP}/sessions/s1/memory", json={"messages": [message]})
    assert accepted.status_code == 200, accepted.text
    page = http.get(f"{ZEP}/sessions/s1/messages")
    assert page.status_code == 200
    assert page.json()["messages"][0]["metadata"] == value
    one_more = http.post(
        f"{ZEP}/sessions/s1/memory", json={"messages": [{**message, "metadata": {"a": value}}]}
    )
    assert one_more.status_code == 400
    assert "deeper than" in _json(one_more)["message"]


# JSON number and string texts, among them the ones no double or UTF-8 text can hold.
number_texts = (
    st.floats().map(json.dumps)  # NaN, Infinity and -Infinity among them
    | st.integers(min_value=-(10**400), max_value=10**400).map(str)
    | st.builds(
        "{}{}e{}".format,
        st.sampled_from(["", "-"]),
        st.integers(min_value=0, max_value=10**320),
        st.integers(min_value=-400, max_value=400),
    )
    # Near the largest double: many digits, and an exponent of one to three digits.
    | st.builds(
        "9{}e{}".format,
        st.integers(min_value=150, max_value=330).map(lambda n: "0" * n),
        st.integers(min_value=0, max_value=160),
    )
)
string_texts = st.text(max_size=5).map(json.dumps) | st.sampled_from(
    ['"\\ud800"', '"a\\udfffb"', '"\\ud83d\\ude00"', '"\\uD800"', '"NaN"', '"1e999"']
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(number_texts | string_texts, min_size=1, max_size=6), nested=st.booleans())
def test_the_quick_look_at_the_text_never_misses_what_the_walk_refuses(
    parts: list[str], nested: bool
) -> None:
    text = "[" + ",".join(parts) + "]"
    if nested:
        text = '{"k": ' + text + "}"
    raw = text.encode("utf-8", "surrogatepass")
    value = json.loads(raw)
    if _unservable(value) is not None:
        assert _may_be_unservable(raw), text
        assert _may_be_unservable(text), text


def test_utf8_bytes_of_a_surrogate_are_refused_too(http: httpx.Client) -> None:
    # json.loads reads the UTF-8 form of U+D800 as a lone surrogate, like its escape.
    response = _post(http, f"{ZEP}/users", b'{"user_id": "a\xed\xa0\x80"}')
    assert response.status_code == 400
    assert "lone surrogate" in _json(response)["message"]
    assert _json(http.get(f"{ZEP}/users-ordered"))["total_count"] == 0


# --- item: deep JSON gets the provider's own envelope -----------------------------------------


@pytest.mark.parametrize("levels", [2_000, 100_000])
@pytest.mark.parametrize(
    ("path", "status", "envelope"),
    [
        (f"{ZEP}/users", 400, "message"),
        (f"{ZEP}/threads", 400, "message"),
        (f"{V4}/users", 400, "error"),
        (f"{MEIBEL}/agents/a1/sessions", 422, "detail"),
        ("/_emulator/reset", 400, "error"),
        ("/_emulator/faults", 400, "error"),
        ("/_emulator/zep/answers", 400, "error"),
    ],
)
def test_deep_json_gets_the_providers_envelope(
    http: httpx.Client, levels: int, path: str, status: int, envelope: str
) -> None:
    response = _post(http, path, _deep(levels))
    assert response.status_code == status, response.text
    body = _json(response)
    assert list(body) == [envelope]
    assert "deeper than" in json.dumps(body)


def test_deep_json_in_a_zep_extract_schema_is_refused(http: httpx.Client) -> None:
    _zep_session(http)
    schema = "[" * 5_000 + "]" * 5_000
    response = http.post(f"{ZEP}/sessions/s1/extract", json={"last_n": 1, "model_schema": schema})
    assert response.status_code == 400
    assert _json(response)["message"].startswith("model_schema: ")


# --- item: faults are checked before they are stored ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"retry_after": Infinity, "status": 429}', "retry_after"),
        (b'{"retry_after": "Infinity", "status": 429}', "retry_after"),
        (b'{"retry_after": 1e400, "status": 429}', "retry_after"),
        (b'{"status": 100}', "200-599"),
        (b'{"status": 199}', "200-599"),
        (b'{"status": 600}', "200-599"),
        (b'{"latency_ms": 100000000000000000000}', "latency_ms"),
        (b'{"status": 500, "body": {"x": NaN}}', "body.x"),
        (b'{"status": 500, "body": "\\udc00"}', "body"),
    ],
)
def test_a_fault_that_could_not_answer_is_refused_and_not_stored(
    server: EmulatorServer, http: httpx.Client, raw: bytes, reason: str
) -> None:
    response = _post(http, "/_emulator/faults", raw)
    assert response.status_code == 400
    assert reason in _json(response)["error"]
    assert _json(http.get("/_emulator/faults")) == {"faults": []}
    assert http.get("/_emulator/info").status_code == 200
    assert http.get(f"{ZEP}/users-ordered").status_code == 200


def test_the_final_statuses_at_the_edges_are_accepted(
    server: EmulatorServer, http: httpx.Client
) -> None:
    for status in (200, 599):
        server.control.add_fault(provider="zep", status=status, times=1, body={"s": status})
        answer = http.get(f"{ZEP}/users-ordered")
        assert (answer.status_code, answer.json()) == (status, {"s": status})


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": 101}, "200-599"),
        ({"status": 429, "retry_after": math.inf}, "retry_after"),
        ({"status": 429, "retry_after": math.nan}, "retry_after"),
        ({"latency_ms": 3_600_001}, "latency_ms"),
        ({"status": 500, "body": {"x": math.nan}}, "body"),
        ({"status": 500, "body": "\ud800"}, "body"),
        ({"status": 500, "body": object()}, "body"),
    ],
)
def test_a_fault_made_in_process_is_checked_too(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Fault(**fields)


# --- item: the control API takes orders only from this machine, as JSON ----------------------


def _keys(http: httpx.Client) -> dict[str, bool]:
    auth: dict[str, bool] = _json(http.get("/_emulator/info"))["auth"]
    return auth


def test_a_cross_origin_text_post_cannot_change_the_keys(
    server: EmulatorServer, http: httpx.Client
) -> None:
    response = http.post(
        "/_emulator/keys",
        content=b'{"zep": "attacker"}',
        headers={
            "content-type": "text/plain",
            "origin": "http://attacker.example",
            "host": "attacker.example",
        },
    )
    assert response.status_code == 403
    assert "error" in _json(response)
    assert _keys(http)["zep"] is False


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({"host": "attacker.example"}, 403, "Host: attacker.example"),
        ({"host": "attacker.example:8765"}, 403, "loopback"),
        ({"host": "127.0.0.1.attacker.example"}, 403, "loopback"),
        ({"host": "localhost.attacker.example:80"}, 403, "loopback"),
        ({"origin": "http://attacker.example"}, 403, "Origin: http://attacker.example"),
        ({"origin": "null"}, 403, "web pages"),
        ({"origin": "http://127.0.0.1.attacker.example"}, 403, "web pages"),
        ({"content-type": "text/plain"}, 415, "Content-Type: application/json"),
        ({"content-type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({"content-type": "multipart/form-data; boundary=x"}, 415, "application/json"),
    ],
)
def test_control_requests_from_elsewhere_are_refused(
    server: EmulatorServer, http: httpx.Client, headers: dict[str, str], status: int, reason: str
) -> None:
    server.control.reset(seed=3)
    sent = {"content-type": "application/json", **headers}
    response = http.post("/_emulator/reset", content=b'{"seed": 9}', headers=sent)
    assert response.status_code == status
    assert reason in _json(response)["error"]
    assert _json(http.get("/_emulator/info"))["seed"] == 3


def test_a_foreign_origin_cannot_read_or_clear_either(
    server: EmulatorServer, http: httpx.Client
) -> None:
    server.control.add_fault(provider="zep", status=503)
    foreign = {"origin": "https://attacker.example"}
    assert http.get("/_emulator/info", headers=foreign).status_code == 403
    assert http.delete("/_emulator/faults", headers=foreign).status_code == 403
    assert len(server.control.faults()) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "localhost:8765"},
        {"host": "LOCALHOST"},
        {"host": "127.0.0.1"},
        {"host": "127.1.2.3:1"},
        {"host": "[::1]:8765"},
        {"origin": "http://localhost:3000"},
        {"origin": "https://127.0.0.1"},
        {"origin": "http://[::1]:8765"},
        {"content-type": "application/json; charset=utf-8"},
        {"content-type": "Application/JSON"},
    ],
)
def test_control_requests_from_this_machine_are_served(
    server: EmulatorServer, http: httpx.Client, headers: dict[str, str]
) -> None:
    sent = {"content-type": "application/json", **headers}
    response = http.post("/_emulator/reset", content=b'{"seed": 9}', headers=sent)
    assert response.status_code == 200, response.text
    assert _json(http.get("/_emulator/info"))["seed"] == 9


def test_an_empty_control_post_still_needs_the_json_type(
    server: EmulatorServer, http: httpx.Client
) -> None:
    server.control.add_fault(provider="zep", status=503)
    assert http.post("/_emulator/reset").status_code == 415
    assert len(server.control.faults()) == 1
    assert http.post("/_emulator/reset", headers=JSON_TYPE).status_code == 200
    assert server.control.faults() == []


def test_the_control_client_sends_json_even_without_a_body(server: EmulatorServer) -> None:
    session = httpx.post(
        server.base_url("eliza") + "/api/messaging/sessions",
        json={"agentId": AGENT_ID, "userId": "11111111-2222-4333-8444-555555555555"},
    ).json()
    server.control.request("POST", f"/eliza/sessions/{session['sessionId']}/expire")
    expired = httpx.get(
        server.base_url("eliza") + f"/api/messaging/sessions/{session['sessionId']}"
    )
    assert expired.status_code == 410


def test_provider_routes_keep_their_own_cors_rules(http: httpx.Client) -> None:
    # Only the control API is guarded; ElizaOS answers any origin, as the real server does.
    answer = http.get("/eliza/api/messaging/sessions", headers={"origin": "http://app.example"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "http://app.example"


@pytest.mark.parametrize(
    ("host", "listen_host", "allowed"),
    [
        ("10.1.2.3:8765", "10.1.2.3", True),
        ("10.1.2.3:8765", None, False),
        ("10.1.2.4:8765", "10.1.2.3", False),
        ("0.0.0.0:8765", "0.0.0.0", True),
        ("[fe80::1]:80", "fe80::1", True),
        ("myhost:8765", "myhost", False),
        ("::1", None, False),  # an IPv6 Host must be bracketed
        (None, None, False),
    ],
)
def test_the_address_the_server_listens_on_counts_as_its_own(
    host: str | None, listen_host: str | None, allowed: bool
) -> None:
    headers = {} if host is None else {"host": host}
    assert (refusal("GET", headers, listen_host) is None) is allowed
