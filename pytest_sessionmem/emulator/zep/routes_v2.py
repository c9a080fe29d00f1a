"""Zep Cloud v2 session API emulation, mounted under ``/zep/api/v2``.

Endpoints: every session-family method of zep-cloud 2.22 (the table in ``docs/emulator.md``
lists them with their answers): users (add, get, update, delete, ``/users-ordered``, a user's
sessions, facts and node), sessions (add, get, update, ``/sessions-ordered``, end, end many),
messages (page, one, update metadata), memory (add, get, delete), facts (a session's, add, one,
delete), and the model-backed ones (search, search across sessions, summaries,
synthesize_question, classify, extract), which answer deterministically -- words shared with the
query or the conversation -- unless ``POST /_emulator/zep/answers`` seeded an answer.

The users and sessions live in the one Zep store (:mod:`.store`) the thread generations serve
too; the rules are in :mod:`.rules` and :mod:`.standins`, the JSON shapes in :mod:`.views`.

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

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from .._http import BadRequest, guard, guarded_routes, optional_str, read_json
from ..core import SharedState, isoformat_z
from .rules import (
    DEFAULT_LASTN,
    DEFAULT_PAGE_LIMIT,
    DEFAULT_QUESTION_WINDOW,
    SESSION_ORDER_FIELDS,
    end,
    optional_object,
    page_by_number,
    page_numbers,
    query_int,
    require_object,
    required_str,
    session_messages,
    store_session_messages,
    strict_bool,
    strict_float,
    strict_int,
    updated,
    visible_context,
    visible_facts,
    visible_summary,
    visible_user_facts,
)
from .standins import SearchQuery, classify, extract, schema_fields, search_one
from .store import (
    Readiness,
    Stamped,
    Zep,
    ZepSession,
    ZepStore,
    fact_payload,
    new_row,
    new_session_row,
)
from .views import message_bytes, message_json, v2_node, v2_search_hit

__all__ = ["error", "routes", "unauthorized"]

Handler = Callable[[Zep, Request], Awaitable[Response]]
Row = tuple[str, str, Handler]
_ONE = "/sessions/{session_id}"


def error(status: int, message: str) -> JSONResponse:
    """Zep's error envelope on the ``/api/v2`` service (v2 sessions and v3 threads)."""
    return JSONResponse({"message": message}, status_code=status)


def unauthorized(state: SharedState, request: Request) -> Response | None:
    """Zep's 401 for a request without the right key; None when the key is right or off."""
    key = state.api_keys.get("zep")
    if key is None or request.headers.get("authorization") == f"Api-Key {key}":
        return None
    # Zep's open-source server writes a plain-text "unauthorized"; the emulator keeps to the
    # JSON envelope every other Zep error uses, so SDKs and clients can always parse it.
    return error(401, "unauthorized")


class _Missing(Exception):
    """The session, user, message or fact in the path does not exist (404 ``not found``)."""


class _Conflict(Exception):
    """A write to an ended session (409)."""


def _session(zep: Zep, request: Request) -> ZepSession:
    session = zep.store.sessions.get(request.path_params["session_id"])
    if session is None:
        raise _Missing
    return session


def _user(zep: Zep, request: Request) -> dict[str, Any]:
    user = zep.store.users.get(request.path_params["user_id"])
    if user is None:
        raise _Missing
    return user


def _message(session: ZepSession, request: Request) -> Stamped:
    wanted = request.path_params["message_uuid"]
    for message in session.messages:
        if message.payload["uuid"] == wanted:
            return message
    raise _Missing


def _fact(zep: Zep, request: Request) -> tuple[ZepSession, Stamped]:
    wanted = request.path_params["fact_uuid"]
    for session in zep.store.sessions.values():
        for fact in session.facts:
            if fact.payload["uuid"] == wanted:
                return session, fact
    raise _Missing


def _canned(zep: Zep, method: str, key: str | None) -> Response | None:
    """A response seeded with ``POST /_emulator/zep/answers``, if any."""
    answers = zep.store.answers
    if (method, key) in answers:
        return JSONResponse(answers[(method, key)])
    return None


def routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """The v2 session routes, mounted on ``/zep/api/v2``."""
    guarded = guard(
        lambda request: unauthorized(shared, request),
        {
            BadRequest: lambda exc: error(400, str(exc)),
            _Missing: lambda exc: error(404, "not found"),
            _Conflict: lambda exc: error(409, str(exc)),
        },
    )
    zep = Zep(shared, store)
    return guarded_routes(guarded, [(m, p, partial(h, zep)) for m, p, h in _ROUTES])


# ---------------------------------------------------------------- users


async def add_user(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    user_id = required_str(body, "user_id")
    fields = {k: optional_str(body, k) for k in ("email", "first_name", "last_name")}
    metadata = optional_object(body, "metadata")
    rating = optional_object(body, "fact_rating_instruction")
    with zep.lock:
        if user_id in zep.store.users:
            return error(400, f"user {user_id} already exists")
        user = new_row(
            zep, {"user_id": user_id, **fields, "metadata": metadata}, {"session_count": 0}
        )
        if rating is not None:
            user["fact_rating_instruction"] = rating
        zep.store.users[user_id] = user
        return JSONResponse(user)


async def get_user(zep: Zep, request: Request) -> Response:
    with zep.lock:
        return JSONResponse(_user(zep, request))


async def update_user(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request, empty={}), "body")
    changes: dict[str, Any] = {
        k: optional_str(body, k) for k in ("email", "first_name", "last_name") if k in body
    }
    metadata = optional_object(body, "metadata")
    rating = optional_object(body, "fact_rating_instruction")
    with zep.lock:
        user = _user(zep, request)
        user.update({k: v for k, v in changes.items() if v is not None})
        return JSONResponse(updated(zep, user, metadata, rating))


async def delete_user(zep: Zep, request: Request) -> Response:
    with zep.lock:
        user = _user(zep, request)
        del zep.store.users[user["user_id"]]
        for session_id in [
            sid for sid, s in zep.store.sessions.items() if s.record["user_id"] == user["user_id"]
        ]:
            del zep.store.sessions[session_id]
        return JSONResponse({"message": "OK"})


async def list_users(zep: Zep, request: Request) -> Response:
    page_number, page_size = page_numbers(request.query_params, "pageNumber", "pageSize")
    with zep.lock:
        users = list(zep.store.users.values())
        page = page_by_number(users, page_number, page_size)
        return JSONResponse({"users": page, "total_count": len(users), "row_count": len(page)})


async def user_sessions(zep: Zep, request: Request) -> Response:
    with zep.lock:
        user = _user(zep, request)
        return JSONResponse(
            [
                s.record
                for s in zep.store.sessions.values()
                if s.record["user_id"] == user["user_id"]
            ]
        )


async def user_facts(zep: Zep, request: Request) -> Response:
    with zep.lock:
        user = _user(zep, request)
        facts = visible_user_facts(zep.store, user["user_id"], zep.clock.peek())
        return JSONResponse({"facts": facts})


async def user_node(zep: Zep, request: Request) -> Response:
    with zep.lock:
        user = _user(zep, request)
        if answer := _canned(zep, "get_node", user["user_id"]):
            return answer
        facts = visible_user_facts(zep.store, user["user_id"], zep.clock.peek())
        return JSONResponse(v2_node(user, " ".join(fact["content"] for fact in facts)))


# ---------------------------------------------------------------- sessions


async def add_session(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    session_id = required_str(body, "session_id")
    user_id = required_str(body, "user_id")
    metadata = optional_object(body, "metadata")
    with zep.lock:
        if user_id not in zep.store.users:
            return error(400, "user not found")
        if session_id in zep.store.sessions:
            return error(400, f"session {session_id} already exists")
        record = new_session_row(zep, session_id, user_id, metadata)
        if body.get("fact_rating_instruction") is not None:
            record["fact_rating_instruction"] = body["fact_rating_instruction"]
        zep.store.sessions[session_id] = ZepSession(record=record)
        zep.store.users[user_id]["session_count"] += 1
        return JSONResponse(record, status_code=201)


async def get_session(zep: Zep, request: Request) -> Response:
    with zep.lock:
        return JSONResponse(_session(zep, request).record)


async def update_session(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    metadata = optional_object(body, "metadata")
    rating = optional_object(body, "fact_rating_instruction")
    with zep.lock:
        return JSONResponse(updated(zep, _session(zep, request).record, metadata, rating))


async def list_sessions(zep: Zep, request: Request) -> Response:
    query = request.query_params
    page_number, page_size = page_numbers(query, "page_number", "page_size")
    order_by = query.get("order_by") or "created_at"
    if order_by not in SESSION_ORDER_FIELDS:
        raise BadRequest(
            f"order_by must be one of {', '.join(SESSION_ORDER_FIELDS)}, got {order_by!r}"
        )
    ascending = strict_bool(query.get("asc"), "asc")
    with zep.lock:
        records = [s.record for s in zep.store.sessions.values()]
        # Ties (equal timestamps or user ids) keep creation order, so pages are stable.
        records.sort(key=lambda r: (r[order_by] or "", r["id"]), reverse=not ascending)
        page = page_by_number(records, page_number, page_size)
        return JSONResponse(
            {"sessions": page, "total_count": len(records), "response_count": len(page)}
        )


async def end_session(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request, empty={}), "body")
    classification = optional_object(body, "classify")
    with zep.lock:
        session = _session(zep, request)
        result: dict[str, Any] = {}
        if classification is not None:
            result["classification"] = classify(zep, session, classification)
        end(zep, session)
        result["session"] = session.record
        return JSONResponse(result)


async def end_sessions(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    ids = body.get("session_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise BadRequest("session_ids must be a non-empty list of session ids")
    with zep.lock:
        sessions = [zep.store.sessions.get(i) for i in ids]
        if any(s is None for s in sessions):
            raise _Missing
        for session in sessions:
            assert session is not None
            end(zep, session)
        return JSONResponse({"sessions": [s.record for s in sessions if s is not None]})


# ---------------------------------------------------------------- messages and memory


async def get_messages(zep: Zep, request: Request) -> Response:
    limit = query_int(request.query_params.get("limit"), default=DEFAULT_PAGE_LIMIT)
    cursor = query_int(request.query_params.get("cursor"), default=1)
    with zep.lock:
        session = _session(zep, request)
        session.reads += 1
        now = zep.clock.peek()
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
            b",".join([message_bytes(m, now, session.reads) for m in page]),
            len(session.messages),
            len(page),
        )
        return Response(body, media_type="application/json")


async def get_message(zep: Zep, request: Request) -> Response:
    with zep.lock:
        session = _session(zep, request)
        message = _message(session, request)
        return JSONResponse(message_json(message, zep.clock.peek(), session.reads))


async def update_message(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    metadata = optional_object(body, "metadata")
    if metadata is None:
        raise BadRequest("metadata is required")
    with zep.lock:
        session = _session(zep, request)
        message = _message(session, request)
        message.payload["metadata"] = {**(message.payload.get("metadata") or {}), **metadata}
        message.payload["updated_at"] = isoformat_z(zep.clock.now())
        message.rendered.clear()
        return JSONResponse(message_json(message, zep.clock.peek(), session.reads))


async def add_memory(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    messages = session_messages(body)
    with zep.lock:
        session = _session(zep, request)
        if session.record["ended_at"] is not None:
            raise _Conflict(f"session {session.record['session_id']} has ended")
        store_session_messages(zep, session, messages)
        context = None
        if body.get("return_context") is True:
            context = visible_context(session, zep.clock.peek())
        return JSONResponse({"context": context})


async def get_memory(zep: Zep, request: Request) -> Response:
    lastn = strict_int(request.query_params.get("lastn"), "lastn") or DEFAULT_LASTN
    if lastn < 0:
        raise BadRequest("lastn must be a positive integer")
    min_rating = strict_float(request.query_params.get("minRating"), "minRating")
    with zep.lock:
        session = _session(zep, request)
        session.reads += 1
        now = zep.clock.peek()
        facts = visible_facts(session, now, min_rating)
        summary = visible_summary(session, now)
        return JSONResponse(
            {
                "context": visible_context(session, now),
                "facts": [f["fact"] for f in facts],
                "relevant_facts": facts,
                "messages": [
                    message_json(m, now, session.reads) for m in session.messages[-lastn:]
                ],
                "summary": summary,
                "metadata": {},
            }
        )


async def delete_memory(zep: Zep, request: Request) -> Response:
    with zep.lock:
        session = _session(zep, request)
        del zep.store.sessions[session.record["session_id"]]
        owner = zep.store.users.get(session.record["user_id"])
        if owner is not None:
            owner["session_count"] -= 1
        return JSONResponse({"message": "OK"})


# ---------------------------------------------------------------- facts


async def session_facts(zep: Zep, request: Request) -> Response:
    min_rating = strict_float(request.query_params.get("minRating"), "minRating")
    with zep.lock:
        session = _session(zep, request)
        return JSONResponse({"facts": visible_facts(session, zep.clock.peek(), min_rating)})


async def add_session_facts(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    facts = body.get("facts")
    if not isinstance(facts, list) or not facts:
        raise BadRequest('facts must be a non-empty list of {"fact": "..."}')
    texts = []
    for item in facts:
        if not isinstance(item, dict) or not isinstance(item.get("fact"), str):
            raise BadRequest('each fact must be an object with a string "fact"')
        texts.append(item["fact"])
    with zep.lock:
        session = _session(zep, request)
        if session.record["ended_at"] is not None:
            raise _Conflict(f"session {session.record['session_id']} has ended")
        for text in texts:
            session.facts.append(Stamped(fact_payload(zep, text), Readiness()))
        return JSONResponse({"message": "OK"})


async def get_fact(zep: Zep, request: Request) -> Response:
    with zep.lock:
        _, fact = _fact(zep, request)
        return JSONResponse({"fact": fact.payload})


async def delete_fact(zep: Zep, request: Request) -> Response:
    with zep.lock:
        session, fact = _fact(zep, request)
        session.facts.remove(fact)
        return JSONResponse({"message": "OK"})


# ---------------------------------------------------------------- model-backed (or seeded)


async def search(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    query = SearchQuery.of(request.query_params, body)
    with zep.lock:
        session = _session(zep, request)
        if answer := _canned(zep, "search", session.record["session_id"]):
            return answer
        hits = search_one(session, query, zep.clock.peek())
        return JSONResponse([v2_search_hit(*hit) for hit in query.ranked(hits)])


async def search_sessions(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    query = SearchQuery.of(request.query_params, body)
    ids = body.get("session_ids")
    user_id = optional_str(body, "user_id")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise BadRequest("session_ids must be a list of session ids")
    with zep.lock:
        if answer := _canned(zep, "search_sessions", None):
            return answer
        now = zep.clock.peek()
        hits: list[tuple[float, str, dict[str, Any], str]] = []
        for session_id, session in zep.store.sessions.items():
            if ids is not None and session_id not in ids:
                continue
            if user_id is not None and session.record["user_id"] != user_id:
                continue
            hits.extend(
                (score, kind, payload, session_id)
                for score, kind, payload in search_one(session, query, now)
            )
        return JSONResponse(
            {
                "results": [
                    {"score": score, kind: payload, "session_id": session_id}
                    for score, kind, payload, session_id in query.ranked(hits)
                ]
            }
        )


async def summaries(zep: Zep, request: Request) -> Response:
    with zep.lock:
        session = _session(zep, request)
        if answer := _canned(zep, "get_summaries", session.record["session_id"]):
            return answer
        summary = visible_summary(session, zep.clock.peek())
        listed = [summary] if summary is not None else []
        return JSONResponse(
            {"summaries": listed, "row_count": len(listed), "total_count": len(listed)}
        )


async def synthesize_question(zep: Zep, request: Request) -> Response:
    last_n = (
        strict_int(request.query_params.get("lastNMessages"), "lastNMessages")
        or DEFAULT_QUESTION_WINDOW
    )
    with zep.lock:
        session = _session(zep, request)
        if answer := _canned(zep, "synthesize_question", session.record["session_id"]):
            return answer
        window = [m.payload for m in session.messages[-last_n:]]
        users = [m for m in window if m["role_type"] == "user"]
        chosen = (users or window)[-1:] if window else []
        return JSONResponse({"question": chosen[0]["content"] if chosen else ""})


async def classify_session(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    with zep.lock:
        session = _session(zep, request)
        if answer := _canned(zep, "classify_session", session.record["session_id"]):
            return answer
        return JSONResponse(classify(zep, session, body))


async def extract_data(zep: Zep, request: Request) -> Response:
    body = require_object(await read_json(request), "body")
    last_n = body.get("last_n")
    if not isinstance(last_n, int) or isinstance(last_n, bool) or last_n < 1:
        raise BadRequest("last_n must be a positive integer")
    fields = schema_fields(body.get("model_schema"))
    with zep.lock:
        session = _session(zep, request)
        if answer := _canned(zep, "extract_data", session.record["session_id"]):
            return answer
        texts = [m.payload["content"] for m in session.messages[-last_n:]]
        return JSONResponse(extract(fields, texts))


_ROUTES: list[Row] = [
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
    ("GET", _ONE, get_session),
    ("PATCH", _ONE, update_session),
    ("GET", _ONE + "/messages", get_messages),
    ("GET", _ONE + "/messages/{message_uuid}", get_message),
    ("PATCH", _ONE + "/messages/{message_uuid}", update_message),
    ("POST", _ONE + "/memory", add_memory),
    ("GET", _ONE + "/memory", get_memory),
    ("DELETE", _ONE + "/memory", delete_memory),
    ("GET", _ONE + "/facts", session_facts),
    ("POST", _ONE + "/facts", add_session_facts),
    ("GET", "/facts/{fact_uuid}", get_fact),
    ("DELETE", "/facts/{fact_uuid}", delete_fact),
    ("POST", _ONE + "/search", search),
    ("GET", _ONE + "/summary", summaries),
    ("GET", _ONE + "/synthesize_question", synthesize_question),
    ("POST", _ONE + "/classify", classify_session),
    ("POST", _ONE + "/extract", extract_data),
    ("POST", _ONE + "/end", end_session),
]
