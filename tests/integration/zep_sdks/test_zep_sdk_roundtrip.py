"""Record, then replay offline, through the plugin with the real zep-cloud 3.x and 4.x SDKs.

Each outer test writes an inner project, runs pytest on it in a subprocess with that SDK's
environment: once recording against the embedded emulator, once replaying with every socket
connection and every emulator start refused, and once re-recording everything, which must give
the same bytes (the emulator is seeded per test).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
"""

OFFLINE_CONFTEST = """
import socket

import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer


def _refuse(self, address, *args):
    raise OSError(f"network blocked in this run: connect to {address!r}")


def _no_emulator(self, *args, **kwargs):
    raise AssertionError("this replay run tried to create an EmulatorServer")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(EmulatorServer, "__init__", _no_emulator)
"""

SEED_EDGES = """
def seed_edges(recorded_session, request, thread):
    # Seeding is not HTTP the test makes through the cassette: only while recording.
    if not recorded_session.replaying:
        control = request.getfixturevalue("sessionmem_emulator").control
        control.request("POST", f"/zep/threads/{thread}/edges", {"edges": ["Ann likes tea"]})
"""

V4_TESTS = (
    """
import pytest
from zep_cloud import AsyncZep, Zep
from zep_cloud.types import AddMessage

TURNS = [("user", "My name is Ann"), ("assistant", "Hello Ann")]
"""
    + SEED_EDGES
    + """

@pytest.mark.sessionmem(provider="zep-v4")
def test_sdk_sync(recorded_session, request):
    zep = Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
        max_retries=0,
    )
    user = zep.user.create(user_id="ann", first_name="Ann")
    thread = zep.thread.create(user_uuid=user.uuid_)  # the server makes this UUID
    zep.thread.add_messages(thread.uuid_, messages=[AddMessage(role=r, content=c) for r, c in TURNS])
    seed_edges(recorded_session, request, thread.uuid_)
    pager = zep.thread.list_messages(thread.uuid_, page_size=1)
    assert [(m.role, m.content) for m in pager] == TURNS
    assert recorded_session.transcript(thread.uuid_).contents == [c for _, c in TURNS]
    assert [f.content for f in recorded_session.memory(thread.uuid_).facts] == ["Ann likes tea"]


@pytest.mark.sessionmem(provider="zep-v4")
async def test_sdk_async(recorded_session, async_session_client, request):
    zep = AsyncZep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.async_httpx_client(),
        max_retries=0,
    )
    user = await zep.user.create(user_id="ann")
    thread = await zep.thread.create(user_uuid=user.uuid_)
    await zep.thread.add_messages(thread.uuid_, messages=[AddMessage(role=r, content=c) for r, c in TURNS])
    seed_edges(recorded_session, request, thread.uuid_)
    pager = await zep.thread.list_messages(thread.uuid_, page_size=1)
    assert [(m.role, m.content) async for m in pager] == TURNS
    transcript = await async_session_client.get_messages(thread.uuid_)
    assert transcript.contents == [c for _, c in TURNS]
    memory = await async_session_client.get_memory(thread.uuid_)
    assert [f.content for f in memory.facts] == ["Ann likes tea"]
"""
)

V3_TESTS = (
    """
import pytest
from zep_cloud import AsyncZep, Zep
from zep_cloud.types import Message

TURNS = [("user", "My name is Ann"), ("assistant", "Hello Ann")]
"""
    + SEED_EDGES
    + """

@pytest.mark.sessionmem(provider="zep-v3", thread_id="support-1")
def test_sdk_sync(recorded_session, request):
    zep = Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
    )
    zep.user.add(user_id="ann", first_name="Ann")
    zep.thread.create(thread_id="support-1", user_id="ann")
    zep.thread.add_messages("support-1", messages=[Message(role=r, name="Ann", content=c) for r, c in TURNS])
    seed_edges(recorded_session, request, "support-1")
    page = zep.thread.get("support-1", limit=10, cursor=1)
    assert [(m.role, m.content) for m in page.messages] == TURNS
    assert recorded_session.transcript().contents == [c for _, c in TURNS]
    assert [f.content for f in recorded_session.memory().facts] == ["Ann likes tea"]


@pytest.mark.sessionmem(provider="zep-v3", thread_id="support-1")
async def test_sdk_async(recorded_session, async_session_client, request):
    zep = AsyncZep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.async_httpx_client(),
    )
    await zep.user.add(user_id="ann")
    await zep.thread.create(thread_id="support-1", user_id="ann")
    await zep.thread.add_messages("support-1", messages=[Message(role=r, content=c) for r, c in TURNS])
    seed_edges(recorded_session, request, "support-1")
    page = await zep.thread.get("support-1")
    assert [(m.role, m.content) for m in page.messages] == TURNS
    memory = await async_session_client.get_memory("support-1")
    assert [f.content for f in memory.facts] == ["Ann likes tea"]
"""
)


def run_inner(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-q",
            *args,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("version", "tests"), [("3.30.0", V3_TESTS), ("4.0.1", V4_TESTS)])
def test_record_then_replay_offline(
    tmp_path: Path,
    zep_sdk_paths: dict[str, Path],
    sdk_environment: Callable[[Path], dict[str, str]],
    version: str,
    tests: str,
) -> None:
    env = sdk_environment(zep_sdk_paths[version])
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "conftest.py").write_text("")
    (tmp_path / "test_zep_threads.py").write_text(tests)

    recorded = run_inner(tmp_path, env, "--sessionmem-emulator", "--sessionmem-record-mode=once")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "2 passed" in recorded.stdout
    cassettes = sorted((tmp_path / "cassettes" / "test_zep_threads").glob("*.json"))
    assert [c.name for c in cassettes] == ["test_sdk_async.json", "test_sdk_sync.json"]
    first = {c.name: c.read_bytes() for c in cassettes}
    for name, raw in first.items():
        text = raw.decode()
        # zep-cloud 4.x sends a fresh Idempotency-Key on every write: never stored.
        assert "idempotency" not in text.lower(), name
        assert f"zep-cloud/{version}" not in text, name  # nor the SDK's other headers
        paths = [i["request"]["path"] for i in json.loads(text)["interactions"]]
        assert any(p.endswith("/messages") for p in paths), paths

    (tmp_path / "conftest.py").write_text(OFFLINE_CONFTEST)
    replayed = run_inner(tmp_path, env, "--sessionmem-record-mode=none")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "2 passed" in replayed.stdout
    assert "2 cassettes replayed, 0 recorded" in replayed.stdout

    (tmp_path / "conftest.py").write_text("")
    again = run_inner(tmp_path, env, "--sessionmem-emulator", "--sessionmem-record-mode=all")
    assert again.returncode == 0, again.stdout + again.stderr
    assert {c.name: c.read_bytes() for c in cassettes} == first  # same bytes on re-record
