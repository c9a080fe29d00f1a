"""The Zep part of the control API, mounted under ``/_emulator/zep``: what tests seed.

Sessions (by id)::

    POST   /sessions/{id}/facts   {"facts": ["text" | {"content", "name"?, "rating"?, ...}]}
    POST   /sessions/{id}/context {"context": "..."}    POST /sessions/{id}/summary {"summary"}
    POST   /answers               {"method", "session_id"?, "user_id"?, "response"}
    DELETE /answers               the stand-ins answer again
    POST   /processing            {"after_reads": N, "after_seconds": S}, either, both, or {}

Threads (by thread id or uuid)::

    POST   /threads/{ref}/edges   {"edges": ["fact" | {"fact", "name"?, "rating"?, "valid_at"?,
                                   "invalid_at"?}]}: facts in the owner's graph (a rating becomes
                                   the edge's ``score``)
    POST   /threads/{ref}/context {"context"}   POST /threads/{ref}/summary {"summary"}

Context and summary replace what ``GET /memory`` (or the thread) shows; facts and edges are
appended. Everything seeded is stamped with the processing policy, counted in reads of that
session or thread (edges: of the user's graph).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._http import ControlError, StrictBody, control_endpoint, must_exist
from ..core import MAX_DELAY_SECONDS, SharedState, isoformat_z
from .standins import MODEL_METHODS
from .store import (
    ProcessingPolicy,
    Stamped,
    Zep,
    ZepSession,
    ZepStore,
    fact_payload,
    new_edge,
    thread_by_uuid,
    thread_graph,
)

__all__ = ["control_routes"]


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


class EdgeSeed(SeedFields):
    fact: str


class EdgesBody(StrictBody):
    edges: list[str | EdgeSeed] = Field(min_length=1)


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


def control_routes(shared: SharedState, store: ZepStore) -> list[BaseRoute]:
    """Seeding for sessions and threads, in the order they are matched."""
    zep = Zep(shared, store)
    return _session_routes(zep) + _thread_routes(zep)


def _session_routes(zep: Zep) -> list[BaseRoute]:
    shared, store = zep.shared, zep.store

    def find(session_id: str) -> ZepSession:
        return must_exist(
            store.sessions.get(session_id),
            f"zep session {session_id!r} does not exist; create it first with "
            "POST /zep/api/v2/sessions",
        )

    @control_endpoint(FactsBody, "zep facts")
    async def add_facts(request: Request, body: FactsBody) -> Response:
        with shared.lock:
            session = find(request.path_params["ref"])
            readiness = store.processing.stamp(shared.clock.peek(), session.reads)
            created: list[dict[str, Any]] = []
            for seed in body.facts:
                fact = seed if isinstance(seed, FactSeed) else FactSeed(content=seed)
                payload = fact_payload(zep, fact.content, **fact.model_dump(exclude={"content"}))
                session.facts.append(Stamped(payload, readiness))
                created.append(payload)
            return JSONResponse({"facts": created}, status_code=201)

    @control_endpoint(ProcessingBody, "zep processing")
    async def set_processing(request: Request, body: ProcessingBody) -> Response:
        with shared.lock:
            store.processing = ProcessingPolicy(body.after_reads, body.after_seconds)
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
        with shared.lock:
            store.answers[(body.method, key)] = body.response
        return JSONResponse({"method": body.method, "key": key}, status_code=201)

    async def clear_answers(request: Request) -> Response:
        with shared.lock:
            count = len(store.answers)
            store.answers.clear()
        return JSONResponse({"cleared": count})

    return [
        Route("/answers", seed_answer, methods=["POST"]),
        Route("/answers", clear_answers, methods=["DELETE"]),
        Route("/sessions/{ref}/facts", add_facts, methods=["POST"]),
        *_context_and_summary(zep, "/sessions/{ref}", find, answer_payload=True),
        Route("/processing", set_processing, methods=["POST"]),
    ]


def _thread_routes(zep: Zep) -> list[BaseRoute]:
    shared, store = zep.shared, zep.store

    def find(ref: str) -> ZepSession:
        return must_exist(
            store.sessions.get(ref) or thread_by_uuid(store, ref),
            f"zep thread {ref!r} does not exist; create it first (POST /zep/api/v2/threads "
            "or POST /zep/api/v4/threads)",
        )

    @control_endpoint(EdgesBody, "zep edges")
    async def add_edges(request: Request, body: EdgesBody) -> Response:
        with shared.lock:
            graph = thread_graph(zep, find(request.path_params["ref"]))
            if graph is None:
                raise ControlError("that thread has no user, so no graph to add edges to", 409)
            readiness = store.processing.stamp(shared.clock.peek(), graph.reads)
            created = []
            for seed in body.edges:
                edge = seed if isinstance(seed, EdgeSeed) else EdgeSeed(fact=seed)
                created.append(
                    new_edge(
                        zep,
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
        *_context_and_summary(zep, "/threads/{ref}", find, answer_payload=False),
    ]


def _context_and_summary(
    zep: Zep, path: str, find: Callable[[str], ZepSession], *, answer_payload: bool
) -> list[BaseRoute]:
    """``POST <path>/context`` and ``<path>/summary``: what a session (or thread) will answer.

    ``find`` resolves the ``{ref}`` in ``path`` (raising :class:`ControlError`). The summary
    call answers the stored summary (``answer_payload``) or the text it was given.
    """
    shared, store = zep.shared, zep.store

    @control_endpoint(ContextBody, "zep context")
    async def set_context(request: Request, body: ContextBody) -> Response:
        with shared.lock:
            session = find(request.path_params["ref"])
            readiness = store.processing.stamp(shared.clock.peek(), session.reads)
            session.context = Stamped({"context": body.context}, readiness)
            return JSONResponse({"context": body.context})

    @control_endpoint(SummaryBody, "zep summary")
    async def set_summary(request: Request, body: SummaryBody) -> Response:
        with shared.lock:
            session = find(request.path_params["ref"])
            readiness = store.processing.stamp(shared.clock.peek(), session.reads)
            payload = {
                "uuid": shared.ids.uuid4(),
                "content": body.summary,
                "created_at": isoformat_z(shared.clock.now()),
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
