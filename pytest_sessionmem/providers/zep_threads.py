"""What the two Zep thread generations (``zep-v3``, ``zep-v4``) share: models, mappings, memory.

Zep renamed sessions to threads in its v3 API and swapped two message fields: v2's
``role_type`` (the enum) became ``role``, and v2's ``role`` (the speaker's name) became
``name``. Both thread generations keep that shape. A user's facts live in the user's graph as
*edges*; :meth:`ThreadAdapter._edge_facts` turns them into
:class:`~pytest_sessionmem.models.Fact` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Fact, Memory, Message, Role, Session, Transcript
from pytest_sessionmem.providers.base import WireModel, require_id
from pytest_sessionmem.providers.operation import ACCEPT_STATUS_EXTENSION, Operation
from pytest_sessionmem.providers.zep_common import (
    ZepAdapter,
    ZepFactFields,
    ZepMessageFields,
    zep_fact,
    zep_message,
)

__all__ = [
    "DEFAULT_MEMORY_MESSAGES",
    "ThreadAdapter",
    "ThreadFields",
    "ThreadMessage",
    "WireEdge",
    "thread_messages",
    "wire_message",
]

DEFAULT_MEMORY_MESSAGES = 6  # as many recent messages as v2's GET /memory returns


class ThreadMessage(ZepMessageFields):
    """A message as both thread generations send it (3.x requires role and content)."""

    content: str | None = None
    role: str | None = None
    name: str | None = None
    processed: bool | None = None


class WireEdge(ZepFactFields):
    """A graph edge: one fact about the user."""

    score: float | None = None


class ThreadFields(WireModel):
    """A thread's own fields in both generations (each adds how it names the thread's user)."""

    uuid: str | None = None
    thread_id: str | None = None
    created_at: datetime | None = None


class ThreadContext(WireModel):
    context: str | None = None


class ThreadSummary(WireModel):
    summary: str | None = None


class ThreadAdapter(ZepAdapter):
    """What the two thread generations do alike: memory, writes, deletes.

    ``time_field`` names where a written message's time goes. Memory is read in one order
    (last messages, context, summary, facts); a subclass says how it reads its last
    messages (:meth:`_last_messages`) and its facts (:meth:`_facts`).
    """

    time_field: str
    collection = "threads"

    def get_memory(
        self, session_id: str, *, last_n: int | None, min_rating: float | None
    ) -> Operation[Memory]:
        require_id(session_id, self.id_name)
        raw: dict[str, Any] = {}
        count = last_n or DEFAULT_MEMORY_MESSAGES
        messages, graph = yield from self._last_messages(session_id, count, raw)
        context, summary = yield from self._context_and_summary(session_id, raw)
        facts = yield from self._facts(graph, raw, min_rating=min_rating)
        return Memory(
            context=context,
            facts=facts,
            summary=summary,
            messages=Transcript(messages=messages, session_id=session_id, provider=self.name),
            raw=raw,
        )

    def _last_messages(
        self, session_id: str, count: int, raw: dict[str, Any]
    ) -> Operation[tuple[tuple[Message, ...], str | None]]:
        """The thread's last ``count`` messages, oldest first, and whose graph holds its facts."""
        raise NotImplementedError

    def _facts(
        self, graph: str | None, raw: dict[str, Any], *, min_rating: float | None
    ) -> Operation[tuple[Fact, ...]]:
        raise NotImplementedError

    def _edge_page(
        self, graph: str, cursor: str | None, raw_edges: list[Any]
    ) -> Operation[tuple[list[tuple[WireEdge, dict[str, Any]]], httpx.Response, str | None]]:
        """One request for a graph's edges: the edges (each also appended to ``raw_edges``),
        the response, and the cursor of the next page (``None`` after the last)."""
        raise NotImplementedError

    def graph_of(self, session: Session) -> str | None:
        """Whose graph holds the thread's facts: its user's (zep-v4 names the graph itself)."""
        return session.user_id

    # -- one request each, for reading a recorded exchange the way a memory read does ------

    def read_context(
        self, session_id: str, raw: dict[str, Any] | None = None
    ) -> Operation[str | None]:
        """The thread's context, ``None`` until Zep has made one (its body goes in ``raw``)."""
        response = yield httpx.Request("GET", self._url(self.collection, session_id, "context"))
        wire_context, body = self._read(ThreadContext, response)
        if raw is not None:
            raw["context"] = body
        return wire_context.context or None

    def read_summary(
        self, session_id: str, raw: dict[str, Any] | None = None
    ) -> Operation[str | None]:
        """The thread's summary; its 404 means "none yet" and reads as ``None``."""
        response = yield accept_missing(
            httpx.Request("GET", self._url(self.collection, session_id, "summary"))
        )
        if response.status_code >= 400:
            return None
        wire_summary, body = self._read(ThreadSummary, response)
        if raw is not None:
            raw["summary"] = body
        return wire_summary.summary

    def graph_facts(
        self, graph: str, *, cursor: str | None = None
    ) -> Operation[tuple[tuple[Fact, ...], str | None]]:
        """One request's worth of a graph's facts (its edges), and the next page's cursor."""
        edges, response, next_cursor = yield from self._edge_page(graph, cursor, [])
        return self._edge_facts(edges, response, min_rating=None), next_cursor

    def _messages_url(self, session_id: str) -> str:
        return self._url(self.collection, session_id, "messages")

    def _wire_message(self, message: Message) -> dict[str, Any]:
        return wire_message(message, provider=self.name, time_field=self.time_field)

    def _context_and_summary(
        self, session_id: str, raw: dict[str, Any]
    ) -> Operation[tuple[str | None, str | None]]:
        """The thread's context and summary (``None`` until Zep has made one); bodies go in ``raw``."""
        context = yield from self.read_context(session_id, raw)
        summary = yield from self.read_summary(session_id, raw)
        return context, summary

    def delete_session(self, session_id: str) -> Operation[None]:
        require_id(session_id, self.id_name)
        yield httpx.Request("DELETE", self._url(self.collection, session_id))
        return None

    def _check_no_agent(self, agent_id: str | None) -> None:
        if agent_id is not None:
            raise ConfigError(f"{self.name} threads have no agent_id; pass user_id=")

    def _edges(
        self, items: Sequence[dict[str, Any]], response: httpx.Response
    ) -> list[tuple[WireEdge, dict[str, Any]]]:
        """Graph edges as they came, each validated and kept with its raw form."""
        return [(self._parse(WireEdge, item, response), item) for item in items]

    def _edge_facts(
        self,
        edges: Sequence[tuple[WireEdge, dict[str, Any]]],
        response: httpx.Response,
        *,
        min_rating: float | None,
    ) -> tuple[Fact, ...]:
        """Edges as facts: ``content`` is the edge's fact, ``rating`` its score (when it has one)."""
        facts: list[Fact] = []
        for index, (edge, raw) in enumerate(edges):
            if edge.fact is None or edge.uuid is None:
                missing = "fact" if edge.fact is None else "uuid"
                raise self._payload_error(response, f"edges[{index}].{missing}: field required")
            # An unrated fact cannot be said to reach a threshold (as for v2's minRating).
            if min_rating is not None and (edge.score is None or edge.score < min_rating):
                continue
            facts.append(
                zep_fact(edge, uuid=edge.uuid, content=edge.fact, rating=edge.score, raw=raw)
            )
        return tuple(facts)


def thread_messages(
    wires: Sequence[ThreadMessage], raws: Sequence[dict[str, Any]]
) -> tuple[Message, ...]:
    """Messages as both thread generations map them, each with its raw form."""
    return tuple(
        zep_message(m, kind=m.role, content=m.content or "", name=m.name, raw=raw)
        for m, raw in zip(wires, raws, strict=True)
    )


def wire_message(message: Message, *, provider: str, time_field: str) -> dict[str, Any]:
    """A neutral message as a thread API takes it; ``time_field`` names where its time goes."""
    if provider == "zep-v4" and message.role is Role.NOROLE:
        raise ConfigError(
            "zep-v4 has no 'norole' role: give every message one of "
            "user, assistant, system, tool, function"
        )
    wire: dict[str, Any] = {"role": message.role.value, "content": message.content}
    if message.name:
        wire["name"] = message.name
    if message.metadata:
        wire["metadata"] = dict(message.metadata)
    if message.created_at is not None:
        wire[time_field] = message.created_at.isoformat()
    return wire


def accept_missing(request: httpx.Request) -> httpx.Request:
    """Mark a read whose 404 means "none yet" (a thread summary), not an error."""
    request.extensions[ACCEPT_STATUS_EXTENSION] = frozenset({404})
    return request
