"""The /_emulator control API and EmulatorControl: reset, keys, clock, faults, Zep processing."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer
from pytest_sessionmem.errors import ConfigError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from zep_cloud.client import Zep
    from zep_cloud.errors import InternalServerError
    from zep_cloud.types import Message

ZEP = "/zep/api/v2"


def _zep_session(http: httpx.Client, session_id: str = "s1") -> None:
    http.post(f"{ZEP}/users", json={"user_id": "u1"}).raise_for_status()
    http.post(
        f"{ZEP}/sessions", json={"session_id": session_id, "user_id": "u1"}
    ).raise_for_status()


def _write(http: httpx.Client, content: str, session_id: str = "s1") -> None:
    http.post(
        f"{ZEP}/sessions/{session_id}/memory",
        json={"messages": [{"role_type": "user", "content": content}]},
    ).raise_for_status()


def test_reset_forgets_everything(server: EmulatorServer, http: httpx.Client) -> None:
    _zep_session(http)
    server.control.add_fault(provider="meibel", status=500)
    server.control.reset(seed=3)
    assert http.get(f"{ZEP}/sessions/s1").status_code == 404
    info = server.control.info()
    assert (info["seed"], info["faults"]) == (3, [])
    assert info["now"] == "2025-01-01T00:00:00.000Z"


def test_keys_turn_auth_on_and_off_per_provider(server: EmulatorServer) -> None:
    server.control.set_keys(zep="a", eliza="b")
    assert server.control.info()["auth"] == {"zep": True, "meibel": False, "eliza": True}
    server.control.set_keys(zep=None)
    assert server.control.info()["auth"]["zep"] is False


def test_clock_advance_moves_timestamps(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.reset(seed=1)
    assert server.control.advance_clock(3600) == "2025-01-01T01:00:00.000Z"
    _zep_session(http)
    created = http.get(f"{ZEP}/sessions/s1").json()["created_at"]
    assert created.startswith("2025-01-01T01:00:00.")


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda c: c.request("POST", "/reset", {"seed": "x"}), "seed"),
        (lambda c: c.request("POST", "/keys", {"openai": "k"}), "openai"),
        (lambda c: c.advance_clock(-5), "seconds"),
        (lambda c: c.add_fault(provider="zep"), "at least one of status, drop or latency_ms"),
        (lambda c: c.add_fault(path="(", status=500), "regular expression"),
        (lambda c: c.add_fault(provider="nope", status=500), "unknown provider"),
        (lambda c: c.zep_set_context("missing", "x"), "does not exist"),
        (lambda c: c.zep_processing(after_reads=-1), "after_reads"),
        (lambda c: c.meibel_add_items("missing", [{"type": "user"}]), "does not exist"),
    ],
)
def test_bad_control_calls_raise_config_error(
    server: EmulatorServer, call: Any, reason: str
) -> None:
    with pytest.raises(ConfigError, match=reason):
        call(server.control)


def test_status_fault_with_retry_after_in_provider_error_shape(
    server: EmulatorServer, http: httpx.Client
) -> None:
    server.control.add_fault(
        provider="zep", method="GET", path="/messages$", status=429, retry_after=7
    )
    _zep_session(http)  # POSTs are not matched
    limited = http.get(f"{ZEP}/sessions/s1/messages")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.json() == {"message": "injected fault: HTTP 429"}
    server.control.add_fault(provider="meibel", status=503, body={"detail": "down"})
    meibel = http.get("/meibel/v2/sessions/x")
    assert (meibel.status_code, meibel.json()) == (503, {"detail": "down"})
    assert http.get("/_emulator/info").status_code == 200  # control API is never faulted


def test_fault_times_then_normal_service(server: EmulatorServer, zep_client: Zep) -> None:
    zep_client.user.add(user_id="u1")
    zep_client.memory.add_session(session_id="s1", user_id="u1")
    server.control.add_fault(provider="zep", status=500, times=2)
    for _ in range(2):
        with pytest.raises(InternalServerError):
            zep_client.memory.get_session("s1")
    assert zep_client.memory.get_session("s1").session_id == "s1"
    assert server.control.faults() == []


def test_sdk_retries_through_a_transient_fault(
    server: EmulatorServer, zep_client: Zep, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("zep_cloud.client.DEFAULT_MAX_RETRIES", 2)
    zep_client.user.add(user_id="u1")
    zep_client.memory.add_session(session_id="s1", user_id="u1")
    # Retry-After: 0 keeps the SDK's back-off from sleeping.
    server.control.add_fault(provider="zep", status=503, retry_after=0, times=2)
    assert zep_client.memory.get_session("s1").session_id == "s1"
    assert server.control.faults() == []  # both injected failures were served


def test_drop_fault_closes_the_connection(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.add_fault(provider="zep", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(f"{ZEP}/sessions/s1")
    assert http.get(f"{ZEP}/sessions/s1").status_code == 404  # the server is fine afterwards


def test_latency_fault_delays_past_a_client_timeout(server: EmulatorServer) -> None:
    server.control.add_fault(provider="meibel", latency_ms=2000, times=1)
    with (
        httpx.Client(base_url=server.url, timeout=0.2) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.get("/meibel/v2/sessions/x")


def test_latency_only_fault_then_serves_normally(
    server: EmulatorServer, http: httpx.Client
) -> None:
    server.control.add_fault(provider="meibel", latency_ms=20, times=1)
    assert http.get("/meibel/v2/sessions/x").status_code == 404
    assert server.control.faults() == []


def test_clear_faults(server: EmulatorServer) -> None:
    server.control.add_fault(status=500)
    server.control.add_fault(status=502)
    assert server.control.clear_faults() == 2
    assert server.control.faults() == []


def test_processing_after_reads_hides_memory_and_marks_messages(
    server: EmulatorServer, http: httpx.Client
) -> None:
    _zep_session(http)
    server.control.zep_processing(after_reads=2)
    _write(http, "I like tea")
    server.control.zep_add_facts("s1", ["likes tea"])
    server.control.zep_set_context("s1", "likes tea")
    seen = []
    for _ in range(3):
        memory = http.get(f"{ZEP}/sessions/s1/memory").json()
        seen.append(
            (memory["context"], len(memory["relevant_facts"]), memory["messages"][0]["processed"])
        )
    assert seen == [(None, 0, False), (None, 0, False), ("likes tea", 1, True)]


def test_processing_after_seconds_follows_the_emulator_clock(
    server: EmulatorServer, http: httpx.Client
) -> None:
    server.control.reset(seed=1)
    _zep_session(http)
    server.control.zep_processing(after_seconds=30)
    _write(http, "hello")
    server.control.zep_add_facts("s1", ["says hello"])
    page = http.get(f"{ZEP}/sessions/s1/messages").json()
    assert page["messages"][0]["processed"] is False
    assert http.get(f"{ZEP}/sessions/s1/memory").json()["relevant_facts"] == []
    server.control.advance_clock(31)
    assert http.get(f"{ZEP}/sessions/s1/messages").json()["messages"][0]["processed"] is True
    assert len(http.get(f"{ZEP}/sessions/s1/memory").json()["relevant_facts"]) == 1


def test_processing_policy_off_again(server: EmulatorServer, http: httpx.Client) -> None:
    _zep_session(http)
    server.control.zep_processing(after_reads=5)
    server.control.zep_processing()
    _write(http, "x")
    assert http.get(f"{ZEP}/sessions/s1/messages").json()["messages"][0]["processed"] is True


def test_sdk_message_model_reads_unprocessed_flag(server: EmulatorServer, zep_client: Zep) -> None:
    zep_client.user.add(user_id="u1")
    zep_client.memory.add_session(session_id="s1", user_id="u1")
    server.control.zep_processing(after_reads=1)
    zep_client.memory.add(session_id="s1", messages=[Message(role_type="user", content="x")])
    page = zep_client.memory.get_session_messages("s1", limit=10, cursor=1)
    assert [m.processed for m in page.messages or []] == [False]


def test_zep_seeded_answers_are_checked_and_cleared(server: EmulatorServer) -> None:
    with pytest.raises(ConfigError) as excinfo:
        server.control.zep_seed_answer("get_session", {}, session_id="s1")
    assert "has no model behind it" in str(excinfo.value)
    assert "synthesize_question" in str(excinfo.value)
    with pytest.raises(ConfigError) as missing:
        server.control.zep_seed_answer("search", [])
    assert "search needs session_id" in str(missing.value)
    server.control.zep_seed_answer("search_sessions", {"results": []})
    server.control.zep_seed_answer("get_node", {"node": None}, user_id="u1")
    assert server.control.zep_clear_answers() == 2
    assert server.control.zep_clear_answers() == 0


def test_meibel_agents_are_registered_for_create_by_name(
    server: EmulatorServer, http: httpx.Client
) -> None:
    agent_id = server.control.meibel_add_agent("Support", agent_id="a-1", version="2")
    assert agent_id == "a-1"
    created = http.post("/meibel/v2/agents/name/Support/sessions")
    assert created.status_code == 200
    listed = http.get("/meibel/v2/agents/a-1/sessions").json()
    assert [s["agent_name"] for s in listed["data"]] == ["Support"]
