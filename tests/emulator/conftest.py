"""Fixtures for the emulator tests: one loopback server per module, wiped before every test."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

# The SDKs emit pydantic deprecation warnings at import; filterwarnings=error would turn them
# into collection errors, and they are not ours to fix.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import meibel
    from zep_cloud.client import AsyncZep, Zep

NO_KEYS: dict[str, str | None] = {"zep": None, "meibel": None, "eliza": None}


@pytest.fixture(scope="module")
def _module_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def server(_module_server: EmulatorServer) -> EmulatorServer:
    """A running emulator with no data, no faults and auth off (seedless: live clock)."""
    _module_server.control.reset(seed=None)
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


class SdkCaller:
    """Runs ``call(lambda client: client.x.y(...))`` on a sync or an async SDK client.

    An async client's coroutine is awaited on one event loop kept for the whole test, so a test
    body is written once and exercises both clients.
    """

    def __init__(self, client: Any, runner: asyncio.Runner | None) -> None:
        self.client = client
        self.runner = runner

    def call(self, action: Callable[[Any], Any]) -> Any:
        result = action(self.client)
        if inspect.isawaitable(result):
            assert self.runner is not None
            return self.runner.run(_awaited(result))
        return result

    def iterate(self, iterable: Any) -> list[Any]:
        """All items of a sync or async iterator."""
        if hasattr(iterable, "__aiter__"):
            assert self.runner is not None
            return self.runner.run(_collect(iterable))
        return list(iterable)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


async def _collect(iterable: Any) -> list[Any]:
    return [item async for item in iterable]


@pytest.fixture(params=["sync", "async"])
def zep(
    request: pytest.FixtureRequest, server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SdkCaller]:
    """zep-cloud 2.22 on the emulator, ``Zep`` or ``AsyncZep``, without retries."""
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    monkeypatch.setattr("zep_cloud.client.DEFAULT_MAX_RETRIES", 0)
    base = server.base_url("zep")
    if request.param == "sync":
        with httpx.Client(timeout=10) as http:
            yield SdkCaller(Zep(base_url=base, api_key="k", httpx_client=http), None)
        return
    with asyncio.Runner() as runner:
        http_async = httpx.AsyncClient(timeout=10)
        yield SdkCaller(AsyncZep(base_url=base, api_key="k", httpx_client=http_async), runner)
        runner.run(http_async.aclose())


@pytest.fixture(params=["sync", "async"])
def meibel_sdk(request: pytest.FixtureRequest, server: EmulatorServer) -> Iterator[SdkCaller]:
    """meibel 2.0.7 on the emulator, ``MeibelClient`` or ``AsyncMeibelClient``."""
    base = server.base_url("meibel")
    if request.param == "sync":
        client = meibel.MeibelClient(base_url=base, api_key="k")
        yield SdkCaller(client, None)
        client.close()
        return
    with asyncio.Runner() as runner:
        async_client = meibel.AsyncMeibelClient(base_url=base, api_key="k")
        yield SdkCaller(async_client, runner)
        runner.run(async_client.close())
