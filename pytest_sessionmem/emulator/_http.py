"""Small request/response helpers shared by the control API and provider modules."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = [
    "BadRequest",
    "ControlError",
    "StrictBody",
    "control_endpoint",
    "control_error",
    "guard",
    "guarded_routes",
    "must_exist",
    "optional_str",
    "parse_body",
    "read_json",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


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


def optional_str(body: Mapping[str, Any], key: str) -> str | None:
    """``body[key]``: a string, or ``None`` when absent or null; any other value is refused."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


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


def guard(
    denied: Callable[[Request], Response | None],
    answers: Mapping[type[Exception], Callable[[Any], Response]],
    *,
    lock: AbstractContextManager[Any] | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """How a provider runs each of its handlers.

    A request ``denied`` answers is refused before the handler runs; the handler runs holding
    ``lock`` (when given); an exception of a type in ``answers`` becomes that type's answer, in
    the provider's own error envelope.
    """
    caught = tuple(answers)

    def wrap(handler: Endpoint) -> Endpoint:
        async def run(request: Request) -> Response:
            refusal = denied(request)
            if refusal is not None:
                return refusal
            try:
                if lock is None:
                    return await handler(request)
                with lock:
                    return await handler(request)
            except caught as exc:
                answer = next(a for kind, a in answers.items() if isinstance(exc, kind))
                return answer(exc)

        return run

    return wrap


def guarded_routes(
    guarded: Callable[[Endpoint], Endpoint], table: list[tuple[str, str, Endpoint]]
) -> list[BaseRoute]:
    """A provider's route table, ``(method, path, handler)`` each, run through its guard."""
    return [Route(path, guarded(handler), methods=[method]) for method, path, handler in table]


class StrictBody(BaseModel):
    """A control API body: an unknown field is a mistake in the test's setup, so it is refused."""

    model_config = ConfigDict(extra="forbid")


class ControlError(Exception):
    """A control call that cannot be carried out; answered as :func:`control_error`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def must_exist(found: T | None, message: str) -> T:
    """``found``, or a 404 :class:`ControlError` saying what is missing and how to create it."""
    if found is None:
        raise ControlError(message, 404)
    return found


def control_endpoint(
    model: type[ModelT], what: str, hint: str = ""
) -> Callable[[Callable[[Request, ModelT], Awaitable[Response]]], Endpoint]:
    """A control handler that takes its body validated against ``model``.

    A body that does not fit answers ``400 {"error": "<what>: <problem><hint>"}``; a
    :class:`ControlError` raised by the handler answers its own message and status.
    """

    def wrap(handler: Callable[[Request, ModelT], Awaitable[Response]]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                body = await parse_body(request, model)
            except BadRequest as exc:
                return control_error(f"{what}: {exc}{hint}")
            try:
                return await handler(request, body)
            except ControlError as exc:
                return control_error(str(exc), exc.status)

        return endpoint

    return wrap
