"""Zep Cloud v2 session API emulation, mounted under ``/zep/api/v2``.

Endpoints: every session-family method of zep-cloud 2.22 (the table in ``docs/emulator.md``
lists them with their answers): users (add, get, update, delete, ``/users-ordered``, a user's
sessions, facts and node), sessions (add, get, update, ``/sessions-ordered``, end, end many),
messages (page, one, update metadata), memory (add, get, delete), facts (a session's, add, one,
delete), and the model-backed ones (search, search across sessions, summaries,
synthesize_question, classify, extract), which answer deterministically -- words shared with the
query or the conversation -- unless ``POST /_emulator/zep/answers`` seeded an answer.

The state (:class:`ZepState`: users, sessions with their messages and facts) is plain data, so
other Zep API versions can serve the same store.

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

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._http import (
    BadRequest,
    ControlError,
    NotJSON,
    StrictBody,
    UnservableBody,
    control_endpoint,
    guard,
    guarded_routes,
    must_exist,
    optional_str,
    read_json,
    standard_json,
)
from ._routing import ProviderRouter
from .core import MAX_DELAY_SECONDS, SharedState, Store, isoformat_z

__all__ = [
    "ROLE_TYPES",
    "SeedFields",
    "ZepSession",
    "ZepState",
    "control_routes",
    "new_row",
    "new_session_row",
    "router",
    "routes",
    "search_words",
    "seeding_routes",
    "unauthorized",
]

Handler = Callable[[Request], Awaitable[Response]]
HitT = TypeVar("HitT", bound=tuple[Any, ...])

ROLE_TYPES = frozenset({"norole", "system", "assistant", "user", "function", "tool"})
MAX_MESSAGES_PER_CALL = 30
MAX_CONTENT_CHARS = 100_000
DEFAULT_PAGE_LIMIT = 100
DEFAULT_LASTN = 6
DEFAULT_SEARCH_LIMIT = 10
DEFAULT_QUESTION_WINDOW = 3
SESSION_ORDER_FIELDS = ("created_at", "updated_at", "user_id", "session_id")
SEARCH_SCOPES = ("messages", "summary", "facts")
# Methods whose real answer comes from a model; POST /_emulator/zep/answers seeds them.
MODEL_METHODS = (
    "search",
    "search_sessions",
    "get_summaries",
    "synthesize_question",
    "classify_session",
    "extract_data",
    "get_node",
)
_WORD = re.compile(r"\w+")
_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


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
    # GET messages JSON of this item, by its ``processed`` flag (see ``_message_bytes``).
    # Whoever changes ``payload`` clears it.
    rendered: dict[bool, bytes] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ZepSession:
    record: dict[str, Any]
    messages: list[Stamped] = field(default_factory=list)
    facts: list[Stamped] = field(default_factory=list)
    context: Stamped | None = None
    summary: Stamped | None = None
    reads: int = 0


@dataclass
class ZepState(Store):
    """Everything the Zep v2 emulation remembers (:mod:`.zep_threads` extends it)."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, ZepSession] = field(default_factory=dict)
    processing: ProcessingPolicy = field(default_factory=ProcessingPolicy)
    # Seeded answers of model-backed methods: (method, session or user id | None) -> body.
    answers: dict[tuple[str, str | None], Any] = field(default_factory=dict)
    next_row_id: int = 1

    def row_id(self) -> int:
        value, self.next_row_id = self.next_row_id, self.next_row_id + 1
        return value


# ---------------------------------------------------------------- responses


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _not_found() -> JSONResponse:
    return _error(404, "not found")


def unauthorized(state: SharedState, request: Request) -> Response | None:
    """Zep's 401 for a request without the right key; None when the key is right or off."""
    key = state.api_keys.get("zep")
    if key is None or request.headers.get("authorization") == f"Api-Key {key}":
        return None
    # Zep's open-source server writes a plain-text "unauthorized"; the emulator keeps to the
    # JSON envelope every other Zep error uses, so SDKs and clients can always parse it.
    return _error(401, "unauthorized")


def _message_json(item: Stamped, now: datetime, reads: int) -> dict[str, Any]:
    return {**item.payload, "processed": item.readiness.reached(now, reads)}


def _render(value: Any) -> bytes:
    """JSON exactly as starlette's ``JSONResponse`` writes it."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def _message_bytes(item: Stamped, now: datetime, reads: int) -> bytes:
    """``_render(_message_json(item, now, reads))``, rendered once per item and flag."""
    processed = item.readiness.reached(now, reads)
    rendered = item.rendered.get(processed)
    if rendered is None:
        rendered = item.rendered[processed] = _render(_message_json(item, now, reads))
    return rendered


# ---------------------------------------------------------------- request bodies


def _require_object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return data


def _required_str(body: dict[str, Any], key: str) -> str:
    value = optional_str(body, key)
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
    if not _ASCII_INT.fullmatch(raw):
        return default
    return int(raw)


# ---------------------------------------------------------------- routes


def router(state: SharedState, zep: ZepState) -> ProviderRouter:
    """The Zep routes, with Zep's ``{"message": ...}`` answer for every unknown path or method."""
    return ProviderRouter(
        routes(state, zep),
        not_found=lambda request: _not_found(),
        method_not_allowed=lambda request: _error(405, "method not allowed"),
    )


def routes(state: SharedState, zep: ZepState) -> list[BaseRoute]:
    guarded = guard(
        lambda request: unauthorized(state, request),
        {
            BadRequest: lambda exc: _error(400, str(exc)),
            _Missing: lambda exc: _not_found(),
            _Conflict: lambda exc: _error(409, str(exc)),
        },
    )

    def session_of(request: Request) -> ZepSession:
        session = zep.sessions.get(request.path_params["session_id"])
        if session is None:
            raise _Missing
        return session

    def user_of(request: Request) -> dict[str, Any]:
        user = zep.users.get(request.path_params["user_id"])
        if user is None:
            raise _Missing
        return user

    def canned(method: str, key: str | None) -> Response | None:
        """A response seeded with ``POST /_emulator/zep/answers``, if any."""
        if (method, key) in zep.answers:
            return JSONResponse(zep.answers[(method, key)])
        return None

    # ------------------------------------------------------------ users

    async def add_user(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        user_id = _required_str(body, "user_id")
        fields = {k: optional_str(body, k) for k in ("email", "first_name", "last_name")}
        metadata = _optional_object(body, "metadata")
        rating = _optional_object(body, "fact_rating_instruction")
        with state.lock:
            if user_id in zep.users:
                return _error(400, f"user {user_id} already exists")
            user = new_row(
                state,
                zep,
                {"user_id": user_id, **fields, "metadata": metadata},
                {"session_count": 0},
            )
            if rating is not None:
                user["fact_rating_instruction"] = rating
            zep.users[user_id] = user
            return JSONResponse(user)

    async def get_user(request: Request) -> Response:
        with state.lock:
            return JSONResponse(user_of(request))

    async def update_user(request: Request) -> Response:
        body = _require_object(await read_json(request, empty={}), "body")
        changes: dict[str, Any] = {
            k: optional_str(body, k) for k in ("email", "first_name", "last_name") if k in body
        }
        metadata = _optional_object(body, "metadata")
        rating = _optional_object(body, "fact_rating_instruction")
        with state.lock:
            user = user_of(request)
            user.update({k: v for k, v in changes.items() if v is not None})
            return JSONResponse(_updated(state, user, metadata, rating))

    async def delete_user(request: Request) -> Response:
        with state.lock:
            user = user_of(request)
            del zep.users[user["user_id"]]
            for session_id in [
                sid for sid, s in zep.sessions.items() if s.record["user_id"] == user["user_id"]
            ]:
                del zep.sessions[session_id]
            return JSONResponse({"message": "OK"})

    async def list_users(request: Request) -> Response:
        page_number = _strict_int(request.query_params.get("pageNumber"), "pageNumber")
        page_number = 1 if page_number is None else page_number
        page_size = _strict_int(request.query_params.get("pageSize"), "pageSize")
        if page_number < 1 or (page_size is not None and page_size < 1):
            raise BadRequest("pageNumber and pageSize must be positive integers")
        with state.lock:
            users = list(zep.users.values())
            page = _page(users, page_number, page_size)
            return JSONResponse({"users": page, "total_count": len(users), "row_count": len(page)})

    async def user_sessions(request: Request) -> Response:
        with state.lock:
            user = user_of(request)
            return JSONResponse(
                [s.record for s in zep.sessions.values() if s.record["user_id"] == user["user_id"]]
            )

    async def user_facts(request: Request) -> Response:
        with state.lock:
            user = user_of(request)
            now = state.clock.peek()
            facts = [
                fact
                for session in zep.sessions.values()
                if session.record["user_id"] == user["user_id"]
                for fact in _visible_facts(session, now, None)
            ]
            return JSONResponse({"facts": facts})

    async def user_node(request: Request) -> Response:
        with state.lock:
            user = user_of(request)
            if answer := canned("get_node", user["user_id"]):
                return answer
            now = state.clock.peek()
            summary = " ".join(
                fact["content"]
                for session in zep.sessions.values()
                if session.record["user_id"] == user["user_id"]
                for fact in _visible_facts(session, now, None)
            )
            return JSONResponse(
                {
                    "node": {
                        "uuid": user["uuid"],
                        "name": user["user_id"],
                        "summary": summary,
                        "labels": ["Entity", "User"],
                        "attributes": {},
                        "created_at": user["created_at"],
                    }
                }
            )

    # ------------------------------------------------------------ sessions

    async def add_session(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        session_id = _required_str(body, "session_id")
        user_id = _required_str(body, "user_id")
        metadata = _optional_object(body, "metadata")
        with state.lock:
            if user_id not in zep.users:
                return _error(400, "user not found")
            if session_id in zep.sessions:
                return _error(400, f"session {session_id} already exists")
            record = new_session_row(state, zep, session_id, user_id, metadata)
            if body.get("fact_rating_instruction") is not None:
                record["fact_rating_instruction"] = body["fact_rating_instruction"]
            zep.sessions[session_id] = ZepSession(record=record)
            zep.users[user_id]["session_count"] += 1
            return JSONResponse(record, status_code=201)

    async def get_session(request: Request) -> Response:
        with state.lock:
            return JSONResponse(session_of(request).record)

    async def update_session(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        metadata = _optional_object(body, "metadata")
        rating = _optional_object(body, "fact_rating_instruction")
        with state.lock:
            return JSONResponse(_updated(state, session_of(request).record, metadata, rating))

    async def list_sessions(request: Request) -> Response:
        query = request.query_params
        page_number = _strict_int(query.get("page_number"), "page_number")
        page_number = 1 if page_number is None else page_number
        page_size = _strict_int(query.get("page_size"), "page_size")
        if page_number < 1 or (page_size is not None and page_size < 1):
            raise BadRequest("page_number and page_size must be positive integers")
        order_by = query.get("order_by") or "created_at"
        if order_by not in SESSION_ORDER_FIELDS:
            raise BadRequest(
                f"order_by must be one of {', '.join(SESSION_ORDER_FIELDS)}, got {order_by!r}"
            )
        ascending = _strict_bool(query.get("asc"), "asc")
        with state.lock:
            records = [s.record for s in zep.sessions.values()]
            # Ties (equal timestamps or user ids) keep creation order, so pages are stable.
            records.sort(key=lambda r: (r[order_by] or "", r["id"]), reverse=not ascending)
            page = _page(records, page_number, page_size)
            return JSONResponse(
                {"sessions": page, "total_count": len(records), "response_count": len(page)}
            )

    async def end_session(request: Request) -> Response:
        body = _require_object(await read_json(request, empty={}), "body")
        classify = _optional_object(body, "classify")
        with state.lock:
            session = session_of(request)
            result: dict[str, Any] = {}
            if classify is not None:
                result["classification"] = _classify(state, session, classify)
            _end(state, session)
            result["session"] = session.record
            return JSONResponse(result)

    async def end_sessions(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        ids = body.get("session_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise BadRequest("session_ids must be a non-empty list of session ids")
        with state.lock:
            sessions = [zep.sessions.get(i) for i in ids]
            if any(s is None for s in sessions):
                raise _Missing
            for session in sessions:
                assert session is not None
                _end(state, session)
            return JSONResponse({"sessions": [s.record for s in sessions if s is not None]})

    # ------------------------------------------------------------ messages and memory

    async def get_messages(request: Request) -> Response:
        limit = _query_int(request.query_params.get("limit"), default=DEFAULT_PAGE_LIMIT)
        cursor = _query_int(request.query_params.get("cursor"), default=1)
        with state.lock:
            session = session_of(request)
            session.reads += 1
            now = state.clock.peek()
            if limit > 0:
                start = max(cursor - 1, 0) * limit
                page = session.messages[start : start + limit]
            else:  # no LIMIT clause at all: everything
                page = session.messages
            if not page:
                return JSONResponse({"messages": [], "total_count": 0, "row_count": 0})
            # The bytes JSONResponse would write for the same dict, joined from each
            # message's cached JSON.
            body = b'{"messages":[%b],"total_count":%d,"row_count":%d}' % (
                b",".join([_message_bytes(m, now, session.reads) for m in page]),
                len(session.messages),
                len(page),
            )
            return Response(body, media_type="application/json")

    def message_of(session: ZepSession, request: Request) -> Stamped:
        wanted = request.path_params["message_uuid"]
        for message in session.messages:
            if message.payload["uuid"] == wanted:
                return message
        raise _Missing

    async def get_message(request: Request) -> Response:
        with state.lock:
            session = session_of(request)
            message = message_of(session, request)
            return JSONResponse(_message_json(message, state.clock.peek(), session.reads))

    async def update_message(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        metadata = _optional_object(body, "metadata")
        if metadata is None:
            raise BadRequest("metadata is required")
        with state.lock:
            session = session_of(request)
            message = message_of(session, request)
            message.payload["metadata"] = {**(message.payload.get("metadata") or {}), **metadata}
            message.payload["updated_at"] = isoformat_z(state.clock.now())
            message.rendered.clear()
            return JSONResponse(_message_json(message, state.clock.peek(), session.reads))

    async def add_memory(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        messages = _validated_messages(body)
        with state.lock:
            session = session_of(request)
            if session.record["ended_at"] is not None:
                raise _Conflict(f"session {session.record['session_id']} has ended")
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
        lastn = _strict_int(request.query_params.get("lastn"), "lastn") or DEFAULT_LASTN
        if lastn < 0:
            raise BadRequest("lastn must be a positive integer")
        min_rating = _strict_float(request.query_params.get("minRating"), "minRating")
        with state.lock:
            session = session_of(request)
            session.reads += 1
            now = state.clock.peek()
            facts = _visible_facts(session, now, min_rating)
            summary = _visible_summary(session, now)
            return JSONResponse(
                {
                    "context": _visible_context(session, now),
                    "facts": [f["fact"] for f in facts],
                    "relevant_facts": facts,
                    "messages": [
                        _message_json(m, now, session.reads) for m in session.messages[-lastn:]
                    ],
                    "summary": summary,
                    "metadata": {},
                }
            )

    async def delete_memory(request: Request) -> Response:
        with state.lock:
            session = session_of(request)
            del zep.sessions[session.record["session_id"]]
            owner = zep.users.get(session.record["user_id"])
            if owner is not None:
                owner["session_count"] -= 1
            return JSONResponse({"message": "OK"})

    # ------------------------------------------------------------ facts

    async def session_facts(request: Request) -> Response:
        min_rating = _strict_float(request.query_params.get("minRating"), "minRating")
        with state.lock:
            session = session_of(request)
            return JSONResponse({"facts": _visible_facts(session, state.clock.peek(), min_rating)})

    async def add_session_facts(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        facts = body.get("facts")
        if not isinstance(facts, list) or not facts:
            raise BadRequest('facts must be a non-empty list of {"fact": "..."}')
        texts = []
        for item in facts:
            if not isinstance(item, dict) or not isinstance(item.get("fact"), str):
                raise BadRequest('each fact must be an object with a string "fact"')
            texts.append(item["fact"])
        with state.lock:
            session = session_of(request)
            if session.record["ended_at"] is not None:
                raise _Conflict(f"session {session.record['session_id']} has ended")
            for text in texts:
                session.facts.append(Stamped(_fact_payload(state, text), Readiness()))
            return JSONResponse({"message": "OK"})

    def fact_lookup(request: Request) -> tuple[ZepSession, Stamped]:
        wanted = request.path_params["fact_uuid"]
        for session in zep.sessions.values():
            for fact in session.facts:
                if fact.payload["uuid"] == wanted:
                    return session, fact
        raise _Missing

    async def get_fact(request: Request) -> Response:
        with state.lock:
            _, fact = fact_lookup(request)
            return JSONResponse({"fact": fact.payload})

    async def delete_fact(request: Request) -> Response:
        with state.lock:
            session, fact = fact_lookup(request)
            session.facts.remove(fact)
            return JSONResponse({"message": "OK"})

    # ------------------------------------------------------------ model-backed stand-ins

    async def search(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        query = _SearchQuery.of(request, body)
        with state.lock:
            session = session_of(request)
            if answer := canned("search", session.record["session_id"]):
                return answer
            hits = _search_one(session, query, state.clock.peek())
            results = []
            for score, kind, payload in query.ranked(hits):
                if kind == "fact":
                    results.append(
                        {
                            "score": score,
                            "metadata": {"fact_uuid": payload["uuid"], "fact": payload["content"]},
                        }
                    )
                else:
                    results.append({"score": score, kind: payload, "metadata": {}})
            return JSONResponse(results)

    async def search_sessions(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        query = _SearchQuery.of(request, body)
        ids = body.get("session_ids")
        user_id = optional_str(body, "user_id")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise BadRequest("session_ids must be a list of session ids")
        with state.lock:
            if answer := canned("search_sessions", None):
                return answer
            now = state.clock.peek()
            hits: list[tuple[float, str, dict[str, Any], str]] = []
            for session_id, session in zep.sessions.items():
                if ids is not None and session_id not in ids:
                    continue
                if user_id is not None and session.record["user_id"] != user_id:
                    continue
                hits.extend(
                    (score, kind, payload, session_id)
                    for score, kind, payload in _search_one(session, query, now)
                )
            return JSONResponse(
                {
                    "results": [
                        {"score": score, kind: payload, "session_id": session_id}
                        for score, kind, payload, session_id in query.ranked(hits)
                    ]
                }
            )

    async def summaries(request: Request) -> Response:
        with state.lock:
            session = session_of(request)
            if answer := canned("get_summaries", session.record["session_id"]):
                return answer
            summary = _visible_summary(session, state.clock.peek())
            found = [summary] if summary is not None else []
            return JSONResponse(
                {"summaries": found, "row_count": len(found), "total_count": len(found)}
            )

    async def synthesize_question(request: Request) -> Response:
        last_n = (
            _strict_int(request.query_params.get("lastNMessages"), "lastNMessages")
            or DEFAULT_QUESTION_WINDOW
        )
        with state.lock:
            session = session_of(request)
            if answer := canned("synthesize_question", session.record["session_id"]):
                return answer
            window = [m.payload for m in session.messages[-last_n:]]
            users = [m for m in window if m["role_type"] == "user"]
            chosen = (users or window)[-1:] if window else []
            return JSONResponse({"question": chosen[0]["content"] if chosen else ""})

    async def classify(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        with state.lock:
            session = session_of(request)
            if answer := canned("classify_session", session.record["session_id"]):
                return answer
            return JSONResponse(_classify(state, session, body))

    async def extract(request: Request) -> Response:
        body = _require_object(await read_json(request), "body")
        last_n = body.get("last_n")
        if not isinstance(last_n, int) or isinstance(last_n, bool) or last_n < 1:
            raise BadRequest("last_n must be a positive integer")
        fields = _schema_fields(body.get("model_schema"))
        with state.lock:
            session = session_of(request)
            if answer := canned("extract_data", session.record["session_id"]):
                return answer
            texts = [m.payload["content"] for m in session.messages[-last_n:]]
            return JSONResponse(_extract(fields, texts))

    one = "/sessions/{session_id}"
    table: list[tuple[str, str, Handler]] = [
        ("POST", "/users", add_user),
        ("GET", "/users-ordered", list_users),
        ("GET", "/users/{user_id}", get_user),
        ("PATCH", "/users/{user_id}", update_user),
        ("DELETE", "/users/{user_id}", delete_user),
        ("GET", "/users/{user_id}/sessions", user_sessions),
        ("GET", "/users/{user_id}/facts", user_facts),
        ("GET", "/users/{user_id}/node", user_node),
        ("POST", "/sessions", add_session),
        ("GET", "/sessions-ordered", list_sessions),
        ("POST", "/sessions/search", search_sessions),
        ("POST", "/sessions/end", end_sessions),
        ("GET", one, get_session),
        ("PATCH", one, update_session),
        ("GET", one + "/messages", get_messages),
        ("GET", one + "/messages/{message_uuid}", get_message),
        ("PATCH", one + "/messages/{message_uuid}", update_message),
        ("POST", one + "/memory", add_memory),
        ("GET", one + "/memory", get_memory),
        ("DELETE", one + "/memory", delete_memory),
        ("GET", one + "/facts", session_facts),
        ("POST", one + "/facts", add_session_facts),
        ("GET", "/facts/{fact_uuid}", get_fact),
        ("DELETE", "/facts/{fact_uuid}", delete_fact),
        ("POST", one + "/search", search),
        ("GET", one + "/summary", summaries),
        ("GET", one + "/synthesize_question", synthesize_question),
        ("POST", one + "/classify", classify),
        ("POST", one + "/extract", extract),
        ("POST", one + "/end", end_session),
    ]
    return guarded_routes(guarded, table)


class _Missing(Exception):
    """The session, user, message or fact in the path does not exist (404 ``not found``)."""


class _Conflict(Exception):
    """A write to an ended session (409)."""


def _page(items: list[Any], page_number: int, page_size: int | None) -> list[Any]:
    if page_size is None:
        return items if page_number == 1 else []
    start = (page_number - 1) * page_size
    return items[start : start + page_size]


def new_row(
    state: SharedState, zep: ZepState, head: dict[str, Any], tail: dict[str, Any]
) -> dict[str, Any]:
    """A user or session row as Zep keeps it: its ids, ``head``, the timestamps, ``tail``."""
    now = isoformat_z(state.clock.now())
    return {
        "uuid": state.ids.uuid4(),
        "id": zep.row_id(),
        **head,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        **tail,
    }


def new_session_row(
    state: SharedState, zep: ZepState, session_id: str, user_id: str, metadata: Any
) -> dict[str, Any]:
    """A session's row (a v3 thread's too: the same object)."""
    head = {"session_id": session_id, "user_id": user_id}
    return new_row(state, zep, head, {"ended_at": None, "metadata": metadata})


def _updated(
    state: SharedState,
    record: dict[str, Any],
    metadata: dict[str, Any] | None,
    rating: dict[str, Any] | None,
) -> dict[str, Any]:
    """``record`` with ``metadata`` merged in and ``rating`` set (either may be absent)."""
    if metadata is not None:
        record["metadata"] = {**(record.get("metadata") or {}), **metadata}
    if rating is not None:
        record["fact_rating_instruction"] = rating
    record["updated_at"] = isoformat_z(state.clock.now())
    return record


def _end(state: SharedState, session: ZepSession) -> None:
    if session.record["ended_at"] is None:
        now = isoformat_z(state.clock.now())
        session.record["ended_at"] = now
        session.record["updated_at"] = now


def _fact_payload(state: SharedState, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": state.ids.uuid4(),
        "content": text,
        "fact": text,
        "created_at": isoformat_z(state.clock.now()),
        "name": None,
        "rating": None,
        "valid_at": None,
        "invalid_at": None,
        **extra,
    }


def _visible_facts(
    session: ZepSession, now: datetime, min_rating: float | None
) -> list[dict[str, Any]]:
    return [
        f.payload
        for f in session.facts
        if f.readiness.reached(now, session.reads)
        and _meets_rating(f.payload["rating"], min_rating)
    ]


def _visible_summary(session: ZepSession, now: datetime) -> dict[str, Any] | None:
    summary = session.summary
    if summary is None or not summary.readiness.reached(now, session.reads):
        return None
    return summary.payload


def search_words(text: str) -> set[str]:
    """The distinct lower-cased words of ``text``: what every Zep search stand-in compares."""
    return set(_WORD.findall(text.lower()))


def _overlap(query: set[str], text: str) -> float:
    """The share of the query's distinct words that ``text`` contains (0..1)."""
    if not query:
        return 0.0
    return len(query & search_words(text)) / len(query)


def _search_scope(body: dict[str, Any]) -> str:
    scope = body.get("search_scope") or "messages"
    if scope not in SEARCH_SCOPES:
        raise BadRequest(f"search_scope must be one of {', '.join(SEARCH_SCOPES)}, got {scope!r}")
    return str(scope)


def _optional_number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{key} must be a number")
    try:
        return float(value)
    except OverflowError:  # an integer beyond any double
        raise BadRequest(f"{key} must be a number a double can hold") from None


@dataclass(frozen=True)
class _SearchQuery:
    """What a search call asks, as both search endpoints read it."""

    text: str
    limit: int
    scope: str
    min_score: float | None
    min_rating: float | None

    @classmethod
    def of(cls, request: Request, body: dict[str, Any]) -> _SearchQuery:
        return cls(
            text=_required_str(body, "text"),
            limit=_strict_int(request.query_params.get("limit"), "limit") or DEFAULT_SEARCH_LIMIT,
            scope=_search_scope(body),
            min_score=_optional_number(body, "min_score"),
            min_rating=_optional_number(body, "min_fact_rating"),
        )

    def ranked(self, hits: list[HitT]) -> list[HitT]:
        """The best ``limit`` hits reaching ``min_score``, best first."""
        # sorted() is stable: equal scores keep the order the items were written in.
        kept = [h for h in hits if self.min_score is None or h[0] >= self.min_score]
        return sorted(kept, key=lambda h: -h[0])[: self.limit]


def _search_one(
    session: ZepSession, search: _SearchQuery, now: datetime
) -> list[tuple[float, str, dict[str, Any]]]:
    """``(score, kind, payload)`` for every item in scope sharing a word with the query."""
    query, scope, min_rating = search_words(search.text), search.scope, search.min_rating
    hits: list[tuple[float, str, dict[str, Any]]] = []
    if scope == "messages":
        for message in session.messages:
            hits.append(
                (
                    _overlap(query, message.payload["content"]),
                    "message",
                    {**message.payload, "processed": message.readiness.reached(now, session.reads)},
                )
            )
    elif scope == "facts":
        for fact in _visible_facts(session, now, min_rating):
            hits.append((_overlap(query, fact["content"]), "fact", fact))
    else:
        summary = _visible_summary(session, now)
        if summary is not None:
            hits.append((_overlap(query, summary["content"]), "summary", summary))
    return [hit for hit in hits if hit[0] > 0]


def _classify(state: SharedState, session: ZepSession, body: dict[str, Any]) -> dict[str, Any]:
    classes = body.get("classes")
    name = body.get("name")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise BadRequest("classes must be a non-empty list of strings")
    if not isinstance(name, str) or not name:
        raise BadRequest("name is required")
    last_n = body.get("last_n")
    if last_n is not None and (not isinstance(last_n, int) or last_n < 1):
        raise BadRequest("last_n must be a positive integer")
    window = session.messages[-last_n:] if last_n else session.messages
    words = search_words(" ".join(m.payload["content"] for m in window))
    # The class sharing the most words with the conversation; ties go to the first listed.
    best = max(classes, key=lambda c: len(search_words(c) & words))
    if body.get("persist", True) is not False:
        session.record.setdefault("classifications", {})[name] = best
        session.record["updated_at"] = isoformat_z(state.clock.now())
    return {"class": best, "label": name}


def _schema_fields(raw: Any) -> list[str]:
    if not isinstance(raw, str):
        raise BadRequest("model_schema must be a JSON schema, as a string")
    try:
        schema = standard_json(raw)
    except NotJSON as exc:
        raise BadRequest(f"model_schema is not valid JSON: {exc.detail}") from None
    except UnservableBody as exc:
        raise BadRequest(f"model_schema: the schema's {exc}") from None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        raise BadRequest('model_schema must be a JSON schema object with "properties"')
    return [str(name) for name in properties]


def _extract(fields: list[str], texts: list[str]) -> dict[str, str]:
    """``{field: value}`` for every field a message states as ``<field> is|:|= <value>``."""
    found: dict[str, str] = {}
    for field_name in fields:
        words = r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s_-]+", field_name) if w)
        pattern = re.compile(rf"\b{words}\s*(?:is|are|was|:|=)\s*([^.,;!?\n]+)", re.I)
        for text in reversed(texts):  # the newest statement wins
            match = pattern.search(text)
            if match:
                found[field_name] = match.group(1).strip()
                break
    return found


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
    if not _ASCII_INT.fullmatch(raw):
        raise BadRequest(f"{name} must be an integer, got {raw!r}")
    return int(raw)


def _strict_float(raw: str | None, name: str) -> float | None:
    if raw is None or raw == "":
        return None
    if not _ASCII_FLOAT.fullmatch(raw):
        raise BadRequest(f"{name} must be a number, got {raw!r}")
    return float(raw)


def _strict_bool(raw: str | None, name: str) -> bool:
    if raw is None or raw == "":
        return False
    if raw.lower() not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, got {raw!r}")
    return raw.lower() == "true"


# ---------------------------------------------------------------- control API


class SeedFields(StrictBody):
    """What a seeded fact (v2) or edge (threads) may say besides its text."""

    name: str | None = None
    rating: float | None = None
    valid_at: str | None = None
    invalid_at: str | None = None


class FactSeed(SeedFields):
    content: str


class FactsBody(StrictBody):
    facts: list[str | FactSeed] = Field(min_length=1)


class ContextBody(StrictBody):
    context: str


class SummaryBody(StrictBody):
    summary: str


class AnswerBody(StrictBody):
    method: str
    session_id: str | None = None
    user_id: str | None = None
    response: Any


class ProcessingBody(StrictBody):
    after_reads: int | None = Field(default=None, ge=0)
    after_seconds: float | None = Field(default=None, ge=0, le=MAX_DELAY_SECONDS)


def control_routes(state: SharedState, zep: ZepState) -> list[BaseRoute]:
    """Seeding endpoints, mounted under ``/_emulator/zep``.

    ``POST /sessions/{id}/facts {"facts": ["text" | {"content", "name"?, "rating"?, ...}]}``
    ``POST /sessions/{id}/context {"context": "..."}``, ``POST /sessions/{id}/summary
    {"summary": "..."}`` (each replaces / appends what ``GET /memory`` shows), and
    ``POST /processing {"after_reads": N, "after_seconds": S}`` (either, both, or ``{}`` for
    "processed at once").
    """

    def find(session_id: str) -> ZepSession:
        return must_exist(
            zep.sessions.get(session_id),
            f"zep session {session_id!r} does not exist; create it first with "
            "POST /zep/api/v2/sessions",
        )

    @control_endpoint(FactsBody, "zep facts")
    async def add_facts(request: Request, body: FactsBody) -> Response:
        with state.lock:
            session = find(request.path_params["ref"])
            readiness = zep.processing.stamp(state.clock.peek(), session.reads)
            created: list[dict[str, Any]] = []
            for seed in body.facts:
                fact = seed if isinstance(seed, FactSeed) else FactSeed(content=seed)
                payload = _fact_payload(state, fact.content, **fact.model_dump(exclude={"content"}))
                session.facts.append(Stamped(payload, readiness))
                created.append(payload)
            return JSONResponse({"facts": created}, status_code=201)

    @control_endpoint(ProcessingBody, "zep processing")
    async def set_processing(request: Request, body: ProcessingBody) -> Response:
        with state.lock:
            zep.processing = ProcessingPolicy(body.after_reads, body.after_seconds)
        return JSONResponse(body.model_dump())

    @control_endpoint(AnswerBody, "zep answers")
    async def seed_answer(request: Request, body: AnswerBody) -> Response:
        if body.method not in MODEL_METHODS:
            raise ControlError(
                f"zep answers: method {body.method!r} has no model behind it; "
                f"seed one of {', '.join(MODEL_METHODS)}"
            )
        key = body.user_id if body.method == "get_node" else body.session_id
        if body.method == "search_sessions":
            key = None
        elif key is None:
            needed = "user_id" if body.method == "get_node" else "session_id"
            raise ControlError(f"zep answers: {body.method} needs {needed}")
        with state.lock:
            zep.answers[(body.method, key)] = body.response
        return JSONResponse({"method": body.method, "key": key}, status_code=201)

    async def clear_answers(request: Request) -> Response:
        with state.lock:
            count = len(zep.answers)
            zep.answers.clear()
        return JSONResponse({"cleared": count})

    return [
        Route("/answers", seed_answer, methods=["POST"]),
        Route("/answers", clear_answers, methods=["DELETE"]),
        Route("/sessions/{ref}/facts", add_facts, methods=["POST"]),
        *seeding_routes(state, zep, "/sessions/{ref}", find, answer_payload=True),
        Route("/processing", set_processing, methods=["POST"]),
    ]


def seeding_routes(
    state: SharedState,
    zep: ZepState,
    path: str,
    find: Callable[[str], ZepSession],
    *,
    answer_payload: bool,
) -> list[BaseRoute]:
    """``POST <path>/context`` and ``<path>/summary``: what a session (or thread) will answer.

    ``find`` resolves the ``{ref}`` in ``path`` (raising :class:`ControlError`); both are stamped
    with the processing policy, counted in reads of that session. The summary call answers the
    stored summary (``answer_payload``) or the text it was given.
    """

    @control_endpoint(ContextBody, "zep context")
    async def set_context(request: Request, body: ContextBody) -> Response:
        with state.lock:
            session = find(request.path_params["ref"])
            readiness = zep.processing.stamp(state.clock.peek(), session.reads)
            session.context = Stamped({"context": body.context}, readiness)
            return JSONResponse({"context": body.context})

    @control_endpoint(SummaryBody, "zep summary")
    async def set_summary(request: Request, body: SummaryBody) -> Response:
        with state.lock:
            session = find(request.path_params["ref"])
            readiness = zep.processing.stamp(state.clock.peek(), session.reads)
            payload = {
                "uuid": state.ids.uuid4(),
                "content": body.summary,
                "created_at": isoformat_z(state.clock.now()),
                "metadata": {},
                "related_message_uuids": [m.payload["uuid"] for m in session.messages],
                "token_count": 0,
            }
            session.summary = Stamped(payload, readiness)
            return JSONResponse({"summary": payload if answer_payload else body.summary})

    return [
        Route(path + "/context", set_context, methods=["POST"]),
        Route(path + "/summary", set_summary, methods=["POST"]),
    ]
