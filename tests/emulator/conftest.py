"""Fixtures for the emulator tests: one loopback server per module, wiped before every test."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

# The SDKs emit pydantic deprecation warnings at import; filterwarnings=error would turn them
# into collection errors, and they are not ours to fix.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import meibel
    from zep_cloud.client import Zep

NO_KEYS: dict[str, str | None] = {"zep": None, "meibel": None, "eliza": None}


@pytest.fixture(scope="module")
def _module_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def server(_module_server: EmulatorServer) -> EmulatorServer:
    """A running emulator with no data, no faults and auth off (seedless: live clock)."""
    _module_server.control.reset()
    _module_server.control.set_keys(**NO_KEYS)
    return _module_server


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    """Raw httpx client on the emulator root."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def zep_client(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Zep]:
    """The real zep-cloud SDK, pointed at the emulator, without retries.

    ZEP_API_URL would override base_url. zep-cloud 2.22.1 replaces any ``request_options`` dict
    with ``{"max_retries": DEFAULT_MAX_RETRIES}`` (5), so the module global is the only way to
    see the first answer of an error.
    """
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    monkeypatch.setattr("zep_cloud.client.DEFAULT_MAX_RETRIES", 0)
    with httpx.Client(timeout=10) as transport:
        yield Zep(base_url=server.base_url("zep"), api_key="zep-key", httpx_client=transport)


@pytest.fixture
def meibel_client(server: EmulatorServer) -> Iterator[meibel.MeibelClient]:
    client = meibel.MeibelClient(base_url=server.base_url("meibel"), api_key="meibel-key")
    yield client
    client.close()
