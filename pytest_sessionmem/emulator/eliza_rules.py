"""The ElizaOS sessions API's rules (server 1.7.2), free of HTTP: timeouts, expiry, paging, shapes.

Everything here mirrors ``@elizaos/server`` 1.7.2 (``src/api/messaging/sessions.ts``) and the
message store of ``@elizaos/plugin-sql`` 1.7.2, including the quirks clients trip over:

* pages are newest first; ``before``/``after`` are epoch milliseconds compared strictly;
* an ``after``-only page keeps the *oldest* ``limit`` of the messages newer than ``after``, drawn
  from the newest ``min(1000, limit * 20)`` only;
* ``hasMore`` is simply ``count == limit``; ``cursors`` appears only on a non-empty page;
* an expired session answers 410 once (and is deleted), then 404.

Timestamps: the real store serialises writes, and in practice consecutive messages never share a
millisecond. The emulator guarantees it: each message in a channel is at least 1 ms newer than the
one before, so paging by cursor never loses a message to a tie.
"""

from __future__ import annotations

import bisect
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .core import Store, isoformat_z, to_epoch_ms
from .eliza_js import (
    js_dumps,
    js_number,
    js_spread,
    js_truthy,
    json_number,
    string_to_uuid,
)

__all__ = [
    "DEFAULT_AGENT_NAME",
    "MESSAGE_SERVER_ID",
    "ElizaAgent",
    "ElizaApiError",
    "ElizaMessage",
    "ElizaSession",
    "ElizaState",
    "agent_reply_metadata",
    "bus_message",
    "channel_metadata_for",
    "expiration",
    "merge_timeout_config",
    "message_json",
    "message_view",
    "page_messages",
    "page_messages_json",
    "render_json",
    "renew",
    "session_info",
    "should_warn",
]

DEFAULT_AGENT_NAME = "Eliza"
DEFAULT_AGENT_BIO = "An agent of the sessionmem emulator"
# The server's fixed message-server id (``serverInstance.messageServerId``).
MESSAGE_SERVER_ID = "00000000-0000-0000-0000-000000000000"

# Server-wide settings at their 1.7.2 defaults (env SESSION_*_MINUTES unset).
DEFAULT_TIMEOUT_MINUTES = 30
MIN_TIMEOUT_MINUTES = 5
MAX_TIMEOUT_MINUTES = 1440
DEFAULT_MAX_DURATION_MINUTES = 720
DEFAULT_WARNING_THRESHOLD_MINUTES = 5

MAX_CONTENT_LENGTH = 4000
MAX_METADATA_SIZE = 1024 * 10
DEFAULT_LIMIT = 50
MAX_LIMIT = 100

_MINUTE_MS = 60_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ElizaApiError(Exception):
    """An error the sessions API answers as ``{"error": {code, message, timestamp, details?}}``.

    ``kind`` is the server's error class name; the emulator writes it into a short ``stack``
    string so the body has the same keys as the real one (whose stack holds file paths).
    """

    def __init__(
        self, status: int, code: str, message: str, kind: str, details: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind
        self.details = details

    def body(self, now: datetime) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "timestamp": isoformat_z(now),
        }
        if self.details is not None:
            error["details"] = self.details
        error["stack"] = f"{self.kind}: {self.message}\n    at sessionmem-emulator"
        return {"error": error}

    @classmethod
    def session_not_found(cls, session_id: str) -> ElizaApiError:
        return cls(
            404,
            "SESSION_NOT_FOUND",
            f"Session with ID '{session_id}' not found",
            "SessionNotFoundError",
        )

    @classmethod
    def session_expired(cls, session_id: str, expired_at: datetime) -> ElizaApiError:
        message = f"Session '{session_id}' expired at {isoformat_z(expired_at)}"
        return cls(410, "SESSION_EXPIRED", message, "SessionExpiredError")

    @classmethod
    def agent_not_found(cls, agent_id: str) -> ElizaApiError:
        return cls(
            404, "AGENT_NOT_FOUND", f"Agent with ID '{agent_id}' not found", "AgentNotFoundError"
        )

    @classmethod
    def validation(cls, message: str, kind: str, details: Any = None) -> ElizaApiError:
        return cls(400, "VALIDATION_ERROR", message, kind, details)

    @classmethod
    def invalid_content(cls, reason: str) -> ElizaApiError:
        return cls.validation(
            f"Invalid content: {reason}", "InvalidContentError", {"reason": reason}
        )


@dataclass(frozen=True)
class ElizaAgent:
    id: str
    name: str
    bio: tuple[str, ...] = (DEFAULT_AGENT_BIO,)
    # When the agent row was written (epoch ms): the default agent dates from the emulator's
    # deterministic start, agents added through the control API from the emulator clock.
    created_ms: int = 1735689600000

    @classmethod
    def named(cls, name: str, **extra: Any) -> ElizaAgent:
        """An agent with the id the real server derives from its character name."""
        return cls(id=string_to_uuid(name), name=name, **extra)

    def listing(self) -> dict[str, Any]:
        """One entry of ``GET /api/agents`` (every emulated agent is running)."""
        return {
            "id": self.id,
            "name": self.name,
            "characterName": self.name,
            "bio": self.bio[0] if self.bio else "",
            "status": "active",
        }

    def details(self) -> dict[str, Any]:
        """``GET /api/agents/{id}``: the stored character plus its status.

        The real server's ``settings.secrets`` holds the server's environment, encrypted; the
        emulator has no secrets to show.
        """
        return {
            "id": self.id,
            "enabled": True,
            "server_id": None,
            "createdAt": self.created_ms,
            "updatedAt": self.created_ms,
            "name": self.name,
            "username": "",
            "bio": list(self.bio),
            "messageExamples": [],
            "postExamples": [],
            "topics": [],
            "adjectives": [],
            "knowledge": [],
            "plugins": [],
            "settings": {"secrets": {}},
            "style": {},
            "status": "active",
        }


@dataclass(slots=True)
class ElizaMessage:
    """One stored message, as the server's message table holds it."""

    id: str
    channel_id: str
    author_id: str
    content: str
    created_ms: int
    source_type: str  # "user" or "agent_response"
    raw_message: dict[str, Any]
    metadata: dict[str, Any]
    # The GET messages JSON of this message, rendered on its first read (see message_json);
    # a stored message never changes, so it never goes stale.
    rendered: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class ElizaSession:
    id: str
    channel_id: str
    agent_id: str
    user_id: str
    metadata: Any
    created_at: datetime
    last_activity: datetime
    expires_at: datetime
    timeout_config: dict[str, Any]
    renewal_count: int = 0
    warning_sent: bool = False


@dataclass
class _Channel:
    """Messages oldest first, with their timestamps in a parallel list for bisecting."""

    metadata: dict[str, Any]
    messages: list[ElizaMessage] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)


def _default_agents() -> dict[str, ElizaAgent]:
    agent = ElizaAgent.named(DEFAULT_AGENT_NAME)
    return {agent.id: agent}


@dataclass
class ElizaState(Store):
    """Everything the ElizaOS emulation remembers.

    Sessions live apart from channels, as on the real server: deleting or expiring a session
    forgets the session, while its channel's messages stay stored.
    """

    agents: dict[str, ElizaAgent] = field(default_factory=_default_agents)
    sessions: dict[str, ElizaSession] = field(default_factory=dict)
    channels: dict[str, _Channel] = field(default_factory=dict)
    # Text the agent answers every user message with (None: the agent stays silent, like a real
    # server without a model provider).
    auto_reply: str | None = None
    started_monotonic: float = field(default_factory=time.monotonic)

    def add_channel(self, channel_id: str, metadata: dict[str, Any]) -> None:
        self.channels[channel_id] = _Channel(metadata=metadata)

    def channel_metadata(self, channel_id: str) -> dict[str, Any]:
        return self.channels[channel_id].metadata

    def store_message(
        self,
        *,
        message_id: str,
        channel_id: str,
        author_id: str,
        content: str,
        now_ms: int,
        source_type: str,
        raw_message: dict[str, Any],
        metadata: dict[str, Any],
    ) -> ElizaMessage:
        channel = self.channels[channel_id]
        created_ms = max(now_ms, channel.stamps[-1] + 1) if channel.stamps else now_ms
        message = ElizaMessage(
            id=message_id,
            channel_id=channel_id,
            author_id=author_id,
            content=content,
            created_ms=created_ms,
            source_type=source_type,
            raw_message=raw_message,
            metadata=metadata,
        )
        channel.messages.append(message)
        channel.stamps.append(created_ms)
        return message

    def newest(
        self, channel_id: str, limit: int, before_ms: int | None = None
    ) -> list[ElizaMessage]:
        """Up to ``limit`` messages older than ``before_ms``, newest first (the store query)."""
        channel = self.channels[channel_id]
        end = len(channel.stamps)
        if before_ms is not None:
            end = bisect.bisect_left(channel.stamps, before_ms)
        start = max(0, end - limit)
        return channel.messages[start:end][::-1]


def merge_timeout_config(requested: Any) -> dict[str, Any]:
    """``mergeTimeoutConfigs``: server defaults overridden (and clamped) by the session's config.

    Nothing here is rejected: unparsable numbers fall back to the defaults, and out-of-range
    timeouts are clamped, just as the server does when a session is created.
    """
    merged: dict[str, Any] = {
        "timeoutMinutes": DEFAULT_TIMEOUT_MINUTES,
        "autoRenew": True,
        "maxDurationMinutes": DEFAULT_MAX_DURATION_MINUTES,
        "warningThresholdMinutes": DEFAULT_WARNING_THRESHOLD_MINUTES,
    }
    if not isinstance(requested, dict):
        return merged
    if "timeoutMinutes" in requested:
        value = js_number(requested["timeoutMinutes"])
        merged["timeoutMinutes"] = (
            json_number(max(MIN_TIMEOUT_MINUTES, min(MAX_TIMEOUT_MINUTES, value)))
            if math.isfinite(value)
            else DEFAULT_TIMEOUT_MINUTES
        )
    if "autoRenew" in requested:
        merged["autoRenew"] = requested["autoRenew"]
    if "maxDurationMinutes" in requested:
        value = js_number(requested["maxDurationMinutes"])
        merged["maxDurationMinutes"] = (
            json_number(max(merged["timeoutMinutes"], min(MAX_TIMEOUT_MINUTES * 2, value)))
            if math.isfinite(value)
            else DEFAULT_MAX_DURATION_MINUTES
        )
    if "warningThresholdMinutes" in requested:
        value = js_number(requested["warningThresholdMinutes"])
        merged["warningThresholdMinutes"] = (
            json_number(max(1, value))
            if math.isfinite(value)
            else DEFAULT_WARNING_THRESHOLD_MINUTES
        )
    return merged


def _minutes_ms(config: dict[str, Any], key: str, default: int) -> int:
    # `config.x || DEFAULT` in the server: 0 and missing both mean the default.
    minutes = config.get(key) or default
    return int(float(minutes) * _MINUTE_MS)


def expiration(session: ElizaSession, now: datetime) -> datetime:
    """``calculateExpirationDate``: idle timeout from the last activity, capped by max duration."""
    config = session.timeout_config
    base = session.last_activity if js_truthy(config.get("autoRenew")) else session.created_at
    timeout = timedelta(milliseconds=_minutes_ms(config, "timeoutMinutes", DEFAULT_TIMEOUT_MINUTES))
    if config.get("maxDurationMinutes"):
        max_duration = timedelta(
            milliseconds=_minutes_ms(config, "maxDurationMinutes", DEFAULT_MAX_DURATION_MINUTES)
        )
        if (now - session.created_at) + timeout > max_duration:
            return session.created_at + max_duration
    return base + timeout


def renew(session: ElizaSession, now: datetime) -> bool:
    """``renewSession``: only with autoRenew, and never past the maximum duration."""
    if not js_truthy(session.timeout_config.get("autoRenew")):
        return False
    max_ms = _minutes_ms(session.timeout_config, "maxDurationMinutes", DEFAULT_MAX_DURATION_MINUTES)
    if now - session.created_at >= timedelta(milliseconds=max_ms):
        return False
    session.last_activity = now
    session.renewal_count += 1
    session.expires_at = expiration(session, now)
    session.warning_sent = False
    return True


def _warning_ms(session: ElizaSession) -> int:
    return _minutes_ms(
        session.timeout_config, "warningThresholdMinutes", DEFAULT_WARNING_THRESHOLD_MINUTES
    )


def should_warn(session: ElizaSession, now: datetime) -> bool:
    """``shouldWarnAboutExpiration``: near expiry and no warning recorded yet."""
    if session.warning_sent:
        return False
    remaining = to_epoch_ms(session.expires_at) - to_epoch_ms(now)
    return 0 < remaining <= _warning_ms(session)


def session_info(session: ElizaSession, now: datetime) -> dict[str, Any]:
    """The SessionInfo body of GET/renew/heartbeat/PATCH and of the session list."""
    remaining = max(0, to_epoch_ms(session.expires_at) - to_epoch_ms(now))
    return {
        "sessionId": session.id,
        "channelId": session.channel_id,
        "agentId": session.agent_id,
        "userId": session.user_id,
        "createdAt": isoformat_z(session.created_at),
        "lastActivity": isoformat_z(session.last_activity),
        "metadata": session.metadata,
        "expiresAt": isoformat_z(session.expires_at),
        "timeoutConfig": session.timeout_config,
        "renewalCount": session.renewal_count,
        "timeRemaining": remaining,
        "isNearExpiration": 0 < remaining <= _warning_ms(session),
    }


def message_view(message: ElizaMessage) -> dict[str, Any]:
    """One item of GET messages.

    ``thought``/``actions`` come from the raw message and *replace* same-named metadata keys,
    so a user message whose metadata has ``thought`` loses it on read, as on the real server.
    """
    metadata: dict[str, Any] = {}
    for key in ("thought", "actions"):
        if message.raw_message.get(key) is not None:
            metadata[key] = message.raw_message[key]
    metadata.update(
        (key, value) for key, value in message.metadata.items() if key not in ("thought", "actions")
    )
    return {
        "id": message.id,
        "content": message.content,
        "authorId": message.author_id,
        "isAgent": message.source_type == "agent_response",
        "createdAt": isoformat_z(_from_ms(message.created_ms)),
        "metadata": metadata,
    }


def bus_message(message: ElizaMessage) -> dict[str, Any]:
    """The snake_case ``userMessage`` of a POST message response (the internal bus format)."""
    return {
        "id": message.id,
        "channel_id": message.channel_id,
        "message_server_id": MESSAGE_SERVER_ID,
        "author_id": message.author_id,
        "content": message.content,
        "created_at": message.created_ms,
        "source_type": message.source_type,
        "raw_message": message.raw_message,
        "metadata": message.metadata,
    }


def agent_reply_metadata(agent: ElizaAgent) -> dict[str, Any]:
    """What the real agent pipeline stores with a reply in a session channel."""
    return {"isDm": False, "agent_id": agent.id, "agentName": agent.name, "channelType": "GROUP"}


def _picked(
    state: ElizaState, channel_id: str, limit: int, before: int | None, after: int | None
) -> list[ElizaMessage]:
    if after is not None and before is not None:
        candidates = state.newest(channel_id, min(500, limit * 10), before)
        return [m for m in candidates if after < m.created_ms < before][:limit]
    if after is not None:
        recent = state.newest(channel_id, min(1000, limit * 20))
        newer = [m for m in recent if m.created_ms > after]
        # More than a page newer than `after`: the page closest to `after`, so that walking
        # forward with `after=cursors.after` skips nothing.
        return newer[-limit:] if len(newer) > limit else newer
    return state.newest(channel_id, limit, before)


def page_messages(
    state: ElizaState, channel_id: str, limit: int, before: int | None, after: int | None
) -> dict[str, Any]:
    """The GET messages body for already-parsed ``limit``/``before``/``after``."""
    picked = _picked(state, channel_id, limit, before, after)
    body: dict[str, Any] = {
        "messages": [message_view(m) for m in picked],
        "hasMore": len(picked) == limit,
    }
    if picked:
        body["cursors"] = {"before": picked[-1].created_ms, "after": picked[0].created_ms}
    return body


def render_json(value: Any) -> bytes:
    """JSON exactly as the routes' response writes it (``JSON.stringify``, UTF-8)."""
    return js_dumps(value).encode("utf-8")


def message_json(message: ElizaMessage) -> bytes:
    """``render_json(message_view(message))``, rendered once per message."""
    if message.rendered is None:
        message.rendered = render_json(message_view(message))
    return message.rendered


def page_messages_json(
    state: ElizaState, channel_id: str, limit: int, before: int | None, after: int | None
) -> bytes:
    """``render_json(page_messages(...))``, joined from each message's cached JSON.

    A page read costs one join instead of building and serialising a hundred message dicts.
    """
    picked = _picked(state, channel_id, limit, before, after)
    parts = [
        b'{"messages":[',
        b",".join([message_json(m) for m in picked]),
        b'],"hasMore":',
        b"true" if len(picked) == limit else b"false",
    ]
    if picked:
        parts.append(
            b',"cursors":{"before":%d,"after":%d}' % (picked[-1].created_ms, picked[0].created_ms)
        )
    parts.append(b"}")
    return b"".join(parts)


def channel_metadata_for(
    session_id: str, agent_id: str, user_id: str, config: dict[str, Any], metadata: Any
) -> dict[str, Any]:
    """The channel's metadata, copied into every user message sent through the session."""
    return {
        "sessionId": session_id,
        "agentId": agent_id,
        "userId": user_id,
        "timeoutConfig": dict(config),
        **js_spread(metadata),
    }


def _from_ms(epoch_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=epoch_ms)
