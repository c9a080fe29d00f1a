"""intercept_httpx with the real Meibel SDK, which builds its own httpx client."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import meibel
import pytest

from pytest_sessionmem.cassette import CassetteSession, RecordMode, ScrubConfig
from pytest_sessionmem.cassette.intercept import intercept_httpx
from pytest_sessionmem.errors import CassetteNotFound, ConfigError, UnmatchedRequest

MEIBEL_CLOUD = "https://api.meibel.ai/v2"
KEY = "meibel-canary-5521"


def test_meibel_sdk_records_over_loopback_and_replays_offline(
    tmp_path: Path, loopback_server, forbid_network
) -> None:
    path = tmp_path / "c.json"
    with loopback_server() as origin:
        base = f"{origin}/v2"
        session = CassetteSession(
            path, mode=RecordMode.ONCE, base_url=base, scrub=ScrubConfig(secrets={"MEIBEL": KEY})
        )
        with intercept_httpx(session, base_url=base):
            client = meibel.MeibelClient(base_url=base, api_key=KEY)
            live = client.sessions.get_messages("s1")
            # Outside the base URL: passes through untouched, not recorded.
            with httpx.Client() as plain:
                assert plain.get(f"{origin}/health").status_code == 200
            client.close()
        report = session.finish(failed=False)
    assert (report.written, report.recorded) == (True, 1)
    assert live.messages[0].message == "hello"
    written = path.read_text()
    assert KEY not in written
    assert json.loads(written)["interactions"][0]["request"]["path"] == "/sessions/s1/messages"
    assert httpx.HTTPTransport.handle_request.__name__ == "handle_request"

    created = forbid_network()
    replay = CassetteSession(path, mode=RecordMode.NONE, base_url=MEIBEL_CLOUD)
    with intercept_httpx(replay, base_url=MEIBEL_CLOUD):
        client = meibel.MeibelClient(base_url=MEIBEL_CLOUD, api_key="another-key")
        assert client.sessions.get_messages("s1") == live
        with pytest.raises(UnmatchedRequest, match="GET /sessions/s2/messages"):
            client.sessions.get_messages("s2")
        client.close()
    assert created == ["HTTPTransport"]  # the SDK's own, never used for a connection


@pytest.mark.asyncio
async def test_async_meibel_sdk_replays_under_intercept(tmp_path: Path, loopback_server) -> None:
    path = tmp_path / "c.json"
    with loopback_server() as origin:
        session = CassetteSession(path, mode=RecordMode.ONCE, base_url=origin)
        with intercept_httpx(session, base_url=origin):
            client = meibel.AsyncMeibelClient(base_url=origin)
            live = await client.sessions.get_messages("a1")
            await client.close()
        session.finish(failed=False)
    replay = CassetteSession(path, mode=RecordMode.NONE, base_url=MEIBEL_CLOUD)
    with intercept_httpx(replay, base_url=MEIBEL_CLOUD):
        client = meibel.AsyncMeibelClient(base_url=MEIBEL_CLOUD)
        assert await client.sessions.get_messages("a1") == live
        await client.close()
    assert replay.played == 1


def test_originals_restored_after_error_and_nesting_refused(tmp_path: Path) -> None:
    sync_before = httpx.HTTPTransport.handle_request
    async_before = httpx.AsyncHTTPTransport.handle_async_request
    session = CassetteSession(tmp_path / "c.json", mode=RecordMode.NONE, base_url=MEIBEL_CLOUD)
    other = CassetteSession(tmp_path / "d.json", mode=RecordMode.NONE, base_url=MEIBEL_CLOUD)
    with pytest.raises(ZeroDivisionError), intercept_httpx(session, base_url=MEIBEL_CLOUD):
        outer = httpx.HTTPTransport.handle_request
        assert outer is not sync_before
        # The same cassette again lays nothing over itself: each request is recorded once.
        with intercept_httpx(session, base_url=MEIBEL_CLOUD):
            assert httpx.HTTPTransport.handle_request is outer
        assert httpx.HTTPTransport.handle_request is outer
        # Another test's cassette cannot capture at the same time.
        with (
            pytest.raises(ConfigError, match="already capturing"),
            intercept_httpx(other, base_url=MEIBEL_CLOUD),
        ):
            pass
        assert httpx.HTTPTransport.handle_request is outer
        1 / 0  # noqa: B018
    assert httpx.HTTPTransport.handle_request is sync_before
    assert httpx.AsyncHTTPTransport.handle_async_request is async_before
    with intercept_httpx(session, base_url=MEIBEL_CLOUD):  # usable again afterwards
        pass


@pytest.mark.parametrize(
    ("url", "covered"),
    [
        ("https://api.meibel.ai/v2/sessions/x", True),
        ("https://api.meibel.ai/v2", True),
        ("https://api.meibel.ai/v20/sessions", False),
        ("http://api.meibel.ai/v2/sessions", False),
        ("https://api.meibel.ai:8443/v2/sessions", False),
        ("https://other.host/v2/sessions", False),
    ],
)
def test_only_urls_under_the_base_are_intercepted(tmp_path: Path, url: str, covered: bool) -> None:
    session = CassetteSession(tmp_path / "c.json", mode=RecordMode.NONE, base_url=MEIBEL_CLOUD)
    seen: list[str] = []

    def fallback(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    # MockTransport is not patched; wrap a real HTTPTransport whose original method we stub.
    original = httpx.HTTPTransport.handle_request
    httpx.HTTPTransport.handle_request = lambda self, request: fallback(request)  # type: ignore[method-assign,assignment,misc]
    try:
        with intercept_httpx(session, base_url=MEIBEL_CLOUD), httpx.Client() as client:
            if covered:
                with pytest.raises(CassetteNotFound, match="does not exist"):
                    client.get(url)
            else:
                assert client.get(url).status_code == 204
    finally:
        httpx.HTTPTransport.handle_request = original  # type: ignore[method-assign]
    assert seen == ([] if covered else [url])


@pytest.mark.parametrize("given", [True, False], ids=["given", "built-by-the-session"])
def test_a_direct_transport_records_once_while_intercepting(
    tmp_path: Path, loopback_server, given: bool
) -> None:
    """Our own client and the SDK share one cassette: the recording side must not be re-caught,
    whether the session was given its network transport or builds its own."""
    from pytest_sessionmem.cassette.direct import DirectHTTPTransport

    path = tmp_path / "c.json"
    with loopback_server() as origin:
        base = f"{origin}/v2"
        real = DirectHTTPTransport() if given else None
        session = CassetteSession(path, mode=RecordMode.ONCE, base_url=base, real_transport=real)
        with (
            intercept_httpx(session, base_url=base),
            httpx.Client(base_url=base, transport=session.transport()) as ours,
        ):
            assert ours.get("/sessions/s1/messages").status_code == 200
        report = session.finish(failed=False)
    assert report.recorded == 1
    assert len(json.loads(path.read_text())["interactions"]) == 1


def test_a_direct_transport_keeps_other_wrappers_of_httpx(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the interception is skipped: a wrapper installed before (or without) it still runs."""
    from pytest_sessionmem.cassette.direct import DirectHTTPTransport

    def wrapper(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=f"wrapped {request.url.path}")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", wrapper)
    request = httpx.Request("GET", "http://service.invalid/v2/ping")
    assert DirectHTTPTransport().handle_request(request).read() == b"wrapped /v2/ping"
    session = CassetteSession(
        tmp_path / "c.json", mode=RecordMode.ONCE, base_url="http://service.invalid/v2"
    )
    with intercept_httpx(session, base_url="http://service.invalid/v2"):
        assert httpx.HTTPTransport.handle_request is not wrapper  # the interception is on
        assert DirectHTTPTransport().handle_request(request).read() == b"wrapped /v2/ping"
    assert session.finish(failed=False).recorded == 0
