"""The usual first mistakes, made in a fresh project: each ends in one clear error, short
enough to read, that names the cause and a fix that works when copied."""

from __future__ import annotations

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
