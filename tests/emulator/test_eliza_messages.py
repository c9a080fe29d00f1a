"""ElizaOS emulation over HTTP: sending messages and reading them back page by page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

SESSIONS = "/api/messaging/sessions"
AGENT_ID = "b850bc30-45f8-0041-a00a-83df46d8555d"
USER_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def eliza(server: EmulatorServer) -> Iterator[httpx.Client]:
    # A seeded clock: every instant handed out is 1 ms after the previous one, reproducibly.
    server.control.reset(seed=3)
    with httpx.Client(base_url=server.base_url("eliza"), timeout=10) as client:
        yield client


def new_session(eliza: httpx.Client, **extra: Any) -> str:
    response = eliza.post(SESSIONS, json={"agentId": AGENT_ID, "userId": USER_ID, **extra})
    assert response.status_code == 201, response.text
    session_id: str = response.json()["sessionId"]
    return session_id


def post(eliza: httpx.Client, session_id: str, **body: Any) -> httpx.Response:
    return eliza.post(f"{SESSIONS}/{session_id}/messages", json=body)


def page(eliza: httpx.Client, session_id: str, **params: Any) -> dict[str, Any]:
    response = eliza.get(f"{SESSIONS}/{session_id}/messages", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def contents(body: dict[str, Any]) -> list[str]:
    return [message["content"] for message in body["messages"]]


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture
def seven(eliza: httpx.Client) -> tuple[str, list[int]]:
    """A session holding "m1".."m7" (oldest first) and their createdAt in ms."""
    session_id = new_session(eliza)
    stamps = []
    for n in range(1, 8):
        created = post(eliza, session_id, content=f"m{n}").json()["userMessage"]["created_at"]
        stamps.append(created)
    return session_id, stamps


def test_post_answers_the_1_7_2_websocket_shape(eliza: httpx.Client) -> None:
    session_id = new_session(eliza, metadata={"purpose": "demo"})
    response = post(eliza, session_id, content="hello", metadata={"seq": 1})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"success", "userMessage", "sessionStatus"}
    assert body["success"] is True
    message = body["userMessage"]
    assert set(message) == {
        "id",
        "channel_id",
        "message_server_id",
        "author_id",
        "content",
        "created_at",
        "source_type",
        "raw_message",
        "metadata",
    }
    assert message["message_server_id"] == "00000000-0000-0000-0000-000000000000"
    assert (message["author_id"], message["source_type"]) == (USER_ID, "user")
    assert isinstance(message["created_at"], int)
    assert message["raw_message"] == {"content": "hello"}
    assert set(body["sessionStatus"]) == {
        "expiresAt",
        "renewalCount",
        "wasRenewed",
        "isNearExpiration",
    }


def test_message_metadata_is_channel_metadata_merged_with_the_message_own(
    eliza: httpx.Client,
) -> None:
    session_id = new_session(eliza, metadata={"purpose": "demo", "seq": 0})
    post(eliza, session_id, content="hello", metadata={"seq": 1})
    post(eliza, session_id, content="override", metadata={"sessionId": "mine"})
    stored = page(eliza, session_id)["messages"]
    expected_config = {
        "timeoutMinutes": 30,
        "autoRenew": True,
        "maxDurationMinutes": 720,
        "warningThresholdMinutes": 5,
    }
    assert stored[1]["metadata"] == {
        "sessionId": session_id,
        "agentId": AGENT_ID,
        "userId": USER_ID,
        "timeoutConfig": expected_config,
        "purpose": "demo",
        "seq": 1,
    }
    assert stored[0]["metadata"]["sessionId"] == "mine"


def test_thought_and_actions_metadata_of_a_user_message_are_dropped_on_read(
    eliza: httpx.Client,
) -> None:
    session_id = new_session(eliza)
    sent = post(
        eliza, session_id, content="hi", metadata={"thought": "x", "actions": ["A"], "k": 1}
    )
    assert sent.json()["userMessage"]["metadata"]["thought"] == "x"
    stored = page(eliza, session_id)["messages"][0]["metadata"]
    assert "thought" not in stored and "actions" not in stored and stored["k"] == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"content": ""}, "Content cannot be empty"),
        ({"content": "x" * 4001}, "Content exceeds maximum length of 4000 characters"),
        (
            {"content": "\U0001f600" * 2000 + "x"},
            "Content exceeds maximum length of 4000 characters",
        ),
        ({"content": 5}, "Invalid message request format"),
        ({"metadata": {}}, "Invalid message request format"),
        (
            {"content": "hi", "transport": "pigeon"},
            'Invalid transport "pigeon". Must be one of: http, sse, websocket, sync, stream',
        ),
        (
            {"content": "hi", "mode": "later"},
            'Invalid transport "later". Must be one of: http, sse, websocket, sync, stream',
        ),
        (
            {"content": "hi", "transport": 5},
            'Invalid transport type "number". Transport must be a string.',
        ),
    ],
)
def test_post_validation(eliza: httpx.Client, body: dict[str, Any], reason: str) -> None:
    session_id = new_session(eliza)
    response = post(eliza, session_id, **body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"], error["details"]) == (
        "VALIDATION_ERROR",
        f"Invalid content: {reason}",
        {"reason": reason},
    )
    assert page(eliza, session_id)["messages"] == [], "a rejected message is not stored"


def test_transport_is_checked_before_the_session(eliza: httpx.Client) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert post(eliza, unknown, content="hi", transport="pigeon").status_code == 400
    assert post(eliza, unknown, content="hi").status_code == 404


def test_content_of_exactly_4000_utf16_units_is_accepted(eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    assert post(eliza, session_id, content="\U0001f600" * 2000).status_code == 201


def test_http_transport_without_a_reply_is_500_but_stores_the_message(eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    response = post(eliza, session_id, content="sync please", mode="sync")
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "error": "Failed to process message in HTTP transport",
    }
    assert contents(page(eliza, session_id)) == ["sync please"]


def test_sse_transport_streams_the_message_then_an_error(eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    response = post(eliza, session_id, content="stream please", transport="sse")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.splitlines() if line.startswith("event: ")]
    assert events == ["event: user_message", "event: error"]


def test_pages_are_newest_first_with_cursors(
    eliza: httpx.Client, seven: tuple[str, list[int]]
) -> None:
    session_id, stamps = seven
    body = page(eliza, session_id, limit=2)
    assert contents(body) == ["m7", "m6"]
    assert body["hasMore"] is True
    assert body["cursors"] == {"before": stamps[5], "after": stamps[6]}
    assert [epoch_ms(m["createdAt"]) for m in body["messages"]] == [stamps[6], stamps[5]]


@pytest.mark.parametrize("limit", range(1, 9))
def test_walking_before_returns_every_message_once(
    eliza: httpx.Client, seven: tuple[str, list[int]], limit: int
) -> None:
    session_id, _ = seven
    seen: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        body = page(eliza, session_id, **params)
        if not body["messages"]:
            assert "cursors" not in body and body["hasMore"] is False
            break
        assert body["hasMore"] is (len(body["messages"]) == limit)
        seen += contents(body)
        params["before"] = body["cursors"]["before"]
    assert seen == [f"m{n}" for n in range(7, 0, -1)]


@pytest.mark.parametrize("limit", range(1, 9))
def test_walking_after_returns_every_message_once(
    eliza: httpx.Client, seven: tuple[str, list[int]], limit: int
) -> None:
    session_id, stamps = seven
    pages: list[list[str]] = []
    params: dict[str, Any] = {"limit": limit, "after": stamps[0] - 1}
    while True:
        body = page(eliza, session_id, **params)
        if not body["messages"]:
            break
        pages.append(contents(body))
        params["after"] = body["cursors"]["after"]
    # Each page holds the oldest `limit` newer than the cursor, listed newest first.
    assert [name for chunk in pages for name in reversed(chunk)] == [f"m{n}" for n in range(1, 8)]


def test_after_keeps_the_oldest_of_the_newer_messages(
    eliza: httpx.Client, seven: tuple[str, list[int]]
) -> None:
    session_id, stamps = seven
    body = page(eliza, session_id, after=stamps[1], limit=2)
    assert contents(body) == ["m4", "m3"]
    assert body["hasMore"] is True
    body = page(eliza, session_id, after=stamps[4], limit=5)
    assert contents(body) == ["m7", "m6"]
    assert body["hasMore"] is False


def test_after_only_looks_at_the_newest_limit_times_20(eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    for n in range(1, 46):
        post(eliza, session_id, content=f"m{n}")
    # limit 2 fetches the newest 40 (m6..m45): m1..m5 are out of reach even with after=0.
    assert contents(page(eliza, session_id, after=0, limit=2)) == ["m7", "m6"]


def test_before_and_after_together_are_strict_bounds(
    eliza: httpx.Client, seven: tuple[str, list[int]]
) -> None:
    session_id, stamps = seven
    body = page(eliza, session_id, before=stamps[5], after=stamps[1])
    assert contents(body) == ["m5", "m4", "m3"]
    assert contents(page(eliza, session_id, before=stamps[6], after=stamps[0], limit=2)) == [
        "m6",
        "m5",
    ]


def test_cursor_comparisons_are_strict(eliza: httpx.Client, seven: tuple[str, list[int]]) -> None:
    session_id, stamps = seven
    assert contents(page(eliza, session_id, before=stamps[3])) == ["m3", "m2", "m1"]
    assert contents(page(eliza, session_id, after=stamps[3])) == ["m7", "m6", "m5"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 1), ("-4", 1), ("1000", 100), ("abc", 50), ("2.9", 2), ("3abc", 3), ("", 50)],
)
def test_limit_is_clamped_never_rejected(
    server: EmulatorServer, eliza: httpx.Client, raw: str, expected: int
) -> None:
    session_id = new_session(eliza)
    server.control.request("POST", f"/eliza/sessions/{session_id}/seed", {"count": 120})
    assert len(page(eliza, session_id, limit=raw)["messages"]) == expected


def test_repeated_limit_parses_like_an_array(
    eliza: httpx.Client, seven: tuple[str, list[int]]
) -> None:
    session_id, _ = seven
    response = eliza.get(f"{SESSIONS}/{session_id}/messages?limit=2&limit=5")
    assert len(response.json()["messages"]) == 2  # parseInt("2,5") == 2


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("before", "abc", "Must be a valid timestamp"),
        ("after", "abc", "Must be a valid timestamp"),
        ("before", "9" * 400, "Must be a valid timestamp"),
        ("before", "99999999999999999999", "Invalid date from timestamp"),
    ],
)
def test_bad_cursor_is_400(eliza: httpx.Client, name: str, raw: str, reason: str) -> None:
    session_id = new_session(eliza)
    response = eliza.get(f"{SESSIONS}/{session_id}/messages", params={name: raw})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == f"Invalid pagination parameter '{name}': {reason}"
    assert error["details"] == {"parameter": name, "value": raw, "reason": reason}


def test_iso_cursors_are_misread_as_tiny_epoch_numbers(
    eliza: httpx.Client, seven: tuple[str, list[int]]
) -> None:
    session_id, _ = seven
    # parseInt("2030-...") == 2030 ms after the epoch: nothing is older, everything is newer.
    assert page(eliza, session_id, before="2030-01-01T00:00:00Z") == {
        "messages": [],
        "hasMore": False,
    }
    assert contents(page(eliza, session_id, after="2030-01-01T00:00:00Z", limit=3)) == [
        "m3",
        "m2",
        "m1",
    ]


def test_empty_cursor_means_no_cursor(eliza: httpx.Client, seven: tuple[str, list[int]]) -> None:
    session_id, _ = seven
    assert contents(page(eliza, session_id, before="", limit=1)) == ["m7"]


def test_has_more_is_a_full_page_heuristic(eliza: httpx.Client) -> None:
    session_id = new_session(eliza)
    for n in range(1, 5):
        post(eliza, session_id, content=f"m{n}")
    second = page(
        eliza, session_id, limit=2, before=page(eliza, session_id, limit=2)["cursors"]["before"]
    )
    assert contents(second) == ["m2", "m1"] and second["hasMore"] is True
    third = page(eliza, session_id, limit=2, before=second["cursors"]["before"])
    assert third == {"messages": [], "hasMore": False}


def test_messages_of_one_session_stay_in_it(eliza: httpx.Client) -> None:
    first, second = new_session(eliza), new_session(eliza)
    post(eliza, first, content="for first")
    post(eliza, second, content="for second")
    assert contents(page(eliza, first)) == ["for first"]
    assert contents(page(eliza, second)) == ["for second"]


def test_live_clock_still_gives_each_message_its_own_millisecond(server: EmulatorServer) -> None:
    server.control.reset(seed=None)  # wall clock: many posts land in the same real millisecond
    with httpx.Client(base_url=server.base_url("eliza"), timeout=10) as eliza:
        session_id = new_session(eliza)
        stamps = [
            post(eliza, session_id, content=f"m{n}").json()["userMessage"]["created_at"]
            for n in range(20)
        ]
        assert stamps == sorted(set(stamps))
