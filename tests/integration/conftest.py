"""Fixtures that run the real ``@elizaos/server`` (pinned in ``eliza_server/package.json``).

Each fixture starts one node process for the whole test session: a cold start costs about 5 s
and 500 MB, and the server's rate limit (1000 ``/api`` requests per 15 minutes, loopback
included) is per process, so every run begins with a fresh budget. The server is told to bind
to 127.0.0.1, keeps its PGLite database in a temporary directory, runs from an empty temporary
working directory (it loads the first ``.env`` above its cwd), and is stopped with SIGTERM by PID.

A missing install is a failure, not a skip: these tests are part of the suite's contract.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

PEER_DIR = Path(__file__).parent / "eliza_server"
LAUNCHER = PEER_DIR / "server.mjs"
INSTALL_COMMAND = "npm ci --prefix tests/integration/eliza_server"

# The emulator's default agent has the same name, hence the same id (stringToUuid of the name).
PEER_AGENT_NAME = "Eliza"
PEER_API_KEY = "side-by-side-token"

_START_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ElizaPeer:
    """A running real server: ``base_url`` has no ``/api`` suffix, like the emulator's."""

    base_url: str
    agent_id: str
    api_key: str | None
    log_path: Path

    def headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.api_key} if self.api_key else {}


def _free_port() -> int:
    # The server moves on to the next free port by itself if this one is taken meanwhile; the
    # launcher reports the port it really bound to.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _check_installed() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (>= 20) is not on PATH; the ElizaOS side-by-side tests need it")
    if not (PEER_DIR / "node_modules" / "@elizaos" / "server" / "package.json").is_file():
        pytest.fail(
            "The real ElizaOS server is not installed. From the repository root run:\n"
            f"    {INSTALL_COMMAND}"
        )
    return node


def _read_ready_line(log_path: Path) -> dict[str, object] | None:
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("READY "):
            ready: dict[str, object] = json.loads(line[len("READY ") :])
            return ready
    return None


def _log_tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def _eliza_peer_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str | None], ElizaPeer]]:
    """Starts peers on demand and stops every one of them at the end of the session."""
    node = _check_installed()
    running: list[tuple[subprocess.Popen[bytes], BinaryIO]] = []

    def start(api_key: str | None) -> ElizaPeer:
        workdir = tmp_path_factory.mktemp("eliza-peer")
        log_path = workdir / "server.log"
        env = {
            key: value
            for key, value in os.environ.items()
            # Never hand the test runner's own ElizaOS/model settings to the peer.
            if not key.startswith(("ELIZA", "SESSION_", "OPENAI", "ANTHROPIC", "SERVER_"))
        }
        env.update(
            SERVER_PORT=str(_free_port()),
            PGLITE_DATA_DIR=str(workdir / "db"),
            ELIZA_TEST_AGENT_NAME=PEER_AGENT_NAME,
            LOG_LEVEL="warn",
        )
        if api_key is not None:
            env["ELIZA_SERVER_AUTH_TOKEN"] = api_key
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [node, str(LAUNCHER)],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,  # the launcher exits when this closes
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        running.append((process, log_file))
        deadline = time.monotonic() + _START_TIMEOUT_S
        while (ready := _read_ready_line(log_path)) is None:
            if process.poll() is not None:
                pytest.fail(
                    f"The ElizaOS server exited with code {process.returncode} before it was "
                    f"ready. Log ({log_path}):\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The ElizaOS server was not ready after {_START_TIMEOUT_S:.0f} s. "
                    f"Log ({log_path}):\n{_log_tail(log_path)}"
                )
            time.sleep(0.1)
        agents = ready["agents"]
        assert isinstance(agents, list) and len(agents) == 1, ready
        return ElizaPeer(
            base_url=str(ready["baseUrl"]),
            agent_id=str(agents[0]),
            api_key=api_key,
            log_path=log_path,
        )

    yield start

    for process, log_file in running:
        process.terminate()  # SIGTERM to this PID only; the server shuts down in about 0.5 s
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdin is not None
        process.stdin.close()
        log_file.close()


@pytest.fixture(scope="session")
def eliza_server(_eliza_peer_factory: Callable[[str | None], ElizaPeer]) -> ElizaPeer:
    """The real server with authentication off."""
    return _eliza_peer_factory(None)


@pytest.fixture(scope="session")
def eliza_server_with_auth(
    _eliza_peer_factory: Callable[[str | None], ElizaPeer],
) -> ElizaPeer:
    """The real server with ``ELIZA_SERVER_AUTH_TOKEN`` set (see ``ElizaPeer.api_key``)."""
    return _eliza_peer_factory(PEER_API_KEY)
