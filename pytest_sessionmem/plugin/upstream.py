"""Where a test's requests go: the real service, a configured URL, or the shared emulator.

One :class:`Upstream` lives in each pytest process. It starts the embedded emulator on
first use and stops it at the end of the run, and builds the network transports a
recording test needs.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from pytest_sessionmem.providers.registry import PROVIDERS, provider_spec

if TYPE_CHECKING:
    from pytest_sessionmem.emulator.runner import EmulatorServer
    from pytest_sessionmem.plugin.settings import Settings

__all__ = ["ReplayingEmulator", "Upstream", "refusing_transport"]

# What a test without a provider records against: a name that can never resolve.
NO_PROVIDER_URL = "http://sessionmem.invalid"


class Upstream:
    """The base URL for each test, and the emulator shared by the process."""

    def __init__(self) -> None:
        self._emulator: EmulatorServer | None = None

    @property
    def running_emulator(self) -> EmulatorServer | None:
        return self._emulator

    def emulator(self) -> EmulatorServer:
        """The emulator shared by this process, started on first use."""
        if self._emulator is None:
            from pytest_sessionmem.emulator.runner import EmulatorServer

            self._emulator = EmulatorServer(seed=0).start()
        return self._emulator

    def base_url(self, settings: Settings, *, recording: bool, nodeid: str) -> str:
        if settings.base_url:
            return settings.base_url
        if settings.emulator and recording and settings.provider:
            server = self.emulator()
            # A fresh, seeded emulator per recording test: the same test records the
            # same bytes every time, whatever ran before it. Fresh includes the API keys,
            # which a reset alone keeps: a test that turned auth on must not fail the next.
            server.control.reset(seed=_seed_for(nodeid))
            server.control.set_keys(**dict.fromkeys(PROVIDERS))
            return server.base_url(settings.provider)
        if settings.provider:
            return provider_spec(settings.provider).default_base_url
        return NO_PROVIDER_URL

    def records_against(self, settings: Settings) -> str:
        """Where a recording test's traffic comes from: ``"emulator"`` or ``"service"``."""
        uses_emulator = settings.emulator and settings.provider and not settings.base_url
        return "emulator" if uses_emulator else "service"

    def stop(self) -> None:
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None


class ReplayingEmulator:
    """What ``sessionmem_emulator`` is in a replaying test: no server is started.

    The cassette answers every request, so seeding has nothing to shape: ``control`` calls
    send nothing and succeed (see ``emulator.control_client.inert``), and ``base_url`` is
    the provider's own, the base URL the test's requests replay against.
    """

    def __init__(self) -> None:
        from pytest_sessionmem.emulator.control_client import EmulatorControl

        # Never sends: the plugin keeps control calls inert while a test replays.
        self.control = EmulatorControl("http://127.0.0.1:9")

    def base_url(self, provider: str) -> str:
        return provider_spec(provider).default_base_url

    @property
    def url(self) -> str:
        from pytest_sessionmem.errors import ConfigError

        raise ConfigError(
            "This test replays its cassette, so no emulator runs for it: send provider "
            "requests to recorded_session.base_url (the emulator while recording, the "
            "provider's URL in replay) and seed through sessionmem_emulator.control, whose "
            "calls do nothing in a replaying test."
        )

    def stop(self) -> None:
        self.control.close()


def _seed_for(nodeid: str) -> int:
    return int.from_bytes(hashlib.sha256(nodeid.encode("utf-8")).digest()[:4], "big")


def refusing_transport(message: str) -> Any:
    """A network side that sends nothing: each request raises ``ConfigError(message)``.

    For a recording test that cannot succeed (no key for a service that needs one): the
    test fails at its first request that would go out, before anything is sent.
    """
    import httpx

    from pytest_sessionmem.errors import ConfigError

    class RefusingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            __tracebackhide__ = True
            raise ConfigError(message)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            __tracebackhide__ = True
            raise ConfigError(message)

    return RefusingTransport()
