"""Zep Cloud v2 sessions API (``/api/v2``; zep-cloud SDK 2.x speaks the same).

Quirks handled here:

* ``GET /sessions/{id}/messages`` pages with ``limit`` and a **1-based page number**
  ``cursor`` over an oldest-first list. Both are always sent (the server's defaults
  only apply to unparsable values). A page shorter than ``limit`` is the last one; an
  exactly full last page is followed by one empty page. ``total_count`` is 0 on a page
  past the end, so it is never trusted for stopping.
* ``GET /sessions/{id}/memory`` spells its rating filter ``minRating`` (camelCase).
* ``POST /sessions/{id}/memory`` takes at most 30 messages per call, so writes are chunked.
* There is no ``DELETE /sessions/{id}``; deleting a session is ``DELETE /sessions/{id}/memory``.
* Error bodies are ``{"message": "..."}``; a 401 may be plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Memory, Message, Session, Transcript
from pytest_sessionmem.providers.base import NewSession, WireModel, aware, require_id
from pytest_sessionmem.providers.operation import Operation
from pytest_sessionmem.providers.zep_common import (
    ZepAdapter,
    ZepFactFields,
    ZepMessageFields,
    zep_fact,
    zep_message,
)

NAME = "zep"


class ZepMessage(ZepMessageFields):
    content: str
    role_type: str
    role: str | None = None


class ZepMessageList(WireModel):
    # Required, though it may be null: a body without it is no page of messages at all
    # (an error page from a proxy, say), not an empty one.
    messages: list[ZepMessage] | None
    row_count: int | None = None
    total_count: int | None = None


class ZepSession(WireModel):
    session_id: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    ended_at: datetime | None = None
    deleted_at: datetime | None = None
    metadata: dict[str, Any] | None = None


class ZepFact(ZepFactFields):
    uuid: str
    content: str | None = None
    rating: float | None = None


class ZepSummary(WireModel):
    content: str | None = None


class ZepMemory(WireModel):
    context: str | None = None
    messages: list[ZepMessage] | None = None
    relevant_facts: list[ZepFact] | None = None
    summary: ZepSummary | None = None


class ZepProvider(ZepAdapter):
    """Adapter for Zep Cloud v2. Auth: ``Authorization: Api-Key <key>`` (``ZEP_API_KEY``)."""

    name = NAME
    id_name = "session_id"
    collection = "sessions"

    def _messages_url(self, session_id: str) -> str:
        return self._url("sessions", session_id, "memory")

    def _wire_message(self, message: Message) -> dict[str, Any]:
        wire: dict[str, Any] = {"role_type": message.role.value, "content": message.content}
        if message.name:
            wire["role"] = message.name
        if message.metadata:
            wire["metadata"] = dict(message.metadata)
        return wire

    def _read_session(self, response: httpx.Response, *, fallback: str) -> Session:
        wire, data = self._read(ZepSession, response)
        return Session(
            id=wire.session_id or fallback,
            provider=NAME,
            user_id=wire.user_id,
            created_at=aware(wire.created_at),
            ended_at=aware(wire.ended_at),
            status="ended" if wire.ended_at else ("deleted" if wire.deleted_at else None),
            metadata=wire.metadata or {},
            raw=data,
        )

    def _page_messages(self, response: httpx.Response) -> tuple[Message, ...]:
        wire, data = self._read(ZepMessageList, response)
        items = wire.messages or []
        raws = data.get("messages") or []
        return tuple(_message(m, raw) for m, raw in zip(items, raws, strict=True))

    # -- reads ----------------------------------------------------------------------------

    def get_memory(
        self, session_id: str, *, last_n: int | None, min_rating: float | None
    ) -> Operation[Memory]:
        require_id(session_id, "session_id")
        params: dict[str, Any] = {}
        if last_n is not None:
            params["lastn"] = last_n
        if min_rating is not None:
            params["minRating"] = min_rating
        response = yield httpx.Request(
            "GET", self._url("sessions", session_id, "memory"), params=params
        )
        wire, data = self._read(ZepMemory, response)
        facts = []
        for index, (fact, raw) in enumerate(
            zip(wire.relevant_facts or [], data.get("relevant_facts") or [], strict=True)
        ):
            content = fact.content if fact.content is not None else fact.fact
            if content is None:
                raise self._payload_error(
                    response, f"relevant_facts[{index}].content: field required"
                )
            facts.append(
                zep_fact(fact, uuid=fact.uuid, content=content, rating=fact.rating, raw=raw)
            )
        messages = tuple(
            _message(m, raw)
            for m, raw in zip(wire.messages or [], data.get("messages") or [], strict=True)
        )
        return Memory(
            context=wire.context,
            facts=tuple(facts),
            summary=wire.summary.content if wire.summary else None,
            messages=Transcript(messages=messages, session_id=session_id, provider=NAME),
            raw=data,
        )

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        if new.agent_id is not None:
            raise ConfigError("zep sessions have no agent_id; pass session_id= and user_id=")
        body: dict[str, Any] = {
            "session_id": require_id(new.session_id, "session_id"),
            "user_id": require_id(new.user_id, "user_id"),
            **new.fields,
        }
        if new.metadata is not None:
            body["metadata"] = dict(new.metadata)
        response = yield self._post(self._url("sessions"), body)
        return self._read_session(response, fallback=body["session_id"])

    def delete_session(self, session_id: str) -> Operation[None]:
        require_id(session_id, "session_id")
        # Zep v2 has no DELETE /sessions/{id}; this endpoint deletes the session.
        yield httpx.Request("DELETE", self._messages_url(session_id))
        return None


def _message(wire: ZepMessage, raw: dict[str, Any]) -> Message:
    # v2's ``role`` is the speaker's name; ``role_type`` the role.
    return zep_message(wire, kind=wire.role_type, content=wire.content, name=wire.role, raw=raw)
