"""Inner pytester runs leave the outer run as they found it.

pytester drops every module an inner run imported first (see ``tests/conftest.py``); a module
that outlives the run and cached objects of a dropped one then misbehaves in later tests. These
tests record and replay through every path the plugin tests use and check that the inner run
imported no module first, and that httpx still maps a refused connection afterwards.
"""

from __future__ import annotations

import json
import socket
import sys

import httpx
import pytest

RECORDED = """
import httpx
import meibel
import pytest

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1")


def test_sync_client(session_client, recorded_session):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "hi")])
    recorded_session.assert_transcript([("user", "hi")])


async def test_async_client(async_session_client):
    await async_session_client.add_user("u2")
    await async_session_client.create_session(session_id="s2", user_id="u2")
    assert (await async_session_client.get_messages("s2")).contents == []


@pytest.mark.sessionmem(provider="meibel", intercept_httpx=True)
def test_sdk(recorded_session):
    client = meibel.MeibelClient(base_url=recorded_session.base_url, api_key="k")
    try:
        client.agents.sessions.create("agent-1")
    finally:
        client.close()
"""

# Writes the inner run's module names when it ends (before pytester restores sys.modules).
DUMP_MODULES = """
import json
import sys


def pytest_sessionfinish(session):
    with open("modules.json", "w") as out:
        json.dump(
            {name: getattr(module, "__file__", None) for name, module in sys.modules.items()}, out
        )
"""


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more


def imported_first(inner, outer_before: set[str]) -> list[str]:
    modules = json.loads((inner.path / "modules.json").read_text())
    own = str(inner.path)
    return sorted(
        name
        for name, file in modules.items()
        if name not in outer_before and not (file or "").startswith(own)
    )


def test_record_and_replay_import_nothing_first(inner) -> None:
    inner.pytester.makepyfile(test_recorded=RECORDED)
    outer_before = set(sys.modules)

    inner.online(DUMP_MODULES)
    inner.run(*inner.RECORD_ARGS).assert_outcomes(passed=3)
    recorded_first = imported_first(inner, outer_before)
    inner.offline(DUMP_MODULES)
    inner.run().assert_outcomes(passed=3)
    replayed_first = imported_first(inner, outer_before)

    assert (recorded_first, replayed_first) == ([], []), (
        "an inner run imported these modules first; pytester drops them afterwards, which "
        "can leave stale state in the outer run. Add them to PRELOAD in tests/conftest.py."
    )


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_refused_connection_is_still_an_httpx_error_after_an_inner_run(inner, flavour) -> None:
    url = refused_url()
    inner.pytester.makepyfile(
        test_refused=f"""
import httpx
import pytest

def test_refused():
    with pytest.raises(httpx.ConnectError):
        httpx.get({url!r})
"""
    )
    inner.run().assert_outcomes(passed=1)

    # httpx maps httpcore's exceptions with a map it caches on first use: it must still know
    # the classes of the httpcore module the outer run has now.
    with pytest.raises(httpx.ConnectError):
        if flavour == "sync":
            httpx.get(url)
        else:
            import asyncio

            async def get() -> None:
                async with httpx.AsyncClient() as client:
                    await client.get(url)

            asyncio.run(get())
