"""What the two Zep thread generations (``zep-v3``, ``zep-v4``) share: wire models and mappings.

Zep renamed sessions to threads in its v3 API and swapped two message fields: v2's
``role_type`` (the enum) became ``role``, and v2's ``role`` (the speaker's name) became
``name``. Both thread generations keep that shape. A user's facts live in the user's graph as
*edges*; :func:`edge_facts` turns them into :class:`~pytest_sessionmem.models.Fact` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Fact, Message, Role
from pytest_sessionmem.providers.base import WireModel, aware, payload_error
from pytest_sessionmem.providers.operation import ACCEPT_STATUS_EXTENSION

__all__ = [
    "DEFAULT_MEMORY_MESSAGES",
    "MAX_MESSAGES_PER_WRITE",
    "ThreadMessage",
    "WireEdge",
    "accept_missing",
    "edge_facts",
    "thread_message",
    "wire_message",
]

MAX_MESSAGES_PER_WRITE = 30  # Zep's documented limit per add_messages call
DEFAULT_MEMORY_MESSAGES = 6  # as many recent messages as v2's GET /memory returns


class ThreadMessage(WireModel):
    """A message as both thread generations send it (3.x requires role and content)."""

    content: str | None = None
    role: str | None = None
    name: str | None = None
    uuid: str | None = None
    created_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    processed: bool | None = None


class WireEdge(WireModel):
    """A graph edge: one fact about the user."""

    uuid: str | None = None
    fact: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    score: float | None = None


def thread_message(wire: ThreadMessage, raw: dict[str, Any]) -> Message:
    return Message(
        id=wire.uuid,
        role=Role.parse(wire.role),
        content=wire.content or "",
        name=wire.name or None,
        kind=wire.role,
        created_at=aware(wire.created_at),
        metadata=wire.metadata or {},
        raw=raw,
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


def edge_facts(
    edges: Sequence[tuple[WireEdge, dict[str, Any]]],
    response: httpx.Response,
    provider: str,
    *,
    min_rating: float | None,
) -> tuple[Fact, ...]:
    """Edges as facts: ``content`` is the edge's fact, ``rating`` its score (when it has one)."""
    facts: list[Fact] = []
    for index, (edge, raw) in enumerate(edges):
        if edge.fact is None or edge.uuid is None:
            missing = "fact" if edge.fact is None else "uuid"
            raise payload_error(response, provider, f"edges[{index}].{missing}: field required")
        # An unrated fact cannot be said to reach a threshold (as for v2's minRating).
        if min_rating is not None and (edge.score is None or edge.score < min_rating):
            continue
        facts.append(
            Fact(
                id=edge.uuid,
                content=edge.fact,
                created_at=aware(edge.created_at),
                name=edge.name,
                rating=edge.score,
                valid_at=aware(edge.valid_at),
                invalid_at=aware(edge.invalid_at),
                raw=raw,
            )
        )
    return tuple(facts)


def accept_missing(request: httpx.Request) -> httpx.Request:
    """Mark a read whose 404 means "none yet" (a thread summary), not an error."""
    request.extensions[ACCEPT_STATUS_EXTENSION] = frozenset({404})
    return request


def check_no_agent(agent_id: str | None, provider: str) -> None:
    if agent_id is not None:
        raise ConfigError(f"{provider} threads have no agent_id; pass user_id=")
