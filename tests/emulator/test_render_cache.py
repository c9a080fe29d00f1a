"""GET messages pages joined from each message's cached JSON are the bytes the dicts render to.

The emulator renders every stored message once and joins the cached JSON per page; these
tests hold that to what serialising the page dict gives (``page_messages`` for ElizaOS,
``message_json`` for Zep), also after a Zep message changes or becomes processed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.responses import JSONResponse

from pytest_sessionmem.emulator.eliza_http import ElizaJSONResponse
from pytest_sessionmem.emulator.eliza_rules import (
    ElizaState,
    page_messages,
    page_messages_json,
)
from pytest_sessionmem.emulator.runner import EmulatorServer
from pytest_sessionmem.emulator.zep import views as zep_views
from pytest_sessionmem.emulator.zep.store import Readiness, Stamped

T0 = 1_735_689_600_000


def eliza_channel() -> ElizaState:
    state = ElizaState()
    state.add_channel("c1", {})
    for i in range(250):
        raw: dict[str, Any] = {"text": f"m{i}"}
        if i % 4 == 0:
            raw["thought"] = f"thinking {i}"
        if i % 9 == 0:
            raw["actions"] = ["REPLY"]
        state.store_message(
            message_id=f"00000000-0000-4000-8000-{i:012d}",
            channel_id="c1",
            author_id="a" if i % 2 else "u",
            content=f'message {i}: café 日本 😀 \u2028 "quoted" \\ tab\t',
            now_ms=T0 + 10 * (i // 3),  # ties: three messages share a millisecond
            source_type="agent_response" if i % 2 else "user",
            raw_message=raw,
            metadata={
                "seq": i,
                "score": i / 8,
                "big": 2**52,
                "thought": "kept?",
                "nested": {"0": 1},
            },
        )
    return state


def test_eliza_pages_are_the_bytes_of_the_page_dict() -> None:
    state = eliza_channel()
    cases = [
        (100, None, None),
        (50, T0 + 400, None),
        (100, None, T0 + 300),
        (10, T0 + 700, T0 + 100),
        (100, T0, None),  # empty page: no cursors
        (3, None, None),
    ]
    for _ in range(2):  # the second pass reads every message from its cache
        for limit, before, after in cases:
            expected = ElizaJSONResponse(page_messages(state, "c1", limit, before, after)).body
            assert page_messages_json(state, "c1", limit, before, after) == expected


def test_eliza_get_messages_answers_as_before() -> None:
    with EmulatorServer(seed=1) as server, httpx.Client() as http:
        base = server.base_url("eliza") + "/api/messaging/sessions"
        agent = server.state.eliza.agents
        created = http.post(
            base,
            json={"agentId": next(iter(agent)), "userId": "00000000-0000-4000-8000-000000000001"},
        ).json()
        session_id = created["sessionId"]
        server.control.request("POST", f"/eliza/sessions/{session_id}/seed", {"count": 150})
        channel = server.state.eliza.sessions[session_id].channel_id

        for query in ("limit=100", "limit=20&before=1735689600100", "limit=5&after=0"):
            response = http.get(f"{base}/{session_id}/messages?{query}")
            params = dict(pair.split("=") for pair in query.split("&"))
            with server.state.lock:
                body = page_messages(
                    server.state.eliza,
                    channel,
                    int(params["limit"]),
                    int(params["before"]) if "before" in params else None,
                    int(params["after"]) if "after" in params else None,
                )
            reference = ElizaJSONResponse(body)
            assert response.content == reference.body
            assert response.headers["content-type"] == "application/json; charset=utf-8"
            assert response.headers["content-length"] == str(len(reference.body))


def test_zep_message_json_follows_processing_and_updates() -> None:
    item = Stamped({"uuid": "u1", "content": "hé", "metadata": {"a": 1.5}}, Readiness())
    reached = item.readiness.reached
    for _ in range(2):
        got = zep_views.message_bytes(item, None, 0)  # type: ignore[arg-type]
        want = JSONResponse({**item.payload, "processed": reached(None, 0)}).body  # type: ignore[arg-type]
        assert got == want
    item.payload["metadata"] = {"a": 2}
    item.rendered.clear()
    assert json.loads(zep_views.message_bytes(item, None, 0))["metadata"] == {"a": 2}  # type: ignore[arg-type]


def test_zep_get_messages_answers_as_before() -> None:
    with EmulatorServer(seed=1) as server, httpx.Client() as http:
        base = server.base_url("zep")
        http.post(f"{base}/users", json={"user_id": "u"}).raise_for_status()
        http.post(f"{base}/sessions", json={"session_id": "s", "user_id": "u"}).raise_for_status()
        batch = [{"role_type": "user", "role": "Ada", "content": f"hello {i} ✓"} for i in range(30)]
        http.post(f"{base}/sessions/s/memory", json={"messages": batch}).raise_for_status()

        first = http.get(f"{base}/sessions/s/messages?limit=10&cursor=2")
        uuid = first.json()["messages"][0]["uuid"]
        http.patch(
            f"{base}/sessions/s/messages/{uuid}", json={"metadata": {"tag": "x"}}
        ).raise_for_status()
        second = http.get(f"{base}/sessions/s/messages?limit=10&cursor=2")

        with server.state.lock:
            session = server.state.zep.sessions["s"]
            now = server.state.clock.peek()
            expected = JSONResponse(
                {
                    "messages": [
                        zep_views.message_json(m, now, session.reads)
                        for m in session.messages[10:20]
                    ],
                    "total_count": 30,
                    "row_count": 10,
                }
            ).body
        assert second.content == expected
        assert second.json()["messages"][0]["metadata"] == {"tag": "x"}
        assert second.headers["content-type"] == "application/json"
        assert first.json()["messages"][1:] == second.json()["messages"][1:]
