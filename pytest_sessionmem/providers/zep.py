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

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Fact, Memory, Message, Role, Session, Transcript
from pytest_sessionmem.providers.base import (
    AdapterBase,
    MessagePage,
    NewSession,
    WireModel,
    aware,
    decode_json,
    join_url,
    json_object,
    json_or_text,
    parse_wire,
    payload_error,
    post_in_batches,
    require_id,
    unsupported,
)
from pytest_sessionmem.providers.operation import ErrorInfo, Operation

NAME = "zep"
MAX_MESSAGES_PER_WRITE = 30  # the server rejects larger batches


class ZepMessage(WireModel):
    content: str
    role_type: str
    role: str | None = None
    uuid: str | None = None
    created_at: datetime | None = None
    metadata: dict[str, Any] | None = None


class ZepMessageList(WireModel):
    messages: list[ZepMessage] | None = None
    row_count: int | None = None
    total_count: int | None = None


class ZepSession(WireModel):
    session_id: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    ended_at: datetime | None = None
    deleted_at: datetime | None = None
    metadata: dict[str, Any] | None = None


class ZepFact(WireModel):
    uuid: str
    content: str | None = None
    fact: str | None = None
    created_at: datetime | None = None
    name: str | None = None
    rating: float | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None


class ZepSummary(WireModel):
    content: str | None = None


class ZepMemory(WireModel):
    context: str | None = None
    messages: list[ZepMessage] | None = None
    relevant_facts: list[ZepFact] | None = None
    summary: ZepSummary | None = None


class ZepProvider(AdapterBase):
    """Adapter for Zep Cloud v2. Auth: ``Authorization: Api-Key <key>`` (``ZEP_API_KEY``)."""

    name = NAME

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, text = json_or_text(response)
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return ErrorInfo(message=data["message"], detail=data)
        return ErrorInfo(message=text.strip()[:300] or None, detail=data)

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Operation[Session]:
        require_id(session_id, "session_id")
        response = yield httpx.Request("GET", join_url(self.base_url, "sessions", session_id))
        data = decode_json(response, NAME)
        return _session(parse_wire(ZepSession, data, response, NAME), data, fallback_id=session_id)

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        require_id(session_id, "session_id")
        page = cursor if isinstance(cursor, int) else 1
        response = yield httpx.Request(
            "GET",
            join_url(self.base_url, "sessions", session_id, "messages"),
            params={"limit": page_size, "cursor": page},
        )
        data = decode_json(response, NAME)
        wire = parse_wire(ZepMessageList, data, response, NAME)
        items = wire.messages or []
        raws = data.get("messages") or []
        messages = tuple(_message(m, raw) for m, raw in zip(items, raws, strict=True))
        # A full page may have a successor; an empty or short one is the end.
        next_page = page + 1 if len(messages) >= page_size else None
        return MessagePage(messages=messages, next_cursor=next_page)

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
            "GET", join_url(self.base_url, "sessions", session_id, "memory"), params=params
        )
        data = decode_json(response, NAME)
        wire = parse_wire(ZepMemory, data, response, NAME)
        facts = []
        for index, (fact, raw) in enumerate(
            zip(wire.relevant_facts or [], data.get("relevant_facts") or [], strict=True)
        ):
            content = fact.content if fact.content is not None else fact.fact
            if content is None:
                raise payload_error(
                    response, NAME, f"relevant_facts[{index}].content: field required"
                )
            facts.append(
                Fact(
                    id=fact.uuid,
                    content=content,
                    created_at=aware(fact.created_at),
                    name=fact.name,
                    rating=fact.rating,
                    valid_at=aware(fact.valid_at),
                    invalid_at=aware(fact.invalid_at),
                    raw=raw,
                )
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
        response = yield httpx.Request("POST", join_url(self.base_url, "sessions"), json=body)
        data = decode_json(response, NAME)
        wire = parse_wire(ZepSession, data, response, NAME)
        return _session(wire, data, fallback_id=body["session_id"])

    def add_user(self, user_id: str, fields: Mapping[str, Any]) -> Operation[dict[str, Any]]:
        body = {"user_id": require_id(user_id, "user_id"), **fields}
        response = yield httpx.Request("POST", join_url(self.base_url, "users"), json=body)
        return json_object(response, NAME)

    def add_messages(
        self, session_id: str, messages: Sequence[Message]
    ) -> Operation[list[dict[str, Any]]]:
        require_id(session_id, "session_id")
        wire = [_wire_message(m) for m in messages]
        return (
            yield from post_in_batches(
                join_url(self.base_url, "sessions", session_id, "memory"),
                wire,
                batch=MAX_MESSAGES_PER_WRITE,
                provider=NAME,
            )
        )

    def send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Operation[Message]:
        return unsupported(
            "zep has no chat endpoint; store turns with add_messages(session_id, messages)"
        )

    def delete_session(self, session_id: str) -> Operation[None]:
        require_id(session_id, "session_id")
        # Zep v2 has no DELETE /sessions/{id}; this endpoint deletes the session.
        yield httpx.Request("DELETE", join_url(self.base_url, "sessions", session_id, "memory"))
        return None


def _session(wire: ZepSession, raw: dict[str, Any], *, fallback_id: str) -> Session:
    return Session(
        id=wire.session_id or fallback_id,
        provider=NAME,
        user_id=wire.user_id,
        created_at=aware(wire.created_at),
        ended_at=aware(wire.ended_at),
        status="ended" if wire.ended_at else ("deleted" if wire.deleted_at else None),
        metadata=wire.metadata or {},
        raw=raw,
    )


def _message(wire: ZepMessage, raw: dict[str, Any]) -> Message:
    return Message(
        id=wire.uuid,
        role=Role.parse(wire.role_type),
        content=wire.content,
        # Zep answers "role": "" for a message written without a name: that is no name.
        name=wire.role or None,
        kind=wire.role_type,
        created_at=aware(wire.created_at),
        metadata=wire.metadata or {},
        raw=raw,
    )


def _wire_message(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role_type": message.role.value, "content": message.content}
    if message.name:
        wire["role"] = message.name
    if message.metadata:
        wire["metadata"] = dict(message.metadata)
    return wire
