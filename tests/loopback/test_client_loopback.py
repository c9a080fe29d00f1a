"""Both clients over real HTTP on loopback, against the embedded emulator.

The MockTransport tests pin every quirk; these prove the same code talks to a real
server socket: auth headers, paging, status codes, retries on injected faults and a
refused connection.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest

from pytest_sessionmem import (
    AuthenticationError,
    ProviderUnavailable,
    Role,
    SessionExpired,
    SessionNotFound,
)
from pytest_sessionmem.client import AsyncSessionClient, SessionClient
from pytest_sessionmem.emulator.runner import EmulatorServer

KEYS = {"zep": "zep-key", "meibel": "meibel-key", "eliza": "eliza-key"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(seed=7, api_keys=dict(KEYS)) as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    server.control.reset(seed=7)
    server.control.set_keys(**KEYS)
    return server


def client(server: EmulatorServer, provider: str, **kwargs: object) -> SessionClient:
    options: dict[str, object] = {"api_key": KEYS[provider], "sleep": lambda seconds: None}
    options.update(kwargs)
    return SessionClient(provider, base_url=server.base_url(provider), **options)  # type: ignore[arg-type]


def test_zep_round_trip(emulator: EmulatorServer) -> None:
    with client(emulator, "zep") as zep:
        zep.add_user("user-1")
        zep.create_session(session_id="s1", user_id="user-1")
        turns = [("user" if i % 2 == 0 else "assistant", f"turn {i}") for i in range(65)]
        zep.add_messages("s1", turns)
        emulator.control.zep_set_context("s1", "The user counts turns.")

        transcript = zep.get_messages("s1", page_size=20)
        memory = zep.get_memory("s1", last_n=2)

        assert transcript.contents == [f"turn {i}" for i in range(65)]
        assert transcript[1].role is Role.ASSISTANT
        assert memory.context == "The user counts turns."
        assert memory.messages.contents == ["turn 63", "turn 64"]
        zep.delete_session("s1")
        with pytest.raises(SessionNotFound):
            zep.get_session("s1")


def test_meibel_round_trip(emulator: EmulatorServer) -> None:
    with client(emulator, "meibel") as meibel:
        session = meibel.create_session(agent_id="agent-1")
        emulator.control.meibel_queue_replies(session.id, ["Sure."])

        reply = meibel.send_message(session.id, "Can you help?")
        transcript = meibel.get_messages(session.id)

        assert reply.content == "Sure."
        assert [(m.role, m.content) for m in transcript] == [
            (Role.USER, "Can you help?"),
            (Role.ASSISTANT, "Sure."),
        ]


def test_eliza_round_trip_async(emulator: EmulatorServer) -> None:
    agents = emulator.control.request("GET", "/eliza/agents")["agents"]

    async def scenario() -> list[str]:
        async with AsyncSessionClient(
            "eliza", base_url=emulator.base_url("eliza"), api_key=KEYS["eliza"]
        ) as eliza:
            session = await eliza.create_session(
                agent_id=agents[0]["id"], user_id=str(uuid.uuid4())
            )
            emulator.control.request(
                "POST",
                f"/eliza/sessions/{session.id}/seed",
                {"count": 103, "template": "note {n}", "authors": "alternate"},
            )
            await eliza.add_messages(session.id, [("user", "last but one"), ("user", "last")])
            transcript = await eliza.get_messages(session.id, page_size=50)
            return transcript.contents

    contents = asyncio.run(scenario())
    assert len(contents) == 105
    assert contents[-2:] == ["last but one", "last"]
    assert contents[:103] == sorted(contents[:103], key=lambda c: int(c.split()[1]))


def test_eliza_expiry_then_not_found(emulator: EmulatorServer) -> None:
    agents = emulator.control.request("GET", "/eliza/agents")["agents"]
    with client(emulator, "eliza") as eliza:
        session = eliza.create_session(agent_id=agents[0]["id"], user_id=str(uuid.uuid4()))
        emulator.control.request("POST", f"/eliza/sessions/{session.id}/expire")

        with pytest.raises(SessionExpired):
            eliza.get_messages(session.id)
        with pytest.raises(SessionNotFound):
            eliza.get_messages(session.id)


def test_wrong_key_is_an_authentication_error(emulator: EmulatorServer) -> None:
    with (
        client(emulator, "zep", api_key="not-the-key") as zep,
        pytest.raises(AuthenticationError) as info,
    ):
        zep.get_session("s1")
    assert "not-the-key" not in str(info.value)


def test_injected_429_is_retried_with_its_retry_after(emulator: EmulatorServer) -> None:
    sleeps: list[float] = []
    emulator.control.add_fault(
        provider="zep", method="GET", path="/sessions/.*", status=429, retry_after=2, times=2
    )
    with client(emulator, "zep", sleep=sleeps.append) as zep:
        zep.add_user("user-1")
        zep.create_session(session_id="s1", user_id="user-1")

        assert zep.get_session("s1").id == "s1"
    assert sleeps == [2.0, 2.0]


def test_refused_connection_is_provider_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    eliza = SessionClient(
        "eliza", base_url=f"http://127.0.0.1:{port}", max_retries=1, sleep=lambda s: None
    )
    with eliza, pytest.raises(ProviderUnavailable, match="start the server there") as info:
        eliza.get_messages("s1")
    assert f"could not reach eliza at http://127.0.0.1:{port} (" in str(info.value)
    assert isinstance(info.value.original, httpx.ConnectError)
