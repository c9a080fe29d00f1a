"""The emulator's ASGI app: provider mounts, fault injection and the control API.

URL layout (``BASE = http://127.0.0.1:PORT``)::

    BASE/zep/api/v2/...        Zep Cloud v2 sessions and v3 threads (zep-cloud 2.x and 3.x)
    BASE/zep/api/v4/...        Zep Cloud v4       (zep-cloud 4.x; SDK base_url = BASE/zep/api/v4)
    BASE/meibel/v2/...         Meibel v2          (SDK base_url = BASE/meibel/v2)
    BASE/eliza/api/messaging/  ElizaOS server     (client base URL = BASE/eliza)
    BASE/_emulator/...         control API (see :mod:`.control`), never subject to faults, and
                               refused to web pages (:func:`.control.refusal`)

Faults are applied here, before Starlette's own middleware, because dropping a connection needs
the server's raw ``send`` callable (see :func:`_drop_connection`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from ..providers.registry import PROVIDERS
from . import control, eliza, meibel, zep
from ._http import control_error
from ._routing import sub_path
from .core import Fault
from .state import EmulatorState

__all__ = ["PROVIDER_PREFIXES", "EmulatorApp", "create_app", "split_provider_path"]

PROVIDER_PREFIXES: dict[str, str] = {name: spec.emulator_prefix for name, spec in PROVIDERS.items()}


def split_provider_path(path: str) -> tuple[str, str] | None:
    """``("zep", "/sessions/s1")`` for ``/zep/api/v2/sessions/s1``; None outside provider mounts."""
    for provider, prefix in PROVIDER_PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return provider, path[len(prefix) :] or "/"
    return None


Handler = Callable[[Request, str], Awaitable[Response]]


def provider_handlers(state: EmulatorState) -> dict[str, Handler]:
    """One handler per provider prefix: ``(request, raw path below the prefix) -> response``.

    Every miss (unknown path, method or id) is answered by the provider module in the
    provider's own error envelope; nothing here falls back to a framework's plain-text page.
    """
    return {
        # v3 threads live on the v2 service, beside its sessions (one store).
        "zep": zep.v2_service_router(state, state.zep).respond,
        "zep-v4": zep.v4_router(state, state.zep).respond,
        "meibel": meibel.router(state, state.meibel).respond,
        "eliza": eliza.handler(state, state.eliza),
    }


class EmulatorApp:
    """The ASGI app: faults first, then the provider handler, the control API, or a JSON 404.

    ``listen_host`` is the address the server listens on; see :func:`.control.refusal`.
    """

    def __init__(self, state: EmulatorState, *, listen_host: str | None = None) -> None:
        self.emulator_state = state
        self._listen_host = listen_host
        self._providers = provider_handlers(state)
        self._control = Starlette(
            routes=[Mount("/_emulator", routes=control.routes(state))],
            exception_handlers={HTTPException: _control_miss},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._control(scope, receive, send)
            return
        where = split_provider_path(scope["path"])
        if where is not None and where[0] in self._providers:
            fault = self.emulator_state.faults.take(where[0], scope["method"], where[1])
            if fault is not None:
                if fault.latency_ms:
                    await asyncio.sleep(fault.latency_ms / 1000)
                if fault.drop:
                    await _drop_connection(send)
                    return
                if fault.status is not None:
                    await fault_response(where[0], fault)(scope, receive, send)
                    return
            prefix = PROVIDER_PREFIXES[where[0]]
            request = Request(scope, receive)
            response = await self._providers[where[0]](request, sub_path(scope, prefix))
            await response(scope, receive, send)
            return
        if scope["path"] == "/_emulator" or scope["path"].startswith("/_emulator/"):
            refused = control.refusal(scope["method"], Headers(scope=scope), self._listen_host)
            if refused is not None:
                await refused(scope, receive, send)
                return
            await self._control(scope, receive, send)
            return
        await _unknown_root(scope["method"], scope["path"])(scope, receive, send)


def _unknown_root(method: str, path: str) -> Response:
    bases = ", ".join(f"{prefix} ({name})" for name, prefix in PROVIDER_PREFIXES.items())
    return control_error(
        f"no emulator route {method} {path}: provider APIs live under {bases}, "
        "the control API under /_emulator",
        404,
    )


async def _control_miss(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    if status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = f"no control route {request.method} {request.url.path} (see GET /_emulator/info)"
    return control_error(message, status)


def create_app(state: EmulatorState, *, listen_host: str | None = None) -> EmulatorApp:
    """The emulator app serving ``state`` (build the state with ``EmulatorState.create``);
    ``listen_host`` is the address the server listens on, when it is not loopback."""
    return EmulatorApp(state, listen_host=listen_host)


def fault_response(provider: str, fault: Fault) -> Response:
    """The injected error, in the body shape the provider uses for real errors."""
    body: Any = fault.body if fault.body is not None else _error_body(provider, fault.status or 500)
    headers = {}
    if fault.retry_after is not None:
        # Integral seconds print without ".0": clients parse Retry-After as an integer first.
        seconds = fault.retry_after
        headers["Retry-After"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
    return JSONResponse(body, status_code=fault.status or 500, headers=headers)


def _error_body(provider: str, status: int) -> Any:
    text = f"injected fault: HTTP {status}"
    if provider == "zep-v4":
        return zep.v4_error_body(status, text)
    if provider in ("zep", "zep-v3"):
        return {"message": text}
    if provider == "meibel":
        return {"detail": text}
    return {"error": {"code": "INJECTED_FAULT", "message": text}}


async def _drop_connection(send: Send) -> None:
    """Close the TCP connection without writing a byte, so the client sees a dropped connection.

    ASGI has no "abort" message, so this reaches through uvicorn's ``send`` (a bound method of its
    request cycle) to the asyncio transport. Only :class:`~.runner.EmulatorServer`'s uvicorn server
    calls this app with such a ``send``; anything else gets a clear error instead of a silent 200.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "close"):
        raise RuntimeError("fault 'drop' needs the emulator's uvicorn server (EmulatorServer)")
    transport.close()
    # Let connection_lost() run before we return, so uvicorn knows the client is gone and
    # neither logs "returned without starting response" nor tries to answer 500.
    for _ in range(3):
        await asyncio.sleep(0)
