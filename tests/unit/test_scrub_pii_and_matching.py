"""Personal-data scrubbing, match_ignore and the before_record hooks, on a real CassetteSession."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pytest_sessionmem.cassette import CassetteSession, RecordedRequest, RecordMode, ScrubConfig
from pytest_sessionmem.cassette.schema import Body, RecordedResponse
from pytest_sessionmem.cassette.scrub import Scrubber
from pytest_sessionmem.errors import ConfigError, UnmatchedRequest

BASE = "http://127.0.0.1:9/api"


def upstream(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/profile"):
        # The server volunteers an address the client never sent.
        return httpx.Response(200, json={"email": "ops@example.net", "phone": "+1 415 555 0100"})
    return httpx.Response(200, json={"echo": json.loads(request.content or b"{}")})


def session(path: Path, mode: RecordMode, **options: object) -> CassetteSession:
    return CassetteSession(
        path,
        mode=mode,
        base_url=BASE,
        real_transport=httpx.MockTransport(upstream),
        **options,  # type: ignore[arg-type]
    )


def traffic(cassette: CassetteSession, *, ts: str = "1") -> list[object]:
    with httpx.Client(transport=cassette.transport(), base_url=BASE) as client:
        return [
            client.get("/profile").json(),
            client.post("/notes", json={"to": "alice@example.org", "ts": ts}).json(),
            client.post("/notes", json={"to": "Alice@Example.org", "cc": "ops@example.net"}).json(),
            client.get("/search", params={"q": "x", "ts": ts}).json(),
        ]


def test_the_same_value_gets_the_same_placeholder_within_a_cassette() -> None:
    redactor = Scrubber(ScrubConfig(pii=True))
    assert redactor.text("mail alice@example.org or bob@example.org") == (
        "mail <EMAIL_1> or <EMAIL_2>"
    )
    assert redactor.text("again ALICE@example.org, call (030) 1234-5678") == (
        "again <EMAIL_1>, call <PHONE_1>"
    )
    assert redactor.text("+49 30 1234 5678 is not (030) 1234-5678") == "<PHONE_2> is not <PHONE_1>"
    # A second cassette numbers afresh.
    assert Scrubber(ScrubConfig(pii=True)).text("bob@example.org") == "<EMAIL_1>"


def test_pii_is_scrubbed_on_disk_and_replay_still_matches(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    recording = session(path, RecordMode.ONCE, scrub=ScrubConfig(pii=True))
    live = traffic(recording)
    recording.finish(failed=False)

    text = path.read_text()
    assert "example" not in text and "555" not in text
    stored = json.loads(text)["interactions"]
    assert stored[0]["response"]["json"] == {"email": "<EMAIL_1>", "phone": "<PHONE_1>"}
    assert stored[1]["request"]["json"]["to"] == "<EMAIL_2>"
    assert stored[2]["request"]["json"] == {"to": "<EMAIL_2>", "cc": "<EMAIL_1>"}
    assert live[0] == {"email": "ops@example.net", "phone": "+1 415 555 0100"}  # the test saw it

    # Replay scrubs only requests, so alice is <EMAIL_1> now, not <EMAIL_2>: still a match.
    replaying = session(path, RecordMode.NONE, scrub=ScrubConfig(pii=True))
    replayed = traffic(replaying)
    assert replaying.played == 4
    assert replayed[1] == {"echo": {"to": "<EMAIL_2>", "ts": "1"}}


def test_match_ignore_leaves_query_params_and_json_paths_out(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    recording = session(path, RecordMode.ONCE)
    traffic(recording, ts="1000")
    recording.finish(failed=False)

    strict = session(path, RecordMode.NONE)
    with pytest.raises(UnmatchedRequest) as info:
        traffic(strict, ts="2000")
    assert "body at `ts`: '2000' != '1000'" in str(info.value)

    lenient = session(path, RecordMode.NONE, match_ignore=("ts", "x-request-id"))
    traffic(lenient, ts="2000")
    assert lenient.played == 4


def test_a_miss_under_match_ignore_explains_only_what_is_compared(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    recording = session(path, RecordMode.ONCE)
    traffic(recording, ts="1000")
    recording.finish(failed=False)
    replaying = session(path, RecordMode.NONE, match_ignore=("ts",))
    with (
        httpx.Client(transport=replaying.transport(), base_url=BASE) as client,
        pytest.raises(UnmatchedRequest) as info,
    ):
        client.post("/notes", json={"to": "carol@example.org", "ts": "3"})
    assert "body at `to`: 'carol@example.org' != 'alice@example.org'" in str(info.value)
    assert "`ts`" not in str(info.value)


def test_before_record_hooks_run_before_scrubbing(tmp_path: Path) -> None:
    seen: list[str] = []

    def drop_trace(request: RecordedRequest) -> RecordedRequest:
        seen.append(dict(request.headers).get("authorization", ""))  # not scrubbed yet
        query = tuple(pair for pair in request.query if pair[0] != "trace")
        return replace(request, query=query)

    def tag(response: RecordedResponse) -> RecordedResponse:
        return replace(response, body=Body("json", {"tagged": True, "was": response.body.value}))

    path = tmp_path / "c.json"
    recording = session(
        path, RecordMode.ONCE, before_record_request=drop_trace, before_record_response=tag
    )
    with httpx.Client(transport=recording.transport(), base_url=BASE) as client:
        client.get("/search", params={"q": "x", "trace": "abc"}, headers={"Authorization": "k"})
    recording.finish(failed=False)

    [stored] = json.loads(path.read_text())["interactions"]
    assert seen == ["k"]
    assert stored["request"]["query"] == {"q": "x"}
    assert "authorization" not in stored["request"]["headers"]  # scrubbing still ran after
    assert stored["response"]["json"]["tagged"] is True


def test_a_hook_that_returns_nothing_is_a_clear_error(tmp_path: Path) -> None:
    recording = session(
        tmp_path / "c.json", RecordMode.ONCE, before_record_request=lambda request: None
    )
    with (
        httpx.Client(transport=recording.transport(), base_url=BASE) as client,
        pytest.raises(ConfigError, match="before_record_request returned NoneType; it must"),
    ):
        client.get("/search")
