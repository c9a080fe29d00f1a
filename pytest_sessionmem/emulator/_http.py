"""Small request/response helpers shared by the control API and provider modules.

Every JSON body the Zep, Meibel and control routes read goes through :func:`standard_json`:
what the emulator stores it must be able to answer later, as standard JSON in UTF-8, so a body
holding ``NaN``, an infinity (``Infinity``, or a number such as ``1e400`` that no double holds),
a lone surrogate, or nesting deeper than :data:`MAX_JSON_DEPTH` levels is refused at once,
before anything is stored. (ElizaOS mirrors the real server's body parser instead.)
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = [
    "MAX_JSON_DEPTH",
    "BadRequest",
    "ControlError",
    "NotJSON",
    "StrictBody",
    "UnservableBody",
    "control_endpoint",
    "control_error",
    "guard",
    "guarded_routes",
    "must_exist",
    "optional_str",
    "parse_body",
    "read_json",
    "standard_json",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


#: How deeply a request body may nest objects and arrays. Far more than any real body needs,
#: and far enough below Python's recursion limit that every answer holding the value renders.
MAX_JSON_DEPTH = 128

_SURROGATE = re.compile("[\ud800-\udfff]")

Loc = tuple[str | int, ...]


class BadRequest(Exception):
    """A request body that is not JSON or does not fit the endpoint; ``str()`` says why."""


class UnservableBody(BadRequest):
    """JSON the emulator could not write back: ``loc`` is where, ``kind`` a pydantic error type.

    ``kind`` is ``finite_number`` (NaN or an infinity), ``string_unicode`` (a lone surrogate)
    or ``json_invalid`` (nested too deeply), so Meibel can answer FastAPI's 422 detail.
    """

    def __init__(self, loc: Loc, kind: str, reason: str) -> None:
        # A key in ``loc`` may itself hold the lone surrogate: shown escaped, so the answer
        # naming it can be written.
        self.loc: Loc = tuple(
            p.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(p, str) else p
            for p in loc
        )
        super().__init__(f"{describe_loc(self.loc)} {reason}")
        self.kind = kind
        self.reason = reason


class NotJSON(BadRequest):
    """A body that is not JSON at all; ``detail`` is the parser's own message."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"request body is not valid JSON: {detail}")
        self.detail = detail


def describe_loc(loc: Loc) -> str:
    """``messages[0].metadata.n`` for ``("messages", 0, "metadata", "n")``; ``body`` for ``()``."""
    text = "body"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = part if index == 0 else f"{text}.{part}"
    return text


_TOO_DEEP = (
    f"nests objects and arrays deeper than {MAX_JSON_DEPTH} levels; "
    "the emulator refuses such bodies, flatten the value"
)
_NOT_FINITE = (
    "is not a finite number (NaN, Infinity, or beyond the range of a double, such as 1e400), "
    "which standard JSON cannot hold; send a finite number"
)
_SURROGATE_TEXT = "holds a lone surrogate, which UTF-8 cannot encode; send whole characters"
_SURROGATE_KEY = (
    "is a key holding a lone surrogate, which UTF-8 cannot encode; send whole characters"
)


def _unservable(value: Any) -> UnservableBody | None:
    """The first part of ``value`` (breadth first) that standard JSON in UTF-8 cannot hold."""
    pending: deque[tuple[Any, Loc]] = deque([(value, ())])
    while pending:
        node, loc = pending.popleft()
        if type(node) is str:
            if not node.isascii() and _SURROGATE.search(node):
                return UnservableBody(loc, "string_unicode", _SURROGATE_TEXT)
            continue
        if type(node) is float:
            if not math.isfinite(node):
                return UnservableBody(loc, "finite_number", _NOT_FINITE)
            continue
        if type(node) is dict:
            items: Any = node.items()
        elif type(node) is list:
            items = enumerate(node)
        else:
            continue
        if len(loc) >= MAX_JSON_DEPTH:
            return UnservableBody(loc, "json_invalid", _TOO_DEEP)
        for key, item in items:
            if type(key) is str and not key.isascii() and _SURROGATE.search(key):
                return UnservableBody((*loc, key), "string_unicode", _SURROGATE_KEY)
            kind = type(item)
            if kind is dict or kind is list or kind is str or kind is float:
                pending.append((item, (*loc, key)))
    return None


def standard_json(raw: bytes | str) -> Any:
    """``raw`` parsed, when standard JSON in UTF-8 can hold all of it and it nests no deeper
    than :data:`MAX_JSON_DEPTH`.

    Raises :class:`UnservableBody` naming the first part that cannot be written back, and
    :class:`NotJSON` for text that is not JSON at all.
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        raise UnservableBody((), "json_invalid", _TOO_DEEP) from None
    except ValueError as exc:
        raise NotJSON(str(exc)) from None
    if _may_be_unservable(raw):
        problem = _unservable(value)
        if problem is not None:
            raise problem
    return value


# What standard JSON cannot hold leaves traces in the text: a NaN or Infinity literal, a
# surrogate's escape or its UTF-8 bytes (json.loads reads both as a lone surrogate), a number
# long enough to overflow a double, many brackets. Substring tests in C find them; a trace
# inside a string only costs the walk.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_BIG_EXPONENT = re.compile(rb"0[eE]\+?000")
_MANY_DIGITS = b"0" * 309


def _may_be_unservable(raw: bytes | str) -> bool:
    """False when ``raw``, already parsed, surely holds nothing :func:`_unservable` refuses, so
    the walk over every value is left out for the bodies clients send."""
    if isinstance(raw, str):
        data = raw.encode("utf-8", "surrogatepass")
    elif json.detect_encoding(raw) != "utf-8":
        return True  # UTF-16 or UTF-32 text: the byte tests below do not apply
    else:
        data = raw
    if data.count(b"{") + data.count(b"[") > MAX_JSON_DEPTH:
        return True
    if b"NaN" in data or b"Infinity" in data or b"\xed" in data:
        return True
    if b"\\u" in data and _SURROGATE_ESCAPE.search(data) is not None:
        return True
    # A double overflows past 1.8e308: 309 digits, or an exponent with three digits, or one
    # with two digits after more than 209.
    digits = data.translate(_DIGITS_TO_ZERO)
    if _MANY_DIGITS in digits:
        return True
    if b"0e" in digits or b"0E" in digits:
        return _BIG_EXPONENT.search(digits) is not None or b"0" * 200 in digits
    return False


async def read_json(request: Request, *, empty: Any = None) -> Any:
    """The JSON body, ``empty`` when there is none; raises :class:`BadRequest` for a body that
    is not JSON or that the emulator could not write back (see :func:`standard_json`)."""
    raw = await request.body()
    if not raw.strip():
        return empty
    return standard_json(raw)


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
    """A control API body: an unknown field is a mistake in the test's setup, so it is refused.

    Numbers must be finite: pydantic would otherwise read the strings ``"NaN"`` and
    ``"Infinity"`` as floats, which no answer could hold.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


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
