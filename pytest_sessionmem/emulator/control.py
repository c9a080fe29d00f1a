"""The control API, mounted under ``/_emulator``: reset, keys, clock, faults, provider seeding.

Core endpoints (bodies are JSON; errors are ``400 {"error": "..."}``)::

    GET    /_emulator/info            {"seed", "now", "auth": {"zep": bool, ...}, "faults": [...]}
    POST   /_emulator/reset           {"seed": 1 | null}       wipe all data and faults (keys stay)
    POST   /_emulator/keys            {"zep": "k" | null, ...}  set (string) or turn off (null) auth
    POST   /_emulator/clock/advance   {"seconds": 60}           -> {"now": "<RFC 3339>"}
    POST   /_emulator/faults          Fault fields (see core.Fault) -> 201 {"fault": {...}}
    GET    /_emulator/faults          -> {"faults": [...]}
    DELETE /_emulator/faults          -> {"cleared": N}

Provider seeding endpoints live under ``/_emulator/zep``, ``/_emulator/meibel`` and
``/_emulator/eliza`` (each provider module's ``control_routes``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from . import eliza, meibel, zep, zep_threads
from ._http import BadRequest, control_error, parse_body
from .core import KEY_PROVIDERS, Fault, isoformat_z
from .state import EmulatorState

__all__ = ["routes"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResetBody(_Strict):
    seed: int | None = None


class AdvanceBody(_Strict):
    seconds: float = Field(ge=0)


class FaultBody(_Strict):
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

    async def reset(request: Request) -> Response:
        try:
            body = await parse_body(request, ResetBody)
        except BadRequest as exc:
            return control_error(f"reset: {exc}")
        state.reset(body.seed)
        return JSONResponse({"seed": body.seed})

    async def keys(request: Request) -> Response:
        try:
            body = await parse_body(request, _KeysBody)
        except BadRequest as exc:
            hint = '(send e.g. {"zep": "secret", "meibel": null})'
            return control_error(f"keys: {exc} {hint}")
        state.set_api_keys(body.model_dump(exclude_unset=True, by_alias=True))
        return JSONResponse({"auth": {n: state.api_keys.get(n) is not None for n in KEY_PROVIDERS}})

    async def advance(request: Request) -> Response:
        try:
            body = await parse_body(request, AdvanceBody)
        except BadRequest as exc:
            return control_error(f'clock/advance: {exc} (send {{"seconds": 60}})')
        state.clock.advance(body.seconds)
        return JSONResponse({"now": isoformat_z(state.clock.peek())})

    async def add_fault(request: Request) -> Response:
        try:
            body = await parse_body(request, FaultBody)
            fault = Fault(**body.model_dump())
        except (BadRequest, ValueError) as exc:
            return control_error(f"faults: {exc}")
        if not (fault.drop or fault.status is not None or fault.latency_ms):
            return control_error("faults: give at least one of status, drop or latency_ms")
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
        Mount(
            "/zep",
            routes=zep.control_routes(state, state.zep)
            + zep_threads.control_routes(state, state.zep),
        ),
        Mount("/meibel", routes=meibel.control_routes(state, state.meibel)),
        Mount("/eliza", routes=eliza.control_routes(state, state.eliza)),
    ]


class _KeysBody(_Strict):
    zep: str | None = None
    meibel: str | None = None
    eliza: str | None = None
    # zep-v3 and zep-v4 share zep's key; accepted so a body naming every provider works.
    zep_v3: str | None = Field(default=None, alias="zep-v3")
    zep_v4: str | None = Field(default=None, alias="zep-v4")
