"""The provider registry: the one place that says what each provider key means.

Every layer reads provider facts from here: the clients (key variable, auth header,
default base URL, adapter), the plugin (option choices, which secrets to scrub), the
assertions (fields that differ on every recording), the emulator (where each API is
mounted) and the command line. Adding a provider is one entry here, one adapter module
and one emulator module.

This module imports nothing heavy: the plugin reads it when pytest starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.providers.credentials import AGENT_KEY_VARIABLES

if TYPE_CHECKING:
    from pytest_sessionmem.providers.base import Provider

__all__ = ["PROVIDERS", "ProviderSpec", "provider_spec", "secret_env_names"]


@dataclass(frozen=True)
class ProviderSpec:
    """What one provider key stands for."""

    name: str
    """The key users write: ``provider="zep"``, ``--sessionmem-provider=zep``."""
    service: str
    """The API it speaks, for messages and docs."""
    api_key_env: str
    """The environment variable holding the credential; its value is never written to disk."""
    auth_header: str
    """The request header that carries the credential."""
    auth_prefix: str
    """Put before the credential in ``auth_header`` (``"Api-Key "`` for Zep)."""
    default_base_url: str
    """Where the real service lives; every request path is relative to it."""
    emulator_prefix: str
    """Where the embedded emulator mounts this API (its base URL is the server URL + this)."""
    adapter: str
    """``module:Class`` of the sans-IO adapter, imported on first use."""
    volatile_fields: tuple[str, ...] = ()
    """Message fields (dotted) that differ on every recording; transcript comparison ignores them."""
    key_required: bool = True
    """Whether the real service refuses requests without a key (a self-hosted ElizaOS needs none)."""

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """The headers that authenticate a request; none when there is no key."""
        return {self.auth_header: f"{self.auth_prefix}{api_key}"} if api_key else {}

    def adapter_class(self) -> type[Provider]:
        module, _, name = self.adapter.partition(":")
        cls: type[Provider] = getattr(import_module(module), name)
        return cls


def _zep(name: str, service: str, *, api: str, adapter: str) -> ProviderSpec:
    """A Zep generation: one key and one header for all, ``api`` names its URL path version."""
    return ProviderSpec(
        name=name,
        service=service,
        api_key_env="ZEP_API_KEY",
        auth_header="Authorization",
        auth_prefix="Api-Key ",
        default_base_url=f"https://api.getzep.com/api/{api}",
        # v2 sessions and v3 threads are one service, so both mount on /zep/api/v2.
        emulator_prefix=f"/zep/api/{api}",
        adapter=f"pytest_sessionmem.providers.{adapter}",
        # Per-message token accounting and the asynchronous-processing flag.
        volatile_fields=("metadata.token_count", "metadata.processed", "metadata.uuid"),
    )


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        _zep(
            "zep", "Zep Cloud v2 sessions API (zep-cloud 2.x)", api="v2", adapter="zep:ZepProvider"
        ),
        ProviderSpec(
            name="meibel",
            service="Meibel v2 agent sessions",
            api_key_env="MEIBEL_API_KEY",
            auth_header="Meibel-API-Key",
            auth_prefix="",
            default_base_url="https://api.meibel.ai/v2",
            emulator_prefix="/meibel/v2",
            adapter="pytest_sessionmem.providers.meibel:MeibelProvider",
            # One signal id per exchange, new on every run.
            volatile_fields=("metadata.signal_id", "metadata.timestamp"),
        ),
        ProviderSpec(
            name="eliza",
            service="ElizaOS server messaging sessions (>= 1.5)",
            api_key_env="ELIZA_SERVER_AUTH_TOKEN",
            auth_header="X-API-KEY",
            auth_prefix="",
            default_base_url="http://localhost:3000",
            emulator_prefix="/eliza",
            adapter="pytest_sessionmem.providers.eliza:ElizaProvider",
            key_required=False,
            # ``name`` is the author's UUID, and the server merges the session's channel
            # metadata into every user message and routing metadata into every agent reply.
            volatile_fields=(
                "name",
                "metadata.sessionId",
                "metadata.channelId",
                "metadata.serverId",
                "metadata.agentId",
                "metadata.agent_id",
                "metadata.userId",
                "metadata.timeoutConfig",
                "metadata.channelType",
                "metadata.isDm",
                "metadata.expiresAt",
            ),
        ),
        _zep(
            "zep-v3",
            "Zep threads API as zep-cloud 3.x speaks it (on /api/v2)",
            api="v2",
            adapter="zep_v3:ZepV3Provider",
        ),
        _zep(
            "zep-v4",
            "Zep API v4 as zep-cloud 4.x speaks it (threads addressed by UUID)",
            api="v4",
            adapter="zep_v4:ZepV4Provider",
        ),
    )
}


def provider_spec(name: object) -> ProviderSpec:
    """The spec for ``name``, or a ConfigError that lists the valid keys."""
    spec = PROVIDERS.get(name) if isinstance(name, str) else None
    if spec is None:
        valid = ", ".join(repr(p) for p in PROVIDERS)
        raise ConfigError(f"unknown provider {name!r}; choose one of {valid}")
    return spec


def secret_env_names() -> tuple[str, ...]:
    """Every built-in credential variable, once each (providers may share one).

    The providers' key variables first, then those of the LLM APIs and agent platforms an
    agent calls (:data:`~pytest_sessionmem.providers.credentials.AGENT_KEY_VARIABLES`). Their
    values are scrubbed from everything the product writes and reported by ``sessionmem lint``.
    """
    return tuple(
        dict.fromkeys(
            [spec.api_key_env for spec in PROVIDERS.values()]
            + [variable.name for variable in AGENT_KEY_VARIABLES]
        )
    )
