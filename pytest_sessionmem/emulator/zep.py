"""Zep Cloud v2 session API emulation, mounted under ``/zep/api/v2``.

Endpoints (what the zep-cloud 2.x SDK calls)::

    POST   /users                       user.add                 200 User
    POST   /sessions                    memory.add_session       201 Session
    GET    /sessions/{id}               memory.get_session       200 Session
    GET    /sessions/{id}/messages      memory.get_session_messages
                                        ?limit&cursor: cursor is a 1-based page number, oldest first
    POST   /sessions/{id}/memory        memory.add               200 {"context": str | null}
    GET    /sessions/{id}/memory        memory.get               ?lastn&minRating
    DELETE /sessions/{id}/memory        memory.delete            200 {"message": "OK"}, session gone

Quirks kept on purpose, because clients must cope with them on the real service:

* ``GET /messages`` past the last page answers ``total_count: 0`` (the real handler returns before
  counting). ``limit``/``cursor`` that are empty count as 0 (no limit / first page); values that
  are not integers fall back to the documented defaults ``limit=100``, ``cursor=1``.
* ``GET /memory`` returns the last ``lastn`` messages (default 6) in ascending order; negative
  ``lastn`` is a 400.
* Errors are ``{"message": "..."}``; 404 says exactly ``not found``; 401 is ``text/plain``
  ``unauthorized`` (header ``Authorization: Api-Key <key>``).
* The SDK sends ``{}`` as the body of every GET; it is ignored.

Not verified against Zep Cloud (chosen to be unsurprising): creating a session for an unknown user
is ``400 user not found``; creating an existing user or session is a 400; adding memory to an
unknown session is a 404; ``minRating`` leaves out facts that have no rating.

Asynchronous processing: Zep derives facts, context and summary some time after messages arrive.
``POST /_emulator/zep/processing`` sets a policy (hidden until ``after_reads`` reads of the session
have happened, and/or until ``after_seconds`` of emulator time have passed); every message and every
seeded fact, context and summary is stamped with it when written, reports ``processed: false``
(messages) or stays out of ``GET /memory`` (the rest) until then. A "read" is a ``GET /messages`` or
``GET /memory`` of that session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ._http import BadRequest, control_error, parse_body, read_json
from .core import isoformat_z

if TYPE_CHECKING:
    from .core import EmulatorState

__all__ = ["ROLE_TYPES", "ZepState", "control_routes", "routes"]

ROLE_TYPES = frozenset({"norole", "system", "assistant", "user", "function", "tool"})
MAX_MESSAGES_PER_CALL = 30
MAX_CONTENT_CHARS = 100_000
DEFAULT_PAGE_LIMIT = 100
DEFAULT_LASTN = 6


@dataclass(frozen=True)
class Readiness:
    """When a written item counts as processed: both conditions that are set must hold."""

    ready_at: datetime | None = None  # emulator time
    ready_after_read: int | None = None  # the session's read counter must exceed this

    def reached(self, now: datetime, reads: int) -> bool:
        return (self.ready_at is None or now >= self.ready_at) and (
            self.ready_after_read is None or reads > self.ready_after_read
        )


@dataclass
class ProcessingPolicy:
    after_reads: int | None = None
    after_seconds: float | None = None

    def stamp(self, now: datetime, reads: int) -> Readiness:
        return Readiness(
            ready_at=None
            if self.after_seconds is None
            else now + timedelta(seconds=self.after_seconds),
            ready_after_read=None if self.after_reads is None else reads + self.after_reads,
        )


@dataclass
class Stamped:
    """A JSON payload plus when it becomes visible."""

    payload: dict[str, Any]
    readiness: Readiness


@dataclass
class ZepSession:
    record: dict[str, Any]
    messages: list[Stamped] = field(default_factory=list)
    facts: list[Stamped] = field(default_factory=list)
    context: Stamped | None = None
    summary: Stamped | None = None
    reads: int = 0


@dataclass
class ZepState:
    """Everything the Zep emulation remembers."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, ZepSession] = field(default_factory=dict)
    processing: ProcessingPolicy = field(default_factory=ProcessingPolicy)
    next_row_id: int = 1

    def row_id(self) -> int:
        value, self.next_row_id = self.next_row_id, self.next_row_id + 1
        return value


# ---------------------------------------------------------------- responses


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _not_found() -> JSONResponse:
    return _error(404, "not found")


def _unauthorized(state: EmulatorState, request: Request) -> Response | None:
    key = state.api_keys.get("zep")
    if key is None or request.headers.get("authorization") == f"Api-Key {key}":
        return None
    # The real server writes this with Go's http.Error: plain text plus a newline.
    return PlainTextResponse("unauthorized\n", status_code=401)


def _message_json(item: Stamped, now: datetime, reads: int) -> dict[str, Any]:
    return {**item.payload, "processed": item.readiness.reached(now, reads)}


# ---------------------------------------------------------------- request bodies


def _require_object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return data


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _required_str(body: dict[str, Any], key: str) -> str:
    value = _optional_str(body, key)
    if not value:
        raise BadRequest(f"{key} is required")
    return value


def _optional_object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"{key} must be an object")
    return value


def _validated_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages are required")
    if len(messages) > MAX_MESSAGES_PER_CALL:
        raise BadRequest(
            f"max messages per memory of {MAX_MESSAGES_PER_CALL} exceeded. "
            "reduce the number of messages in your request"
        )
    for message in messages:
        if not isinstance(message, dict):
            raise BadRequest("each message must be an object")
        if not message.get("role_type"):
            raise BadRequest("messages are required to have a RoleType")
        if message["role_type"] not in ROLE_TYPES:
            raise BadRequest(f"invalid role_type {message['role_type']!r}")
        if not isinstance(message.get("content"), str):
            raise BadRequest("message content is required")
        if len(message["content"]) > MAX_CONTENT_CHARS:
            raise BadRequest(f"message content exceeds {MAX_CONTENT_CHARS} characters")
        if not isinstance(message.get("role", ""), (str, type(None))):
            raise BadRequest("message role must be a string")
        _optional_object(message, "metadata")
    return messages


def _query_int(raw: str | None, *, default: int) -> int:
    """The real handler's parse: empty -> 0, unparsable -> the documented default."""
    if raw is None or raw == "":
        return 0
    try:
        return int(raw)
    except ValueError:
        return default


# ---------------------------------------------------------------- routes


def routes(state: EmulatorState) -> list[BaseRoute]:
    async def add_user(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        try:
            body = _require_object(await read_json(request), "body")
            user_id = _required_str(body, "user_id")
            fields = {k: _optional_str(body, k) for k in ("email", "first_name", "last_name")}
            metadata = _optional_object(body, "metadata")
        except BadRequest as exc:
            return _error(400, str(exc))
        with state.lock:
            zep = state.zep
            if user_id in zep.users:
                return _error(400, f"user {user_id} already exists")
            now = isoformat_z(state.clock.now())
            user = {
                "uuid": state.ids.uuid4(),
                "id": zep.row_id(),
                "user_id": user_id,
                **fields,
                "metadata": metadata,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
                "session_count": 0,
            }
            zep.users[user_id] = user
            return JSONResponse(user)

    async def add_session(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        try:
            body = _require_object(await read_json(request), "body")
            session_id = _required_str(body, "session_id")
            user_id = _required_str(body, "user_id")
            metadata = _optional_object(body, "metadata")
        except BadRequest as exc:
            return _error(400, str(exc))
        with state.lock:
            zep = state.zep
            if user_id not in zep.users:
                return _error(400, "user not found")
            if session_id in zep.sessions:
                return _error(400, f"session {session_id} already exists")
            now = isoformat_z(state.clock.now())
            record: dict[str, Any] = {
                "uuid": state.ids.uuid4(),
                "id": zep.row_id(),
                "session_id": session_id,
                "user_id": user_id,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
                "ended_at": None,
                "metadata": metadata,
            }
            if body.get("fact_rating_instruction") is not None:
                record["fact_rating_instruction"] = body["fact_rating_instruction"]
            zep.sessions[session_id] = ZepSession(record=record)
            zep.users[user_id]["session_count"] += 1
            return JSONResponse(record, status_code=201)

    async def get_session(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        with state.lock:
            session = state.zep.sessions.get(request.path_params["session_id"])
            if session is None:
                return _not_found()
            return JSONResponse(session.record)

    async def get_messages(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        limit = _query_int(request.query_params.get("limit"), default=DEFAULT_PAGE_LIMIT)
        cursor = _query_int(request.query_params.get("cursor"), default=1)
        with state.lock:
            session = state.zep.sessions.get(request.path_params["session_id"])
            if session is None:
                return _not_found()
            session.reads += 1
            now = state.clock.peek()
            if limit > 0:
                start = max(cursor - 1, 0) * limit
                page = session.messages[start : start + limit]
            else:  # no LIMIT clause at all: everything
                page = session.messages
            if not page:
                return JSONResponse({"messages": [], "total_count": 0, "row_count": 0})
            return JSONResponse(
                {
                    "messages": [_message_json(m, now, session.reads) for m in page],
                    "total_count": len(session.messages),
                    "row_count": len(page),
                }
            )

    async def add_memory(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        try:
            body = _require_object(await read_json(request), "body")
            messages = _validated_messages(body)
        except BadRequest as exc:
            return _error(400, str(exc))
        with state.lock:
            zep = state.zep
            session = zep.sessions.get(request.path_params["session_id"])
            if session is None:
                return _not_found()
            now = state.clock.peek()
            readiness = zep.processing.stamp(now, session.reads)
            for message in messages:
                created = isoformat_z(state.clock.now())
                payload = {
                    "uuid": state.ids.uuid4(),
                    "created_at": created,
                    "updated_at": created,
                    "role": message.get("role") or "",
                    "role_type": message["role_type"],
                    "content": message["content"],
                    "metadata": message.get("metadata") or {},
                    "token_count": 0,
                }
                session.messages.append(Stamped(payload, readiness))
            context = None
            if body.get("return_context") is True:
                context = _visible_context(session, state.clock.peek())
            return JSONResponse({"context": context})

    async def get_memory(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        try:
            lastn = _strict_int(request.query_params.get("lastn"), "lastn") or DEFAULT_LASTN
            if lastn < 0:
                raise BadRequest("lastn must be a positive integer")
            min_rating = _strict_float(request.query_params.get("minRating"), "minRating")
        except BadRequest as exc:
            return _error(400, str(exc))
        with state.lock:
            session = state.zep.sessions.get(request.path_params["session_id"])
            if session is None:
                return _not_found()
            session.reads += 1
            now = state.clock.peek()
            facts = [
                f.payload
                for f in session.facts
                if f.readiness.reached(now, session.reads)
                and _meets_rating(f.payload["rating"], min_rating)
            ]
            summary = session.summary
            return JSONResponse(
                {
                    "context": _visible_context(session, now),
                    "facts": [f["fact"] for f in facts],
                    "relevant_facts": facts,
                    "messages": [
                        _message_json(m, now, session.reads) for m in session.messages[-lastn:]
                    ],
                    "summary": summary.payload
                    if summary and summary.readiness.reached(now, session.reads)
                    else None,
                    "metadata": {},
                }
            )

    async def delete_memory(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        with state.lock:
            zep = state.zep
            session = zep.sessions.pop(request.path_params["session_id"], None)
            if session is None:
                return _not_found()
            owner = zep.users.get(session.record["user_id"])
            if owner is not None:
                owner["session_count"] -= 1
            return JSONResponse({"message": "OK"})

    return [
        Route("/users", add_user, methods=["POST"]),
        Route("/sessions", add_session, methods=["POST"]),
        Route("/sessions/{session_id}", get_session, methods=["GET"]),
        Route("/sessions/{session_id}/messages", get_messages, methods=["GET"]),
        Route("/sessions/{session_id}/memory", add_memory, methods=["POST"]),
        Route("/sessions/{session_id}/memory", get_memory, methods=["GET"]),
        Route("/sessions/{session_id}/memory", delete_memory, methods=["DELETE"]),
    ]


def _meets_rating(rating: float | None, min_rating: float | None) -> bool:
    # An unrated fact cannot be said to reach a threshold, so a filter leaves it out.
    return min_rating is None or (rating is not None and rating >= min_rating)


def _visible_context(session: ZepSession, now: datetime) -> str | None:
    context = session.context
    if context is None or not context.readiness.reached(now, session.reads):
        return None
    text = context.payload["context"]
    return text if isinstance(text, str) else None


def _strict_int(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None


def _strict_float(raw: str | None, name: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None


# ---------------------------------------------------------------- control API


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FactSeed(_Strict):
    content: str
    name: str | None = None
    rating: float | None = None
    valid_at: str | None = None
    invalid_at: str | None = None


class FactsBody(_Strict):
    facts: list[str | FactSeed] = Field(min_length=1)


class ContextBody(_Strict):
    context: str


class SummaryBody(_Strict):
    summary: str


class ProcessingBody(_Strict):
    after_reads: int | None = Field(default=None, ge=0)
    after_seconds: float | None = Field(default=None, ge=0)


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """Seeding endpoints, mounted under ``/_emulator/zep``.

    ``POST /sessions/{id}/facts {"facts": ["text" | {"content", "name"?, "rating"?, ...}]}``
    ``POST /sessions/{id}/context {"context": "..."}``, ``POST /sessions/{id}/summary
    {"summary": "..."}`` (each replaces / appends what ``GET /memory`` shows), and
    ``POST /processing {"after_reads": N, "after_seconds": S}`` (either, both, or ``{}`` for
    "processed at once").
    """

    def seeded(session_id: str) -> tuple[ZepSession, Readiness] | JSONResponse:
        session = state.zep.sessions.get(session_id)
        if session is None:
            return control_error(
                f"zep session {session_id!r} does not exist; create it first with "
                "POST /zep/api/v2/sessions",
                404,
            )
        return session, state.zep.processing.stamp(state.clock.peek(), session.reads)

    async def add_facts(request: Request) -> Response:
        try:
            body = await parse_body(request, FactsBody)
        except BadRequest as exc:
            return control_error(f"zep facts: {exc}")
        with state.lock:
            found = seeded(request.path_params["session_id"])
            if isinstance(found, JSONResponse):
                return found
            session, readiness = found
            created: list[dict[str, Any]] = []
            for seed in body.facts:
                fact = seed if isinstance(seed, FactSeed) else FactSeed(content=seed)
                payload = {
                    "uuid": state.ids.uuid4(),
                    "content": fact.content,
                    "fact": fact.content,
                    "created_at": isoformat_z(state.clock.now()),
                    "name": fact.name,
                    "rating": fact.rating,
                    "valid_at": fact.valid_at,
                    "invalid_at": fact.invalid_at,
                }
                session.facts.append(Stamped(payload, readiness))
                created.append(payload)
            return JSONResponse({"facts": created}, status_code=201)

    async def set_context(request: Request) -> Response:
        try:
            body = await parse_body(request, ContextBody)
        except BadRequest as exc:
            return control_error(f"zep context: {exc}")
        with state.lock:
            found = seeded(request.path_params["session_id"])
            if isinstance(found, JSONResponse):
                return found
            session, readiness = found
            session.context = Stamped({"context": body.context}, readiness)
            return JSONResponse({"context": body.context})

    async def set_summary(request: Request) -> Response:
        try:
            body = await parse_body(request, SummaryBody)
        except BadRequest as exc:
            return control_error(f"zep summary: {exc}")
        with state.lock:
            found = seeded(request.path_params["session_id"])
            if isinstance(found, JSONResponse):
                return found
            session, readiness = found
            payload = {
                "uuid": state.ids.uuid4(),
                "content": body.summary,
                "created_at": isoformat_z(state.clock.now()),
                "metadata": {},
                "related_message_uuids": [m.payload["uuid"] for m in session.messages],
                "token_count": 0,
            }
            session.summary = Stamped(payload, readiness)
            return JSONResponse({"summary": payload})

    async def set_processing(request: Request) -> Response:
        try:
            body = await parse_body(request, ProcessingBody)
        except BadRequest as exc:
            return control_error(f"zep processing: {exc}")
        with state.lock:
            state.zep.processing = ProcessingPolicy(body.after_reads, body.after_seconds)
        return JSONResponse(body.model_dump())

    return [
        Route("/sessions/{session_id}/facts", add_facts, methods=["POST"]),
        Route("/sessions/{session_id}/context", set_context, methods=["POST"]),
        Route("/sessions/{session_id}/summary", set_summary, methods=["POST"]),
        Route("/processing", set_processing, methods=["POST"]),
    ]
