"""Runs one client call through SessionClient or AsyncSessionClient over httpx.MockTransport.

The provider and client tests are parametrized over both modes with a ``driver``
fixture, so every scenario proves the sync and the async path alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from pytest_sessionmem.client import AsyncSessionClient, SessionClient

Handler = Callable[[httpx.Request], httpx.Response]


class Recorded:
    """A MockTransport handler that remembers every request it was given."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


class Driver:
    """Calls client methods in one mode (``"sync"`` or ``"async"``); records sleeps."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sleeps: list[float] = []

    def call(
        self,
        provider: str,
        handler: Handler,
        method: str,
        *args: Any,
        client: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        options: dict[str, Any] = {"api_key": "test-key", **(client or {})}
        if self.mode == "sync":
            return self._call_sync(provider, handler, method, args, kwargs, options)
        return asyncio.run(self._call_async(provider, handler, method, args, kwargs, options))

    def _call_sync(
        self,
        provider: str,
        handler: Handler,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: dict[str, Any],
    ) -> Any:
        transport = httpx.MockTransport(handler)
        with SessionClient(
            provider, transport=transport, sleep=self.sleeps.append, **options
        ) as session_client:
            result = getattr(session_client, method)(*args, **kwargs)
            if method == "iter_messages":
                result = list(result)
            return result

    async def _call_async(
        self,
        provider: str,
        handler: Handler,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: dict[str, Any],
    ) -> Any:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        transport = httpx.MockTransport(handler)
        async with AsyncSessionClient(
            provider, transport=transport, sleep=sleep, **options
        ) as session_client:
            if method == "iter_messages":
                return [m async for m in session_client.iter_messages(*args, **kwargs)]
            return await getattr(session_client, method)(*args, **kwargs)


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
