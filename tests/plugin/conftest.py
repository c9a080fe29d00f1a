"""Fixtures for the plugin's end-to-end tests: inner pytest runs under ``pytester``.

A typical test writes an inner test module, records it against the embedded emulator
(``inner.record()``: ``--sessionmem-emulator``, record mode ``once``), then replays it in a
second inner run whose conftest refuses every socket connection and every emulator start
(``inner.replay_offline()``), which is what "replays offline" means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pytest


@dataclass
class Inner:
    """Runs inner pytest sessions in one pytester directory."""

    pytester: pytest.Pytester
    # "-p no:NAME" for every installed plugin the outer run was told not to load, so that an
    # inner run loads the same plugins as the run around it.
    blocked: tuple[str, ...] = field(default=())

    # Inner runs are strict like the project: warnings are errors (a leaked socket fails),
    # async tests run in pytest-asyncio's auto mode.
    INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore::DeprecationWarning:zep_cloud
    ignore::DeprecationWarning:meibel
    ignore::DeprecationWarning:pydantic
"""

    # The conftest of an offline replay run: any connect() fails loudly, and so does any
    # attempt to create the emulator (a replay must not need one).
    OFFLINE_CONFTEST = """
import socket

import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer


class NetworkBlocked(OSError):
    pass


def _refuse(self, address, *args):
    raise NetworkBlocked(f"network blocked in this run: connect to {address!r}")


def _no_emulator(self, *args, **kwargs):
    raise AssertionError("this replay run tried to create an EmulatorServer")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(EmulatorServer, "__init__", _no_emulator)
"""

    RECORD_ARGS = ("--sessionmem-record-mode=once", "--sessionmem-emulator")

    @property
    def path(self) -> Path:
        return self.pytester.path

    def run(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest(
            "-p", "no:cacheprovider", "-p", "no:randomly", *self.blocked, *args
        )

    def record(self, *args: str) -> pytest.RunResult:
        """Record against the emulator (cassettes that exist are replayed)."""
        self.online()
        return self.run(*self.RECORD_ARGS, *args)

    def replay_offline(self, *args: str) -> pytest.RunResult:
        """Replay (record mode none) with the network and the emulator forbidden."""
        self.offline()
        return self.run(*args)

    def offline(self, extra: str = "") -> None:
        self.pytester.makeconftest(self.OFFLINE_CONFTEST + extra)

    def online(self, extra: str = "") -> None:
        self.pytester.makeconftest("import pytest\n" + extra)

    def files(self, pattern: str = "**/*") -> list[Path]:
        return sorted(p for p in self.path.glob(pattern) if p.is_file())

    def cassettes(self) -> list[Path]:
        return sorted(p.relative_to(self.path) for p in self.path.glob("**/cassettes/**/*.json"))


@pytest.fixture
def inner(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> Inner:
    pytester.makeini(Inner.INI)
    # The inner runs must not see a developer's or CI's credentials or Zep URL override.
    for name in ("ZEP_API_KEY", "MEIBEL_API_KEY", "ELIZA_SERVER_AUTH_TOKEN", "ZEP_API_URL"):
        monkeypatch.delenv(name, raising=False)
    manager = pytestconfig.pluginmanager
    blocked = sorted(
        {ep.name for ep in entry_points(group="pytest11") if manager.is_blocked(ep.name)}
        - {"randomly"}
    )
    return Inner(pytester, blocked=tuple(arg for name in blocked for arg in ("-p", f"no:{name}")))
