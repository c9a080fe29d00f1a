"""Zep as zep-cloud 4.x speaks it, on ``/zep/api/v4``.

Every id in a path is a UUID, anything else is ``400 invalid_identifier``. v4 reaches every
thread by its ``uuid`` (threads made through v2/v3 too), and ``POST /threads/lookup`` resolves a
v3 id. Routes::

    POST   /users  POST /users/list  POST /users/lookup  GET|PATCH|DELETE /users/{uuid}
    GET    /users/{uuid}/node  GET|PUT /users/{uuid}/summary-instructions
    POST   /threads  GET /threads  POST /threads/lookup  GET|DELETE /threads/{uuid}
    GET|POST /threads/{uuid}/messages  GET|PATCH /threads/{uuid}/messages/{m}
    GET    /threads/{uuid}/context  /summary  /episodes
    POST   /graphs/{g}/episodes  /graphs/{g}/edges/list  /graphs/{g}/search/edges
    POST   /graphs/{g}/context
    GET    /tasks/{uuid}   POST /lookup

v4 pages are ``{"items", "next_cursor", "total_size"}`` with an opaque cursor; ``next_cursor`` is
present only when more items follow, so no empty page ever carries one. ``page_size`` defaults to
50 (Zep's documented default) and may be at most 1000; ``order`` defaults to ``asc``. Creates
answer 201, ``add_messages`` and deletes 202 with a task (deletes take effect at once and their
task has succeeded). Errors are ``{"error": {"code", "message", "param"?}}``.

Processing and the stand-ins for what Zep does with a model are as on v3 (:mod:`.routes_v3`);
search ranks edges by how many query words they share, ``relevance`` = shared / query words (a
seeded rating is the edge's ``score``).
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from .._http import BadRequest, guard, guarded_routes, optional_str, read_json
from .._routing import ProviderRouter
from ..core import SharedState, isoformat_z
from .routes_v2 import Handler, Row, unauthorized
from .rules import (
    V4_MESSAGES,
    V4Error,
    check_legacy_id,
    cursor_page,
    is_instruction_list,
    merge_metadata,
    object_body,
    ordered,
    store_batch,
    thread_messages,
    visible_edges,
)
from .standins import facts_block, ranked_edges, read_context, thread_context
from .store import (
    Graph,
    Stamped,
    Zep,
    ZepSession,
    ZepStore,
    all_threads,
    all_users,
    graph_by_uuid,
    graph_of,
    new_episode,
    new_row,
    new_task,
    note_read,
    owner,
    thread_by_uuid,
    user_by_uuid,
)
from .views import (
    USER_FIELDS,
    graph_episode,
    v4_episode,
    v4_error,
    v4_message,
    v4_summary,
    v4_task,
    v4_thread,
    v4_user,
)

__all__ = ["router", "routes"]

T = TypeVar("T")


def _answer(exc: V4Error) -> JSONResponse:
    return JSONResponse(v4_error(exc.code, exc.message, exc.param), status_code=exc.status)


def router(shared: SharedState, store: ZepStore) -> ProviderRouter:
    """The ``/api/v4`` service; every miss answers in v4's error envelope."""

    def not_found(request: Request) -> Response:
        return _answer(V4Error(404, "not_found", f"no route {request.method} {request.url.path}"))

    def not_allowed(request: Request) -> Response:
        message = f"{request.method} is not allowed on {request.url.path}"
        return _answer(V4Error(405, "method_not_allowed", message))

    return ProviderRouter(
        routes(shared, store), not_found=not_found, method_not_allowed=not_allowed
    )


def routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """The routes of zep-cloud 4.x, mounted on ``/zep/api/v4``."""

    def denied(request: Request) -> Response | None:
        if unauthorized(shared, request) is None:
            return None
        return _answer(V4Error(401, "unauthorized", "missing or invalid API key"))

    guarded = guard(
        denied,
        {
            BadRequest: lambda exc: _answer(V4Error(400, "bad_request", str(exc))),
            V4Error: _answer,
        },
        lock=shared.lock,
    )
    zep = Zep(shared, store)
    return guarded_routes(guarded, [(m, p, partial(h, zep)) for m, p, h in _ROUTES])


def _uuid_param(request: Request, name: str) -> str:
    value = str(request.path_params[name])
    try:
        parsed = uuid_module.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value.lower():
        raise V4Error(
            400,
            "invalid_identifier",
            f"{name} must be a UUID, got {value!r}",
            name,
        )
    return value.lower()


def _thread(zep: Zep, request: Request) -> ZepSession:
    thread_uuid = _uuid_param(request, "thread_uuid")
    session = thread_by_uuid(zep.store, thread_uuid)
    if session is None:
        raise V4Error(404, "not_found", f"thread {thread_uuid} not found", "thread_uuid")
    return session


def _user(zep: Zep, request: Request) -> dict[str, Any]:
    user_uuid = _uuid_param(request, "user_uuid")
    found = user_by_uuid(zep.store, user_uuid)
    if found is None:
        raise V4Error(404, "not_found", f"user {user_uuid} not found", "user_uuid")
    return found


def _lookup(
    kind: str,
    resolve: Callable[[Zep, str, str], T | None],
    view: Callable[[Zep, T], dict[str, Any]],
) -> Handler:
    """``POST /<kind>s/lookup``: what ``resolve(zep, key, legacy id)`` finds for the id given."""

    async def handler(zep: Zep, request: Request) -> Response:
        body = object_body(await read_json(request))
        ids = ("user_id", "thread_id", "graph_id")
        given = {k: optional_str(body, k) for k in ids if body.get(k)}
        if len(given) != 1:
            raise V4Error(400, "bad_request", "give exactly one of user_id, thread_id and graph_id")
        key, value = next(iter(given.items()))
        if key == "graph_id":
            raise V4Error(404, "not_found", f"no graph with graph_id {value!r}", key)
        found = resolve(zep, key, value or "")
        if found is None:
            raise V4Error(404, "not_found", f"no {kind} found for {key} {value!r}", key)
        return JSONResponse(view(zep, found))

    return handler


# ---------------------------------------------------------------- users


async def create_user(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    user_id = optional_str(body, "user_id")
    fields = {k: body.get(k) for k in USER_FIELDS}
    if user_id is not None:
        check_legacy_id(user_id, "user_id")
        if user_id in zep.store.users:
            raise V4Error(409, "conflict", f"a user with user_id {user_id!r} exists", "user_id")
    record = new_row(zep, {"user_id": user_id, **fields}, {"session_count": 0})
    if user_id is not None:
        zep.store.users[user_id] = record
    else:
        zep.store.threads.users[record["uuid"]] = record
    return JSONResponse(v4_user(zep, record), status_code=201)


async def list_users(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    search = (optional_str(body, "search") or "").lower()
    users = [v4_user(zep, u) for u in all_users(zep.store)]
    if search:
        users = [
            u
            for u in users
            if any(
                search in str(u.get(k) or "").lower()
                for k in ("user_id", "email", "first_name", "last_name")
            )
        ]
    listed = ordered(request.query_params, users, ("created_at", "user_id", "email", "uuid"))
    return JSONResponse(cursor_page(request.query_params, listed))


def _user_for(zep: Zep, key: str, value: str) -> dict[str, Any] | None:
    if key == "user_id":
        return zep.store.users.get(value)
    session = zep.store.sessions.get(value)
    return owner(zep.store, session) if session is not None else None


async def get_user(zep: Zep, request: Request) -> Response:
    return JSONResponse(v4_user(zep, _user(zep, request)))


async def update_user(zep: Zep, request: Request) -> Response:
    found = _user(zep, request)
    body = object_body(await read_json(request))
    for key in USER_FIELDS:
        if key in body and body[key] is not None:
            found[key] = body[key]
    found["updated_at"] = isoformat_z(zep.clock.now())
    return JSONResponse(v4_user(zep, found))


async def delete_user(zep: Zep, request: Request) -> Response:
    found = _user(zep, request)
    threads = zep.store.threads
    if found.get("user_id"):
        zep.store.users.pop(found["user_id"], None)
    threads.users.pop(found["uuid"], None)
    threads.graphs.pop(found["uuid"], None)
    for key, session in list(zep.store.sessions.items()):
        if session.record.get("user_id") == found.get("user_id"):
            del zep.store.sessions[key]
    for key, session in list(threads.v4.items()):
        if session.record.get("user_uuid") == found["uuid"]:
            del threads.v4[key]
    task = new_task(zep, "delete_user", [])
    return JSONResponse({"task": v4_task(zep, task)}, status_code=202)


async def user_node(zep: Zep, request: Request) -> Response:
    found = _user(zep, request)
    graph = graph_of(zep, found)
    name = " ".join(p for p in (found.get("first_name"), found.get("last_name")) if p)
    return JSONResponse(
        {
            "uuid": graph.user_uuid,
            "name": name or found.get("user_id") or found["uuid"],
            "labels": ["User"],
            "graph_uuid": graph.uuid,
            "user_uuid": found["uuid"],
            "created_at": found.get("created_at"),
            "episode_uuids": [],
            "episode_uuids_truncated": False,
        }
    )


async def get_instructions(zep: Zep, request: Request) -> Response:
    found = _user(zep, request)
    own = zep.store.threads.summary_instructions.get(found["uuid"])
    return JSONResponse({"inherited": own is None, "instructions": own or []})


async def set_instructions(zep: Zep, request: Request) -> Response:
    found = _user(zep, request)
    body = object_body(await read_json(request))
    if body.get("inherited") is True:
        zep.store.threads.summary_instructions.pop(found["uuid"], None)
        return JSONResponse({"inherited": True, "instructions": []})
    instructions = body.get("instructions")
    if not is_instruction_list(instructions):
        raise BadRequest("instructions must be a list of {name, text} objects")
    zep.store.threads.summary_instructions[found["uuid"]] = instructions
    return JSONResponse({"inherited": False, "instructions": instructions})


# ---------------------------------------------------------------- threads


async def create_thread(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    user_uuid = optional_str(body, "user_uuid")
    if not user_uuid:
        raise V4Error(400, "bad_request", "user_uuid is required", "user_uuid")
    user = user_by_uuid(zep.store, user_uuid)
    if user is None:
        raise V4Error(404, "not_found", f"user {user_uuid} not found", "user_uuid")
    now = isoformat_z(zep.clock.now())
    record: dict[str, Any] = {
        "uuid": zep.ids.uuid4(),
        "id": zep.store.row_id(),
        "session_id": None,
        "user_id": user.get("user_id"),
        "user_uuid": user["uuid"],
        "created_at": now,
        "updated_at": now,
    }
    session = ZepSession(record=record)
    zep.store.threads.v4[record["uuid"]] = session
    return JSONResponse(v4_thread(zep, session), status_code=201)


async def list_threads(zep: Zep, request: Request) -> Response:
    user_uuid = request.query_params.get("user_uuid")
    views = [v4_thread(zep, s) for s in all_threads(zep.store)]
    if user_uuid:
        views = [v for v in views if v.get("user_uuid") == user_uuid]
    listed = ordered(request.query_params, views, ("created_at", "updated_at", "uuid"))
    return JSONResponse(cursor_page(request.query_params, listed))


def _thread_for(zep: Zep, key: str, value: str) -> ZepSession | None:
    if key == "thread_id":
        return zep.store.sessions.get(value)
    if value not in zep.store.users:
        return None
    # Which thread Zep answers for a user id is not documented: the newest.
    owned = [s for s in all_threads(zep.store) if s.record.get("user_id") == value]
    return owned[-1] if owned else None


async def get_thread(zep: Zep, request: Request) -> Response:
    return JSONResponse(v4_thread(zep, _thread(zep, request)))


async def delete_thread(zep: Zep, request: Request) -> Response:
    session = _thread(zep, request)
    zep.store.threads.v4.pop(session.record["uuid"], None)
    legacy = session.record.get("session_id")
    if legacy:
        zep.store.sessions.pop(legacy, None)
    task = new_task(zep, "delete_thread", [])
    return JSONResponse({"task": v4_task(zep, task)}, status_code=202)


async def list_messages(zep: Zep, request: Request) -> Response:
    session = _thread(zep, request)
    note_read(zep, session)
    views = [v4_message(zep, m, session) for m in session.messages]
    listed = ordered(request.query_params, views, ("created_at",))
    return JSONResponse(cursor_page(request.query_params, listed))


async def add_messages(zep: Zep, request: Request) -> Response:
    session = _thread(zep, request)
    body = await read_json(request)
    messages = thread_messages(body, V4_MESSAGES)
    stored, task = store_batch(zep, session, messages, V4_MESSAGES)
    out: dict[str, Any] = {
        "messages": [v4_message(zep, m, session) for m in stored],
        "task": v4_task(zep, task),
    }
    if body.get("return_context") is True:
        out["context"] = thread_context(zep, session)
    return JSONResponse(out, status_code=202)


def _message(zep: Zep, request: Request) -> tuple[ZepSession, Stamped]:
    session = _thread(zep, request)
    message_uuid = _uuid_param(request, "message_uuid")
    for item in session.messages:
        if item.payload["uuid"] == message_uuid:
            return session, item
    raise V4Error(404, "not_found", f"message {message_uuid} not found", "message_uuid")


async def get_message(zep: Zep, request: Request) -> Response:
    session, item = _message(zep, request)
    return JSONResponse(v4_message(zep, item, session))


async def update_message(zep: Zep, request: Request) -> Response:
    session, item = _message(zep, request)
    body = object_body(await read_json(request))
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise BadRequest("metadata must be an object")
        merge_metadata(item, metadata)
    return JSONResponse(v4_message(zep, item, session))


async def get_context(zep: Zep, request: Request) -> Response:
    return JSONResponse(read_context(zep, _thread(zep, request)))


async def get_summary(zep: Zep, request: Request) -> Response:
    summary = v4_summary(zep, _thread(zep, request))
    if summary is None:
        raise V4Error(404, "not_found", "no summary exists for this thread yet")
    return JSONResponse(summary)


async def list_episodes(zep: Zep, request: Request) -> Response:
    session = _thread(zep, request)
    episodes = [v4_episode(zep, m, session) for m in session.messages]
    return JSONResponse(cursor_page(request.query_params, episodes, total=False))


# ---------------------------------------------------------------- graphs, tasks, lookup


def _graph(zep: Zep, request: Request) -> Graph:
    graph_uuid = _uuid_param(request, "graph_uuid")
    found = graph_by_uuid(zep, graph_uuid)
    if found is None:
        raise V4Error(404, "not_found", f"graph {graph_uuid} not found", "graph_uuid")
    return found


def _query_of(body: dict[str, Any]) -> str:
    query = optional_str(body, "query")
    if not query:
        raise V4Error(400, "bad_request", "query is required", "query")
    return query


async def add_episode(zep: Zep, request: Request) -> Response:
    found = _graph(zep, request)
    body = object_body(await read_json(request))
    data = optional_str(body, "data")
    kind = body.get("type") or "text"
    if not data:
        raise V4Error(400, "bad_request", "data is required", "data")
    if kind not in ("text", "json", "message"):
        raise V4Error(400, "bad_request", "type must be text, json or message", "type")
    item = new_episode(zep, found, data, kind, body)
    task = new_task(zep, "add_episode", [(item.readiness, lambda: found.reads)])
    return JSONResponse(
        {"episode": graph_episode(zep, found, item), "task": v4_task(zep, task)},
        status_code=202,
    )


async def list_edges(zep: Zep, request: Request) -> Response:
    found = _graph(zep, request)
    found.reads += 1
    edges = ordered(request.query_params, visible_edges(zep, found), ("created_at", "uuid"))
    return JSONResponse(cursor_page(request.query_params, edges))


async def search_edges(zep: Zep, request: Request) -> Response:
    found = _graph(zep, request)
    query = _query_of(object_body(await read_json(request)))
    found.reads += 1
    edges = ranked_edges(zep, found, query)
    return JSONResponse(cursor_page(request.query_params, edges, total=False))


async def graph_context(zep: Zep, request: Request) -> Response:
    found = _graph(zep, request)
    body = object_body(await read_json(request))
    query = _query_of(body)
    found.reads += 1
    edges = ranked_edges(zep, found, query)
    out: dict[str, Any] = {"context": facts_block(edges), "truncated": False}
    if body.get("include_results") is True:
        out["results"] = {"edges": edges}
    return JSONResponse(out)


async def get_task(zep: Zep, request: Request) -> Response:
    task_uuid = _uuid_param(request, "task_uuid")
    task = zep.store.threads.tasks.get(task_uuid)
    if task is None:
        raise V4Error(404, "not_found", f"task {task_uuid} not found", "task_uuid")
    return JSONResponse(v4_task(zep, task))


async def lookup_batch(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    items: list[dict[str, Any]] = []
    for kind, ids in (
        ("user", body.get("users")),
        ("thread", body.get("threads")),
        ("graph", body.get("graphs")),
    ):
        if ids is None:
            continue
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest(f"{kind}s must be a list of strings")
        for legacy in ids:
            uuid_ = None
            if kind == "user" and legacy in zep.store.users:
                uuid_ = zep.store.users[legacy]["uuid"]
            elif kind == "thread" and legacy in zep.store.sessions:
                uuid_ = zep.store.sessions[legacy].record["uuid"]
            item: dict[str, Any] = {
                "legacy_id": legacy,
                "resource_type": kind,
                "found": uuid_ is not None,
            }
            if uuid_ is not None:
                item["uuid"] = uuid_
            items.append(item)
    return JSONResponse({"items": items})


_ROUTES: list[Row] = [
    ("POST", "/users", create_user),
    ("POST", "/users/list", list_users),
    ("POST", "/users/lookup", _lookup("user", _user_for, v4_user)),
    ("GET", "/users/{user_uuid}", get_user),
    ("PATCH", "/users/{user_uuid}", update_user),
    ("DELETE", "/users/{user_uuid}", delete_user),
    ("GET", "/users/{user_uuid}/node", user_node),
    ("GET", "/users/{user_uuid}/summary-instructions", get_instructions),
    ("PUT", "/users/{user_uuid}/summary-instructions", set_instructions),
    ("POST", "/threads", create_thread),
    ("GET", "/threads", list_threads),
    ("POST", "/threads/lookup", _lookup("thread", _thread_for, v4_thread)),
    ("GET", "/threads/{thread_uuid}", get_thread),
    ("DELETE", "/threads/{thread_uuid}", delete_thread),
    ("GET", "/threads/{thread_uuid}/messages", list_messages),
    ("POST", "/threads/{thread_uuid}/messages", add_messages),
    ("GET", "/threads/{thread_uuid}/messages/{message_uuid}", get_message),
    ("PATCH", "/threads/{thread_uuid}/messages/{message_uuid}", update_message),
    ("GET", "/threads/{thread_uuid}/context", get_context),
    ("GET", "/threads/{thread_uuid}/summary", get_summary),
    ("GET", "/threads/{thread_uuid}/episodes", list_episodes),
    ("POST", "/graphs/{graph_uuid}/episodes", add_episode),
    ("POST", "/graphs/{graph_uuid}/edges/list", list_edges),
    ("POST", "/graphs/{graph_uuid}/search/edges", search_edges),
    ("POST", "/graphs/{graph_uuid}/context", graph_context),
    ("GET", "/tasks/{task_uuid}", get_task),
    ("POST", "/lookup", lookup_batch),
]
