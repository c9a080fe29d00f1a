"""Zep threads: the API zep-cloud 3.x speaks on ``/zep/api/v2`` and 4.x speaks on ``/zep/api/v4``.

Both generations share one store with the v2 sessions of :mod:`.zep`:

* A v2 session and a v3 thread are **the same object** (``state.zep.sessions``, keyed by the
  session id = thread id). Zep's migration guide presents sessions -> threads as a rename on the
  same ``/api/v2`` service; that they are one object is inferred, not stated by Zep. Messages are
  stored once, in the v2 shape (``role_type`` = the enum, ``role`` = the speaker) and shown in the
  v3 shape (``role`` = the enum, ``name`` = the speaker) on thread routes.
* Threads created through v4 have no legacy id (no ``thread_id``): they live in
  ``state.zep.threads.v4`` by UUID only, and v2/v3 cannot address them. v4 reaches every thread by
  its ``uuid``, and ``POST /threads/lookup`` resolves a v3 id.
* Users are v2 users (``state.zep.users`` by ``user_id``); a v4 user created without a ``user_id``
  lives in ``state.zep.threads.users`` by UUID. Every user has a graph (``graph_uuid``) holding
  its episodes and edges; the edges are the user's facts.

v3 routes (``/zep/api/v2``, beside the v2 session routes)::

    GET    /threads                       list_all     ?page_number (1-based)&page_size&order_by&asc
    POST   /threads                       create       201 Thread; 400 for an unknown user or a taken id
    DELETE /threads/{id}                  delete       200 {"message": "Thread successfully deleted."}
    GET    /threads/{id}/messages         get          ?limit&cursor (1-based page)&lastn, oldest first
    POST   /threads/{id}/messages         add_messages (and /messages-batch) 200 {message_uuids, task_id}
    GET    /threads/{id}/context          get_user_context   {"context": str}
    GET    /threads/{id}/summary          get_summary  404 until a summary exists
    GET    /threads/{id}/episodes         get_episodes one episode per message
    PATCH  /messages/{uuid}               message.update     metadata merged, full message back
    GET    /users/{id}/threads            user.get_threads   a bare JSON array
    GET    /users/{id}/warm               user.warm
    POST   /graph                         graph.add    an episode
    POST   /graph/add-fact-triple         graph.add_fact_triple   an edge
    POST   /graph/search                  graph.search edges (or episodes) ranked by token overlap
    POST   /graph/edge/user/{id}          graph.edge.get_by_user_id   a bare JSON array
    GET    /graph/episodes/user/{id}      graph.episode.get_by_user_id  ?lastn
    GET    /tasks/{id}                    task.get
    GET|POST|DELETE /user-summary-instructions   user.*_user_summary_instructions (?user_id)

v4 routes (``/zep/api/v4``; every id in a path is a UUID, anything else is
``400 invalid_identifier``)::

    POST   /users  POST /users/list  POST /users/lookup  GET|PATCH|DELETE /users/{uuid}
    GET    /users/{uuid}/node  GET|PUT /users/{uuid}/summary-instructions
    POST   /threads  GET /threads  POST /threads/lookup  GET|DELETE /threads/{uuid}
    GET|POST /threads/{uuid}/messages  GET|PATCH /threads/{uuid}/messages/{m}
    GET    /threads/{uuid}/context  /summary  /episodes
    POST   /graphs/{g}/episodes  /graphs/{g}/edges/list  /graphs/{g}/search/edges  /graphs/{g}/context
    GET    /tasks/{uuid}   POST /lookup

v4 pages are ``{"items", "next_cursor", "total_size"}`` with an opaque cursor; ``next_cursor`` is
present only when more items follow, so no empty page ever carries one. ``page_size`` defaults to
50 (Zep's documented default) and may be at most 1000; ``order`` defaults to ``asc``. Creates
answer 201, ``add_messages`` and deletes 202 with a task (deletes take effect at once and their
task has succeeded). Errors are ``{"error": {"code", "message", "param"?}}``.

Asynchronous processing follows the v2 policy (``POST /_emulator/zep/processing``): messages
report ``processed: false``, and seeded context, summary and edges stay hidden, until the thread
(edges: the user's graph) has been read ``after_reads`` times or ``after_seconds`` have passed. A
task reports ``pending`` until what it made is processed, then ``succeeded``.

Deterministic stand-ins for what Zep does with a model: search ranks edges by how many query words
(lower-cased ``\\w+`` tokens) they share, ``relevance`` = shared / query words (a seeded rating is
the edge's ``score``); a thread's context is the
seeded context, else a facts block built from the user's visible edges, else ``""``; episodes of a
thread are its messages.
"""

from __future__ import annotations

import base64
import binascii
import uuid as uuid_module
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import zep as zep_v2
from ._http import (
    BadRequest,
    ControlError,
    StrictBody,
    control_endpoint,
    guard,
    guarded_routes,
    must_exist,
    optional_str,
    read_json,
)
from ._routing import ProviderRouter
from .core import Clock, IdFactory, SharedState, isoformat_z
from .zep import Readiness, SeedFields, Stamped, ZepSession, ZepState, search_words

__all__ = [
    "ThreadsState",
    "ZepStore",
    "control_routes",
    "v2_service_router",
    "v3_routes",
    "v4_error_body",
    "v4_router",
    "v4_routes",
]

V3_ROLES = frozenset({"norole", "system", "assistant", "user", "function", "tool"})
V4_ROLES = V3_ROLES - {"norole"}
MAX_MESSAGES_PER_CALL = 30
MAX_METADATA_KEYS = 10
MAX_ID_CHARS = 500
V4_DEFAULT_PAGE_SIZE = 50
V4_MAX_PAGE_SIZE = 1000
V3_DEFAULT_PAGE_SIZE = 100
_EPISODE_NAMESPACE = uuid_module.UUID("6f1d1c6e-3b7e-4b59-9a37-2f7e0f3c5a10")
T = TypeVar("T")


# ---------------------------------------------------------------- state


@dataclass
class Graph:
    """A user's graph: episodes and edges (facts), stamped with when they become visible."""

    uuid: str
    user_uuid: str
    episodes: list[Stamped] = field(default_factory=list)
    edges: list[Stamped] = field(default_factory=list)
    reads: int = 0


@dataclass
class Task:
    """An asynchronous job; ``succeeded`` once everything it made is processed."""

    record: dict[str, Any]
    waits_for: list[tuple[Readiness, Callable[[], int]]] = field(default_factory=list)

    def status(self, now: datetime) -> str:
        done = all(readiness.reached(now, reads()) for readiness, reads in self.waits_for)
        return "succeeded" if done else "pending"


@dataclass
class ThreadsState:
    """What the thread generations add to the shared Zep store (``state.zep.threads``)."""

    v4: dict[str, ZepSession] = field(default_factory=dict)  # v4-made threads, by uuid
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # v4 users without user_id
    graphs: dict[str, Graph] = field(default_factory=dict)  # by user uuid
    tasks: dict[str, Task] = field(default_factory=dict)
    summary_instructions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class ZepStore(ZepState):
    """The one Zep store every generation serves: v2's users and sessions, plus the threads'."""

    threads: ThreadsState = field(default_factory=ThreadsState)


@dataclass(frozen=True)
class _ZepView:
    """The shared state and the Zep store together: nearly every thread helper needs both."""

    shared: SharedState
    zep: ZepStore

    @property
    def clock(self) -> Clock:
        return self.shared.clock

    @property
    def ids(self) -> IdFactory:
        return self.shared.ids


# ---------------------------------------------------------------- lookups


def _all_users(zep: ZepStore) -> Iterable[dict[str, Any]]:
    yield from zep.users.values()
    yield from zep.threads.users.values()


def _user_by_uuid(zep: ZepStore, user_uuid: str) -> dict[str, Any] | None:
    return next((u for u in _all_users(zep) if u["uuid"] == user_uuid), None)


def _all_threads(zep: ZepStore) -> Iterable[ZepSession]:
    yield from zep.sessions.values()
    yield from zep.threads.v4.values()


def _thread_by_uuid(zep: ZepStore, thread_uuid: str) -> ZepSession | None:
    found = zep.threads.v4.get(thread_uuid)
    if found is not None:
        return found
    return next((s for s in zep.sessions.values() if s.record.get("uuid") == thread_uuid), None)


def _owner(zep: ZepStore, session: ZepSession) -> dict[str, Any] | None:
    if session.record.get("user_uuid"):
        return _user_by_uuid(zep, session.record["user_uuid"])
    user_id = session.record.get("user_id")
    return zep.users.get(user_id) if user_id else None


def _graph(state: _ZepView, user: dict[str, Any]) -> Graph:
    """The user's graph, made on first use (v2-made users have none until then)."""
    threads = state.zep.threads
    graph = threads.graphs.get(user["uuid"])
    if graph is None:
        graph = Graph(uuid=state.ids.uuid4(), user_uuid=user["uuid"])
        threads.graphs[user["uuid"]] = graph
    return graph


def _graph_by_uuid(state: _ZepView, graph_uuid: str) -> Graph | None:
    """A graph by its uuid, or by its user's uuid (Zep accepts both for a user graph)."""
    threads = state.zep.threads
    for graph in threads.graphs.values():
        if graph.uuid == graph_uuid:
            return graph
    user = _user_by_uuid(state.zep, graph_uuid)
    return _graph(state, user) if user is not None else None


def _thread_graph(state: _ZepView, session: ZepSession) -> Graph | None:
    owner = _owner(state.zep, session)
    return _graph(state, owner) if owner is not None else None


def _note_read(state: _ZepView, session: ZepSession) -> None:
    session.reads += 1
    graph = _thread_graph(state, session)
    if graph is not None:
        graph.reads += 1


# ---------------------------------------------------------------- views


def _processed(state: _ZepView, item: Stamped, session: ZepSession) -> bool:
    return item.readiness.reached(state.clock.peek(), session.reads)


def _v3_message(state: _ZepView, item: Stamped, session: ZepSession) -> dict[str, Any]:
    p = item.payload
    out: dict[str, Any] = {
        "uuid": p["uuid"],
        "created_at": p["created_at"],
        "updated_at": p.get("updated_at", p["created_at"]),
        "role": p.get("role_type") or "norole",
        "content": p.get("content", ""),
        "metadata": p.get("metadata") or {},
        "processed": _processed(state, item, session),
    }
    if p.get("role"):
        out["name"] = p["role"]
    return out


def _v4_message(state: _ZepView, item: Stamped, session: ZepSession) -> dict[str, Any]:
    p = item.payload
    out: dict[str, Any] = {"uuid": p["uuid"], "thread_uuid": session.record["uuid"]}
    if p.get("role_type") in V4_ROLES:
        out["role"] = p["role_type"]
    if p.get("role"):
        out["name"] = p["role"]
    out.update(
        content=p.get("content", ""),
        created_at=p["created_at"],
        reference_time=p.get("reference_time") or p["created_at"],
        metadata=p.get("metadata") or {},
        processed=_processed(state, item, session),
    )
    return out


def _v3_thread(state: _ZepView, session: ZepSession) -> dict[str, Any]:
    owner = _owner(state.zep, session)
    out = {
        "uuid": session.record["uuid"],
        "thread_id": session.record.get("session_id"),
        "user_id": session.record.get("user_id"),
        "created_at": session.record.get("created_at"),
    }
    if owner is not None:
        out["user_uuid"] = owner["uuid"]
        out["graph_uuid"] = _graph(state, owner).uuid
    return out


def _v4_thread(state: _ZepView, session: ZepSession) -> dict[str, Any]:
    owner = _owner(state.zep, session)
    out: dict[str, Any] = {"uuid": session.record["uuid"]}
    if session.record.get("session_id"):
        out["thread_id"] = session.record["session_id"]
    if owner is not None:
        out["user_uuid"] = owner["uuid"]
        out["graph_uuid"] = _graph(state, owner).uuid
    out["created_at"] = session.record.get("created_at")
    out["updated_at"] = session.record.get("updated_at", session.record.get("created_at"))
    return out


_USER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "metadata",
    "time_zone",
    "disable_default_ontology",
)


def _v4_user(state: _ZepView, user: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"uuid": user["uuid"]}
    if user.get("user_id"):
        out["user_id"] = user["user_id"]
    out.update({k: user[k] for k in _USER_FIELDS if user.get(k) is not None})
    out["graph_uuid"] = _graph(state, user).uuid
    out["created_at"] = user.get("created_at")
    return out


def _summary(state: _ZepView, session: ZepSession, *, v4: bool) -> dict[str, Any] | None:
    summary = session.summary
    if summary is None or not _processed(state, summary, session):
        return None
    p = summary.payload
    out: dict[str, Any] = {"uuid": p["uuid"]}
    if v4:
        out["thread_uuid"] = session.record["uuid"]
        graph = _thread_graph(state, session)
        if graph is not None:
            out["graph_uuid"] = graph.uuid
    else:
        out["thread_id"] = session.record.get("session_id")
    out.update(
        summary=p["content"],
        created_at=p["created_at"],
        last_summarized_at=p["created_at"],
    )
    return out


def _visible_edges(state: _ZepView, graph: Graph) -> list[dict[str, Any]]:
    now = state.clock.peek()
    return [e.payload for e in graph.edges if e.readiness.reached(now, graph.reads)]


def _context(state: _ZepView, session: ZepSession) -> str:
    """The seeded context, else a facts block from the user's visible edges, else ``""``."""
    seeded = session.context
    if seeded is not None and _processed(state, seeded, session):
        text = seeded.payload.get("context")
        return text if isinstance(text, str) else ""
    graph = _thread_graph(state, session)
    edges = _visible_edges(state, graph) if graph is not None else []
    return _facts_block(edges)


def _read_context(state: _ZepView, session: ZepSession) -> dict[str, str]:
    """The answer to a thread's context call, which counts as a read of the thread."""
    _note_read(state, session)
    return {"context": _context(state, session)}


def _facts_block(edges: list[dict[str, Any]]) -> str:
    if not edges:
        return ""
    lines = [
        "FACTS and ENTITIES represent relevant context to the current conversation.",
        "# These are the most relevant facts and their valid date ranges",
        "# format: FACT (Date range: from - to)",
        "<FACTS>",
    ]
    for edge in edges:
        since = edge.get("valid_at") or edge.get("created_at") or "unknown"
        until = edge.get("invalid_at") or "present"
        lines.append(f"  - {edge['fact']} ({since} - {until})")
    lines.append("</FACTS>")
    return "\n".join(lines) + "\n"


def _episode(state: _ZepView, item: Stamped, session: ZepSession, *, v4: bool) -> dict[str, Any]:
    p = item.payload
    speaker = p.get("role") or p.get("role_type") or "norole"
    out: dict[str, Any] = {
        "uuid": str(uuid_module.uuid5(_EPISODE_NAMESPACE, p["uuid"])),
        "content": f"{speaker}: {p.get('content', '')}",
        "created_at": p["created_at"],
        "processed": _processed(state, item, session),
        "source": "message",
        "role": p.get("role") or None,
    }
    if v4:
        out["thread_uuid"] = session.record["uuid"]
        out["role_name"] = out.pop("role")
        out["reference_time"] = p.get("reference_time") or p["created_at"]
    else:
        out["thread_id"] = session.record.get("session_id")
        out["role_type"] = p.get("role_type")
    return out


def _ranked_edges(state: _ZepView, graph: Graph, query: str) -> list[dict[str, Any]]:
    wanted = search_words(query)
    scored: list[tuple[float, int, dict[str, Any]]] = []
    for index, edge in enumerate(_visible_edges(state, graph)):
        shared = len(wanted & search_words(str(edge.get("fact", ""))))
        if shared:
            scored.append((shared / len(wanted), index, edge))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [{**edge, "relevance": round(score, 6)} for score, _, edge in scored]


def _task_json(state: _ZepView, task: Task, *, v4: bool) -> dict[str, Any]:
    record = dict(task.record)
    status = task.status(state.clock.peek())
    record["status"] = status
    if status == "succeeded":
        record["completed_at"] = record["created_at"]
    if not v4:
        record["task_id"] = record.pop("uuid")
    return record


def _new_task(
    state: _ZepView, kind: str, waits_for: list[tuple[Readiness, Callable[[], int]]]
) -> Task:
    now = isoformat_z(state.clock.now())
    task = Task(
        record={"uuid": state.ids.uuid4(), "type": kind, "created_at": now, "updated_at": now},
        waits_for=waits_for,
    )
    state.zep.threads.tasks[task.record["uuid"]] = task
    return task


# ---------------------------------------------------------------- writes shared by both


def _check_metadata(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"{where}.metadata must be an object")
    if len(value) > MAX_METADATA_KEYS:
        raise BadRequest(f"{where}.metadata has {len(value)} keys; at most {MAX_METADATA_KEYS}")
    return value


def _validated_messages(body: Any, *, v4: bool) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages are required")
    if len(messages) > MAX_MESSAGES_PER_CALL:
        raise BadRequest(
            f"at most {MAX_MESSAGES_PER_CALL} messages per call, got {len(messages)}; "
            "send them in batches"
        )
    roles = V4_ROLES if v4 else V3_ROLES
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise BadRequest(f"{where} must be an object")
        role = message.get("role")
        if role is None and not v4:
            raise BadRequest(f"{where}.role is required")
        if role is not None and role not in roles:
            raise BadRequest(
                f"{where}.role must be one of {', '.join(sorted(roles))}, got {role!r}"
            )
        if not isinstance(message.get("content"), str):
            raise BadRequest(f"{where}.content is required")
        if message.get("name") is not None and not isinstance(message["name"], str):
            raise BadRequest(f"{where}.name must be a string")
        if message.get("uuid") is not None and v4:
            raise BadRequest(f"{where}.uuid must be left unset: Zep assigns message ids")
        _check_metadata(message.get("metadata"), where)
    return messages


def _store_messages(
    state: _ZepView, session: ZepSession, messages: list[dict[str, Any]], *, v4: bool
) -> list[Stamped]:
    readiness = state.zep.processing.stamp(state.clock.peek(), session.reads)
    stored: list[Stamped] = []
    for message in messages:
        created = isoformat_z(state.clock.now())
        payload: dict[str, Any] = {
            "uuid": state.ids.uuid4(),
            "created_at": created if v4 else (message.get("created_at") or created),
            "updated_at": created,
            "role": message.get("name") or "",
            "role_type": message.get("role") or "norole",
            "content": message["content"],
            "metadata": message.get("metadata") or {},
            "token_count": 0,
        }
        if v4:
            payload["reference_time"] = message.get("reference_time") or created
        item = Stamped(payload, readiness)
        session.messages.append(item)
        stored.append(item)
    return stored


def _store_batch(
    state: _ZepView, session: ZepSession, messages: list[dict[str, Any]], *, v4: bool
) -> tuple[list[Stamped], Task]:
    """The messages stored, and the task that succeeds once the last of them is processed."""
    stored = _store_messages(state, session, messages, v4=v4)
    waits = [(m.readiness, lambda: session.reads) for m in stored[-1:]]
    return stored, _new_task(state, "add_messages", waits)


def _merge_metadata(item: Stamped, patch: dict[str, Any]) -> None:
    merged = {**(item.payload.get("metadata") or {}), **patch}
    merged = {k: v for k, v in merged.items() if v is not None}
    if len(merged) > MAX_METADATA_KEYS:
        raise BadRequest(f"metadata would have {len(merged)} keys; at most {MAX_METADATA_KEYS}")
    item.payload["metadata"] = merged


def _new_edge(
    state: _ZepView,
    graph: Graph,
    fact: str,
    *,
    name: str | None = None,
    valid_at: str | None = None,
    invalid_at: str | None = None,
    rating: float | None = None,
    readiness: Readiness | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "uuid": state.ids.uuid4(),
        "fact": fact,
        "name": name or "RELATES_TO",
        "created_at": isoformat_z(state.clock.now()),
        "valid_at": valid_at,
        "invalid_at": invalid_at,
        "expired_at": None,
        "source_node_uuid": graph.user_uuid,
        "target_node_uuid": str(uuid_module.uuid5(_EPISODE_NAMESPACE, fact)),
        "graph_uuid": graph.uuid,
    }
    if rating is not None:
        payload["score"] = rating
    stamp = readiness or state.zep.processing.stamp(state.clock.peek(), graph.reads)
    graph.edges.append(Stamped(payload, stamp))
    return payload


def _new_episode(
    state: _ZepView, graph: Graph, data: str, kind: str, body: dict[str, Any]
) -> Stamped:
    created = isoformat_z(state.clock.now())
    payload: dict[str, Any] = {
        "uuid": state.ids.uuid4(),
        "content": data,
        "created_at": created,
        "source": kind,
        "graph_uuid": graph.uuid,
        "user_uuid": graph.user_uuid,
    }
    for key in ("source_description", "metadata", "reference_time"):
        if body.get(key) is not None:
            payload[key] = body[key]
    item = Stamped(payload, state.zep.processing.stamp(state.clock.peek(), graph.reads))
    graph.episodes.append(item)
    return item


def _episode_view(state: _ZepView, graph: Graph, item: Stamped) -> dict[str, Any]:
    return {**item.payload, "processed": item.readiness.reached(state.clock.peek(), graph.reads)}


# ---------------------------------------------------------------- small parsing helpers


def _int_param(
    raw: str | None, name: str, *, default: int, low: int = 1, high: int | None = None
) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise BadRequest(f"{name} must be {bound}, got {value}")
    return value


def _object_body(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _check_legacy_id(value: str, what: str) -> None:
    if not value.strip():
        raise BadRequest(f"{what} is required")
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"{what} is longer than {MAX_ID_CHARS} characters")


# ---------------------------------------------------------------- v3 routes

Handler = Callable[[Request], Awaitable[Response]]


def _v3_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


class _V3NotFound(Exception):
    """What a v3 path or body names does not exist (404 with this message)."""


def _v3_found(found: T | None, message: str = "not found") -> T:
    if found is None:
        raise _V3NotFound(message)
    return found


def v3_routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """The thread routes of zep-cloud 3.x, mounted on ``/zep/api/v2`` beside the v2 routes."""
    state = _ZepView(shared, store)

    guarded = guard(
        lambda request: zep_v2.unauthorized(shared, request),
        {
            BadRequest: lambda exc: _v3_error(400, str(exc)),
            _V3NotFound: lambda exc: _v3_error(404, str(exc)),
        },
        lock=shared.lock,
    )

    def thread_of(request: Request) -> ZepSession:
        return _v3_found(state.zep.sessions.get(request.path_params["thread_id"]))

    def user_of(request: Request) -> dict[str, Any]:
        return _v3_found(state.zep.users.get(request.path_params["user_id"]))

    async def list_all(request: Request) -> Response:
        q = request.query_params
        page_number = _int_param(q.get("page_number"), "page_number", default=1)
        page_size = _int_param(q.get("page_size"), "page_size", default=V3_DEFAULT_PAGE_SIZE)
        order_by = q.get("order_by") or "created_at"
        if order_by not in ("created_at", "updated_at", "user_id", "thread_id"):
            raise BadRequest(
                f"order_by must be created_at, updated_at, user_id or thread_id, got {order_by!r}"
            )
        key = "session_id" if order_by == "thread_id" else order_by
        sessions = sorted(
            state.zep.sessions.values(),
            key=lambda s: str(s.record.get(key) or ""),
            reverse=q.get("asc") == "false",
        )
        start = (page_number - 1) * page_size
        page = sessions[start : start + page_size]
        return JSONResponse(
            {
                "threads": [_v3_thread(state, s) for s in page],
                "response_count": len(page),
                "total_count": len(sessions),
            }
        )

    async def create(request: Request) -> Response:
        body = _object_body(await read_json(request))
        thread_id = optional_str(body, "thread_id") or ""
        user_id = optional_str(body, "user_id") or ""
        _check_legacy_id(thread_id, "thread_id")
        _check_legacy_id(user_id, "user_id")
        zep = state.zep
        user = zep.users.get(user_id)
        if user is None:
            return _v3_error(400, f"user {user_id} not found; create it first with user.add")
        if thread_id in zep.sessions:
            return _v3_error(400, f"thread {thread_id} already exists")
        session = ZepSession(record=zep_v2.new_session_row(shared, zep, thread_id, user_id, None))
        zep.sessions[thread_id] = session
        user["session_count"] = user.get("session_count", 0) + 1
        return JSONResponse(_v3_thread(state, session), status_code=201)

    async def delete(request: Request) -> Response:
        found = thread_of(request)
        del state.zep.sessions[request.path_params["thread_id"]]
        owner = state.zep.users.get(found.record.get("user_id") or "")
        if owner is not None and owner.get("session_count"):
            owner["session_count"] -= 1
        return JSONResponse({"message": "Thread successfully deleted."})

    async def get_messages(request: Request) -> Response:
        session = thread_of(request)
        q = request.query_params
        lastn = _int_param(q.get("lastn"), "lastn", default=0, low=0)
        limit = _int_param(q.get("limit"), "limit", default=0, low=0)
        cursor = _int_param(q.get("cursor"), "cursor", default=1, low=0)
        _note_read(state, session)
        if lastn:
            page = session.messages[-lastn:]
        elif limit:
            start = max(cursor - 1, 0) * limit
            page = session.messages[start : start + limit]
        else:
            page = session.messages
        owner = _owner(state.zep, session)
        out: dict[str, Any] = {
            "messages": [_v3_message(state, m, session) for m in page],
            "row_count": len(page),
            "total_count": len(session.messages),
            "thread_created_at": session.record.get("created_at"),
            "user_id": session.record.get("user_id"),
        }
        if owner is not None:
            out["user_uuid"] = owner["uuid"]
        return JSONResponse(out)

    async def add_messages(request: Request) -> Response:
        body = await read_json(request)
        messages = _validated_messages(body, v4=False)
        session = thread_of(request)
        stored, task = _store_batch(state, session, messages, v4=False)
        out: dict[str, Any] = {
            "message_uuids": [m.payload["uuid"] for m in stored],
            "task_id": task.record["uuid"],
        }
        if body.get("return_context") is True:
            out["context"] = _context(state, session)
        return JSONResponse(out)

    async def get_context(request: Request) -> Response:
        return JSONResponse(_read_context(state, thread_of(request)))

    async def get_summary(request: Request) -> Response:
        summary = _summary(state, thread_of(request), v4=False)
        return JSONResponse(_v3_found(summary, "no summary exists for this thread yet"))

    async def get_episodes(request: Request) -> Response:
        found = thread_of(request)
        episodes = [_episode(state, m, found, v4=False) for m in found.messages]
        return JSONResponse({"episodes": episodes})

    async def update_message(request: Request) -> Response:
        body = _object_body(await read_json(request))
        metadata = _check_metadata(body.get("metadata"), "body")
        if metadata is None:
            raise BadRequest("metadata is required")
        target = request.path_params["message_uuid"]
        for session in _all_threads(state.zep):
            for item in session.messages:
                if item.payload["uuid"] == target:
                    _merge_metadata(item, metadata)
                    return JSONResponse(_v3_message(state, item, session))
        return _v3_error(404, "not found")

    async def user_threads(request: Request) -> Response:
        user_id = user_of(request)["user_id"]
        return JSONResponse(
            [
                _v3_thread(state, s)
                for s in state.zep.sessions.values()
                if s.record.get("user_id") == user_id
            ]
        )

    async def warm(request: Request) -> Response:
        user_of(request)  # 404 for an unknown user
        return JSONResponse({"message": "Cache warmed"})

    def graph_for(body: dict[str, Any]) -> Graph:
        user_id = optional_str(body, "user_id")
        graph_id = optional_str(body, "graph_id")
        if bool(user_id) == bool(graph_id):
            raise BadRequest("give exactly one of user_id and graph_id")
        if user_id:
            user = _v3_found(state.zep.users.get(user_id), f"user {user_id} not found")
            return _graph(state, user)
        return _v3_found(_graph_by_uuid(state, graph_id or ""), f"graph {graph_id} not found")

    async def graph_add(request: Request) -> Response:
        body = _object_body(await read_json(request))
        data = optional_str(body, "data")
        kind = optional_str(body, "type")
        if not data:
            raise BadRequest("data is required")
        if kind not in ("text", "json", "message", "fact_triple"):
            raise BadRequest(f"type must be text, json, message or fact_triple, got {kind!r}")
        graph = graph_for(body)
        item = _new_episode(state, graph, data, kind, body)
        task = _new_task(state, "add_episode", [(item.readiness, lambda: graph.reads)])
        return JSONResponse({**_episode_view(state, graph, item), "task_id": task.record["uuid"]})

    async def add_fact_triple(request: Request) -> Response:
        body = _object_body(await read_json(request))
        fact = optional_str(body, "fact")
        fact_name = optional_str(body, "fact_name")
        if not fact or not fact_name:
            raise BadRequest("fact and fact_name are required")
        graph = graph_for(body)
        edge = _new_edge(
            state,
            graph,
            fact,
            name=fact_name,
            valid_at=optional_str(body, "valid_at"),
            invalid_at=optional_str(body, "invalid_at"),
        )
        return JSONResponse({"edge": edge})

    async def graph_search(request: Request) -> Response:
        body = _object_body(await read_json(request))
        query = optional_str(body, "query")
        if not query:
            raise BadRequest("query is required")
        limit = body.get("limit") or 10
        if not isinstance(limit, int) or limit < 1:
            raise BadRequest("limit must be an integer >= 1")
        graph = graph_for(body)
        graph.reads += 1
        scope = body.get("scope") or "edges"
        if scope == "edges":
            return JSONResponse({"edges": _ranked_edges(state, graph, query)[:limit]})
        if scope == "episodes":
            wanted = search_words(query)
            hits = [
                _episode_view(state, graph, e)
                for e in graph.episodes
                if wanted & search_words(str(e.payload.get("content", "")))
            ]
            return JSONResponse({"episodes": hits[:limit]})
        return JSONResponse({})

    async def edges_of_user(request: Request) -> Response:
        found = user_of(request)
        graph = _graph(state, found)
        graph.reads += 1
        return JSONResponse(_visible_edges(state, graph))

    async def episodes_of_user(request: Request) -> Response:
        found = user_of(request)
        lastn = _int_param(request.query_params.get("lastn"), "lastn", default=0, low=0)
        graph = _graph(state, found)
        episodes = [_episode_view(state, graph, e) for e in graph.episodes]
        for session in state.zep.sessions.values():
            if session.record.get("user_id") == found["user_id"]:
                episodes.extend(_episode(state, m, session, v4=False) for m in session.messages)
        episodes.sort(key=lambda e: str(e["created_at"]))
        return JSONResponse({"episodes": episodes[-lastn:] if lastn else episodes})

    def instruction_owners(user_ids: Any) -> list[str]:
        """User uuids for ``user_ids`` (``""``, the project, when none are named)."""
        if user_ids is None:
            return [""]
        if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids):
            raise BadRequest("user_ids must be a list of strings")
        owners = []
        for user_id in user_ids:
            user = state.zep.users.get(user_id)
            if user is None:
                raise BadRequest(f"user {user_id} not found")
            owners.append(user["uuid"])
        return owners

    async def list_instructions(request: Request) -> Response:
        user_id = request.query_params.get("user_id")
        owner = instruction_owners([user_id] if user_id else None)[0]
        return JSONResponse({"instructions": state.zep.threads.summary_instructions.get(owner, [])})

    async def add_instructions(request: Request) -> Response:
        body = _object_body(await read_json(request))
        instructions = body.get("instructions")
        if (
            not isinstance(instructions, list)
            or not instructions
            or not all(
                isinstance(i, dict)
                and isinstance(i.get("name"), str)
                and isinstance(i.get("text"), str)
                for i in instructions
            )
        ):
            raise BadRequest("instructions must be a non-empty list of {name, text} objects")
        store = state.zep.threads.summary_instructions
        for owner in instruction_owners(body.get("user_ids")):
            names = {i["name"] for i in instructions}
            kept = [i for i in store.get(owner, []) if i["name"] not in names]
            store[owner] = kept + [{"name": i["name"], "text": i["text"]} for i in instructions]
        return JSONResponse({"message": "Instructions added successfully"})

    async def delete_instructions(request: Request) -> Response:
        body = _object_body(await read_json(request))
        names = body.get("instruction_names")
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) for n in names)
        ):
            raise BadRequest("instruction_names must be a list of strings")
        store = state.zep.threads.summary_instructions
        for owner in instruction_owners(body.get("user_ids")):
            if names is None:
                store.pop(owner, None)
            else:
                store[owner] = [i for i in store.get(owner, []) if i["name"] not in names]
        return JSONResponse({"message": "Instructions deleted successfully"})

    async def get_task(request: Request) -> Response:
        task = _v3_found(state.zep.threads.tasks.get(request.path_params["task_id"]))
        return JSONResponse(_task_json(state, task, v4=False))

    return guarded_routes(
        guarded,
        [
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
        ],
    )


# ---------------------------------------------------------------- v4 routes


class V4Error(Exception):
    """An answer in v4's error envelope."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.param is not None:
            body["param"] = self.param
        return JSONResponse({"error": body}, status_code=self.status)


def v4_error_body(status: int, message: str) -> dict[str, Any]:
    """The v4 envelope for an answer made outside a handler (an injected fault)."""
    code = {400: "bad_request", 401: "unauthorized", 404: "not_found", 409: "conflict"}
    return {
        "error": {
            "code": code.get(status, "server_error" if status >= 500 else "error"),
            "message": message,
        }
    }


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


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        offset = int(text[2:])
        if offset < 0:
            raise ValueError(text)
        return offset
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise V4Error(
            400, "invalid_cursor", f"cursor {cursor!r} is not a cursor this API made", "cursor"
        ) from None


def _page(request: Request, items: list[Any], *, total: bool = True) -> dict[str, Any]:
    """One page of ``items`` (already in order): ``next_cursor`` only when more follow."""
    q = request.query_params
    try:
        size = _int_param(
            q.get("page_size"), "page_size", default=V4_DEFAULT_PAGE_SIZE, high=V4_MAX_PAGE_SIZE
        )
    except BadRequest as exc:
        raise V4Error(400, "invalid_parameter", str(exc), "page_size") from None
    cursor = q.get("cursor")
    offset = _decode_cursor(cursor) if cursor else 0
    chunk = items[offset : offset + size]
    out: dict[str, Any] = {"items": chunk}
    if chunk and offset + size < len(items):
        out["next_cursor"] = _encode_cursor(offset + size)
    if total:
        out["total_size"] = len(items)
    return out


def _order(
    request: Request, items: list[dict[str, Any]], allowed: tuple[str, ...]
) -> list[dict[str, Any]]:
    q = request.query_params
    order_by = q.get("order_by") or "created_at"
    order = q.get("order") or "asc"
    if order_by not in allowed:
        raise V4Error(
            400, "invalid_parameter", f"order_by must be one of {', '.join(allowed)}", "order_by"
        )
    if order not in ("asc", "desc"):
        raise V4Error(400, "invalid_parameter", "order must be asc or desc", "order")
    indexed = list(enumerate(items))
    indexed.sort(
        key=lambda pair: (str(pair[1].get(order_by) or ""), pair[0]), reverse=order == "desc"
    )
    return [item for _, item in indexed]


def v4_routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """The routes of zep-cloud 4.x, mounted on ``/zep/api/v4``."""
    state = _ZepView(shared, store)

    def denied(request: Request) -> Response | None:
        if zep_v2.unauthorized(shared, request) is None:
            return None
        return V4Error(401, "unauthorized", "missing or invalid API key").response()

    guarded = guard(
        denied,
        {
            BadRequest: lambda exc: V4Error(400, "bad_request", str(exc)).response(),
            V4Error: lambda exc: exc.response(),
        },
        lock=shared.lock,
    )

    def thread(request: Request) -> ZepSession:
        thread_uuid = _uuid_param(request, "thread_uuid")
        session = _thread_by_uuid(state.zep, thread_uuid)
        if session is None:
            raise V4Error(404, "not_found", f"thread {thread_uuid} not found", "thread_uuid")
        return session

    def user(request: Request) -> dict[str, Any]:
        user_uuid = _uuid_param(request, "user_uuid")
        found = _user_by_uuid(state.zep, user_uuid)
        if found is None:
            raise V4Error(404, "not_found", f"user {user_uuid} not found", "user_uuid")
        return found

    def graph(request: Request) -> Graph:
        graph_uuid = _uuid_param(request, "graph_uuid")
        found = _graph_by_uuid(state, graph_uuid)
        if found is None:
            raise V4Error(404, "not_found", f"graph {graph_uuid} not found", "graph_uuid")
        return found

    # -- users

    async def create_user(request: Request) -> Response:
        body = _object_body(await read_json(request))
        user_id = optional_str(body, "user_id")
        fields = {k: body.get(k) for k in _USER_FIELDS}
        zep = state.zep
        if user_id is not None:
            _check_legacy_id(user_id, "user_id")
            if user_id in zep.users:
                raise V4Error(409, "conflict", f"a user with user_id {user_id!r} exists", "user_id")
        record = zep_v2.new_row(shared, zep, {"user_id": user_id, **fields}, {"session_count": 0})
        if user_id is not None:
            zep.users[user_id] = record
        else:
            state.zep.threads.users[record["uuid"]] = record
        return JSONResponse(_v4_user(state, record), status_code=201)

    async def list_users(request: Request) -> Response:
        body = _object_body(await read_json(request))
        search = (optional_str(body, "search") or "").lower()
        users = [_v4_user(state, u) for u in _all_users(state.zep)]
        if search:
            users = [
                u
                for u in users
                if any(
                    search in str(u.get(k) or "").lower()
                    for k in ("user_id", "email", "first_name", "last_name")
                )
            ]
        ordered = _order(request, users, ("created_at", "user_id", "email", "uuid"))
        return JSONResponse(_page(request, ordered))

    def lookup(
        kind: str,
        resolve: Callable[[str, str], T | None],
        view: Callable[[_ZepView, T], dict[str, Any]],
    ) -> Handler:
        """``POST /<kind>s/lookup``: what ``resolve(key, legacy id)`` finds for the one id given."""

        async def handler(request: Request) -> Response:
            body = _object_body(await read_json(request))
            ids = ("user_id", "thread_id", "graph_id")
            given = {k: optional_str(body, k) for k in ids if body.get(k)}
            if len(given) != 1:
                raise V4Error(
                    400, "bad_request", "give exactly one of user_id, thread_id and graph_id"
                )
            key, value = next(iter(given.items()))
            if key == "graph_id":
                raise V4Error(404, "not_found", f"no graph with graph_id {value!r}", key)
            found = resolve(key, value or "")
            if found is None:
                raise V4Error(404, "not_found", f"no {kind} found for {key} {value!r}", key)
            return JSONResponse(view(state, found))

        return handler

    def user_for(key: str, value: str) -> dict[str, Any] | None:
        if key == "user_id":
            return state.zep.users.get(value)
        session = state.zep.sessions.get(value)
        return _owner(state.zep, session) if session is not None else None

    def thread_for(key: str, value: str) -> ZepSession | None:
        if key == "thread_id":
            return state.zep.sessions.get(value)
        if value not in state.zep.users:
            return None
        # Which thread Zep answers for a user id is not documented: the newest.
        owned = [s for s in _all_threads(state.zep) if s.record.get("user_id") == value]
        return owned[-1] if owned else None

    async def get_user(request: Request) -> Response:
        return JSONResponse(_v4_user(state, user(request)))

    async def update_user(request: Request) -> Response:
        found = user(request)
        body = _object_body(await read_json(request))
        for key in _USER_FIELDS:
            if key in body and body[key] is not None:
                found[key] = body[key]
        found["updated_at"] = isoformat_z(state.clock.now())
        return JSONResponse(_v4_user(state, found))

    async def delete_user(request: Request) -> Response:
        found = user(request)
        zep, threads = state.zep, state.zep.threads
        if found.get("user_id"):
            zep.users.pop(found["user_id"], None)
        threads.users.pop(found["uuid"], None)
        threads.graphs.pop(found["uuid"], None)
        for key, session in list(zep.sessions.items()):
            if session.record.get("user_id") == found.get("user_id"):
                del zep.sessions[key]
        for key, session in list(threads.v4.items()):
            if session.record.get("user_uuid") == found["uuid"]:
                del threads.v4[key]
        task = _new_task(state, "delete_user", [])
        return JSONResponse({"task": _task_json(state, task, v4=True)}, status_code=202)

    async def user_node(request: Request) -> Response:
        found = user(request)
        graph_ = _graph(state, found)
        name = " ".join(p for p in (found.get("first_name"), found.get("last_name")) if p)
        return JSONResponse(
            {
                "uuid": graph_.user_uuid,
                "name": name or found.get("user_id") or found["uuid"],
                "labels": ["User"],
                "graph_uuid": graph_.uuid,
                "user_uuid": found["uuid"],
                "created_at": found.get("created_at"),
                "episode_uuids": [],
                "episode_uuids_truncated": False,
            }
        )

    async def get_instructions(request: Request) -> Response:
        found = user(request)
        own = state.zep.threads.summary_instructions.get(found["uuid"])
        return JSONResponse({"inherited": own is None, "instructions": own or []})

    async def set_instructions(request: Request) -> Response:
        found = user(request)
        body = _object_body(await read_json(request))
        if body.get("inherited") is True:
            state.zep.threads.summary_instructions.pop(found["uuid"], None)
            return JSONResponse({"inherited": True, "instructions": []})
        instructions = body.get("instructions")
        if not isinstance(instructions, list) or not all(
            isinstance(i, dict)
            and isinstance(i.get("name"), str)
            and isinstance(i.get("text"), str)
            for i in instructions
        ):
            raise BadRequest("instructions must be a list of {name, text} objects")
        state.zep.threads.summary_instructions[found["uuid"]] = instructions
        return JSONResponse({"inherited": False, "instructions": instructions})

    # -- threads

    async def create_thread(request: Request) -> Response:
        body = _object_body(await read_json(request))
        user_uuid = optional_str(body, "user_uuid")
        if not user_uuid:
            raise V4Error(400, "bad_request", "user_uuid is required", "user_uuid")
        owner = _user_by_uuid(state.zep, user_uuid)
        if owner is None:
            raise V4Error(404, "not_found", f"user {user_uuid} not found", "user_uuid")
        now = isoformat_z(state.clock.now())
        record: dict[str, Any] = {
            "uuid": state.ids.uuid4(),
            "id": state.zep.row_id(),
            "session_id": None,
            "user_id": owner.get("user_id"),
            "user_uuid": owner["uuid"],
            "created_at": now,
            "updated_at": now,
        }
        session = ZepSession(record=record)
        state.zep.threads.v4[record["uuid"]] = session
        return JSONResponse(_v4_thread(state, session), status_code=201)

    async def list_threads(request: Request) -> Response:
        user_uuid = request.query_params.get("user_uuid")
        views = [_v4_thread(state, s) for s in _all_threads(state.zep)]
        if user_uuid:
            views = [v for v in views if v.get("user_uuid") == user_uuid]
        ordered = _order(request, views, ("created_at", "updated_at", "uuid"))
        return JSONResponse(_page(request, ordered))

    async def get_thread(request: Request) -> Response:
        return JSONResponse(_v4_thread(state, thread(request)))

    async def delete_thread(request: Request) -> Response:
        session = thread(request)
        threads = state.zep.threads
        threads.v4.pop(session.record["uuid"], None)
        legacy = session.record.get("session_id")
        if legacy:
            state.zep.sessions.pop(legacy, None)
        task = _new_task(state, "delete_thread", [])
        return JSONResponse({"task": _task_json(state, task, v4=True)}, status_code=202)

    async def list_messages(request: Request) -> Response:
        session = thread(request)
        _note_read(state, session)
        views = [_v4_message(state, m, session) for m in session.messages]
        return JSONResponse(_page(request, _order(request, views, ("created_at",))))

    async def add_messages(request: Request) -> Response:
        session = thread(request)
        body = await read_json(request)
        messages = _validated_messages(body, v4=True)
        stored, task = _store_batch(state, session, messages, v4=True)
        out: dict[str, Any] = {
            "messages": [_v4_message(state, m, session) for m in stored],
            "task": _task_json(state, task, v4=True),
        }
        if body.get("return_context") is True:
            out["context"] = _context(state, session)
        return JSONResponse(out, status_code=202)

    def message(request: Request) -> tuple[ZepSession, Stamped]:
        session = thread(request)
        message_uuid = _uuid_param(request, "message_uuid")
        for item in session.messages:
            if item.payload["uuid"] == message_uuid:
                return session, item
        raise V4Error(404, "not_found", f"message {message_uuid} not found", "message_uuid")

    async def get_message(request: Request) -> Response:
        session, item = message(request)
        return JSONResponse(_v4_message(state, item, session))

    async def update_message(request: Request) -> Response:
        session, item = message(request)
        body = _object_body(await read_json(request))
        metadata = body.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise BadRequest("metadata must be an object")
            _merge_metadata(item, metadata)
        return JSONResponse(_v4_message(state, item, session))

    async def get_context(request: Request) -> Response:
        return JSONResponse(_read_context(state, thread(request)))

    async def get_summary(request: Request) -> Response:
        session = thread(request)
        summary = _summary(state, session, v4=True)
        if summary is None:
            raise V4Error(404, "not_found", "no summary exists for this thread yet")
        return JSONResponse(summary)

    async def list_episodes(request: Request) -> Response:
        session = thread(request)
        episodes = [_episode(state, m, session, v4=True) for m in session.messages]
        return JSONResponse(_page(request, episodes, total=False))

    # -- graphs, tasks, lookup

    async def add_episode(request: Request) -> Response:
        graph_ = graph(request)
        body = _object_body(await read_json(request))
        data = optional_str(body, "data")
        kind = body.get("type") or "text"
        if not data:
            raise V4Error(400, "bad_request", "data is required", "data")
        if kind not in ("text", "json", "message"):
            raise V4Error(400, "bad_request", "type must be text, json or message", "type")
        item = _new_episode(state, graph_, data, kind, body)
        task = _new_task(state, "add_episode", [(item.readiness, lambda: graph_.reads)])
        return JSONResponse(
            {
                "episode": _episode_view(state, graph_, item),
                "task": _task_json(state, task, v4=True),
            },
            status_code=202,
        )

    async def list_edges(request: Request) -> Response:
        graph_ = graph(request)
        graph_.reads += 1
        edges = _order(request, _visible_edges(state, graph_), ("created_at", "uuid"))
        return JSONResponse(_page(request, edges))

    async def search_edges(request: Request) -> Response:
        graph_ = graph(request)
        body = _object_body(await read_json(request))
        query = optional_str(body, "query")
        if not query:
            raise V4Error(400, "bad_request", "query is required", "query")
        graph_.reads += 1
        return JSONResponse(_page(request, _ranked_edges(state, graph_, query), total=False))

    async def graph_context(request: Request) -> Response:
        graph_ = graph(request)
        body = _object_body(await read_json(request))
        query = optional_str(body, "query")
        if not query:
            raise V4Error(400, "bad_request", "query is required", "query")
        graph_.reads += 1
        edges = _ranked_edges(state, graph_, query)
        out: dict[str, Any] = {"context": _facts_block(edges), "truncated": False}
        if body.get("include_results") is True:
            out["results"] = {"edges": edges}
        return JSONResponse(out)

    async def get_task(request: Request) -> Response:
        task_uuid = _uuid_param(request, "task_uuid")
        task = state.zep.threads.tasks.get(task_uuid)
        if task is None:
            raise V4Error(404, "not_found", f"task {task_uuid} not found", "task_uuid")
        return JSONResponse(_task_json(state, task, v4=True))

    async def lookup_batch(request: Request) -> Response:
        body = _object_body(await read_json(request))
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
                if kind == "user" and legacy in state.zep.users:
                    uuid_ = state.zep.users[legacy]["uuid"]
                elif kind == "thread" and legacy in state.zep.sessions:
                    uuid_ = state.zep.sessions[legacy].record["uuid"]
                item: dict[str, Any] = {
                    "legacy_id": legacy,
                    "resource_type": kind,
                    "found": uuid_ is not None,
                }
                if uuid_ is not None:
                    item["uuid"] = uuid_
                items.append(item)
        return JSONResponse({"items": items})

    return guarded_routes(
        guarded,
        [
            ("POST", "/users", create_user),
            ("POST", "/users/list", list_users),
            ("POST", "/users/lookup", lookup("user", user_for, _v4_user)),
            ("GET", "/users/{user_uuid}", get_user),
            ("PATCH", "/users/{user_uuid}", update_user),
            ("DELETE", "/users/{user_uuid}", delete_user),
            ("GET", "/users/{user_uuid}/node", user_node),
            ("GET", "/users/{user_uuid}/summary-instructions", get_instructions),
            ("PUT", "/users/{user_uuid}/summary-instructions", set_instructions),
            ("POST", "/threads", create_thread),
            ("GET", "/threads", list_threads),
            ("POST", "/threads/lookup", lookup("thread", thread_for, _v4_thread)),
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
        ],
    )


def v2_service_router(shared: SharedState, store: ZepStore) -> ProviderRouter:
    """The ``/api/v2`` service: v3 thread routes beside the v2 session routes of :mod:`.zep`."""
    return ProviderRouter(
        v3_routes(shared, store) + zep_v2.routes(shared, store),
        not_found=lambda request: _v3_error(404, "not found"),
        method_not_allowed=lambda request: _v3_error(405, "method not allowed"),
    )


def v4_router(shared: SharedState, store: ZepStore) -> ProviderRouter:
    """The ``/api/v4`` service; every miss answers in v4's error envelope."""

    def not_found(request: Request) -> Response:
        return V4Error(404, "not_found", f"no route {request.method} {request.url.path}").response()

    def not_allowed(request: Request) -> Response:
        message = f"{request.method} is not allowed on {request.url.path}"
        return V4Error(405, "method_not_allowed", message).response()

    return ProviderRouter(
        v4_routes(shared, store), not_found=not_found, method_not_allowed=not_allowed
    )


# ---------------------------------------------------------------- control API


class EdgeSeed(SeedFields):
    fact: str


class EdgesBody(StrictBody):
    edges: list[str | EdgeSeed] = Field(min_length=1)


def control_routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """Seeding for threads, mounted under ``/_emulator/zep``; ``{ref}`` is a thread id or uuid.

    ``POST /threads/{ref}/edges {"edges": ["fact" | {"fact", "name"?, "rating"?, "valid_at"?,
    "invalid_at"?}]}`` adds facts to the thread owner's graph (a rating becomes the edge's
    ``score``); ``POST /threads/{ref}/context {"context"}`` and ``/summary {"summary"}`` set what
    the thread answers. Each is stamped with the processing policy, counted in reads of that thread.
    """
    state = _ZepView(shared, store)

    def find(ref: str) -> ZepSession:
        return must_exist(
            store.sessions.get(ref) or _thread_by_uuid(store, ref),
            f"zep thread {ref!r} does not exist; create it first (POST /zep/api/v2/threads "
            "or POST /zep/api/v4/threads)",
        )

    @control_endpoint(EdgesBody, "zep edges")
    async def add_edges(request: Request, body: EdgesBody) -> Response:
        with shared.lock:
            graph = _thread_graph(state, find(request.path_params["ref"]))
            if graph is None:
                raise ControlError("that thread has no user, so no graph to add edges to", 409)
            readiness = store.processing.stamp(shared.clock.peek(), graph.reads)
            created = []
            for seed in body.edges:
                edge = seed if isinstance(seed, EdgeSeed) else EdgeSeed(fact=seed)
                created.append(
                    _new_edge(
                        state,
                        graph,
                        edge.fact,
                        name=edge.name,
                        valid_at=edge.valid_at,
                        invalid_at=edge.invalid_at,
                        rating=edge.rating,
                        readiness=readiness,
                    )
                )
            return JSONResponse({"edges": created}, status_code=201)

    return [
        Route("/threads/{ref}/edges", add_edges, methods=["POST"]),
        *zep_v2.seeding_routes(shared, store, "/threads/{ref}", find, answer_payload=False),
    ]
