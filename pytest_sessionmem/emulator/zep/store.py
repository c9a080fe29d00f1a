"""The one Zep store every generation serves, its records, and how they are found and made.

* A v2 session and a v3 thread are **the same object** (``state.zep.sessions``, keyed by the
  session id = thread id). Zep's migration guide presents sessions -> threads as a rename on the
  same ``/api/v2`` service; that they are one object is inferred, not stated by Zep. Messages are
  stored once, in the v2 shape (``role_type`` = the enum, ``role`` = the speaker); the views show
  them in each generation's shape.
* Threads created through v4 have no legacy id (no ``thread_id``): they live in
  ``state.zep.threads.v4`` by UUID only, and v2/v3 cannot address them.
* Users are v2 users (``state.zep.users`` by ``user_id``); a v4 user created without a ``user_id``
  lives in ``state.zep.threads.users`` by UUID. Every user has a graph (``graph_uuid``) holding
  its episodes and edges; the edges are the user's facts.

Everything written is :class:`Stamped` with when it counts as processed (the policy set with
``POST /_emulator/zep/processing``); the state is plain data, free of HTTP.
"""

from __future__ import annotations

import threading
import uuid as uuid_module
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core import Clock, IdFactory, SharedState, Store, isoformat_z

__all__ = [
    "Graph",
    "ProcessingPolicy",
    "Readiness",
    "Stamped",
    "Task",
    "ThreadsState",
    "Zep",
    "ZepSession",
    "ZepStore",
    "all_threads",
    "all_users",
    "derived_uuid",
    "fact_payload",
    "graph_by_uuid",
    "graph_of",
    "new_edge",
    "new_episode",
    "new_row",
    "new_session_row",
    "new_task",
    "note_read",
    "owner",
    "thread_by_uuid",
    "thread_graph",
    "user_by_uuid",
]

_EPISODE_NAMESPACE = uuid_module.UUID("6f1d1c6e-3b7e-4b59-9a37-2f7e0f3c5a10")


# ---------------------------------------------------------------- records


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
    # GET messages JSON of this item, by its ``processed`` flag (see ``views.message_bytes``).
    # Whoever changes ``payload`` clears it.
    rendered: dict[bool, bytes] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ZepSession:
    """A v2 session, which is also a thread (v3, and v4 when it was made there)."""

    record: dict[str, Any]
    messages: list[Stamped] = field(default_factory=list)
    facts: list[Stamped] = field(default_factory=list)
    context: Stamped | None = None
    summary: Stamped | None = None
    reads: int = 0


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
    """What the thread generations add to the store (``state.zep.threads``)."""

    v4: dict[str, ZepSession] = field(default_factory=dict)  # v4-made threads, by uuid
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # v4 users without user_id
    graphs: dict[str, Graph] = field(default_factory=dict)  # by user uuid
    tasks: dict[str, Task] = field(default_factory=dict)
    summary_instructions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class ZepStore(Store):
    """Everything the Zep emulation remembers: v2's users and sessions, plus the threads'."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, ZepSession] = field(default_factory=dict)
    processing: ProcessingPolicy = field(default_factory=ProcessingPolicy)
    # Seeded answers of model-backed methods: (method, session or user id | None) -> body.
    answers: dict[tuple[str, str | None], Any] = field(default_factory=dict)
    next_row_id: int = 1
    threads: ThreadsState = field(default_factory=ThreadsState)

    def row_id(self) -> int:
        value, self.next_row_id = self.next_row_id, self.next_row_id + 1
        return value


@dataclass(frozen=True)
class Zep:
    """The shared state (clock, ids, lock) and the Zep store together: what most rules need."""

    shared: SharedState
    store: ZepStore

    @property
    def clock(self) -> Clock:
        return self.shared.clock

    @property
    def ids(self) -> IdFactory:
        return self.shared.ids

    @property
    def lock(self) -> threading.RLock:
        return self.shared.lock


# ---------------------------------------------------------------- lookups


def all_users(store: ZepStore) -> Iterable[dict[str, Any]]:
    yield from store.users.values()
    yield from store.threads.users.values()


def user_by_uuid(store: ZepStore, user_uuid: str) -> dict[str, Any] | None:
    return next((u for u in all_users(store) if u["uuid"] == user_uuid), None)


def all_threads(store: ZepStore) -> Iterable[ZepSession]:
    yield from store.sessions.values()
    yield from store.threads.v4.values()


def thread_by_uuid(store: ZepStore, thread_uuid: str) -> ZepSession | None:
    found = store.threads.v4.get(thread_uuid)
    if found is not None:
        return found
    return next((s for s in store.sessions.values() if s.record.get("uuid") == thread_uuid), None)


def owner(store: ZepStore, session: ZepSession) -> dict[str, Any] | None:
    if session.record.get("user_uuid"):
        return user_by_uuid(store, session.record["user_uuid"])
    user_id = session.record.get("user_id")
    return store.users.get(user_id) if user_id else None


def graph_of(zep: Zep, user: dict[str, Any]) -> Graph:
    """The user's graph, made on first use (v2-made users have none until then)."""
    threads = zep.store.threads
    graph = threads.graphs.get(user["uuid"])
    if graph is None:
        graph = Graph(uuid=zep.ids.uuid4(), user_uuid=user["uuid"])
        threads.graphs[user["uuid"]] = graph
    return graph


def graph_by_uuid(zep: Zep, graph_uuid: str) -> Graph | None:
    """A graph by its uuid, or by its user's uuid (Zep accepts both for a user graph)."""
    threads = zep.store.threads
    for graph in threads.graphs.values():
        if graph.uuid == graph_uuid:
            return graph
    user = user_by_uuid(zep.store, graph_uuid)
    return graph_of(zep, user) if user is not None else None


def thread_graph(zep: Zep, session: ZepSession) -> Graph | None:
    found = owner(zep.store, session)
    return graph_of(zep, found) if found is not None else None


def note_read(zep: Zep, session: ZepSession) -> None:
    """A read of a thread, which counts as a read of its owner's graph too."""
    session.reads += 1
    graph = thread_graph(zep, session)
    if graph is not None:
        graph.reads += 1


# ---------------------------------------------------------------- new records


def derived_uuid(text: str) -> str:
    """A uuid that ``text`` always maps to (an episode's from its message's, an edge's target)."""
    return str(uuid_module.uuid5(_EPISODE_NAMESPACE, text))


def new_row(zep: Zep, head: dict[str, Any], tail: dict[str, Any]) -> dict[str, Any]:
    """A user or session row as Zep keeps it: its ids, ``head``, the timestamps, ``tail``."""
    now = isoformat_z(zep.clock.now())
    return {
        "uuid": zep.ids.uuid4(),
        "id": zep.store.row_id(),
        **head,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        **tail,
    }


def new_session_row(zep: Zep, session_id: str, user_id: str, metadata: Any) -> dict[str, Any]:
    """A session's row (a v3 thread's too: the same object)."""
    head = {"session_id": session_id, "user_id": user_id}
    return new_row(zep, head, {"ended_at": None, "metadata": metadata})


def fact_payload(zep: Zep, text: str, **extra: Any) -> dict[str, Any]:
    """A v2 fact: seeded, or added with ``POST /sessions/{id}/facts``."""
    return {
        "uuid": zep.ids.uuid4(),
        "content": text,
        "fact": text,
        "created_at": isoformat_z(zep.clock.now()),
        "name": None,
        "rating": None,
        "valid_at": None,
        "invalid_at": None,
        **extra,
    }


def new_task(zep: Zep, kind: str, waits_for: list[tuple[Readiness, Callable[[], int]]]) -> Task:
    now = isoformat_z(zep.clock.now())
    task = Task(
        record={"uuid": zep.ids.uuid4(), "type": kind, "created_at": now, "updated_at": now},
        waits_for=waits_for,
    )
    zep.store.threads.tasks[task.record["uuid"]] = task
    return task


def new_edge(
    zep: Zep,
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
        "uuid": zep.ids.uuid4(),
        "fact": fact,
        "name": name or "RELATES_TO",
        "created_at": isoformat_z(zep.clock.now()),
        "valid_at": valid_at,
        "invalid_at": invalid_at,
        "expired_at": None,
        "source_node_uuid": graph.user_uuid,
        "target_node_uuid": derived_uuid(fact),
        "graph_uuid": graph.uuid,
    }
    if rating is not None:
        payload["score"] = rating
    stamp = readiness or zep.store.processing.stamp(zep.clock.peek(), graph.reads)
    graph.edges.append(Stamped(payload, stamp))
    return payload


def new_episode(zep: Zep, graph: Graph, data: str, kind: str, body: dict[str, Any]) -> Stamped:
    created = isoformat_z(zep.clock.now())
    payload: dict[str, Any] = {
        "uuid": zep.ids.uuid4(),
        "content": data,
        "created_at": created,
        "source": kind,
        "graph_uuid": graph.uuid,
        "user_uuid": graph.user_uuid,
    }
    for key in ("source_description", "metadata", "reference_time"):
        if body.get(key) is not None:
            payload[key] = body[key]
    item = Stamped(payload, zep.store.processing.stamp(zep.clock.peek(), graph.reads))
    graph.episodes.append(item)
    return item
