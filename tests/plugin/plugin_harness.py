"""Harness for the plugin's end-to-end tests: inner pytest runs under ``pytester``.

A typical test writes an inner test module, records it against the embedded emulator
(``--sessionmem-emulator``, record mode ``once``), then replays it in a second inner run
whose conftest refuses every socket connection and every emulator start, which is what
"replays offline" means.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

import pytest_sessionmem

# Imported once here so every in-process inner run reuses them (pytester restores
# sys.modules after each run; modules imported before the run survive). The SDKs emit
# pydantic deprecation warnings on import that are not ours to fix.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import meibel  # noqa: F401
    import zep_cloud.client  # noqa: F401

# The same for our own modules: a module imported afresh by one inner run would hold new
# classes while the package's lazy exports still hand out the old ones, and isinstance()
# checks would fail for reasons no user ever meets.
for _module in pkgutil.walk_packages(pytest_sessionmem.__path__, "pytest_sessionmem."):
    importlib.import_module(_module.name)

# Inner runs are strict like the project: warnings are errors (a leaked socket fails),
# async tests run in pytest-asyncio's auto mode.
INNER_INI = """
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


@dataclass
class Inner:
    """Runs inner pytest sessions in one pytester directory."""

    pytester: pytest.Pytester

    @property
    def path(self) -> Path:
        return self.pytester.path

    def run(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)

    def record(self, *args: str) -> pytest.RunResult:
        """Record against the emulator (cassettes that exist are replayed)."""
        self.online()
        return self.run(*RECORD_ARGS, *args)

    def replay_offline(self, *args: str) -> pytest.RunResult:
        """Replay (record mode none) with the network and the emulator forbidden."""
        self.offline()
        return self.run(*args)

    def offline(self, extra: str = "") -> None:
        self.pytester.makeconftest(OFFLINE_CONFTEST + extra)

    def online(self, extra: str = "") -> None:
        self.pytester.makeconftest("import pytest\n" + extra)

    def files(self, pattern: str = "**/*") -> list[Path]:
        return sorted(p for p in self.path.glob(pattern) if p.is_file())

    def cassettes(self) -> list[Path]:
        return sorted(p.relative_to(self.path) for p in self.path.glob("**/cassettes/**/*.json"))


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    return result.parseoutcomes()
