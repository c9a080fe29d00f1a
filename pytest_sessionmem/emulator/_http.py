"""Small request/response helpers shared by the control API and provider modules."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["BadRequest", "control_error", "parse_body", "read_json"]

ModelT = TypeVar("ModelT", bound=BaseModel)


class BadRequest(Exception):
    """A request body that is not JSON or does not fit the endpoint; ``str()`` says why."""


async def read_json(request: Request, *, empty: Any = None) -> Any:
    """The JSON body, ``empty`` when there is none; raises :class:`BadRequest` for invalid JSON."""
    raw = await request.body()
    if not raw.strip():
        return empty
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """The body validated against ``model`` (an empty body counts as ``{}``)."""
    data = await read_json(request, empty={})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise BadRequest(problems) from exc


def control_error(message: str, status: int = 400) -> JSONResponse:
    """Error body of the control API: ``{"error": "<what is wrong and how to fix it>"}``."""
    return JSONResponse({"error": message}, status_code=status)
