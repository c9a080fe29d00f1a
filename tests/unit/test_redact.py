"""Scrubbing: nothing secret reaches the cassette, and scrubbed requests still match."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from pytest_sessionmem.cassette import CassetteSession, RecordMode, ScrubConfig
from pytest_sessionmem.cassette.schema import Body, RecordedRequest, RecordedResponse
from pytest_sessionmem.cassette.scrub import ALWAYS_DROPPED_HEADERS, Scrubber
from pytest_sessionmem.errors import ConfigError

CANARY = "sk-canary-7f3a91"
REPLAY_BASE = "https://api.getzep.com/api/v2"


def echo(request: httpx.Request) -> httpx.Response:
    """Reflects everything it got, in headers and body, the way a leaky server might."""
    return httpx.Response(
        200,
        json={
            "url": str(request.url),
            "headers": dict(request.headers),
            "body": request.content.decode(),
            "user": {"email": "ann@example.com", "token": CANARY},
            "messages": [{"metadata": {"email": "bob@example.com", "ok": 1}}],
        },
        headers={
            "set-cookie": f"session={CANARY}",
            "x-echo-key": CANARY,
            "x-private": "internal",
            "content-type": "application/json",
        },
    )


def record_one(path: Path, scrub: ScrubConfig, send: dict[str, object]) -> httpx.Response:
    session = CassetteSession(
        path,
        mode=RecordMode.ONCE,
        base_url="http://127.0.0.1:1234/api/v2",
        scrub=scrub,
        real_transport=httpx.MockTransport(echo),
    )
    with httpx.Client(base_url=session.base_url, transport=session.transport()) as client:
        response = client.post("/sessions/s1/memory", **send)  # type: ignore[arg-type]
    assert session.finish(failed=False).written
    return response


ALL_CREDENTIAL_HEADERS = {
    "Authorization": "Api-Key cred-1",
    "Meibel-API-Key": "cred-2",
    "X-API-KEY": "cred-3",
    "Cookie": "sid=cred-4",
    "Proxy-Authorization": "Basic cred-5",
    "Api-Key": "cred-6",  # Azure OpenAI
    "X-Goog-Api-Key": "cred-7",  # Google's Gemini API
}


def test_credential_headers_always_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    record_one(path, ScrubConfig(keep_headers=("x-echo-key",)), {"headers": ALL_CREDENTIAL_HEADERS})
    stored = json.loads(path.read_text())["interactions"][0]
    assert {name.lower() for name in ALL_CREDENTIAL_HEADERS} | {
        "set-cookie"
    } == ALWAYS_DROPPED_HEADERS
    assert "set-cookie" not in stored["response"]["headers"]
    assert set(stored["request"]["headers"]) <= {"content-type"}
    # (The echo server also copies them into its JSON body; values found there are only
    # scrubbed when configured as `secrets`, which the next test covers.)


def test_canary_secret_never_reaches_disk_in_any_place(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    live = record_one(
        path,
        ScrubConfig(secrets={"ZEP_API_KEY": CANARY}, keep_headers=("x-echo-key", "x-trace")),
        {
            "params": {"api_key": CANARY, "q": f"prefix-{CANARY}"},
            "headers": {"Authorization": f"Api-Key {CANARY}", "X-Trace": f"t {CANARY}"},
            "json": {"key": CANARY, "nested": [{"k": f'quoted "{CANARY}"'}], CANARY: "as key"},
        },
    )
    written = path.read_bytes()
    assert CANARY.encode() not in written
    assert b"<ZEP_API_KEY>" in written
    stored = json.loads(written)["interactions"][0]
    assert stored["request"]["query"] == {"api_key": "<ZEP_API_KEY>", "q": "prefix-<ZEP_API_KEY>"}
    assert stored["request"]["headers"]["x-trace"] == "t <ZEP_API_KEY>"
    assert stored["request"]["json"]["<ZEP_API_KEY>"] == "as key"
    assert "x-echo-key" not in stored["response"]["headers"]  # its value *is* the secret
    assert stored["response"]["json"]["user"]["token"] == "<ZEP_API_KEY>"
    # The test itself got the real, unscrubbed response while recording.
    assert live.json()["user"]["token"] == CANARY
    assert live.headers["x-echo-key"] == CANARY


def test_secret_in_text_binary_and_percent_encoded_forms(tmp_path: Path) -> None:
    secret = "p@ss/wörd"
    redactor = Scrubber(ScrubConfig(secrets={"PW": secret}))
    assert redactor.text("a p%40ss%2Fw%C3%B6rd b") == "a <PW> b"
    assert redactor.text('{"x": "p@ss/w\\u00f6rd"}') == '{"x": "<PW>"}'  # JSON-escaped form
    assert redactor.text(json.dumps({"x": secret}, ensure_ascii=False)) == '{"x": "<PW>"}'
    body = Scrubber(ScrubConfig(secrets={"PW": secret}))._body(
        Body("base64", b"\x00" + secret.encode())
    )
    assert body == Body("base64", b"\x00<PW>")


def test_extra_headers_query_params_json_paths_and_patterns(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    scrub = ScrubConfig(
        headers=("X-Private",),
        keep_headers=("x-private", "x-visible"),
        query_params=("session_token",),
        json_paths=("messages.*.metadata.email", "user.email"),
        patterns=(r"[\w.]+@example\.com",),
    )
    record_one(
        path,
        scrub,
        {
            "params": {"session_token": "abc", "keep": "me"},
            "headers": {"X-Visible": "mail carol@example.com"},
            "json": {"note": "write to dave@example.com"},
        },
    )
    stored = json.loads(path.read_text())["interactions"][0]
    assert stored["request"]["query"] == {"session_token": "<REDACTED>", "keep": "me"}
    assert stored["request"]["headers"]["x-visible"] == "mail <REDACTED>"
    assert stored["request"]["json"] == {"note": "write to <REDACTED>"}
    response = stored["response"]
    assert "x-private" not in response["headers"]
    assert response["json"]["user"]["email"] == "<REDACTED>"
    assert response["json"]["messages"][0]["metadata"] == {"email": "<REDACTED>", "ok": 1}
    assert "example.com" not in path.read_text()


def test_json_path_wildcard_over_keys_and_indices() -> None:
    redactor = Scrubber(ScrubConfig(json_paths=("a.*.b", "list.1")))
    request = RecordedRequest(
        "POST", "/", body=Body("json", {"a": {"x": {"b": 1, "c": 2}}, "list": [1, 2, 3]})
    )
    assert redactor.request(request).body.value == {
        "a": {"x": {"b": "<REDACTED>", "c": 2}},
        "list": [1, "<REDACTED>", 3],
    }


def test_only_allow_listed_headers_are_kept() -> None:
    redactor = Scrubber(ScrubConfig())
    request = RecordedRequest(
        "GET", "/", headers=(("Content-Type", "application/json"), ("user-agent", "sdk/1"))
    )
    assert redactor.request(request).headers == (("content-type", "application/json"),)


def test_response_headers_the_llm_sdks_act_on_are_kept() -> None:
    """An SDK that was told not to retry must not retry in replay either."""
    response = RecordedResponse(
        500,
        headers=(
            ("x-should-retry", "false"),
            ("retry-after-ms", "20"),
            ("request-id", "req_1"),
            ("content-encoding", "gzip"),
        ),
    )
    assert Scrubber(ScrubConfig()).response(response).headers == (
        ("retry-after-ms", "20"),
        ("x-should-retry", "false"),
    )


def test_replay_with_a_different_key_matches_the_scrubbed_recording(
    cassettes, tmp_path: Path
) -> None:
    path = tmp_path / "c.json"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    recording = CassetteSession(
        path,
        mode=RecordMode.ONCE,
        base_url=REPLAY_BASE,
        scrub=ScrubConfig(secrets={"KEY": "real-key"}),
        real_transport=httpx.MockTransport(handler),
    )
    with httpx.Client(transport=recording.transport()) as client:
        client.get(f"{REPLAY_BASE}/items", params={"key": "real-key"})
    recording.finish(failed=False)
    replay = cassettes.session(
        path, "none", base_url=REPLAY_BASE, scrub=ScrubConfig(secrets={"KEY": "other-key"})
    )
    with httpx.Client(transport=replay.transport()) as client:
        assert client.get(f"{REPLAY_BASE}/items", params={"key": "other-key"}).json() == {
            "ok": True
        }


def test_empty_secret_values_are_ignored() -> None:
    assert Scrubber(ScrubConfig(secrets={"UNSET": ""})).text("abc") == "abc"


def test_longer_secret_wins_over_the_one_it_contains() -> None:
    redactor = Scrubber(ScrubConfig(secrets={"SHORT": "abc", "LONG": "abcdef"}))
    assert redactor.text("abcdef abc") == "<LONG> <SHORT>"


def test_base_url_metadata_has_no_credentials(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    session = CassetteSession(
        path,
        mode=RecordMode.ALL,
        base_url=f"https://user:pw@host.example/{CANARY}/v2",
        scrub=ScrubConfig(secrets={"K": CANARY}),
    )
    session.finish(failed=False)
    assert json.loads(path.read_text())["base_url"] == "https://host.example/<K>/v2"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secrets": {"has space": "x"}}, "Secret placeholder name 'has space' is not usable"),
        ({"patterns": ("(",)}, "Scrub pattern '(' is not a valid regex"),
        ({"patterns": ("a*",)}, "matches the empty string"),
        ({"json_paths": ("a..b",)}, "JSON path 'a..b' is not a dotted path"),
        ({"keep_headers": ("Authorization",)}, "keep_headers lists 'authorization'"),
    ],
)
def test_bad_scrub_config_is_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("'", "'")):
        ScrubConfig(**kwargs)  # type: ignore[arg-type]


# -- every form a secret takes -----------------------------------------------------------------

# A key with every character that encoders treat differently: "+", "/" and "=".
KEY = "ck-4f1a+ab/cd9e=="
SPACE_KEY = "pass phrase/42"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("written", "form"),
    [
        (KEY, "raw"),
        ("ck-4f1a%2Bab%2Fcd9e%3D%3D", "percent-encoded, / escaped"),
        ("ck-4f1a%2Bab/cd9e%3D%3D", "percent-encoded, / left as is (a Location header)"),
        ("ck-4f1a%2bab%2fcd9e%3d%3d", "percent-encoded, lower-case hex"),
        ("ck-4f1a ab/cd9e==", "+ decoded as a space (a redirect's query)"),
        ("ck-4f1a%20ab/cd9e==", "that space percent-encoded"),
        ("ck-4f1a+ab\\/cd9e==", "JSON-escaped /"),
        ("ck-4f1a\\u002bab\\u002Fcd9e\\u003d\\u003D", "JSON \\u escapes"),
        ("Basic " + _b64("user:" + KEY), "Basic auth's base64, key as the password"),
        ("Basic " + _b64(KEY + ":"), "Basic auth's base64, key as the user"),
        (base64.urlsafe_b64encode(b"xy" + KEY.encode() + b"!").decode(), "URL-safe base64"),
    ],
)
def test_every_form_of_a_secret_becomes_its_placeholder(written: str, form: str) -> None:
    scrubber = Scrubber(ScrubConfig(secrets={"OPENAI_API_KEY": KEY}))

    scrubbed = scrubber.text(f"before [{written}] after")

    assert scrubbed.removeprefix("before [").removesuffix("] after") in (
        "<OPENAI_API_KEY>",
        "Basic <OPENAI_API_KEY>",
    ), form


@pytest.mark.parametrize(
    "written",
    [SPACE_KEY, "pass+phrase%2F42", "pass+phrase/42", "pass%20phrase%2F42", '"pass phrase\\/42"'],
)
def test_a_space_in_a_secret_is_found_as_plus_and_as_percent_20(written: str) -> None:
    scrubber = Scrubber(ScrubConfig(secrets={"MY_TOKEN": SPACE_KEY}))
    assert "phrase" not in scrubber.text(written)


def test_base64_is_not_looked_for_in_a_short_secret() -> None:
    # Its encoded core would be a few characters any base64 data may hold by chance.
    data = _b64("user:abc")
    assert Scrubber(ScrubConfig(secrets={"K": "abc"})).text(data) == data


def test_every_form_is_scrubbed_from_urls_headers_and_bodies_both_ways(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    pct, pct_slash = quote(KEY, safe=""), quote(KEY, safe="/")

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/start"):
            # Percent-encoded with "/" left as is in the path; the query keeps a raw "+",
            # which the client's decoder then reads as a space.
            location = f"/api/v2/landing/{pct_slash}?k={quote(KEY, safe='/+')}"
            return httpx.Response(302, headers={"location": location, "set-cookie": f"k={pct}"})
        if request.url.path.endswith("/text"):
            text = f"raw {KEY} pct {pct} json {json.dumps(KEY)} basic {_b64('u:' + KEY)}"
            return httpx.Response(200, text=text, headers={"x-echo": KEY})
        return httpx.Response(
            200,
            json={"k": KEY, "pct": pct, "space": KEY.replace("+", " "), KEY: "as a key"},
            headers={"location": f"/x/{pct_slash}", "retry-after": "1"},
        )

    session = CassetteSession(
        path,
        mode=RecordMode.ONCE,
        base_url="http://127.0.0.1:1234/api/v2",
        scrub=ScrubConfig(secrets={"OPENAI_API_KEY": KEY}),
        real_transport=httpx.MockTransport(server),
    )
    with httpx.Client(
        base_url=session.base_url, transport=session.transport(), follow_redirects=True
    ) as client:
        assert client.get("/start").json()["k"] == KEY  # the test sees the real answer
        client.post(
            "/text",
            params={"key": KEY},
            content=f"form={quote(KEY)}&b={_b64(KEY)}",
            headers={"content-type": "application/x-www-form-urlencoded", "api-key": KEY},
            auth=("user", KEY),
        )
    assert session.finish(failed=False).written
    written = path.read_text()
    leftovers = [KEY, pct, pct_slash, KEY.replace("+", " "), "4f1a", "cd9e"]
    assert [form for form in leftovers if form in written] == []
    stored = json.loads(written)["interactions"]
    assert stored[0]["response"]["headers"]["location"].startswith("/api/v2/landing/<OPENAI_API")
    assert stored[1]["request"]["path"] == "/landing/<OPENAI_API_KEY>"
    assert stored[1]["request"]["query"] == {"k": "<OPENAI_API_KEY>"}
    assert stored[1]["response"]["json"]["<OPENAI_API_KEY>"] == "as a key"
    assert stored[2]["request"]["query"] == {"key": "<OPENAI_API_KEY>"}


def test_an_html_report_diff_that_splits_a_secret_is_computed_again_without_it() -> None:
    from pytest_sessionmem.assertions.review import inline_segments
    from pytest_sessionmem.plugin.report_html import without_secrets
    from pytest_sessionmem.support.redaction import Redactor

    # A character diff against the expected text cuts the key into pieces no one of
    # which is the key, so replacing the key in each piece would leave them all.
    segments = inline_segments("my key is ck-9", f"my key is {KEY}")
    assert not any(KEY in text for _, text in segments)
    data = [{"reviews": [{"fields": [{"inline": segments, "actual": f"my key is {KEY}"}]}]}]

    cleaned = without_secrets(data, Redactor({"OPENAI_API_KEY": KEY}))

    field = cleaned[0]["reviews"][0]["fields"][0]
    assert field["actual"] == "my key is <OPENAI_API_KEY>"
    assert field["inline"] == inline_segments("my key is ck-9", "my key is <OPENAI_API_KEY>")
    assert "4f1a" not in json.dumps(cleaned) and "cd9e" not in json.dumps(cleaned)
