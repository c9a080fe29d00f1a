"""No route answers plain text: every miss is JSON in the provider's own error envelope."""

from __future__ import annotations

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

API_NOT_FOUND = {"success": False, "error": {"message": "API endpoint not found", "code": 404}}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/zep/api/v2/nope", 404, {"message": "not found"}),
        ("GET", "/zep/api/v2", 404, {"message": "not found"}),
        ("PUT", "/zep/api/v2/sessions/s1", 405, {"message": "method not allowed"}),
        ("GET", "/zep/api/v2/sessions/s1/unknown", 404, {"message": "not found"}),
        ("GET", "/zep/api/v2/sessions/a%2Fb", 404, {"message": "not found"}),
        ("GET", "/meibel/v2/nope", 404, {"detail": "Not Found"}),
        ("DELETE", "/meibel/v2/sessions/x", 405, {"detail": "Method Not Allowed"}),
        ("GET", "/meibel/v2/sessions/x", 404, {"detail": "Session not found"}),
        ("GET", "/eliza/api/nope", 404, API_NOT_FOUND),
        ("PUT", "/eliza/api/messaging/sessions", 404, API_NOT_FOUND),
        (
            "GET",
            "/eliza/nope",
            403,
            {"success": False, "error": {"message": "Forbidden", "code": 403}},
        ),
    ],
)
def test_misses_answer_the_provider_envelope(
    http: httpx.Client, method: str, path: str, status: int, body: object
) -> None:
    response = http.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == body


def test_eliza_ids_with_encoded_slash_or_newline_reach_the_handler(http: httpx.Client) -> None:
    for raw, decoded in (("abc%2Fdef", "abc/def"), ("abc%0Adef", "abc\ndef")):
        response = http.get(f"/eliza/api/messaging/sessions/{raw}/messages")
        assert response.status_code == 404
        error = response.json()["error"]
        assert (error["code"], error["message"]) == (
            "SESSION_NOT_FOUND",
            f"Session with ID '{decoded}' not found",
        )


@pytest.mark.parametrize("path", ["/", "/nope", "/zep", "/zep/api/v3/sessions", "/_emulator/nope"])
def test_outside_the_providers_the_answer_names_the_mounts(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_control_api_wrong_method_is_json(http: httpx.Client) -> None:
    response = http.put("/_emulator/reset")
    assert response.status_code == 405
    assert response.json() == {"error": "PUT is not allowed on /_emulator/reset"}


def test_eliza_agents_listing_and_details(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.request("POST", "/eliza/agents", {"name": "Ava", "bio": ["Helps with maps"]})
    listing = http.get("/eliza/api/agents").json()
    assert listing["success"] is True
    assert [(a["name"], a["bio"], a["status"]) for a in listing["data"]["agents"]] == [
        ("Ava", "Helps with maps", "active"),
        ("Eliza", "An agent of the sessionmem emulator", "active"),
    ]
    ava = listing["data"]["agents"][0]
    details = http.get(f"/eliza/api/agents/{ava['id']}").json()
    assert details["success"] is True
    assert (details["data"]["id"], details["data"]["bio"]) == (ava["id"], ["Helps with maps"])
    unknown = http.get("/eliza/api/agents/00000000-0000-4000-8000-000000000000")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"success": False, "error": {"code": "NOT_FOUND", "message": "Agent not found"}},
    )
    bad = http.get("/eliza/api/agents/not-a-uuid")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "INVALID_ID")


def test_eliza_paths_ignore_case_and_one_trailing_slash(http: httpx.Client) -> None:
    for path in ("/eliza/api/messaging/sessions/", "/eliza/API/Messaging/SESSIONS"):
        response = http.get(path)
        assert response.status_code == 200, path
        assert set(response.json()) == {"sessions", "total", "stats"}
