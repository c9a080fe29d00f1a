"""How stored Zep objects are shown, as each generation's JSON.

Messages are stored once, in the v2 shape (``role_type`` = the enum, ``role`` = the speaker):
v2 shows them as stored, v3 and v4 as ``role`` = the enum and ``name`` = the speaker. A v3 id
is a legacy id (``thread_id``, ``task_id``); v4 names everything by ``uuid``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .rules import V4_ROLES, visible_summary
from .store import (
    Graph,
    Stamped,
    Task,
    Zep,
    ZepSession,
    derived_uuid,
    graph_of,
    owner,
    thread_graph,
)

__all__ = [
    "USER_FIELDS",
    "graph_episode",
    "message_bytes",
    "message_json",
    "render",
    "v2_node",
    "v2_search_hit",
    "v3_episode",
    "v3_message",
    "v3_summary",
    "v3_task",
    "v3_thread",
    "v4_episode",
    "v4_error",
    "v4_error_body",
    "v4_message",
    "v4_summary",
    "v4_task",
    "v4_thread",
    "v4_user",
]

USER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "metadata",
    "time_zone",
    "disable_default_ontology",
)


def render(value: Any) -> bytes:
    """JSON exactly as starlette's ``JSONResponse`` writes it."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def _processed(zep: Zep, item: Stamped, session: ZepSession) -> bool:
    return item.readiness.reached(zep.clock.peek(), session.reads)


# ---------------------------------------------------------------- v2


def message_json(item: Stamped, now: datetime, reads: int) -> dict[str, Any]:
    """A v2 message: as stored, and whether it is processed yet."""
    return {**item.payload, "processed": item.readiness.reached(now, reads)}


def message_bytes(item: Stamped, now: datetime, reads: int) -> bytes:
    """``render(message_json(item, now, reads))``, rendered once per item and flag."""
    processed = item.readiness.reached(now, reads)
    rendered = item.rendered.get(processed)
    if rendered is None:
        rendered = item.rendered[processed] = render(message_json(item, now, reads))
    return rendered


def v2_node(user: dict[str, Any], summary: str) -> dict[str, Any]:
    """A v2 user's graph node; ``summary`` is what is known of the user."""
    return {
        "node": {
            "uuid": user["uuid"],
            "name": user["user_id"],
            "summary": summary,
            "labels": ["Entity", "User"],
            "attributes": {},
            "created_at": user["created_at"],
        }
    }


def v2_search_hit(score: float, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One result of a v2 session search: a fact by its uuid and text, else the item."""
    if kind == "fact":
        return {
            "score": score,
            "metadata": {"fact_uuid": payload["uuid"], "fact": payload["content"]},
        }
    return {"score": score, kind: payload, "metadata": {}}


# ---------------------------------------------------------------- messages and threads


def v3_message(zep: Zep, item: Stamped, session: ZepSession) -> dict[str, Any]:
    p = item.payload
    out: dict[str, Any] = {
        "uuid": p["uuid"],
        "created_at": p["created_at"],
        "updated_at": p.get("updated_at", p["created_at"]),
        "role": p.get("role_type") or "norole",
        "content": p.get("content", ""),
        "metadata": p.get("metadata") or {},
        "processed": _processed(zep, item, session),
    }
    if p.get("role"):
        out["name"] = p["role"]
    return out


def v4_message(zep: Zep, item: Stamped, session: ZepSession) -> dict[str, Any]:
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
        processed=_processed(zep, item, session),
    )
    return out


def v3_thread(zep: Zep, session: ZepSession) -> dict[str, Any]:
    found = owner(zep.store, session)
    out = {
        "uuid": session.record["uuid"],
        "thread_id": session.record.get("session_id"),
        "user_id": session.record.get("user_id"),
        "created_at": session.record.get("created_at"),
    }
    if found is not None:
        out["user_uuid"] = found["uuid"]
        out["graph_uuid"] = graph_of(zep, found).uuid
    return out


def v4_thread(zep: Zep, session: ZepSession) -> dict[str, Any]:
    found = owner(zep.store, session)
    out: dict[str, Any] = {"uuid": session.record["uuid"]}
    if session.record.get("session_id"):
        out["thread_id"] = session.record["session_id"]
    if found is not None:
        out["user_uuid"] = found["uuid"]
        out["graph_uuid"] = graph_of(zep, found).uuid
    out["created_at"] = session.record.get("created_at")
    out["updated_at"] = session.record.get("updated_at", session.record.get("created_at"))
    return out


def v4_user(zep: Zep, user: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"uuid": user["uuid"]}
    if user.get("user_id"):
        out["user_id"] = user["user_id"]
    out.update({k: user[k] for k in USER_FIELDS if user.get(k) is not None})
    out["graph_uuid"] = graph_of(zep, user).uuid
    out["created_at"] = user.get("created_at")
    return out


# ---------------------------------------------------------------- summaries and episodes


def _summary(payload: dict[str, Any], where: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": payload["uuid"],
        **where,
        "summary": payload["content"],
        "created_at": payload["created_at"],
        "last_summarized_at": payload["created_at"],
    }


def v3_summary(zep: Zep, session: ZepSession) -> dict[str, Any] | None:
    """The thread's summary once processed; None before."""
    payload = visible_summary(session, zep.clock.peek())
    if payload is None:
        return None
    return _summary(payload, {"thread_id": session.record.get("session_id")})


def v4_summary(zep: Zep, session: ZepSession) -> dict[str, Any] | None:
    """The thread's summary once processed; None before."""
    payload = visible_summary(session, zep.clock.peek())
    if payload is None:
        return None
    where: dict[str, Any] = {"thread_uuid": session.record["uuid"]}
    graph = thread_graph(zep, session)
    if graph is not None:
        where["graph_uuid"] = graph.uuid
    return _summary(payload, where)


def _episode(zep: Zep, item: Stamped, session: ZepSession) -> dict[str, Any]:
    """What a message's episode says in every generation."""
    p = item.payload
    speaker = p.get("role") or p.get("role_type") or "norole"
    return {
        "uuid": derived_uuid(p["uuid"]),
        "content": f"{speaker}: {p.get('content', '')}",
        "created_at": p["created_at"],
        "processed": _processed(zep, item, session),
        "source": "message",
    }


def v3_episode(zep: Zep, item: Stamped, session: ZepSession) -> dict[str, Any]:
    p = item.payload
    return {
        **_episode(zep, item, session),
        "role": p.get("role") or None,
        "thread_id": session.record.get("session_id"),
        "role_type": p.get("role_type"),
    }


def v4_episode(zep: Zep, item: Stamped, session: ZepSession) -> dict[str, Any]:
    p = item.payload
    return {
        **_episode(zep, item, session),
        "thread_uuid": session.record["uuid"],
        "role_name": p.get("role") or None,
        "reference_time": p.get("reference_time") or p["created_at"],
    }


def graph_episode(zep: Zep, graph: Graph, item: Stamped) -> dict[str, Any]:
    """An episode added to a graph directly (not a thread's message)."""
    return {**item.payload, "processed": item.readiness.reached(zep.clock.peek(), graph.reads)}


# ---------------------------------------------------------------- tasks and errors


def v4_task(zep: Zep, task: Task) -> dict[str, Any]:
    record = dict(task.record)
    status = task.status(zep.clock.peek())
    record["status"] = status
    if status == "succeeded":
        record["completed_at"] = record["created_at"]
    return record


def v3_task(zep: Zep, task: Task) -> dict[str, Any]:
    record = v4_task(zep, task)
    record["task_id"] = record.pop("uuid")
    return record


def v4_error(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """v4's error envelope."""
    body: dict[str, Any] = {"code": code, "message": message}
    if param is not None:
        body["param"] = param
    return {"error": body}


def v4_error_body(status: int, message: str) -> dict[str, Any]:
    """The v4 envelope for an answer made outside a handler (an injected fault)."""
    code = {400: "bad_request", 401: "unauthorized", 404: "not_found", 409: "conflict"}
    return v4_error(code.get(status, "server_error" if status >= 500 else "error"), message)
