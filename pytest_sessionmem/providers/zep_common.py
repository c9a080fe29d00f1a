"""What all three Zep generations (``zep``, ``zep-v3``, ``zep-v4``) share.

Sessions (v2) and threads (v3, v4) are one service underneath: the same user endpoint,
the same ``{"message": "..."}`` error body, message writes in batches of at most 30, no
chat endpoint, and messages and facts that keep their ids, times and metadata under the
same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from pytest_sessionmem.models import Fact, Message, Role, Session
from pytest_sessionmem.providers.base import (
    AdapterBase,
    MessagePage,
    WireModel,
    aware,
    json_object,
    json_or_text,
    post_in_batches,
    require_id,
    unsupported,
)
from pytest_sessionmem.providers.operation import ErrorInfo, Operation

__all__ = [
    "MAX_MESSAGES_PER_WRITE",
    "ZepAdapter",
    "ZepFactFields",
    "ZepMessageFields",
    "zep_fact",
    "zep_message",
]

MAX_MESSAGES_PER_WRITE = 30  # the server rejects larger batches


class ZepMessageFields(WireModel):
    """A message's fields that every generation names alike (the role fields differ)."""

    uuid: str | None = None
    created_at: datetime | None = None
    metadata: dict[str, Any] | None = None


class ZepFactFields(WireModel):
    """A fact's fields that v2's ``relevant_facts`` and the threads' graph edges share."""

    uuid: str | None = None
    fact: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None


def zep_message(
    wire: ZepMessageFields, *, kind: str | None, content: str, name: str | None, raw: dict[str, Any]
) -> Message:
    """A message as every generation maps it; ``kind`` is its role field, named per generation."""
    return Message(
        id=wire.uuid,
        role=Role.parse(kind),
        content=content,
        # Zep answers an empty name for a message written without one: that is no name.
        name=name or None,
        kind=kind,
        created_at=aware(wire.created_at),
        metadata=wire.metadata or {},
        raw=raw,
    )


def zep_fact(
    wire: ZepFactFields, *, uuid: str, content: str, rating: float | None, raw: dict[str, Any]
) -> Fact:
    """A fact as every generation maps it; they differ in where content and rating come from."""
    return Fact(
        id=uuid,
        content=content,
        created_at=aware(wire.created_at),
        name=wire.name,
        rating=rating,
        valid_at=aware(wire.valid_at),
        invalid_at=aware(wire.invalid_at),
        raw=raw,
    )


class ZepAdapter(AdapterBase):
    """The calls every Zep generation answers the same way.

    A subclass says what its API calls a conversation's id (``id_name``, as in its error
    messages) and the path its conversations live under (``collection``), how it reads a
    conversation's answer (:meth:`_read_session`) and a page of messages
    (:meth:`_page_messages`), and how one of its messages is written (:meth:`_messages_url`,
    :meth:`_wire_message`). Where a generation's API differs (v3 has no
    ``GET /threads/{id}``, v4 pages with cursors), it overrides the call.
    """

    id_name: str
    collection: str
    """The path segment a conversation's URL starts with: ``sessions`` or ``threads``."""

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, text = json_or_text(response)
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return ErrorInfo(message=data["message"], detail=data)
        return ErrorInfo(message=text.strip()[:300] or None, detail=data)

    def _read_session(self, response: httpx.Response, *, fallback: str) -> Session:
        """A conversation as an answer describes it; ``fallback`` is its id if the answer has none."""
        raise NotImplementedError

    def _page_messages(self, response: httpx.Response) -> tuple[Message, ...]:
        """The messages of one page, in the order they came."""
        raise NotImplementedError

    def _messages_url(self, session_id: str) -> str:
        """Where a conversation's messages are written."""
        raise NotImplementedError

    def _wire_message(self, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def get_session(self, session_id: str) -> Operation[Session]:
        require_id(session_id, self.id_name)
        response = yield httpx.Request("GET", self._url(self.collection, session_id))
        return self._read_session(response, fallback=session_id)

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        """One page of an oldest-first list whose ``cursor`` is a page number from 1."""
        require_id(session_id, self.id_name)
        page = cursor if isinstance(cursor, int) else 1
        response = yield httpx.Request(
            "GET",
            self._url(self.collection, session_id, "messages"),
            params={"limit": page_size, "cursor": page},
        )
        messages = self._page_messages(response)
        # A full page may have a successor; an empty or short one is the end. So is a page
        # longer than asked for: that server ignores ``limit`` and sends the whole list each
        # time, and asking for the next page would never end.
        next_page = page + 1 if len(messages) == page_size else None
        return MessagePage(messages=messages, next_cursor=next_page)

    def add_user(self, user_id: str, fields: Mapping[str, Any]) -> Operation[dict[str, Any]]:
        """Create a user; in v4 the answer's ``uuid`` is its address."""
        body = {"user_id": require_id(user_id, "user_id"), **fields}
        response = yield self._post(self._url("users"), body)
        return json_object(response, self.name)

    def add_messages(
        self, session_id: str, messages: Sequence[Message]
    ) -> Operation[list[dict[str, Any]]]:
        require_id(session_id, self.id_name)
        wire = [self._wire_message(m) for m in messages]
        return (
            yield from post_in_batches(
                self._messages_url(session_id),
                wire,
                batch=MAX_MESSAGES_PER_WRITE,
                provider=self.name,
            )
        )

    def send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Operation[Message]:
        return unsupported(
            f"{self.name} has no chat endpoint; store turns with "
            f"add_messages({self.id_name}, messages)"
        )
