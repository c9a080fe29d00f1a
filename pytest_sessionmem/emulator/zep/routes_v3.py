"""Zep threads as zep-cloud 3.x speaks them, on ``/zep/api/v2`` beside the v2 session routes.

A v3 thread is a v2 session (see :mod:`.store`); messages are shown in the v3 shape (``role`` =
the enum, ``name`` = the speaker). Errors are v2's ``{"message": "..."}``. Routes::

    GET    /threads                  list_all     ?page_number (1-based)&page_size&order_by&asc
    POST   /threads                  create       201 Thread; 400 for an unknown user or a taken id
    DELETE /threads/{id}             delete       200 {"message": "Thread successfully deleted."}
    GET    /threads/{id}/messages    get          ?limit&cursor (1-based page)&lastn, oldest first
    POST   /threads/{id}/messages    add_messages (and /messages-batch) 200 {message_uuids, task_id}
    GET    /threads/{id}/context     get_user_context   {"context": str}
    GET    /threads/{id}/summary     get_summary  404 until a summary exists
    GET    /threads/{id}/episodes    get_episodes one episode per message
    PATCH  /messages/{uuid}          message.update     metadata merged, full message back
    GET    /users/{id}/threads       user.get_threads   a bare JSON array
    GET    /users/{id}/warm          user.warm
    POST   /graph                    graph.add    an episode
    POST   /graph/add-fact-triple    graph.add_fact_triple   an edge
    POST   /graph/search             graph.search edges (or episodes) ranked by token overlap
    POST   /graph/edge/user/{id}     graph.edge.get_by_user_id   a bare JSON array
    GET    /graph/episodes/user/{id} graph.episode.get_by_user_id  ?lastn
    GET    /tasks/{id}               task.get
    GET|POST|DELETE /user-summary-instructions user.*_user_summary_instructions (?user_id)

Asynchronous processing follows the v2 policy (``POST /_emulator/zep/processing``): messages
report ``processed: false``, and seeded context, summary and edges stay hidden, until the thread
(edges: the user's graph) has been read ``after_reads`` times or ``after_seconds`` have passed. A
task reports ``pending`` until what it made is processed, then ``succeeded``. What Zep does with
a model is done by the stand-ins of :mod:`.standins`; episodes of a thread are its messages.
"""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from .._http import BadRequest, guard, guarded_routes, optional_str, read_json
from .._routing import ProviderRouter
from ..core import SharedState
from . import routes_v2
from .routes_v2 import Row, error
from .rules import (
    V3_DEFAULT_PAGE_SIZE,
    V3_MESSAGES,
    check_legacy_id,
    check_metadata,
    int_param,
    is_instruction_list,
    merge_metadata,
    object_body,
    store_batch,
    thread_messages,
    visible_edges,
)
from .standins import ranked_edges, read_context, search_words, thread_context
from .store import (
    Graph,
    Zep,
    ZepSession,
    ZepStore,
    all_threads,
    graph_by_uuid,
    graph_of,
    new_edge,
    new_episode,
    new_session_row,
    new_task,
    note_read,
    owner,
)
from .views import graph_episode, v3_episode, v3_message, v3_summary, v3_task, v3_thread

__all__ = ["routes", "service_router"]

T = TypeVar("T")


class _NotFound(Exception):
    """What a v3 path or body names does not exist (404 with this message)."""


def _found(found: T | None, message: str = "not found") -> T:
    if found is None:
        raise _NotFound(message)
    return found


def service_router(shared: SharedState, store: ZepStore) -> ProviderRouter:
    """The ``/api/v2`` service: v3 thread routes beside the v2 session routes."""
    return ProviderRouter(
        routes(shared, store) + routes_v2.routes(shared, store),
        not_found=lambda request: error(404, "not found"),
        method_not_allowed=lambda request: error(405, "method not allowed"),
    )


def routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """The thread routes of zep-cloud 3.x, mounted on ``/zep/api/v2`` beside the v2 routes."""
    guarded = guard(
        lambda request: routes_v2.unauthorized(shared, request),
        {
            BadRequest: lambda exc: error(400, str(exc)),
            _NotFound: lambda exc: error(404, str(exc)),
        },
        lock=shared.lock,
    )
    zep = Zep(shared, store)
    return guarded_routes(guarded, [(m, p, partial(h, zep)) for m, p, h in _ROUTES])


def _thread_of(zep: Zep, request: Request) -> ZepSession:
    return _found(zep.store.sessions.get(request.path_params["thread_id"]))


def _user_of(zep: Zep, request: Request) -> dict[str, Any]:
    return _found(zep.store.users.get(request.path_params["user_id"]))


# ---------------------------------------------------------------- threads


async def list_all(zep: Zep, request: Request) -> Response:
    q = request.query_params
    page_number = int_param(q.get("page_number"), "page_number", default=1)
    page_size = int_param(q.get("page_size"), "page_size", default=V3_DEFAULT_PAGE_SIZE)
    order_by = q.get("order_by") or "created_at"
    if order_by not in ("created_at", "updated_at", "user_id", "thread_id"):
        raise BadRequest(
            f"order_by must be created_at, updated_at, user_id or thread_id, got {order_by!r}"
        )
    key = "session_id" if order_by == "thread_id" else order_by
    sessions = sorted(
        zep.store.sessions.values(),
        key=lambda s: str(s.record.get(key) or ""),
        reverse=q.get("asc") == "false",
    )
    start = (page_number - 1) * page_size
    page = sessions[start : start + page_size]
    return JSONResponse(
        {
            "threads": [v3_thread(zep, s) for s in page],
            "response_count": len(page),
            "total_count": len(sessions),
        }
    )


async def create(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    thread_id = optional_str(body, "thread_id") or ""
    user_id = optional_str(body, "user_id") or ""
    check_legacy_id(thread_id, "thread_id")
    check_legacy_id(user_id, "user_id")
    user = zep.store.users.get(user_id)
    if user is None:
        return error(400, f"user {user_id} not found; create it first with user.add")
    if thread_id in zep.store.sessions:
        return error(400, f"thread {thread_id} already exists")
    session = ZepSession(record=new_session_row(zep, thread_id, user_id, None))
    zep.store.sessions[thread_id] = session
    user["session_count"] = user.get("session_count", 0) + 1
    return JSONResponse(v3_thread(zep, session), status_code=201)


async def delete(zep: Zep, request: Request) -> Response:
    found = _thread_of(zep, request)
    del zep.store.sessions[request.path_params["thread_id"]]
    user = zep.store.users.get(found.record.get("user_id") or "")
    if user is not None and user.get("session_count"):
        user["session_count"] -= 1
    return JSONResponse({"message": "Thread successfully deleted."})


async def get_messages(zep: Zep, request: Request) -> Response:
    session = _thread_of(zep, request)
    q = request.query_params
    lastn = int_param(q.get("lastn"), "lastn", default=0, low=0)
    limit = int_param(q.get("limit"), "limit", default=0, low=0)
    cursor = int_param(q.get("cursor"), "cursor", default=1, low=0)
    note_read(zep, session)
    if lastn:
        page = session.messages[-lastn:]
    elif limit:
        start = max(cursor - 1, 0) * limit
        page = session.messages[start : start + limit]
    else:
        page = session.messages
    user = owner(zep.store, session)
    out: dict[str, Any] = {
        "messages": [v3_message(zep, m, session) for m in page],
        "row_count": len(page),
        "total_count": len(session.messages),
        "thread_created_at": session.record.get("created_at"),
        "user_id": session.record.get("user_id"),
    }
    if user is not None:
        out["user_uuid"] = user["uuid"]
    return JSONResponse(out)


async def add_messages(zep: Zep, request: Request) -> Response:
    body = await read_json(request)
    messages = thread_messages(body, V3_MESSAGES)
    session = _thread_of(zep, request)
    stored, task = store_batch(zep, session, messages, V3_MESSAGES)
    out: dict[str, Any] = {
        "message_uuids": [m.payload["uuid"] for m in stored],
        "task_id": task.record["uuid"],
    }
    if body.get("return_context") is True:
        out["context"] = thread_context(zep, session)
    return JSONResponse(out)


async def get_context(zep: Zep, request: Request) -> Response:
    return JSONResponse(read_context(zep, _thread_of(zep, request)))


async def get_summary(zep: Zep, request: Request) -> Response:
    summary = v3_summary(zep, _thread_of(zep, request))
    return JSONResponse(_found(summary, "no summary exists for this thread yet"))


async def get_episodes(zep: Zep, request: Request) -> Response:
    found = _thread_of(zep, request)
    episodes = [v3_episode(zep, m, found) for m in found.messages]
    return JSONResponse({"episodes": episodes})


async def update_message(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    metadata = check_metadata(body.get("metadata"), "body")
    if metadata is None:
        raise BadRequest("metadata is required")
    target = request.path_params["message_uuid"]
    for session in all_threads(zep.store):
        for item in session.messages:
            if item.payload["uuid"] == target:
                merge_metadata(item, metadata)
                return JSONResponse(v3_message(zep, item, session))
    return error(404, "not found")


async def get_task(zep: Zep, request: Request) -> Response:
    task = _found(zep.store.threads.tasks.get(request.path_params["task_id"]))
    return JSONResponse(v3_task(zep, task))


# ---------------------------------------------------------------- users


async def user_threads(zep: Zep, request: Request) -> Response:
    user_id = _user_of(zep, request)["user_id"]
    return JSONResponse(
        [
            v3_thread(zep, s)
            for s in zep.store.sessions.values()
            if s.record.get("user_id") == user_id
        ]
    )


async def warm(zep: Zep, request: Request) -> Response:
    _user_of(zep, request)  # 404 for an unknown user
    return JSONResponse({"message": "Cache warmed"})


# ---------------------------------------------------------------- graphs


def _graph_for(zep: Zep, body: dict[str, Any]) -> Graph:
    user_id = optional_str(body, "user_id")
    graph_id = optional_str(body, "graph_id")
    if bool(user_id) == bool(graph_id):
        raise BadRequest("give exactly one of user_id and graph_id")
    if user_id:
        user = _found(zep.store.users.get(user_id), f"user {user_id} not found")
        return graph_of(zep, user)
    return _found(graph_by_uuid(zep, graph_id or ""), f"graph {graph_id} not found")


async def graph_add(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    data = optional_str(body, "data")
    kind = optional_str(body, "type")
    if not data:
        raise BadRequest("data is required")
    if kind not in ("text", "json", "message", "fact_triple"):
        raise BadRequest(f"type must be text, json, message or fact_triple, got {kind!r}")
    graph = _graph_for(zep, body)
    item = new_episode(zep, graph, data, kind, body)
    task = new_task(zep, "add_episode", [(item.readiness, lambda: graph.reads)])
    return JSONResponse({**graph_episode(zep, graph, item), "task_id": task.record["uuid"]})


async def add_fact_triple(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    fact = optional_str(body, "fact")
    fact_name = optional_str(body, "fact_name")
    if not fact or not fact_name:
        raise BadRequest("fact and fact_name are required")
    graph = _graph_for(zep, body)
    edge = new_edge(
        zep,
        graph,
        fact,
        name=fact_name,
        valid_at=optional_str(body, "valid_at"),
        invalid_at=optional_str(body, "invalid_at"),
    )
    return JSONResponse({"edge": edge})


async def graph_search(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    query = optional_str(body, "query")
    if not query:
        raise BadRequest("query is required")
    limit = body.get("limit") or 10
    if not isinstance(limit, int) or limit < 1:
        raise BadRequest("limit must be an integer >= 1")
    graph = _graph_for(zep, body)
    graph.reads += 1
    scope = body.get("scope") or "edges"
    if scope == "edges":
        return JSONResponse({"edges": ranked_edges(zep, graph, query)[:limit]})
    if scope == "episodes":
        wanted = search_words(query)
        hits = [
            graph_episode(zep, graph, e)
            for e in graph.episodes
            if wanted & search_words(str(e.payload.get("content", "")))
        ]
        return JSONResponse({"episodes": hits[:limit]})
    return JSONResponse({})


async def edges_of_user(zep: Zep, request: Request) -> Response:
    found = _user_of(zep, request)
    graph = graph_of(zep, found)
    graph.reads += 1
    return JSONResponse(visible_edges(zep, graph))


async def episodes_of_user(zep: Zep, request: Request) -> Response:
    found = _user_of(zep, request)
    lastn = int_param(request.query_params.get("lastn"), "lastn", default=0, low=0)
    graph = graph_of(zep, found)
    episodes = [graph_episode(zep, graph, e) for e in graph.episodes]
    for session in zep.store.sessions.values():
        if session.record.get("user_id") == found["user_id"]:
            episodes.extend(v3_episode(zep, m, session) for m in session.messages)
    episodes.sort(key=lambda e: str(e["created_at"]))
    return JSONResponse({"episodes": episodes[-lastn:] if lastn else episodes})


# ---------------------------------------------------------------- summary instructions


def _instruction_owners(zep: Zep, user_ids: Any) -> list[str]:
    """User uuids for ``user_ids`` (``""``, the project, when none are named)."""
    if user_ids is None:
        return [""]
    if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids):
        raise BadRequest("user_ids must be a list of strings")
    owners = []
    for user_id in user_ids:
        user = zep.store.users.get(user_id)
        if user is None:
            raise BadRequest(f"user {user_id} not found")
        owners.append(user["uuid"])
    return owners


async def list_instructions(zep: Zep, request: Request) -> Response:
    user_id = request.query_params.get("user_id")
    who = _instruction_owners(zep, [user_id] if user_id else None)[0]
    instructions = zep.store.threads.summary_instructions.get(who, [])
    return JSONResponse({"instructions": instructions})


async def add_instructions(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    instructions = body.get("instructions")
    if not is_instruction_list(instructions) or not instructions:
        raise BadRequest("instructions must be a non-empty list of {name, text} objects")
    by_owner = zep.store.threads.summary_instructions
    for who in _instruction_owners(zep, body.get("user_ids")):
        names = {i["name"] for i in instructions}
        kept = [i for i in by_owner.get(who, []) if i["name"] not in names]
        by_owner[who] = kept + [{"name": i["name"], "text": i["text"]} for i in instructions]
    return JSONResponse({"message": "Instructions added successfully"})


async def delete_instructions(zep: Zep, request: Request) -> Response:
    body = object_body(await read_json(request))
    names = body.get("instruction_names")
    if names is not None and (
        not isinstance(names, list) or not all(isinstance(n, str) for n in names)
    ):
        raise BadRequest("instruction_names must be a list of strings")
    by_owner = zep.store.threads.summary_instructions
    for who in _instruction_owners(zep, body.get("user_ids")):
        if names is None:
            by_owner.pop(who, None)
        else:
            by_owner[who] = [i for i in by_owner.get(who, []) if i["name"] not in names]
    return JSONResponse({"message": "Instructions deleted successfully"})


_ROUTES: list[Row] = [
    ("GET", "/threads", list_all),
    ("POST", "/threads", create),
    ("DELETE", "/threads/{thread_id}", delete),
    ("GET", "/threads/{thread_id}/messages", get_messages),
    ("POST", "/threads/{thread_id}/messages", add_messages),
    ("POST", "/threads/{thread_id}/messages-batch", add_messages),
    ("GET", "/threads/{thread_id}/context", get_context),
    ("GET", "/threads/{thread_id}/summary", get_summary),
    ("GET", "/threads/{thread_id}/episodes", get_episodes),
    ("PATCH", "/messages/{message_uuid}", update_message),
    ("GET", "/users/{user_id}/threads", user_threads),
    ("GET", "/users/{user_id}/warm", warm),
    ("POST", "/graph", graph_add),
    ("POST", "/graph/add-fact-triple", add_fact_triple),
    ("POST", "/graph/search", graph_search),
    ("POST", "/graph/edge/user/{user_id}", edges_of_user),
    ("GET", "/graph/episodes/user/{user_id}", episodes_of_user),
    ("GET", "/tasks/{task_id}", get_task),
    ("GET", "/user-summary-instructions", list_instructions),
    ("POST", "/user-summary-instructions", add_instructions),
    ("DELETE", "/user-summary-instructions", delete_instructions),
]
