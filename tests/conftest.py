"""Suite-wide fixtures: inner pytest runs (``inner``), kept from changing the outer run.

pytester (``tests/plugin``, ``tests/docs``) runs inner pytest sessions in this process. Around
each one it takes a snapshot of ``sys.modules`` and afterwards drops every module the inner run
imported first. A module that outlives the inner run but cached objects of a dropped one then
holds stale classes. That made the suite depend on its order: httpx imports httpcore lazily and
caches a map from httpcore's exception classes to its own on first use. When an inner run was
the first to make a request, httpcore was dropped after it; the next request of the outer run
imported a fresh httpcore whose exceptions the cached map does not know, so a refused
connection raised ``httpcore.ConnectError`` instead of ``httpx.ConnectError``.

The fix: before the first test of a run that uses pytester, import every module an inner run
would otherwise import first (``PRELOAD``). Those modules are then part of every snapshot and
survive every inner run. ``tests/plugin/test_inner_runs.py`` fails, naming the module, if an
inner run still imports one first.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import pytest_sessionmem
from pytest_sessionmem.providers.registry import secret_env_names

# Third-party modules that our code, the SDKs or the emulator import lazily (inside functions),
# so importing the package does not load them.
PRELOAD = (
    "httpcore",  # httpx's network transports import it on first construction
    "h11",
    "anyio._backends._asyncio",  # httpx's async transport and pytest-asyncio's loops
    "uvicorn",  # the emulator runner
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.lifespan.off",
    "uvicorn.loops.auto",
    "uvicorn.loops.asyncio",
    "multiprocessing",  # uvicorn's config
    "logging.config",
    "logging.handlers",
    "socketserver",
    "encodings.idna",  # first non-ASCII host name or URL
    "stringprep",
    "encodings.utf_16_le",
    "doctest",  # pytest's doctest plugin
    "zep_cloud.client",
    "meibel",
)


def preload_for_inner_runs() -> None:
    # The SDKs emit pydantic deprecation warnings at import that are not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            importlib.import_module(name)
        # Our own modules too: a module of ours imported afresh by an inner run would hold new
        # classes while the package's lazy exports hand out the old ones, and isinstance()
        # checks would fail for reasons no user ever meets.
        for module in pkgutil.walk_packages(pytest_sessionmem.__path__, "pytest_sessionmem."):
            importlib.import_module(module.name)


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("pytester" in getattr(item, "fixturenames", ()) for item in session.items):
        preload_for_inner_runs()


# -- inner runs -------------------------------------------------------------------------------
# ``inner`` (tests/plugin, tests/docs): a typical test writes an inner test module, records it
# against the embedded emulator (``inner.record()``: ``--sessionmem-emulator``, record mode
# ``once``), then replays it in a second inner run whose conftest refuses every socket
# connection and every emulator start (``inner.replay_offline()``): "replays offline".


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
    for name in (*secret_env_names(), "ZEP_API_URL"):
        monkeypatch.delenv(name, raising=False)
    manager = pytestconfig.pluginmanager
    blocked = sorted(
        {ep.name for ep in entry_points(group="pytest11") if manager.is_blocked(ep.name)}
        - {"randomly"}
    )
    return Inner(pytester, blocked=tuple(arg for name in blocked for arg in ("-p", f"no:{name}")))
