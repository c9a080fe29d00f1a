"""Record modes, replay order, base-URL independence, finish() and the file it writes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pytest_sessionmem.cassette import CassetteSession, RecordMode
from pytest_sessionmem.cassette.transports import RecordingTransport, ReplayTransport
from pytest_sessionmem.errors import ConfigError, UnmatchedRequest

REPLAY_BASE = "https://api.getzep.com/api/v2"


def test_once_without_file_records_then_replays_in_order(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    upstream = cassettes.upstream()
    live = cassettes.record(path, upstream=upstream)
    assert len(upstream.calls) == 3
    assert live[0]["row_count"] == 0 and live[1]["row_count"] == 1

    replay = cassettes.session(path, "none")
    assert not replay.is_recording
    with cassettes.client(replay) as client:
        replayed = cassettes.read_write_read(client)
    assert replayed == live  # first GET empty, second GET after the POST has the message
    report = replay.finish(failed=False)
    assert (report.played, report.recorded, report.unused, report.written) == (3, 0, 0, False)


def test_repeated_identical_request_plays_once_each(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cassettes.record(path)
    session = cassettes.session(path, "none")
    with cassettes.client(session) as client:
        cassettes.read_write_read(client)
        with pytest.raises(UnmatchedRequest, match="already played 1 times"):
            client.get("/sessions/s1/messages", params={"limit": 100})


def test_once_with_existing_file_replays_and_never_records(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cassettes.record(path)
    upstream = cassettes.upstream()
    session = cassettes.session(path, "once", upstream=upstream)
    assert not session.is_recording
    assert isinstance(session.transport(), ReplayTransport)
    with cassettes.client(session) as client, pytest.raises(UnmatchedRequest):
        client.get("/sessions/other/messages")
    assert upstream.calls == []


def test_new_episodes_replays_matches_and_appends_misses(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cassettes.record(path)
    upstream = cassettes.upstream()
    session = cassettes.session(path, "new_episodes", upstream=upstream)
    assert session.is_recording
    with cassettes.client(session) as client:
        first = client.get("/sessions/s1/messages", params={"limit": 100})
        extra = client.get("/sessions/s2/messages", params={"limit": 5})
    assert first.json()["row_count"] == 0  # from the cassette
    assert extra.status_code == 200
    assert [str(c.url.path) for c in upstream.calls] == ["/zep/api/v2/sessions/s2/messages"]
    report = session.finish(failed=False)
    assert (report.played, report.recorded, report.unused) == (1, 1, 2)
    paths = [i["request"]["path"] for i in json.loads(path.read_text())["interactions"]]
    assert paths == ["/sessions/s1/messages"] * 3 + ["/sessions/s2/messages"]


def test_all_ignores_and_replaces_existing_file(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cassettes.record(path)
    upstream = cassettes.upstream()
    session = cassettes.session(path, "all", upstream=upstream)
    assert session.interactions == ()
    with cassettes.client(session) as client:
        client.get("/sessions/s9/messages")
    assert len(upstream.calls) == 1
    session.finish(failed=False)
    interactions = json.loads(path.read_text())["interactions"]
    assert [i["request"]["path"] for i in interactions] == ["/sessions/s9/messages"]


def test_all_reads_no_file_so_a_corrupt_one_can_be_rerecorded(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{ not json")
    session = cassettes.session(path, "all", upstream=cassettes.upstream())
    with cassettes.client(session) as client:
        client.get("/sessions/s1/messages")
    assert session.finish(failed=False).written
    assert json.loads(path.read_text())["version"] == 1


def test_base_url_independence(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    live = cassettes.record(path)  # against http://127.0.0.1:1234/zep/api/v2
    session = cassettes.session(path, "none", base_url=REPLAY_BASE)
    with cassettes.client(session) as client:
        assert cassettes.read_write_read(client) == live
    stored = json.loads(path.read_text())
    # Loopback ports change every run (the emulator), so they are not stored.
    assert stored["base_url"] == "http://127.0.0.1/zep/api/v2"
    assert stored["interactions"][0]["request"]["path"] == "/sessions/s1/messages"


def test_request_outside_base_path_keeps_full_path(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    upstream = cassettes.upstream()
    session = cassettes.session(path, "once", upstream=upstream)
    with httpx.Client(transport=session.transport()) as client:
        client.get("http://127.0.0.1:1234/health")
    session.finish(failed=False)
    assert json.loads(path.read_text())["interactions"][0]["request"]["path"] == "/health"


def test_rerecording_same_traffic_is_byte_identical(cassettes, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    cassettes.record(first)
    cassettes.record(second)
    assert first.read_bytes() == second.read_bytes()
    cassettes.record(first, mode="all")
    assert first.read_bytes() == second.read_bytes()


def test_failed_test_discards_new_recording_and_keeps_old_file(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cassettes.record(path)
    before = path.read_bytes()
    session = cassettes.session(path, "all", upstream=cassettes.upstream())
    with cassettes.client(session) as client:
        client.get("/sessions/zzz/messages")
    report = session.finish(failed=True)
    assert (report.written, report.discarded) == (False, True)
    assert path.read_bytes() == before


def test_failed_first_recording_leaves_no_file(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.json"
    session = cassettes.session(path, "once", upstream=cassettes.upstream())
    with cassettes.client(session) as client:
        client.get("/sessions/s1/messages")
    assert session.finish(failed=True).discarded
    assert not path.exists()
    assert list(tmp_path.rglob("*")) == []  # no temp file, no directory


def test_keep_on_failure_writes(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "c.json"
    session = cassettes.session(path, "once", upstream=cassettes.upstream())
    with cassettes.client(session) as client:
        client.get("/sessions/s1/messages")
    report = session.finish(failed=True, keep_on_failure=True)
    assert (report.written, report.discarded, report.recorded) == (True, False, 1)
    assert path.exists()


def test_replay_only_session_writes_nothing(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cassettes.record(path)
    mtime = path.stat().st_mtime_ns
    session = cassettes.session(path, "new_episodes", upstream=cassettes.upstream())
    with cassettes.client(session) as client:
        cassettes.read_write_read(client)
    assert not session.finish(failed=False).written
    assert path.stat().st_mtime_ns == mtime


def test_test_without_requests_passes_under_none_without_file(cassettes, tmp_path: Path) -> None:
    session = cassettes.session(tmp_path / "missing.json", "none")
    report = session.finish(failed=False)
    assert (report.written, report.played) == (False, 0)


def test_transport_class_follows_mode(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    assert isinstance(cassettes.session(path, "none").transport(), ReplayTransport)
    assert isinstance(cassettes.session(path, "once").transport(), RecordingTransport)
    assert isinstance(cassettes.session(path, "all").async_transport(), RecordingTransport)


def test_bad_mode_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'sometimes' is not a record mode\. Valid modes: none"):
        CassetteSession(tmp_path / "c.json", mode="sometimes", base_url=REPLAY_BASE)  # type: ignore[arg-type]


def test_record_mode_values() -> None:
    assert [m.value for m in RecordMode] == ["none", "once", "new_episodes", "all"]
    assert RecordMode("new_episodes") is RecordMode.NEW_EPISODES


def test_recording_gives_the_test_the_real_gzip_response(tmp_path: Path) -> None:
    import gzip

    payload = json.dumps({"messages": [{"content": "zipped"}]}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=gzip.compress(payload),
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )

    path = tmp_path / "c.json"
    session = CassetteSession(
        path,
        mode=RecordMode.ONCE,
        base_url=REPLAY_BASE,
        real_transport=httpx.MockTransport(handler),
    )
    with httpx.Client(base_url=REPLAY_BASE, transport=session.transport()) as client:
        live = client.get("/sessions/s1/messages")
    assert live.headers["content-encoding"] == "gzip"
    assert live.json() == {"messages": [{"content": "zipped"}]}
    session.finish(failed=False)
    stored = json.loads(path.read_text())["interactions"][0]["response"]
    assert stored == {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "json": {"messages": [{"content": "zipped"}]},
    }


@pytest.mark.asyncio
async def test_async_record_and_replay(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    upstream = cassettes.upstream()
    session = cassettes.session(path, "once", upstream=upstream)
    async with httpx.AsyncClient(
        base_url=session.base_url, transport=session.async_transport()
    ) as client:
        await client.post("/sessions/a/messages", json={"messages": [{"content": "x"}]})
        live = (await client.get("/sessions/a/messages")).json()
    session.finish(failed=False)
    replay = cassettes.session(path, "none", base_url=REPLAY_BASE)
    async with httpx.AsyncClient(
        base_url=REPLAY_BASE, transport=replay.async_transport()
    ) as client:
        posted = await client.post("/sessions/a/messages", json={"messages": [{"content": "x"}]})
        assert posted.status_code == 201
        assert (await client.get("/sessions/a/messages")).json() == live
        with pytest.raises(UnmatchedRequest):
            await client.get("/sessions/a/messages")
