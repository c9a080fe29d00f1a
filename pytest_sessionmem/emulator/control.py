"""The control API, mounted under ``/_emulator``: reset, keys, clock, faults, provider seeding.

Core endpoints (bodies are JSON; errors are ``400 {"error": "..."}``)::

    GET    /_emulator/info            {"seed", "now", "auth": {"zep": bool, ...}, "faults": [...]}
    POST   /_emulator/reset           {"seed": 1 | null} or {}  wipe all data and faults (keys stay);
                                      {} keeps the seed, null drops it
    POST   /_emulator/keys            {"zep": "k" | null, ...}  set (string) or turn off (null) auth
    POST   /_emulator/clock/advance   {"seconds": 60}           -> {"now": "<RFC 3339>"}
    POST   /_emulator/faults          Fault fields (see core.Fault) -> 201 {"fault": {...}}
    GET    /_emulator/faults          -> {"faults": [...]}
    DELETE /_emulator/faults          -> {"cleared": N}

Provider seeding endpoints live under ``/_emulator/zep``, ``/_emulator/meibel`` and
``/_emulator/eliza`` (each provider module's ``control_routes``).

A web page open in the developer's browser must not be able to reset, seed or fault a running
emulator, so :func:`refusal` turns a request away (``403``, or ``415`` for the content type)
before any control route runs, unless:

* its ``Host`` names a loopback address (``127.0.0.1``, ``localhost``, ``[::1]``, any port) or
  the IP address the server listens on, which no page can rebind through DNS;
* it carries no ``Origin``, or a loopback one (browsers send ``Origin`` on cross-origin requests);
* a ``POST`` says ``Content-Type: application/json``, which a page can send across origins only
  after a CORS preflight the control API never grants (as for any other method that writes:
  the control API's writes are ``POST`` and ``DELETE``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from . import eliza, meibel, zep
from ._http import ControlError, StrictBody, control_endpoint, control_error
from .core import KEY_PROVIDERS, Fault, isoformat_z
from .state import EmulatorState

__all__ = ["refusal", "routes"]

# A Host header: a bracketed IPv6 address or a name without colons, then an optional port.
_AUTHORITY = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::[0-9]*)?")


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def _loopback_name(name: str, listen_host: str | None) -> bool:
    """``localhost``, a loopback address, or the IP address the server listens on."""
    if name.lower() == "localhost":
        return True
    address = _address(name)
    if address is None:
        return False
    return address.is_loopback or (listen_host is not None and address == _address(listen_host))


def _host_allowed(host: str | None, listen_host: str | None) -> bool:
    if host is None:
        return False
    match = _AUTHORITY.fullmatch(host)
    return match is not None and _loopback_name(match.group(1), listen_host)


def _origin_allowed(origin: str, listen_host: str | None) -> bool:
    try:
        parts = urlsplit(origin)
        name = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not name:
        return False
    return _loopback_name(name, listen_host)


def refusal(
    method: str, headers: Mapping[str, str], listen_host: str | None = None
) -> Response | None:
    """Why a control request is turned away (see the module docstring), or None to serve it.

    ``listen_host`` is the address the server was started on (``EmulatorServer(host=...)``);
    when it is an IP address, a ``Host`` naming it is allowed besides the loopback ones.
    """
    host = headers.get("host")
    if not _host_allowed(host, listen_host):
        return control_error(
            f"the control API answers only requests addressed to a loopback name, and this "
            f"one says Host: {host or '(none)'}; call it as "
            "http://127.0.0.1:<port>/_emulator (or localhost, or [::1])",
            403,
        )
    origin = headers.get("origin")
    if origin is not None and not _origin_allowed(origin, listen_host):
        return control_error(
            f"the control API refuses requests from web pages (Origin: {origin}); call it from "
            "a test, a script or curl on this machine, which send no foreign Origin",
            403,
        )
    content_type = headers.get("content-type")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if method == "POST" and media != "application/json":
        return control_error(
            f"{method} to the control API needs Content-Type: application/json, got "
            f"{content_type or 'none'}; send the body as JSON, even an empty one, e.g. "
            "curl -H 'Content-Type: application/json' -d '{}' ...",
            415,
        )
    return None


class ResetBody(StrictBody):
    seed: int | None = None


class AdvanceBody(StrictBody):
    seconds: float = Field(ge=0)


class FaultBody(StrictBody):
    provider: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    retry_after: float | None = Field(default=None, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    drop: bool = False
    body: Any = None
    times: int | None = Field(default=None, ge=1)


def _fault_json(fault: Fault) -> dict[str, Any]:
    return asdict(fault)


def routes(state: EmulatorState) -> list[BaseRoute]:
    async def info(request: Request) -> Response:
        with state.lock:
            return JSONResponse(
                {
                    "seed": state.seed,
                    "now": isoformat_z(state.clock.peek()),
                    "auth": {name: state.api_keys.get(name) is not None for name in KEY_PROVIDERS},
                    "faults": [_fault_json(f) for f in state.faults.snapshot()],
                }
            )

    @control_endpoint(ResetBody, "reset")
    async def reset(request: Request, body: ResetBody) -> Response:
        # A body that names no seed keeps the one the server runs with (``--seed``): a reset
        # between cases must not turn a deterministic server into a wall-clock one.
        with state.lock:
            seed = body.seed if "seed" in body.model_fields_set else state.seed
            state.reset(seed)
        return JSONResponse({"seed": seed})

    @control_endpoint(_KeysBody, "keys", ' (send e.g. {"zep": "secret", "meibel": null})')
    async def keys(request: Request, body: _KeysBody) -> Response:
        state.set_api_keys(body.model_dump(exclude_unset=True, by_alias=True))
        return JSONResponse({"auth": {n: state.api_keys.get(n) is not None for n in KEY_PROVIDERS}})

    @control_endpoint(AdvanceBody, "clock/advance", ' (send {"seconds": 60})')
    async def advance(request: Request, body: AdvanceBody) -> Response:
        try:
            state.clock.advance(body.seconds)
        except ValueError as exc:
            raise ControlError(f"clock/advance: {exc}") from None
        return JSONResponse({"now": isoformat_z(state.clock.peek())})

    @control_endpoint(FaultBody, "faults")
    async def add_fault(request: Request, body: FaultBody) -> Response:
        try:
            fault = Fault(**body.model_dump())
        except ValueError as exc:
            raise ControlError(f"faults: {exc}") from exc
        if not (fault.drop or fault.status is not None or fault.latency_ms):
            raise ControlError("faults: give at least one of status, drop or latency_ms")
        state.faults.add(fault)
        return JSONResponse({"fault": _fault_json(fault)}, status_code=201)

    async def list_faults(request: Request) -> Response:
        return JSONResponse({"faults": [_fault_json(f) for f in state.faults.snapshot()]})

    async def clear_faults(request: Request) -> Response:
        count = len(state.faults.snapshot())
        state.faults.clear()
        return JSONResponse({"cleared": count})

    return [
        Route("/info", info, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/keys", keys, methods=["POST"]),
        Route("/clock/advance", advance, methods=["POST"]),
        Route("/faults", add_fault, methods=["POST"]),
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Mount("/zep", routes=zep.control_routes(state, state.zep)),
        Mount("/meibel", routes=meibel.control_routes(state, state.meibel)),
        Mount("/eliza", routes=eliza.control_routes(state, state.eliza)),
    ]


class _KeysBody(StrictBody):
    zep: str | None = None
    meibel: str | None = None
    eliza: str | None = None
    # zep-v3 and zep-v4 share zep's key; accepted so a body naming every provider works.
    zep_v3: str | None = Field(default=None, alias="zep-v3")
    zep_v4: str | None = Field(default=None, alias="zep-v4")
