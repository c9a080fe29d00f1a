"""The usual first mistakes, made in a fresh project: each ends in one clear error, short
enough to read, that names the cause and a fix that works when copied."""

from __future__ import annotations

import re
import socket

import pytest

# -- httpx_client(): the provider's base URL ---------------------------------------------------

OWN_CALLS = """
import pytest


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


# -- no provider anywhere -------------------------------------------------------------------------

NO_PROVIDER = """
import pytest


def test_reads(session_client):
    session_client.get_messages("s1")


@pytest.mark.sesionmem(provider="zep", session_id="s1")
def test_typo(recorded_session):
    with recorded_session.httpx_client() as http:
        http.get("/sessions/s1/messages")
"""


def _no_provider_text(nodeid: str) -> str:
    return (
        f"{nodeid} uses recorded_session (session_client and async_session_client use it "
        "too), but no provider is set for this test, so there is no service to record from "
        "or replay."
    )


@pytest.mark.parametrize("mode", ["once", "none"])
def test_no_provider_anywhere_is_a_config_error_at_set_up(inner, mode: str) -> None:
    inner.pytester.makepyfile(test_first=NO_PROVIDER)
    inner.offline()  # it fails before anything is sent, recording or not
    result = inner.run(
        f"--sessionmem-record-mode={mode}", "-rN", "-W", "ignore::pytest.PytestUnknownMarkWarning"
    )
    result.assert_outcomes(errors=2)
    text = result.stdout.str()
    assert "sessionmem.invalid" not in text
    assert "ConnectError" not in text and "CassetteNotFound" not in text
    setup_errors = re.findall(r"_+ ERROR at setup of (\w+) _+", text)
    assert setup_errors == ["test_reads", "test_typo"]
    assert text.count("ConfigError: " + _no_provider_text("test_first.py::test_reads")) == 1
    typo = text.split("ERROR at setup of test_typo", 1)[1]
    assert (
        typo.count(
            "ConfigError: " + _no_provider_text("test_first.py::test_typo") + " It is marked "
            "@pytest.mark.sesionmem: did you mean @pytest.mark.sessionmem?"
        )
        == 1
    )
    # The three ways to set one, the command line as a command that works when copied.
    assert "@pytest.mark.sessionmem(provider='zep', session_id='s1')" in text
    assert (
        "  - for the whole run: pytest test_first.py::test_reads --sessionmem-provider=zep" in text
    )
    assert "sessionmem_provider = zep (under [pytest] in pytest.ini;" in text


def test_each_way_of_setting_the_provider_named_by_the_error_works(inner) -> None:
    inner.pytester.makepyfile(
        test_first="""
def test_reads(recorded_session):
    assert recorded_session.provider == "zep"
"""
    )
    inner.offline()
    inner.run("--sessionmem-provider=zep").assert_outcomes(passed=1)
    inner.pytester.makeini(inner.INI + "sessionmem_provider = zep\n")
    inner.run().assert_outcomes(passed=1)


def test_a_base_url_without_a_provider_is_still_a_place_to_record_from(inner) -> None:
    inner.pytester.makepyfile(
        test_first="""
import pytest


@pytest.mark.sessionmem(base_url="http://127.0.0.1:9")
def test_own_server(recorded_session):
    assert recorded_session.base_url == "http://127.0.0.1:9"
"""
    )
    inner.offline()
    inner.run().assert_outcomes(passed=1)


# -- a cassette miss the test swallowed ---------------------------------------------------------

MISSES = """
import os

import pytest

from pytest_sessionmem import CassetteError, SessionmemError, UnmatchedRequest

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1")


def extra_read(session_client):
    # Recorded without it: under replay with EXTRA=1 the cassette has no answer for it.
    return os.environ.get("EXTRA") and session_client.get_messages("s1")


def test_broad_except(session_client):
    session_client.add_user("u1")
    try:
        extra_read(session_client)
    except SessionmemError:
        pass  # "the memory service is optional": a miss hides here


def test_broad_raises(session_client):
    session_client.add_user("u1")
    if os.environ.get("EXTRA"):
        with pytest.raises(CassetteError):
            extra_read(session_client)


def test_expects_the_miss(session_client):
    session_client.add_user("u1")
    if os.environ.get("EXTRA"):
        with pytest.raises(UnmatchedRequest, match="GET /sessions/s1/messages"):
            extra_read(session_client)
        pytest.raises(UnmatchedRequest, extra_read, session_client)  # the function form


def test_lets_it_fail(session_client):
    session_client.add_user("u1")
    extra_read(session_client)
"""


def test_a_swallowed_miss_fails_at_teardown_naming_the_request(
    inner, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.pytester.makepyfile(test_miss=MISSES)
    inner.record().assert_outcomes(passed=4)
    inner.replay_offline().assert_outcomes(passed=4)  # no miss, nothing reported

    monkeypatch.setenv("EXTRA", "1")
    result = inner.replay_offline("-rN")
    # The two that hid a miss pass their call and fail at teardown; the one that expected
    # it passes; the one that let it through fails once, with no teardown error on top.
    result.assert_outcomes(passed=3, failed=1, errors=2)
    text = result.stdout.str()
    assert re.findall(r"_+ ERROR at teardown of (\w+) _+", text) == [
        "test_broad_except",
        "test_broad_raises",
    ]
    section = text.split("ERROR at teardown of test_broad_except", 1)[1].split("\n_", 1)[0]
    assert (
        "test_miss.py::test_broad_except passed, but its cassette could not answer a request "
        "and the test caught the error itself (an except clause such as `except "
        "SessionmemError:` around the call), so it went on without the recorded answer."
    ) in section
    assert "write `with pytest.raises(UnmatchedRequest):` around the call" in section
    assert "UnmatchedRequest: No recorded interaction matches GET /sessions/s1/messages" in section
    assert "pytest test_miss.py::test_broad_except --sessionmem-record-mode=all" in section
    assert "Traceback" not in section and "hooks.py" not in section
    assert "UnmatchedRequest: No recorded interaction" in text.split("test_lets_it_fail", 1)[1]


def test_a_swallowed_missing_cassette_fails_at_teardown(inner) -> None:
    inner.pytester.makepyfile(
        test_new="""
import pytest

from pytest_sessionmem import CassetteNotFound, SessionmemError


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_hides_it(session_client):
    try:
        session_client.get_messages("s1")
    except SessionmemError:
        pass


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_expects_it(session_client):
    with pytest.raises(CassetteNotFound):
        session_client.get_messages("s1")
"""
    )
    result = inner.replay_offline("-rN")
    result.assert_outcomes(passed=2, errors=1)
    text = result.stdout.str()
    assert re.findall(r"_+ ERROR at teardown of (\w+) _+", text) == ["test_hides_it"]
    assert "CassetteNotFound: Cassette " in text
    assert "so GET /sessions/s1/messages?limit=100&cursor=1 has no recorded answer" in text
    assert "write `with pytest.raises(CassetteNotFound):` around the call" in text


def test_pytest_raises_works_as_before_outside_the_fixture() -> None:
    # The fixture wraps pytest.raises only while a replaying test runs, and restores it.
    from pytest_sessionmem.plugin.misses import watching_raises

    raises_class = type(pytest.raises(Exception))
    before = raises_class.__exit__
    with watching_raises() as expected:
        assert raises_class.__exit__ is not before
        with pytest.raises(ValueError):
            raise ValueError("not a miss")
        assert expected == set()
    assert raises_class.__exit__ is before


def test_the_expected_types_are_read_from_old_and_new_pytest_raises() -> None:
    from pytest_sessionmem.errors import (
        CassetteError,
        CassetteNotFound,
        SessionmemError,
        UnmatchedRequest,
    )
    from pytest_sessionmem.plugin.misses import _names_a_miss

    class Old:  # pytest < 8.4: a type or a tuple in expected_exception
        def __init__(self, expected: object) -> None:
            self.expected_exception = expected

    class New:  # pytest >= 8.4: a tuple in expected_exceptions
        def __init__(self, *expected: type[BaseException]) -> None:
            self.expected_exceptions = expected

    class Narrower(UnmatchedRequest):
        pass

    assert _names_a_miss(Old(UnmatchedRequest))
    assert _names_a_miss(Old((CassetteNotFound, UnmatchedRequest)))
    assert _names_a_miss(New(Narrower))
    assert not _names_a_miss(Old(CassetteError))
    assert not _names_a_miss(New(UnmatchedRequest, SessionmemError))
    assert not _names_a_miss(New())
