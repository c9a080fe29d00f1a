"""Meibel v2 agent sessions (``/v2``; meibel SDK 2.0.x speaks the same).

Quirks handled here:

* ``GET /sessions/{id}/messages`` has no pagination: one response holds everything.
* Message items carry an open ``type`` string (no published enum). It is mapped with
  :meth:`Role.parse` and kept verbatim in ``Message.kind``; unknown values are never
  dropped. Every field except ``type`` may be null.
* Messages cannot be written directly: they come from chatting with an agent
  (``POST /sessions/{id}/chat``), so :meth:`add_messages` sends each user message as a chat.
* There is no memory endpoint and no way to delete a session.
* Validation errors are FastAPI's ``422 {"detail": [{"loc", "msg", "type"}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Message, Role, Session
from pytest_sessionmem.providers.base import (
    AgentChatAdapter,
    MessagePage,
    NewSession,
    WireModel,
    aware,
    field_path,
    json_or_text,
    require_id,
    unsupported,
)
from pytest_sessionmem.providers.operation import ErrorInfo, Operation

NAME = "meibel"


class MeibelMessageItem(WireModel):
    type: str
    timestamp: datetime | None = None
    message: str | None = None
    signal_id: str | None = None
    tool_id: str | None = None
    tool_name: str | None = None
    arguments: dict[str, Any] | None = None
    result: str | None = None


class MeibelSessionAgent(WireModel):
    """Which agent (and version) a session belongs to; both session reads carry it."""

    agent_id: str | None = None
    agent_name: str | None = None
    version: str | None = None


class MeibelMessages(MeibelSessionAgent):
    messages: list[MeibelMessageItem]


class MeibelSessionDetails(MeibelSessionAgent):
    status: str | None = None


class MeibelCreated(WireModel):
    session_id: str


class MeibelChatReply(WireModel):
    signal_id: str | None = None
    assistant_response: str | None = None


class MeibelProvider(AgentChatAdapter):
    """Adapter for Meibel v2. Auth: ``Meibel-API-Key: <key>`` (``MEIBEL_API_KEY``)."""

    name = NAME
    no_users_hint = "sessions belong to agents"
    accepts = "meibel only accepts"

    def _post_turn(self, session_id: str, message: Message) -> httpx.Request:
        # Each turn is a chat, so the agent answers it.
        return self._chat_request(session_id, message.content, {})

    def _chat_request(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> httpx.Request:
        return self._post(
            self._url("sessions", session_id, "chat"), {"user_message": content, **fields}
        )

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, text = json_or_text(response)
        if not isinstance(data, dict):
            return ErrorInfo(message=text.strip()[:300] or None, detail=data)
        detail = data.get("detail")
        if isinstance(detail, list):
            readable = "; ".join(
                f"{field_path(item.get('loc') or ())}: {item.get('msg')}"
                if isinstance(item, dict)
                else str(item)
                for item in detail
            )
            return ErrorInfo(message=readable or None, detail=detail)
        for key in ("message", "error", "detail"):
            if isinstance(data.get(key), str):
                return ErrorInfo(message=data[key], detail=data)
        return ErrorInfo(message=None, detail=data)

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Operation[Session]:
        require_id(session_id, "session_id")
        response = yield httpx.Request("GET", self._url("sessions", session_id))
        wire, data = self._read(MeibelSessionDetails, response)
        return Session(
            id=session_id, provider=NAME, agent_id=wire.agent_id, status=wire.status, raw=data
        )

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        # page_size is ignored: the endpoint returns the whole session at once.
        require_id(session_id, "session_id")
        response = yield httpx.Request("GET", self._url("sessions", session_id, "messages"))
        wire, data = self._read(MeibelMessages, response)
        messages = tuple(
            _message(m, raw) for m, raw in zip(wire.messages, data["messages"], strict=True)
        )
        return MessagePage(messages=messages, next_cursor=None)

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        if new.session_id is not None or new.user_id is not None or new.metadata is not None:
            raise ConfigError(
                "meibel creates the session id itself and has no user_id or metadata; pass "
                "agent_id= plus optional body fields (prompt=, initial_context=, ...)"
            )
        agent = require_id(new.agent_id, "agent_id")
        response = yield self._post(self._url("agents", agent, "sessions"), dict(new.fields))
        created, data = self._read(MeibelCreated, response)
        return Session(id=created.session_id, provider=NAME, agent_id=agent, raw=data)

    def send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Operation[Message]:
        """Chat with the agent; returns the agent's reply (full response in ``raw``)."""
        require_id(session_id, "session_id")
        response = yield self._chat_request(session_id, content, fields)
        reply, data = self._read(MeibelChatReply, response)
        return Message(
            role=Role.ASSISTANT,
            content=reply.assistant_response or "",
            kind="assistant_response",
            metadata={"signal_id": reply.signal_id} if reply.signal_id else {},
            raw=data,
        )

    def delete_session(self, session_id: str) -> Operation[None]:
        return unsupported(
            "meibel has no endpoint to delete a session; create a new session per test instead"
        )


def _message(wire: MeibelMessageItem, raw: dict[str, Any]) -> Message:
    metadata = {"signal_id": wire.signal_id} if wire.signal_id else {}
    return Message(
        role=Role.parse(wire.type),
        content=wire.message or "",
        kind=wire.type,
        created_at=aware(wire.timestamp),
        metadata=metadata,
        tool_id=wire.tool_id,
        tool_name=wire.tool_name,
        arguments=wire.arguments,
        result=wire.result,
        raw=raw,
    )
