"""Socket-level claims, against a real HTTP server on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_sessionmem.cassette import CassetteSession, RecordMode

REPLAY_BASE = "https://api.getzep.com/api/v2"


def test_record_over_loopback_then_replay_without_any_socket(
    tmp_path: Path, loopback_server, forbid_network
) -> None:
    path = tmp_path / "c.json"
    with loopback_server() as origin:
        session = CassetteSession(path, mode=RecordMode.ONCE, base_url=f"{origin}/api/v2")
        with httpx.Client(base_url=session.base_url, transport=session.transport()) as client:
            got = client.get("/sessions/s1/messages", params={"limit": 2}).json()
            echoed = client.post("/sessions/s1/messages", json={"content": "hi"}).json()
        assert session.finish(failed=False).written
    assert got["agent_name"] == "/api/v2/sessions/s1/messages?limit=2"
    assert echoed == {"echo": {"content": "hi"}}

    created = forbid_network()
    replay = CassetteSession(path, mode=RecordMode.NONE, base_url=REPLAY_BASE)
    with httpx.Client(base_url=REPLAY_BASE, transport=replay.transport()) as client:
        assert client.get("/sessions/s1/messages", params={"limit": 2}).json() == got
        assert client.post("/sessions/s1/messages", json={"content": "hi"}).json() == echoed
    replay.finish(failed=False)
    assert created == []


async def _async_round(base_url: str, transport: httpx.AsyncBaseTransport) -> Any:
    async with httpx.AsyncClient(base_url=base_url, transport=transport) as client:
        return (await client.get("/sessions/s2/messages")).json()


@pytest.mark.asyncio
async def test_async_record_over_loopback_then_replay_without_socket(
    tmp_path: Path, loopback_server, forbid_network
) -> None:
    path = tmp_path / "c.json"
    with loopback_server() as origin:
        session = CassetteSession(path, mode=RecordMode.ALL, base_url=origin)
        live = await _async_round(origin, session.async_transport())
        session.finish(failed=False)
    created = forbid_network()
    replay = CassetteSession(path, mode=RecordMode.NONE, base_url=REPLAY_BASE)
    assert await _async_round(REPLAY_BASE, replay.async_transport()) == live
    assert created == []
