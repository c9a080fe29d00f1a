"""The ElizaOS emulator's HTTP layer, as @elizaos/server 1.7.2 answers (see the side-by-side test).

Each expectation here was first observed on the real server; the side-by-side test keeps
checking them against it.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from collections.abc import Iterator
from typing import Any

import brotli
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_sessionmem.emulator.eliza_http import BodyError, parse_json_body
from pytest_sessionmem.emulator.eliza_js import (
    _js_dumps,
    js_dumps,
    js_number,
    js_object,
    js_parse_int,
)
from pytest_sessionmem.emulator.runner import EmulatorServer

SESSIONS = "/api/messaging/sessions"
AGENT_ID = "b850bc30-45f8-0041-a00a-83df46d8555d"
USER_ID = "11111111-2222-4333-8444-555555555555"
JSON = {"content-type": "application/json"}


@pytest.fixture
def eliza(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url("eliza"), timeout=30) as client:
        yield client


@pytest.fixture
def messages(eliza: httpx.Client) -> str:
    session = eliza.post(SESSIONS, json={"agentId": AGENT_ID, "userId": USER_ID}).json()
    return f"{SESSIONS}/{session['sessionId']}/messages"


# --- JavaScript values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (9223372036854775808.0, "9223372036854776000"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (0.1, "0.1"),
        (123.456, "123.456"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (math.inf, "null"),
        (math.nan, "null"),
    ],
)
def test_numbers_are_written_as_javascript_writes_them(value: float, text: str) -> None:
    assert js_dumps(value) == text


@pytest.mark.parametrize(
    "page",
    [
        {"n": 2**53 + 1},
        {"n": 2**53 + 1, "x": 1.5},
        {"n": 2**53 + 1, "x": 1.0},  # a value that always took the exact path
        [2**53 + 1, "plain text"],
    ],
    ids=["alone", "beside-a-float", "beside-an-integral-float", "in-a-list"],
)
def test_an_integer_past_2_53_is_written_as_javascript_does_on_any_page(page: Any) -> None:
    text = js_dumps(page)
    assert "9007199254740992" in text and "9007199254740993" not in text
    assert text == _js_dumps(page)


def test_a_long_digit_run_in_a_string_is_kept() -> None:
    assert js_dumps({"phone": "12345678901234567890"}) == '{"phone":"12345678901234567890"}'


def test_json_text_has_javascript_key_order_and_escapes() -> None:
    parsed_order = js_object([("b", 1), ("2", 2), ("1", 1), ("01", 0)])
    assert js_dumps(parsed_order) == '{"1":1,"2":2,"b":1,"01":0}'
    assert js_dumps("a\ud800\x01\u2028") == '"a\\ud800\\u0001\u2028"'


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42.0),
        ("\u00a042", 42.0),
        ("\ufeff42", 42.0),
        ("\x1c42", math.nan),
        ("\u0664\u0662", math.nan),
        ("\uff14\uff12", math.nan),
        ("4\u06642", 4.0),
    ],
)
def test_parse_int_reads_ascii_digits_after_javascript_whitespace(
    raw: str, expected: float
) -> None:
    result = js_parse_int(raw)
    assert result == expected or (math.isnan(expected) and math.isnan(result))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u3000 45", 45.0),
        ("\x1c45", math.nan),
        ("\u0664\u0665", math.nan),
        ("1_0", math.nan),
        ("0x1e", 30.0),
        ("", 0.0),
        ("-Infinity", -math.inf),
    ],
)
def test_number_uses_the_javascript_grammar(raw: str, expected: float) -> None:
    result = js_number(raw)
    assert result == expected or (math.isnan(expected) and math.isnan(result))


# --- the body parser ---------------------------------------------------------------------------


def _parse(body: bytes, **headers: str) -> Any:
    sent = {"content-length": str(len(body)), "content-type": "application/json"}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return parse_json_body(sent, body)


BODY = b'{"content": "hi"}'


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        (gzip.compress(BODY, mtime=0), {"content_encoding": "gzip"}),
        (zlib.compress(BODY), {"content_encoding": "deflate"}),
        (brotli.compress(BODY), {"content_encoding": "br"}),
        (b"\xef\xbb\xbf" + BODY, {}),
        (BODY, {"content_type": "application/json; charset=UTF-8"}),
        (
            '{"content": "hi"}'.encode("utf-16"),
            {"content_type": "application/json; charset=utf-16"},
        ),
    ],
)
def test_accepted_bodies(data: bytes, headers: dict[str, str]) -> None:
    assert _parse(data, **headers) == {"content": "hi"}


@pytest.mark.parametrize(
    ("data", "headers", "message"),
    [
        (
            BODY,
            {"content_type": "application/json; charset=latin1"},
            'unsupported charset "LATIN1"',
        ),
        (BODY, {"content_type": "application/json; charset=utf8"}, 'unsupported charset "UTF8"'),
        (BODY, {"content_encoding": "zstd"}, 'unsupported content encoding "zstd"'),
        (BODY, {"content_encoding": "gzip"}, "incorrect header check"),
        (gzip.compress(BODY, mtime=0)[:-8], {"content_encoding": "gzip"}, "unexpected end of file"),
        (BODY, {"content_encoding": "br"}, "Decompression failed"),
        (b"x" * (2 * 1024 * 1024 + 1), {}, "request entity too large"),
    ],
)
def test_refused_bodies(data: bytes, headers: dict[str, str], message: str) -> None:
    with pytest.raises(BodyError) as excinfo:
        _parse(data, **headers)
    assert str(excinfo.value) == message


def test_only_application_json_is_parsed_and_numbers_are_doubles() -> None:
    assert _parse(BODY, content_type="application/vnd.api+json") is None
    assert _parse(b"") == {}
    assert list(_parse(b'{"b": 1, "2": 2, "1": 1, "01": 0}')) == ["1", "2", "b", "01"]
    big = _parse(b'{"n": 9223372036854775808, "i": 1e400}')
    assert big == {"n": 9223372036854775808.0, "i": math.inf}
    for bad in (b'{"n": NaN}', b"  ", b"42", b'"text"'):
        with pytest.raises(BodyError):
            _parse(bad)


# --- over HTTP ---------------------------------------------------------------------------------


def test_content_type_check(eliza: httpx.Client, messages: str) -> None:
    for content_type in ("text/plain", "application/vnd.api+json", "APPLICATION/JSON"):
        response = eliza.post(messages, content=BODY, headers={"content-type": content_type})
        assert (response.status_code, response.json()) == (
            400,
            {
                "success": False,
                "error": {
                    "code": "INVALID_CONTENT_TYPE",
                    "message": "Invalid or missing Content-Type header",
                },
            },
        ), content_type


def test_body_limit_and_charset_answer_the_api_error_envelope(
    eliza: httpx.Client, messages: str
) -> None:
    huge = json.dumps({"content": "x", "metadata": {"x": "y" * 2_100_000}}).encode()
    response = eliza.post(messages, content=huge, headers=JSON)
    assert (response.status_code, response.json()) == (
        500,
        {"success": False, "error": {"message": "request entity too large", "code": 500}},
    )
    response = eliza.post(
        messages, content=BODY, headers={"content-type": "application/json; charset=latin1"}
    )
    assert response.json()["error"]["message"] == 'unsupported charset "LATIN1"'
    assert eliza.get(messages).json()["messages"] == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"content": "a\\u0000b"}',
        b'{"content": "ok", "metadata": {"k\\u0000": 1}}',
        b'{"content": "a\\ud800b"}',
    ],
)
def test_nul_and_lone_surrogates_are_refused_and_nothing_is_stored(
    eliza: httpx.Client, messages: str, raw: bytes
) -> None:
    response = eliza.post(messages, content=raw, headers=JSON)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "MESSAGE_SEND_FAILED"
    assert error["details"]["originalError"].startswith(
        'Failed query: insert into "central_messages"'
    )
    page = eliza.get(messages)
    assert (page.status_code, page.json()["messages"]) == (200, [])


def test_unrepresentable_numbers_are_stored_as_javascript_would(
    eliza: httpx.Client, messages: str
) -> None:
    raw = b'{"content": "n", "metadata": {"inf": 1e400, "big": 9223372036854775808, "z": -0.0}}'
    assert eliza.post(messages, content=raw, headers=JSON).status_code == 201
    page = eliza.get(messages)
    assert page.status_code == 200
    metadata = page.json()["messages"][0]["metadata"]
    assert (metadata["inf"], metadata["big"], metadata["z"]) == (None, 9223372036854776000, 0)
    assert '"big":9223372036854776000' in page.text


def test_uuids_are_matched_exactly(eliza: httpx.Client) -> None:
    response = eliza.post(SESSIONS, json={"agentId": AGENT_ID, "userId": USER_ID + "\n"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid UUID format for field 'userId'"


def test_query_numbers_are_read_with_ascii_digits(eliza: httpx.Client, messages: str) -> None:
    for n in range(3):
        eliza.post(messages, json={"content": f"m{n}"})
    assert len(eliza.get(messages, params={"limit": "\u0661"}).json()["messages"]) == 3
    assert len(eliza.get(messages, params={"limit": "\u00a01"}).json()["messages"]) == 1


def test_timeout_patch_takes_arrays_and_refuses_nulls(eliza: httpx.Client, messages: str) -> None:
    timeout = messages.replace("/messages", "/timeout")
    assert eliza.patch(timeout, json=[]).status_code == 200
    refused = eliza.patch(timeout, json={"autoRenew": None})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Invalid timeout configuration: Invalid timeout configuration format"
    )


def test_cors_preflight_and_headers(eliza: httpx.Client) -> None:
    preflight = eliza.options(SESSIONS, headers={"Origin": "http://app.example"})
    assert (preflight.status_code, preflight.content) == (204, b"")
    assert preflight.headers["access-control-allow-origin"] == "http://app.example"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST,PUT,DELETE,PATCH,OPTIONS"
    assert (
        preflight.headers["access-control-allow-headers"] == "Content-Type,Authorization,X-API-KEY"
    )
    plain = eliza.get(SESSIONS)
    assert (plain.headers["vary"], plain.headers["access-control-allow-credentials"]) == (
        "Origin",
        "true",
    )
    assert "access-control-allow-origin" not in plain.headers


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats()
    | st.text(alphabet=st.characters(blacklist_categories=()), max_size=6)
    | st.sampled_from(["1.0,", "e-07", "\ud800", "x\udfffy"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        # Objects as the emulator holds them: in JavaScript's own-key order (see js_object).
        | st.dictionaries(
            st.text(max_size=3) | st.sampled_from(["0", "1", "10", "01"]), inner, max_size=3
        ).map(lambda d: js_object(list(d.items())))
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, database=None)
@given(value=_values)
def test_the_fast_json_path_writes_what_the_javascript_rules_write(value: Any) -> None:
    assert js_dumps(value) == _js_dumps(value)
