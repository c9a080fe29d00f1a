"""ElizaOS server (>= 1.5) messaging sessions, under ``/api/messaging/sessions``.

Quirks handled here:

* ``GET .../messages`` pages **newest first**. ``limit`` is 1..100 (the server clamps;
  we clamp too, so the stop rule below uses the real page size). Paging walks
  ``before`` with **integer epoch milliseconds**: the server runs ``parseInt`` on it,
  so an ISO string would be silently misread as a tiny number.
* ``hasMore`` is just ``count == limit``: a short page is the last one, and an exactly
  full last page is followed by one empty page (which has no ``cursors``).
* ``before`` is strict (``createdAt < before``), so two messages sharing a millisecond
  across a page boundary would lose one. We ask for ``before = oldest + 1`` and drop
  ids already seen; if a page brings nothing new we fall back to the strict cursor, so
  paging always moves on.
* The ``POST .../messages`` answer changed shape across versions: flat (1.5, 1.6),
  ``{success, userMessage, sessionStatus}`` (1.7.0), the same with a snake_case
  ``userMessage`` whose ``created_at`` is epoch ms (1.7.2). All are accepted.
* Error bodies come in three envelopes: ``{"error": {code, message, details}}``,
  ``{"success": false, "error": ...}`` and the auth middleware's
  ``{"error": "API key required", "message": ...}``. ``SESSION_EXPIRED`` is a 410,
  returned once; later reads of that session answer 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import httpx
from pydantic import AliasChoices, Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Message, Role, Session, trusted_message_builder
from pytest_sessionmem.providers.base import (
    AgentChatAdapter,
    MessagePage,
    NewSession,
    WireModel,
    aware,
    json_or_text,
    require_id,
)
from pytest_sessionmem.providers.operation import ErrorInfo, Operation

NAME = "eliza"
MAX_PAGE_SIZE = 100
MAX_CONTENT_CHARS = 4000  # the server rejects longer message content with a 400
_SESSION_FIELDS = frozenset({"timeout_config"})


def _wire(*names: str) -> Any:
    # The camelCase name the server sends, and the snake_case one (pydantic's populate_by_name).
    return Field(validation_alias=AliasChoices(*names))


class ElizaMessage(TypedDict):
    """One stored message of ``GET .../messages`` (keys as validated: snake_case)."""

    id: str
    content: str
    author_id: NotRequired[Annotated[str | None, _wire("authorId", "author_id")]]
    is_agent: NotRequired[Annotated[bool, _wire("isAgent", "is_agent")]]
    created_at: NotRequired[Annotated[datetime | None, _wire("createdAt", "created_at")]]
    metadata: NotRequired[dict[str, Any] | None]


class ElizaCursors(TypedDict):
    before: int
    after: NotRequired[int | None]


class ElizaMessageList(TypedDict):
    """A page of messages. Validated in one pydantic call into plain dicts, from which the
    neutral :class:`Message` objects are assembled without a second validation."""

    messages: list[ElizaMessage]
    has_more: NotRequired[Annotated[bool | None, _wire("hasMore", "has_more")]]
    cursors: NotRequired[ElizaCursors | None]


_MESSAGE_LIST: TypeAdapter[ElizaMessageList] | None = None


def _message_list_adapter() -> TypeAdapter[ElizaMessageList]:
    global _MESSAGE_LIST
    if _MESSAGE_LIST is None:  # built on first use: importing the adapter stays cheap
        _MESSAGE_LIST = TypeAdapter(ElizaMessageList)
    return _MESSAGE_LIST


class ElizaSessionInfo(WireModel):
    session_id: str = Field(alias="sessionId")
    agent_id: str | None = Field(default=None, alias="agentId")
    user_id: str | None = Field(default=None, alias="userId")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    expires_at: datetime | None = Field(default=None, alias="expiresAt")
    metadata: dict[str, Any] | None = None


class ElizaPostedMessage(WireModel):
    """A stored user message, camelCase (1.5-1.7.0) or snake_case (1.7.2)."""

    id: str | None = None
    content: str | None = None
    author_id: str | None = Field(default=None, alias="authorId")
    author_id_snake: str | None = Field(default=None, alias="author_id")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    # 1.7.2 sends epoch milliseconds here; pydantic reads large numbers as ms.
    created_at_snake: datetime | None = Field(default=None, alias="created_at")
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class ElizaCursor:
    """Where the next page starts: ``before`` in epoch ms, plus the ids of the page just read."""

    before: int
    seen: frozenset[str]


class ElizaProvider(AgentChatAdapter):
    """Adapter for the ElizaOS server. Auth: ``X-API-KEY``, only when a token is set."""

    name = NAME
    newest_first = True
    no_users_hint = "pass user_id= to create_session"
    accepts = "eliza sessions only accept"

    def _url(self, *segments: str) -> str:
        return super()._url("api", "messaging", "sessions", *segments)

    def _post_turn(self, session_id: str, message: Message) -> httpx.Request:
        body: dict[str, Any] = {"content": message.content}
        if message.metadata:
            body["metadata"] = dict(message.metadata)
        return self._post(self._url(session_id, "messages"), body)

    def _check_turn(self, index: int, message: Message) -> None:
        super()._check_turn(index, message)
        if not 1 <= len(message.content) <= MAX_CONTENT_CHARS:
            raise ConfigError(
                f"messages[{index}].content has {len(message.content)} characters; eliza accepts "
                f"1 to {MAX_CONTENT_CHARS}"
            )

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, text = json_or_text(response)
        if not isinstance(data, dict):
            return ErrorInfo(message=text.strip()[:300] or None, detail=data)
        error = data.get("error")
        if isinstance(error, dict):  # {"error": {code, message, timestamp, details}}
            code = error.get("code")
            return ErrorInfo(
                message=str(error.get("message") or code or "") or None,
                detail=error.get("details"),
                code=code if isinstance(code, str) else None,
            )
        if isinstance(error, str):  # auth middleware, {"success": false, ...}, 1.4 servers
            extra = data.get("message")
            message = f"{error}: {extra}" if isinstance(extra, str) else error
            return ErrorInfo(message=message, detail=data.get("details"))
        return ErrorInfo(message=None, detail=data)

    def _read_session(self, response: httpx.Response) -> Session:
        """A session as a read or a create answers it."""
        wire, data = self._read(ElizaSessionInfo, response)
        return Session(
            id=wire.session_id,
            provider=NAME,
            user_id=wire.user_id,
            agent_id=wire.agent_id,
            created_at=aware(wire.created_at),
            expires_at=aware(wire.expires_at),
            metadata=wire.metadata or {},
            raw=data,
        )

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Operation[Session]:
        require_id(session_id, "session_id")
        response = yield httpx.Request("GET", self._url(session_id))
        return self._read_session(response)

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        require_id(session_id, "session_id")
        limit = min(page_size, MAX_PAGE_SIZE)
        previous = cursor if isinstance(cursor, ElizaCursor) else None
        params: dict[str, int] = {"limit": limit}
        if previous is not None:
            params["before"] = previous.before
        response = yield httpx.Request("GET", self._url(session_id, "messages"), params=params)
        data = self._json(response)
        if not isinstance(data, dict):
            # Worded as it always was, when this was a pydantic model of that name.
            raise self._payload_error(
                response,
                "(body): Input should be a valid dictionary or instance of ElizaMessageList",
            )
        wire = self._parse(_message_list_adapter(), data, response)
        seen = previous.seen if previous else frozenset()
        fresh = tuple(
            _message(m, raw)
            for m, raw in zip(wire["messages"], data["messages"], strict=True)
            if m["id"] not in seen
        )
        cursors = wire.get("cursors")
        if len(wire["messages"]) < limit or cursors is None:
            return MessagePage(messages=fresh, next_cursor=None)
        oldest = cursors["before"]
        before = oldest + 1 if fresh else oldest
        if previous is not None and before >= previous.before:
            before = oldest  # no progress with the overlap: step past the tie instead
            if before >= previous.before:
                return MessagePage(messages=fresh, next_cursor=None)
        # Only this page's messages can come back on the next one: the next request asks for
        # ``createdAt <= oldest`` (or ``< oldest``), and every earlier page is strictly newer
        # than this page's oldest message. So the set stays one page long, however many
        # pages the session has.
        seen = frozenset(m["id"] for m in wire["messages"])
        return MessagePage(messages=fresh, next_cursor=ElizaCursor(before=before, seen=seen))

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        if new.session_id is not None:
            raise ConfigError("eliza creates the session id itself; pass agent_id= and user_id=")
        unknown = sorted(set(new.fields) - _SESSION_FIELDS)
        if unknown:
            raise ConfigError(
                f"eliza create_session got unknown fields {unknown}; it accepts agent_id, "
                "user_id, metadata and timeout_config"
            )
        body: dict[str, Any] = {
            "agentId": require_id(new.agent_id, "agent_id"),
            "userId": require_id(new.user_id, "user_id"),
        }
        if new.metadata is not None:
            body["metadata"] = dict(new.metadata)
        if new.fields.get("timeout_config") is not None:
            body["timeoutConfig"] = dict(new.fields["timeout_config"])
        response = yield self._post(self._url(), body)
        return self._read_session(response)

    def send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Operation[Message]:
        """Post a user message; returns it as stored (whatever the server version's shape)."""
        require_id(session_id, "session_id")
        self._check_turn(0, Message(role=Role.USER, content=content))
        response = yield self._post(
            self._url(session_id, "messages"), {"content": content, **fields}
        )
        data = self._json(response)
        if not isinstance(data, dict):
            raise self._payload_error(response, "expected a JSON object")
        stored = data.get("userMessage", data)
        wire = self._parse(ElizaPostedMessage, stored, response)
        return Message(
            id=wire.id,
            role=Role.USER,
            content=wire.content if wire.content is not None else content,
            name=wire.author_id or wire.author_id_snake,
            kind="user",
            created_at=aware(wire.created_at or wire.created_at_snake),
            metadata=wire.metadata or {},
            raw=data,
        )

    def delete_session(self, session_id: str) -> Operation[None]:
        require_id(session_id, "session_id")
        yield httpx.Request("DELETE", self._url(session_id))
        return None


_eliza_message = trusted_message_builder(
    "id", "role", "content", "name", "kind", "created_at", "metadata", "raw"
)
_ASSISTANT, _USER = Role.ASSISTANT, Role.USER


def _message(wire: ElizaMessage, raw: dict[str, Any]) -> Message:
    # Every value was validated with the page; ``raw`` is copied as pydantic would copy it.
    agent = wire.get("is_agent", False)
    return _eliza_message(
        id=wire["id"],
        role=_ASSISTANT if agent else _USER,
        content=wire["content"],
        name=wire.get("author_id"),
        kind="agent" if agent else "user",
        created_at=aware(wire.get("created_at")),
        metadata=wire.get("metadata") or {},
        raw=dict(raw),
    )
