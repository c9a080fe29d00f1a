"""The contract every provider adapter meets, and the helpers they share.

An adapter is *sans-IO*: each operation is a generator that yields ``httpx.Request``
objects and is sent the matching ``httpx.Response`` (always 2xx: the driver in
:mod:`pytest_sessionmem.client` retries and raises for the rest). It returns a neutral
model from :mod:`pytest_sessionmem.models`. Because no operation touches a socket, the
sync and the async client share every line of provider logic.

A payload that does not fit (HTML instead of JSON, a missing required field, a wrong
type) becomes a :class:`ProviderError` that names the field, never a bare ``KeyError``
or ``ValidationError``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar, overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from pytest_sessionmem.errors import ConfigError, ProviderError, UnsupportedOperation
from pytest_sessionmem.models import Memory, Message, Role, Session
from pytest_sessionmem.providers.operation import DECODED_JSON_EXTENSION, ErrorInfo, Operation
from pytest_sessionmem.support.jsonfast import loads
from pytest_sessionmem.support.redaction import Redactor

__all__ = [
    "AdapterBase",
    "AgentChatAdapter",
    "ErrorInfo",
    "MessageInput",
    "MessagePage",
    "NewSession",
    "Operation",
    "Provider",
    "WireModel",
]

M = TypeVar("M", bound=BaseModel)
W = TypeVar("W")

MessageInput = Message | Mapping[str, Any] | tuple[str, str]
"""What write calls accept: a Message, a dict of Message fields, or a ``(role, content)`` pair."""


class WireModel(BaseModel):
    """Base of the lenient per-provider payload models: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


@dataclass(frozen=True)
class MessagePage:
    """One page of a session's messages, in the order the provider sent them.

    ``next_cursor`` is opaque to the client: hand it back to fetch the next page;
    ``None`` means there is none.
    """

    messages: tuple[Message, ...]
    next_cursor: object | None = None


@dataclass(frozen=True)
class NewSession:
    """What ``create_session`` was asked for; each adapter takes the parts its API has."""

    session_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Other body fields, passed through (Meibel ``prompt=``, ElizaOS ``timeout_config=``)."""


class Provider(Protocol):
    """One session API. Instances are bound to a base URL; see the module docstring."""

    name: str
    newest_first: bool
    """True when pages come newest first, so the client must read every page before yielding."""
    base_url: str

    def __init__(self, base_url: str) -> None: ...

    def describe_error(self, response: httpx.Response) -> ErrorInfo: ...

    def get_session(self, session_id: str) -> Operation[Session]: ...

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]: ...

    def get_memory(
        self, session_id: str, *, last_n: int | None, min_rating: float | None
    ) -> Operation[Memory]: ...

    def create_session(self, new: NewSession) -> Operation[Session]: ...

    def add_user(self, user_id: str, fields: Mapping[str, Any]) -> Operation[dict[str, Any]]: ...

    def add_messages(
        self, session_id: str, messages: Sequence[Message]
    ) -> Operation[list[dict[str, Any]]]: ...

    def send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Operation[Message]: ...

    def delete_session(self, session_id: str) -> Operation[None]: ...


# -- helpers shared by the adapters -------------------------------------------------------


def join_url(base_url: str, *segments: str) -> str:
    """``base_url`` plus path segments, each percent-encoded (``a/b`` stays one segment)."""
    return base_url.rstrip("/") + "".join("/" + quote(s, safe="") for s in segments)


def require_id(value: str | None, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what} must be a non-empty string, got {value!r}")
    if not value.isascii() and (problem := _unsendable(value, what)):
        raise ConfigError(f"{problem}, so it cannot be sent in a URL")
    if value in _DOT_SEGMENTS:
        # Sent as a path segment, "." or ".." is resolved away by every URL library and
        # server alike: the request would reach another endpoint of the API.
        raise ConfigError(
            f"{what} {value!r} cannot be used: as a URL path segment it would name another "
            "endpoint of the API. Use an id with other characters."
        )
    return value


_DOT_SEGMENTS = frozenset({".", ".."})


def payload_error(response: httpx.Response, provider: str, problem: str) -> ProviderError:
    request = response.request
    return ProviderError(
        f"{provider} sent a payload that does not fit its API: {problem}",
        provider=provider,
        method=request.method,
        url=Redactor().url(request.url),
        status=response.status_code,
        body=response.text[:2000],
    )


def decode_json(response: httpx.Response, provider: str) -> Any:
    """The JSON body, or a ProviderError saying what came instead (an HTML error page, say)."""
    # A cassette replay hands over the body it already decoded (see cassette.capture).
    if (decoded := response.extensions.get(DECODED_JSON_EXTENSION)) is not None:
        return decoded
    try:
        return loads(response.content)
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "no content type")
        start = response.text.strip()[:80]
        raise payload_error(
            response, provider, f"expected JSON, got {kind} starting {start!r}"
        ) from None


def json_object(response: httpx.Response, provider: str) -> dict[str, Any]:
    """A write call's answer as a dict: ``{}`` for an empty body, ``{"value": x}`` for a non-object."""
    if not response.content:
        return {}
    data = decode_json(response, provider)
    return data if isinstance(data, dict) else {"value": data}


@overload
def parse_wire(model: type[M], data: Any, response: httpx.Response, provider: str) -> M: ...
@overload
def parse_wire(model: TypeAdapter[W], data: Any, response: httpx.Response, provider: str) -> W: ...
def parse_wire(
    model: type[M] | TypeAdapter[W], data: Any, response: httpx.Response, provider: str
) -> M | W:
    """Validate ``data`` against a wire model; a failure names the field (``messages[3].role``).

    ``model`` is a pydantic model, or a ``TypeAdapter`` (of a TypedDict, for hot paths that
    assemble the neutral models from the validated values directly).
    """
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data)
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{field_path(err['loc']) or '(body)'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise payload_error(response, provider, problems) from None


def field_path(loc: Iterable[int | str]) -> str:
    """``("messages", 3, "role_type")`` -> ``messages[3].role_type``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def aware(value: datetime | None) -> datetime | None:
    """Timestamps without a zone are taken as UTC, which is what all three services store."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def json_or_text(response: httpx.Response) -> tuple[Any, str]:
    """``(json_or_None, text)`` of an error body; never raises on a non-JSON body."""
    text = response.text
    try:
        return json.loads(text), text
    except ValueError:
        return None, text


def coerce_messages(messages: Iterable[MessageInput]) -> list[Message]:
    """Normalise write input; every item is checked before anything is sent."""
    if isinstance(messages, (str, bytes, Message, Mapping)):
        raise ConfigError("messages must be a sequence of messages, not a single message")
    out: list[Message] = []
    for index, item in enumerate(messages):
        out.append(_coerce_one(index, item))
    check_sendable([_sent_fields(message) for message in out], "messages")
    return out


def _sent_fields(message: Message) -> dict[str, Any]:
    # The fields a provider's wire form carries; the others never leave the machine.
    return {
        "content": message.content,
        "name": message.name,
        "metadata": message.metadata,
        "arguments": message.arguments,
        "result": message.result,
    }


def check_sendable(value: Any, what: str) -> None:
    """A ``ConfigError`` naming the first part of ``value`` that has no form in JSON.

    Request bodies are JSON in UTF-8: ``NaN`` and infinities, a lone surrogate in a string
    and objects other than dicts, lists, strings, numbers, booleans and ``None`` cannot be
    sent. Checked before the first request of a call, so nothing is half-written.
    """
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):  # the C encoder is fast; only a failure is walked
        problem = _unsendable(value, what)
        raise ConfigError(
            f"{problem or what + ' cannot be sent as JSON'}; request bodies are JSON in UTF-8, "
            "so nothing was sent. Replace that value with one JSON can hold."
        ) from None


def _unsendable(value: Any, path: str) -> str | None:
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}, which JSON cannot hold"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"{path} holds a lone surrogate {value[exc.start]!r} at index {exc.start}, "
                "which UTF-8 cannot encode"
            )
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{path} has the key {key!r}, which JSON cannot hold (keys are strings)"
            problem = _unsendable(key, f"{path} key") or _unsendable(item, f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if problem := _unsendable(item, f"{path}[{index}]"):
                return problem
        return None
    return f"{path} is a value of type {type(value).__name__}, which JSON cannot hold"


def _coerce_one(index: int, item: object) -> Message:
    if isinstance(item, Message):
        return item
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(v, str) for v in item):
        item = {"role": item[0], "content": item[1]}
    if isinstance(item, Mapping):
        try:
            return Message.model_validate(dict(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            roles = ", ".join(r.value for r in Role)
            hint = f" (roles: {roles})" if err["loc"][:1] == ("role",) else ""
            raise ConfigError(
                f"messages[{index}].{field_path(err['loc'])}: {err['msg']}{hint}"
            ) from None
    raise ConfigError(
        f"messages[{index}] must be a Message, a dict or a (role, content) tuple, "
        f"got {type(item).__name__}"
    )


def send_each(requests: Iterable[httpx.Request], provider: str) -> Operation[list[dict[str, Any]]]:
    """Send each request in turn (each is built only when its turn comes); the answers, in order."""
    answers: list[dict[str, Any]] = []
    for request in requests:
        response = yield request
        answers.append(json_object(response, provider))
    return answers


def post_in_batches(
    url: str, items: Sequence[Any], *, batch: int, provider: str
) -> Operation[list[dict[str, Any]]]:
    """POST ``{"messages": ...}`` in slices of ``batch``; the answers, one per request.

    ``items`` come from :func:`coerce_messages`, which checked every one before this runs.
    """
    requests = (
        httpx.Request("POST", url, json={"messages": list(items[start : start + batch])})
        for start in range(0, len(items), batch)
    )
    return (yield from send_each(requests, provider))


def unsupported(message: str) -> Operation[Any]:
    """An operation the provider's API does not have: raises ``UnsupportedOperation``.

    A generator like every other operation, so it fails when run, not when built.
    """
    raise UnsupportedOperation(message)
    yield  # pragma: no cover


class AdapterBase:
    """What every adapter has: its registry name, page order and base URL.

    It also holds the helpers above that need the provider's name (a payload error says
    which provider sent it), bound to :attr:`name`.
    """

    name: str
    newest_first = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _post(self, url: str, body: Any, *, what: str = "body", **kwargs: Any) -> httpx.Request:
        """``POST url`` with a JSON ``body``; a ``ConfigError`` if it has no form in JSON."""
        check_sendable(body, what)
        return httpx.Request("POST", url, json=body, **kwargs)

    def _url(self, *segments: str) -> str:
        return join_url(self.base_url, *segments)

    def _json(self, response: httpx.Response) -> Any:
        return decode_json(response, self.name)

    @overload
    def _parse(self, model: type[M], data: Any, response: httpx.Response) -> M: ...
    @overload
    def _parse(self, model: TypeAdapter[W], data: Any, response: httpx.Response) -> W: ...
    def _parse(self, model: type[M] | TypeAdapter[W], data: Any, response: httpx.Response) -> M | W:
        return parse_wire(model, data, response, self.name)

    def _read(self, model: type[M], response: httpx.Response) -> tuple[M, Any]:
        """The JSON body validated against ``model``, and the body itself: ``(wire, data)``."""
        data = self._json(response)
        return self._parse(model, data, response), data

    def _payload_error(self, response: httpx.Response, problem: str) -> ProviderError:
        return payload_error(response, self.name, problem)


class AgentChatAdapter(AdapterBase):
    """An API whose agent writes its own replies (Meibel, ElizaOS).

    It has no users and no memory endpoint, and takes user turns only, one request each: a
    subclass builds that request (:meth:`_post_turn`) and may check more of a turn than its
    role (:meth:`_check_turn`).
    """

    no_users_hint: str
    """What to do instead of ``add_user``."""
    accepts: str
    """Who takes user turns only, as an error message says it (``"meibel only accepts"``)."""

    def _post_turn(self, session_id: str, message: Message) -> httpx.Request:
        raise NotImplementedError

    def _check_turn(self, index: int, message: Message) -> None:
        if message.role is not Role.USER:
            raise ConfigError(
                f"messages[{index}] has role {message.role.value!r}, but {self.accepts} "
                "user messages (the agent writes its own replies); send user turns only"
            )

    def get_memory(
        self, session_id: str, *, last_n: int | None, min_rating: float | None
    ) -> Operation[Memory]:
        return unsupported(
            f"{self.name} has no memory endpoint; read the session with get_messages(session_id)"
        )

    def add_user(self, user_id: str, fields: Mapping[str, Any]) -> Operation[dict[str, Any]]:
        return unsupported(f"{self.name} has no users endpoint; {self.no_users_hint}")

    def add_messages(
        self, session_id: str, messages: Sequence[Message]
    ) -> Operation[list[dict[str, Any]]]:
        require_id(session_id, "session_id")
        for index, message in enumerate(messages):  # all checked before anything is sent
            self._check_turn(index, message)
        posts = (self._post_turn(session_id, m) for m in messages)
        return (yield from send_each(posts, self.name))
