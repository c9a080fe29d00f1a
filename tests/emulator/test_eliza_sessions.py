"""ElizaOS emulation over HTTP: session lifecycle, timeouts, expiry, auth, error envelope."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

SESSIONS = "/api/messaging/sessions"
AGENT_ID = "b850bc30-45f8-0041-a00a-83df46d8555d"  # the default agent, "Eliza"
USER_ID = "11111111-2222-4333-8444-555555555555"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def eliza(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url("eliza"), timeout=10) as client:
        yield client


def _iso(text: str) -> datetime:
    assert ISO_MS.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def create(eliza: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = eliza.post(SESSIONS, json={"agentId": AGENT_ID, "userId": USER_ID, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, "no top-level success:false on session errors"
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert (
        {"code", "message", "timestamp", "stack"}
        <= set(error)
        <= {"code", "message", "timestamp", "stack", "details"}
    )
    assert ISO_MS.match(error["timestamp"])
    return error


def test_create_answers_201_with_the_1_7_2_shape(eliza: httpx.Client) -> None:
    body = create(eliza, metadata={"purpose": "demo"})
    assert set(body) == {
        "sessionId",
        "channelId",
        "agentId",
        "userId",
        "createdAt",
        "metadata",
        "expiresAt",
        "timeoutConfig",
    }
    assert uuid.UUID(body["sessionId"]).version == 4
    assert uuid.UUID(body["channelId"]).version == 4
    assert body["sessionId"] != body["channelId"]
    assert (body["agentId"], body["userId"], body["metadata"]) == (
        AGENT_ID,
        USER_ID,
        {"purpose": "demo"},
    )
    assert body["timeoutConfig"] == {
        "timeoutMinutes": 30,
        "autoRenew": True,
        "maxDurationMinutes": 720,
        "warningThresholdMinutes": 5,
    }
    assert _iso(body["expiresAt"]) - _iso(body["createdAt"]) == timedelta(minutes=30)


def test_ids_come_from_the_seeded_id_factory(server: EmulatorServer, eliza: httpx.Client) -> None:
    server.control.reset(seed=7)
    first = create(eliza)["sessionId"]
    server.control.reset(seed=7)
    assert create(eliza)["sessionId"] == first


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ({"timeoutMinutes": 1}, {"timeoutMinutes": 5}),
        ({"timeoutMinutes": 99_999}, {"timeoutMinutes": 1440}),
        ({"timeoutMinutes": "abc"}, {"timeoutMinutes": 30}),
        ({"timeoutMinutes": "45"}, {"timeoutMinutes": 45}),
        ({"timeoutMinutes": 7.5}, {"timeoutMinutes": 7.5}),
        ({"maxDurationMinutes": 1}, {"maxDurationMinutes": 30}),  # never below the timeout
        ({"maxDurationMinutes": 100_000}, {"maxDurationMinutes": 2880}),
        ({"warningThresholdMinutes": 0}, {"warningThresholdMinutes": 1}),
        ({"autoRenew": False}, {"autoRenew": False}),
    ],
)
def test_timeout_config_is_clamped_not_rejected(
    eliza: httpx.Client, requested: dict[str, Any], expected: dict[str, Any]
) -> None:
    config = create(eliza, timeoutConfig=requested)["timeoutConfig"]
    for key, value in expected.items():
        assert config[key] == value
        assert type(config[key]) is type(value)


def test_max_duration_caps_the_expiry(eliza: httpx.Client) -> None:
    body = create(eliza, timeoutConfig={"timeoutMinutes": 600, "maxDurationMinutes": 300})
    assert body["timeoutConfig"]["maxDurationMinutes"] == 600  # raised to the timeout
    capped = create(eliza, timeoutConfig={"timeoutMinutes": 60, "maxDurationMinutes": 40})
    assert _iso(capped["expiresAt"]) - _iso(capped["createdAt"]) == timedelta(minutes=60)


@pytest.mark.parametrize(
    ("body", "message", "details"),
    [
        (
            {"agentId": AGENT_ID},
            "Missing required fields: agentId, userId",
            {"missingFields": ["agentId", "userId"]},
        ),
        (
            {"agentId": 5, "userId": USER_ID},
            "Missing required fields: agentId, userId",
            {"missingFields": ["agentId", "userId"]},
        ),
        (
            {"agentId": "agent-1", "userId": USER_ID},
            "Invalid UUID format for field 'agentId'",
            {"providedValue": "agent-1", "expectedFormat": "UUID v4"},
        ),
        (
            {"agentId": AGENT_ID, "userId": "bob"},
            "Invalid UUID format for field 'userId'",
            {"providedValue": "bob", "expectedFormat": "UUID v4"},
        ),
    ],
)
def test_create_validation_errors(
    eliza: httpx.Client, body: dict[str, Any], message: str, details: dict[str, Any]
) -> None:
    error = error_of(eliza.post(SESSIONS, json=body), 400, "VALIDATION_ERROR")
    assert (error["message"], error["details"]) == (message, details)


def test_create_with_unknown_agent_is_404(eliza: httpx.Client) -> None:
    response = eliza.post(SESSIONS, json={"agentId": UNKNOWN_ID, "userId": USER_ID})
    error = error_of(response, 404, "AGENT_NOT_FOUND")
    assert error["message"] == f"Agent with ID '{UNKNOWN_ID}' not found"
    assert "details" not in error


def test_create_rejects_metadata_over_10_kb(eliza: httpx.Client) -> None:
    blob = {"blob": "x" * 10_230}  # {"blob":"..."} is 11 + 10,230 = 10,241 characters
    response = eliza.post(SESSIONS, json={"agentId": AGENT_ID, "userId": USER_ID, "metadata": blob})
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert error["message"] == "Invalid metadata: Metadata exceeds maximum size of 10240 bytes"
    create(eliza, metadata={"blob": "x" * 10_229})  # exactly 10,240: accepted


def test_get_session_info_and_delete(eliza: httpx.Client) -> None:
    session_id = create(eliza, metadata={"k": "v"})["sessionId"]
    info = eliza.get(f"{SESSIONS}/{session_id}").json()
    assert info["sessionId"] == session_id
    assert info["renewalCount"] == 0 and info["isNearExpiration"] is False
    assert 29 * 60_000 < info["timeRemaining"] <= 30 * 60_000
    assert info["lastActivity"] == info["createdAt"]
    deleted = eliza.delete(f"{SESSIONS}/{session_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {
        "success": True,
        "message": f"Session {session_id} deleted successfully",
    }
    error_of(eliza.get(f"{SESSIONS}/{session_id}"), 404, "SESSION_NOT_FOUND")
    error_of(eliza.delete(f"{SESSIONS}/{session_id}"), 404, "SESSION_NOT_FOUND")


@pytest.mark.parametrize("session_id", [UNKNOWN_ID, "not-a-session"])
def test_unknown_session_is_404_even_when_not_a_uuid(eliza: httpx.Client, session_id: str) -> None:
    for response in (
        eliza.get(f"{SESSIONS}/{session_id}"),
        eliza.get(f"{SESSIONS}/{session_id}/messages"),
        eliza.post(f"{SESSIONS}/{session_id}/messages", json={"content": "hi"}),
    ):
        error = error_of(response, 404, "SESSION_NOT_FOUND")
        assert error["message"] == f"Session with ID '{session_id}' not found"


def test_expired_session_answers_410_once_then_404(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    session = create(eliza, timeoutConfig={"timeoutMinutes": 5, "autoRenew": False})
    path = f"{SESSIONS}/{session['sessionId']}/messages"
    server.control.advance_clock(5 * 60 - 1)
    assert eliza.get(path).status_code == 200  # a GET never renews
    server.control.advance_clock(2)
    error = error_of(eliza.get(path), 410, "SESSION_EXPIRED")
    assert error["message"] == (
        f"Session '{session['sessionId']}' expired at {session['expiresAt']}"
    )
    error_of(eliza.get(path), 404, "SESSION_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", "/messages"), ("POST", "/renew"), ("POST", "/heartbeat")],
)
def test_every_session_route_reports_expiry(
    server: EmulatorServer, eliza: httpx.Client, method: str, suffix: str
) -> None:
    session_id = create(eliza)["sessionId"]
    server.control.advance_clock(31 * 60)
    response = eliza.request(method, f"{SESSIONS}/{session_id}{suffix}", json={"content": "hi"})
    error_of(response, 410, "SESSION_EXPIRED")


def test_posting_renews_an_auto_renew_session(server: EmulatorServer, eliza: httpx.Client) -> None:
    session_id = create(eliza)["sessionId"]
    path = f"{SESSIONS}/{session_id}/messages"
    for _ in range(3):
        server.control.advance_clock(20 * 60)  # 60 minutes in all, never 30 idle
        status = eliza.post(path, json={"content": "still here"}).json()["sessionStatus"]
        assert status["wasRenewed"] is True
    assert status["renewalCount"] == 3
    assert eliza.get(path).status_code == 200


def test_without_auto_renew_posting_does_not_move_expiry(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    session = create(eliza, timeoutConfig={"autoRenew": False, "timeoutMinutes": 10})
    path = f"{SESSIONS}/{session['sessionId']}/messages"
    server.control.advance_clock(6 * 60)
    status = eliza.post(path, json={"content": "hi"}).json()["sessionStatus"]
    assert status == {
        "expiresAt": session["expiresAt"],
        "renewalCount": 0,
        "wasRenewed": False,
        "isNearExpiration": False,
    }
    server.control.advance_clock(5 * 60)
    error_of(eliza.get(path), 410, "SESSION_EXPIRED")


def test_renewal_stops_at_the_maximum_duration(server: EmulatorServer, eliza: httpx.Client) -> None:
    session = create(eliza, timeoutConfig={"timeoutMinutes": 60, "maxDurationMinutes": 90})
    one = f"{SESSIONS}/{session['sessionId']}"
    server.control.advance_clock(50 * 60)
    renewed = eliza.post(one + "/renew").json()
    # Renewed at minute 50: the idle timeout would reach minute 110, the cap is minute 90.
    assert _iso(renewed["expiresAt"]) - _iso(session["createdAt"]) == timedelta(minutes=90)
    server.control.advance_clock(40 * 60 + 1)
    error_of(eliza.post(one + "/renew"), 410, "SESSION_EXPIRED")


def test_renew_just_before_the_cap_keeps_the_capped_expiry(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    session = create(eliza, timeoutConfig={"timeoutMinutes": 60, "maxDurationMinutes": 60})
    server.control.advance_clock(60 * 60 - 1)
    response = eliza.post(f"{SESSIONS}/{session['sessionId']}/renew")
    # 1 s before the cap: renewable, but the expiry cannot move past createdAt + max duration.
    # (Past the cap the session has already expired, so 410 comes before any renewal error.)
    assert response.status_code == 200
    assert response.json()["expiresAt"] == session["expiresAt"]


def test_heartbeat_and_timeout_update(server: EmulatorServer, eliza: httpx.Client) -> None:
    session_id = create(eliza)["sessionId"]
    one = f"{SESSIONS}/{session_id}"
    server.control.advance_clock(60)
    beat = eliza.post(one + "/heartbeat").json()
    assert beat["renewalCount"] == 1 and beat["lastActivity"] != beat["createdAt"]
    too_short = eliza.patch(one + "/timeout", json={"timeoutMinutes": 2})
    error = error_of(too_short, 400, "VALIDATION_ERROR")
    assert error["message"] == (
        "Invalid timeout configuration: Timeout must be between 5 and 1440 minutes"
    )
    bad_type = eliza.patch(one + "/timeout", json={"autoRenew": "yes"})
    assert error_of(bad_type, 400, "VALIDATION_ERROR")["details"]["reason"] == (
        "Invalid timeout configuration format"
    )
    updated = eliza.patch(one + "/timeout", json={"timeoutMinutes": 10}).json()
    assert updated["timeoutConfig"]["timeoutMinutes"] == 10
    assert _iso(updated["expiresAt"]) - _iso(updated["lastActivity"]) == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (None, {}),  # no body at all
        (b"timeoutMinutes=10", {"content-type": "application/x-www-form-urlencoded"}),
    ],
)
def test_a_timeout_update_the_parser_reads_no_body_from_names_no_config(
    eliza: httpx.Client, content: bytes | None, headers: dict[str, str]
) -> None:
    # The server's `providedConfig: undefined` is dropped by JSON.stringify, not written null.
    one = f"{SESSIONS}/{create(eliza)['sessionId']}"
    refused = eliza.patch(one + "/timeout", content=content, headers=headers)
    details = error_of(refused, 400, "VALIDATION_ERROR")["details"]
    assert details == {"reason": "Invalid timeout configuration format"}
    wrong_type = eliza.patch(one + "/timeout", json={"autoRenew": None})
    assert error_of(wrong_type, 400, "VALIDATION_ERROR")["details"] == {
        "reason": "Invalid timeout configuration format",
        "providedConfig": {"autoRenew": None},
    }


def test_health_and_list_count_live_sessions(server: EmulatorServer, eliza: httpx.Client) -> None:
    create(eliza)
    create(eliza, timeoutConfig={"timeoutMinutes": 5})
    server.control.advance_clock(6 * 60)
    health = eliza.get(f"{SESSIONS}/health").json()
    assert health["status"] == "healthy"
    assert (health["activeSessions"], health["expiringSoon"]) == (1, 0)
    listing = eliza.get(SESSIONS).json()
    assert listing["total"] == 1
    assert listing["stats"] == {"totalSessions": 2, "activeSessions": 1, "expiredSessions": 1}


def test_api_key_is_required_when_set(server: EmulatorServer, eliza: httpx.Client) -> None:
    server.control.set_keys(eliza="s3cret")
    expected = {"error": "API key required", "message": "Missing or invalid X-API-KEY header"}
    for headers in ({}, {"X-API-KEY": "wrong"}, {"Authorization": "Bearer s3cret"}):
        response = eliza.get(f"{SESSIONS}/health", headers=headers)
        assert (response.status_code, response.json()) == (401, expected)
    response = eliza.post(
        SESSIONS, json={"agentId": AGENT_ID, "userId": USER_ID}, headers={"x-api-key": "s3cret"}
    )
    assert response.status_code == 201


def test_auth_off_ignores_any_key(eliza: httpx.Client) -> None:
    assert eliza.get(f"{SESSIONS}/health", headers={"X-API-KEY": "whatever"}).status_code == 200


def test_unparsable_json_is_500_before_the_key_check(
    server: EmulatorServer, eliza: httpx.Client
) -> None:
    server.control.set_keys(eliza="s3cret")
    response = eliza.post(
        SESSIONS, content=b'{"agentId": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "error": {"message": "Unexpected end of JSON input", "code": 500},
    }
