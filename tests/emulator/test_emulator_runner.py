"""EmulatorServer lifecycle, determinism across servers, and ``sessionmem serve``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from pytest_sessionmem.cli import build_parser
from pytest_sessionmem.emulator.runner import EmulatorServer
from pytest_sessionmem.errors import ConfigError


def test_start_stop_releases_port_and_thread() -> None:
    server = EmulatorServer().start()
    port = server.port
    assert httpx.get(f"{server.url}/_emulator/info").status_code == 200
    server.stop()
    server.stop()  # twice is fine
    assert not any(t.name == f"sessionmem-emulator:{port}" for t in threading.enumerate())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again


def test_starting_twice_is_a_config_error() -> None:
    with EmulatorServer() as server, pytest.raises(ConfigError, match="already started"):
        server.start()


def test_port_in_use_is_a_config_error() -> None:
    with EmulatorServer() as busy, pytest.raises(ConfigError, match=str(busy.port)):
        EmulatorServer(port=busy.port).start()


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="openai"):
        EmulatorServer(api_keys={"openai": "k"})
    with pytest.raises(ConfigError, match="TCP port"):
        EmulatorServer(port=70000)
    with EmulatorServer() as server, pytest.raises(ConfigError, match="unknown provider"):
        server.base_url("langchain")


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes "import uvicorn" fail
    with pytest.raises(ConfigError, match=r'pip install "pytest-sessionmem\[emulator\]"'):
        EmulatorServer().start()


def test_base_urls() -> None:
    with EmulatorServer() as server:
        assert server.base_url("zep") == f"{server.url}/zep/api/v2"
        assert server.base_url("meibel") == f"{server.url}/meibel/v2"
        assert server.base_url("eliza") == f"{server.url}/eliza"
        assert server.url.startswith("http://127.0.0.1:")


def _script(server: EmulatorServer) -> list[bytes]:
    """A fixed sequence of calls; every raw response body, in order."""
    zep, meibel = server.base_url("zep"), server.base_url("meibel")
    out: list[bytes] = []
    with httpx.Client(timeout=10) as http:
        calls = [
            ("POST", f"{zep}/users", {"user_id": "u1"}),
            ("POST", f"{zep}/sessions", {"session_id": "s1", "user_id": "u1"}),
            (
                "POST",
                f"{zep}/sessions/s1/memory",
                {"messages": [{"role_type": "user", "content": "a"}]},
            ),
            ("GET", f"{zep}/sessions/s1/messages?limit=10&cursor=1", None),
            ("GET", f"{zep}/sessions/s1/memory", None),
            ("POST", f"{meibel}/agents/a1/sessions", None),
        ]
        for method, url, body in calls:
            out.append(http.request(method, url, json=body).content)
        session_id = json.loads(out[-1])["session_id"]
        chat = http.post(f"{meibel}/sessions/{session_id}/chat", json={"user_message": "hi"})
        out.append(chat.content)
        out.append(http.get(f"{meibel}/sessions/{session_id}").content)
        out.append(http.get(f"{meibel}/sessions/{session_id}/messages").content)
    return out


def test_same_seed_gives_byte_identical_responses() -> None:
    with EmulatorServer(seed=42) as first:
        a = _script(first)
    with EmulatorServer(seed=42) as second:
        b = _script(second)
    with EmulatorServer(seed=43) as other:
        c = _script(other)
    assert a == b
    assert a[0] != c[0]  # ids derive from the seed


def test_reset_with_a_seed_replays_the_same_bytes() -> None:
    with EmulatorServer(seed=5) as server:
        a = _script(server)
        server.control.reset(seed=5)
        assert _script(server) == a


def test_cli_parser_defaults_bind_loopback() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.seed, args.zep_key) == ("127.0.0.1", 8765, None, None)


def test_cli_serve_prints_urls_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_sessionmem.cli", "serve", "--port", "0", "--zep-key", "k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("sessionmem emulator on http://127.0.0.1:")
        url = banner.split()[3]
        lines = [process.stdout.readline().split() for _ in range(4)]
        assert lines[0] == ["zep", f"{url}/zep/api/v2"]
        assert httpx.get(f"{url}/_emulator/info").json()["auth"]["zep"] is True
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopping" in out


def test_cli_reports_a_busy_port() -> None:
    with EmulatorServer() as busy:
        result = subprocess.run(
            [sys.executable, "-m", "pytest_sessionmem.cli", "serve", "--port", str(busy.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "cannot listen" in result.stderr


def _ignore_sigint() -> None:
    # What a shell does to a background job (`command &`): SIGINT ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serve_started_as_a_background_job_stops_cleanly(stop_with: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_sessionmem.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("sessionmem emulator on http://127.0.0.1:")
        process.send_signal(stop_with)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopping" in out


def test_cli_version() -> None:
    from pytest_sessionmem.version import __version__

    done = subprocess.run(
        [sys.executable, "-m", "pytest_sessionmem.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sessionmem (pytest-sessionmem) {__version__}"


def test_a_reset_that_names_no_seed_keeps_the_servers_seed() -> None:
    # `sessionmem serve --seed 5`, then `POST /_emulator/reset {}` between two cases.
    with EmulatorServer(seed=5) as server, httpx.Client(base_url=server.url) as http:
        first = _script(server)
        assert http.post("/_emulator/reset", json={}).json() == {"seed": 5}
        assert server.control.info()["seed"] == 5
        assert _script(server) == first  # the same bytes again: same clock, same ids
        server.control.reset()  # the Python client's reset() keeps it too
        assert _script(server) == first


def test_a_reset_that_names_a_seed_or_null_replaces_it() -> None:
    with EmulatorServer(seed=5) as server, httpx.Client(base_url=server.url) as http:
        assert http.post("/_emulator/reset", json={"seed": 6}).json() == {"seed": 6}
        assert server.control.info()["seed"] == 6
        assert http.post("/_emulator/reset", json={"seed": None}).json() == {"seed": None}
        assert server.control.info()["seed"] is None
        server.control.reset(seed=7)
        assert server.control.info()["seed"] == 7
        server.control.reset(seed=None)
        assert server.control.info()["seed"] is None
