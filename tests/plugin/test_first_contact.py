"""The usual first mistakes, made in a fresh project: each ends in one clear error, short
enough to read, that names the cause and a fix that works when copied."""

from __future__ import annotations

import re
import socket

# -- httpx_client(): the provider's base URL ---------------------------------------------------

OWN_CALLS = """


@pytest.mark.sessionmem(provider="zep")
def test_relative_paths(recorded_session):
    with recorded_session.httpx_client() as http:
        http.post("/users", json={"user_id": "ann"}).raise_for_status()
        assert http.get("/users/ann").json()["user_id"] == "ann"


@pytest.mark.sessionmem(provider="zep")
async def test_relative_paths_async(recorded_session):
    async with recorded_session.async_httpx_client() as http:
        (await http.post("/users", json={"user_id": "bob"})).raise_for_status()
        assert (await http.get("/users/bob")).json()["user_id"] == "bob"


@pytest.mark.sessionmem(provider="zep")
def test_another_base_url(recorded_session):
    with recorded_session.httpx_client() as http:
        http.post("/users", json={"user_id": "cy"}).raise_for_status()
    with recorded_session.httpx_client(base_url=f"{recorded_session.base_url}/users") as users:
        assert users.get("/cy").json()["user_id"] == "cy"
"""


def test_httpx_clients_take_the_providers_base_url(inner) -> None:
    inner.pytester.makepyfile(test_own=OWN_CALLS)
    inner.record().assert_outcomes(passed=3)
    cassette = (inner.path / "cassettes" / "test_own" / "test_relative_paths.json").read_text()
    assert '"path": "/users/ann"' in cassette  # stored relative to the provider's base URL
    inner.replay_offline().assert_outcomes(passed=3)


# -- a closed port: one short error ------------------------------------------------------------


def _failure_section(text: str) -> list[str]:
    """The lines pytest prints for the failing tests: after FAILURES, up to the next section."""
    after = text.split(" FAILURES ", 1)[1].split("\n", 1)[1]
    return re.split(r"^=+ ", after, maxsplit=1, flags=re.MULTILINE)[0].rstrip("\n").splitlines()


def _closed_port() -> int:
    with socket.socket() as probe:  # free a moment ago, and nothing listens on it now
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_closed_port_is_one_short_error_naming_the_url_and_the_fix(inner) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    inner.pytester.makepyfile(
        test_local=f"""
import pytest


@pytest.mark.sessionmem(provider="eliza", base_url="{url}", session_id="s1")
def test_reads_the_local_server(session_client):
    session_client.get_messages("s1")
"""
    )
    inner.online()
    result = inner.pytester.runpytest("--sessionmem-record-mode=once")  # default options
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    failure = _failure_section(text)
    assert len(failure) <= 25, "\n".join(failure)
    errors = [line for line in failure if line.startswith("E ")]
    assert len(errors) == 1
    assert re.fullmatch(
        re.escape(f"pytest_sessionmem.errors.ProviderUnavailable: could not reach eliza at {url} (")
        + r"\[Errno \d+\] Connection refused"
        + re.escape(
            "): start the server there, or point base_url at one that runs "
            f"(GET {url}/api/messaging/sessions/s1/messages?limit=100)"
        ),
        errors[0].split(maxsplit=1)[1],
    )
    assert "The above exception was the direct cause" not in text
    assert "httpcore" not in text
