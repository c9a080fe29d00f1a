"""ElizaOS server (1.7.2) sessions API emulation: ``/eliza/api/messaging/sessions/...``.

Public routes (client base URL ``BASE/eliza``), answered like ``@elizaos/server`` 1.7.2::

    GET    /api/messaging/sessions/health
    POST   /api/messaging/sessions                      201 SessionCreated
    GET    /api/messaging/sessions                      {sessions, total, stats}
    GET    /api/messaging/sessions/{id}                 SessionInfo        (404, 410 once)
    DELETE /api/messaging/sessions/{id}                 {success, message} (404)
    POST   /api/messaging/sessions/{id}/messages        201 {success, userMessage, sessionStatus}
    GET    /api/messaging/sessions/{id}/messages        {messages, hasMore, cursors?}
    POST   /api/messaging/sessions/{id}/renew | /heartbeat,  PATCH .../timeout

With an API key set for ``eliza`` every route needs ``X-API-KEY``. Errors use the server's
``{"error": {code, message, timestamp, details?, stack}}`` envelope; ``stack`` is a short fixed
string rather than a real trace. The rules themselves live in :mod:`.eliza_rules`.

Seeding routes (under ``/_emulator/eliza``; errors ``400/404 {"error": "..."}``)::

    POST /agents                        {"name": "Ava", "id"?: uuid}  -> 201 {"id", "name"}
    GET  /agents                        -> {"agents": [{"id", "name"}]}
    POST /auto-reply                    {"text": "ACK" | null}: the agent answers every user message
    POST /sessions/{id}/agent-messages  {"content", "thought"?, "actions"?, "metadata"?}
                                        -> 201, the message as GET messages lists it; without
                                        "metadata", what the real agent pipeline stores
    POST /sessions/{id}/seed            {"count": N, "template"?: "message {n}", "authors"?:
                                         "user" | "agent" | "alternate"} -> 201 {"count", ...}
    POST /sessions/{id}/expire          the next request for the session answers 410

Without ``/auto-reply`` the agent never answers, like a real server with no model provider.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._http import ControlError, StrictBody, control_endpoint, control_error, must_exist
from ._routing import ProviderRouter
from .core import isoformat_z, to_epoch_ms
from .eliza_http import (
    NO_BODY,
    BodyError,
    content_type_accepted,
    cors_headers,
    parse_json_body,
    preflight,
)
from .eliza_http import ElizaJSONResponse as JSONResponse
from .eliza_js import (
    is_uuid,
    js_dumps,
    js_number,
    js_parse_int,
    js_spread,
    js_truthy,
    js_typeof,
    json_length,
    jsonb_order,
    unstorable_text,
    utf16_length,
)
from .eliza_rules import (
    DEFAULT_LIMIT,
    MAX_CONTENT_LENGTH,
    MAX_LIMIT,
    MAX_METADATA_SIZE,
    MAX_TIMEOUT_MINUTES,
    MESSAGE_SERVER_ID,
    MIN_TIMEOUT_MINUTES,
    ElizaAgent,
    ElizaApiError,
    ElizaMessage,
    ElizaSession,
    ElizaState,
    agent_reply_metadata,
    bus_message,
    channel_metadata_for,
    expiration,
    merge_timeout_config,
    message_view,
    page_messages_json,
    renew,
    session_info,
    should_warn,
)

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .core import SharedState

__all__ = ["ElizaState", "control_routes", "handler", "routes"]

_SESSIONS = "/api/messaging/sessions"
_TRANSPORTS = ("http", "sse", "websocket")
_LEGACY_MODES = {"sync": "http", "stream": "sse", "websocket": "websocket"}
_AUTH_ERROR = {"error": "API key required", "message": "Missing or invalid X-API-KEY header"}
# JavaScript Dates cover +-8.64e15 ms around the epoch; beyond that `new Date(n)` is invalid.
_MAX_DATE_MS = 8.64e15
_CANNED_THOUGHT = "canned reply"

Handler = Callable[[Request], Awaitable[Response]]


def routes(state: SharedState, eliza: ElizaState) -> list[BaseRoute]:
    """Public ElizaOS routes, mounted under ``/eliza``."""

    def api(handler: Handler) -> Handler:
        """The handler, with the sessions API's errors turned into their bodies.

        Body parsing and the key check happen before routing, in :func:`handler`.
        """

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ElizaApiError as error:
                return JSONResponse(error.body(state.clock.peek()), status_code=error.status)

        return guarded

    async def health(request: Request) -> Response:
        with state.lock:
            now = state.clock.peek()
            live = [s for s in eliza.sessions.values() if s.expires_at > now]
            body = {
                "status": "healthy",
                "activeSessions": len(live),
                "timestamp": isoformat_z(now),
                "expiringSoon": sum(should_warn(s, now) for s in live),
                "uptime": _uptime(eliza),
            }
        return JSONResponse(body)

    async def create_session(request: Request) -> Response:
        body = request.state.json_body
        with state.lock:
            return _create_session(state, eliza, body)

    async def list_sessions(request: Request) -> Response:
        with state.lock:
            now = state.clock.peek()
            every = list(eliza.sessions.values())
            live = [session_info(s, now) for s in every if s.expires_at > now]
            body = {
                "sessions": live,
                "total": len(live),
                "stats": {
                    "totalSessions": len(every),
                    "activeSessions": len(live),
                    "expiredSessions": len(every) - len(live),
                },
            }
        return JSONResponse(body)

    async def get_session(request: Request) -> Response:
        with state.lock:
            now = state.clock.peek()
            session = _live_session(eliza, request.path_params["session_id"], now)
            return JSONResponse(session_info(session, now))

    async def delete_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        with state.lock:
            # Deleting works on an expired session too, as long as nothing purged it yet.
            if eliza.sessions.pop(session_id, None) is None:
                raise ElizaApiError.session_not_found(session_id)
        return JSONResponse(
            {"success": True, "message": f"Session {session_id} deleted successfully"}
        )

    async def send_message(request: Request) -> Response:
        body = request.state.json_body
        with state.lock:
            return _send_message(state, eliza, request.path_params["session_id"], body)

    async def get_messages(request: Request) -> Response:
        with state.lock:
            now = state.clock.peek()
            session = _live_session(eliza, request.path_params["session_id"], now)
            limit, before, after = _paging_params(request)
            body = page_messages_json(eliza, session.channel_id, limit, before, after)
        # The same bytes and content type as JSONResponse(page_messages(...)), pre-rendered.
        return Response(body, media_type="application/json; charset=utf-8")

    async def renew_session(request: Request) -> Response:
        with state.lock:
            now = state.clock.now()
            session = _live_session(eliza, request.path_params["session_id"], now)
            # An explicit renew works even with autoRenew off.
            previous = session.timeout_config["autoRenew"]
            session.timeout_config["autoRenew"] = True
            renewed = renew(session, now)
            session.timeout_config["autoRenew"] = previous
            if not renewed:
                raise ElizaApiError(
                    400,
                    "SESSION_RENEWAL_FAILED",
                    f"Cannot renew session '{session.id}': Maximum duration reached",
                    "SessionRenewalError",
                    {
                        "maxDuration": session.timeout_config["maxDurationMinutes"],
                        "createdAt": isoformat_z(session.created_at),
                        "timeSinceCreation": to_epoch_ms(now) - to_epoch_ms(session.created_at),
                    },
                )
            return JSONResponse(session_info(session, now))

    async def heartbeat(request: Request) -> Response:
        with state.lock:
            now = state.clock.now()
            session = _live_session(eliza, request.path_params["session_id"], now)
            session.last_activity = now
            renew(session, now)
            return JSONResponse(session_info(session, now))

    async def update_timeout(request: Request) -> Response:
        body = request.state.json_body
        with state.lock:
            now = state.clock.now()
            session = _live_session(eliza, request.path_params["session_id"], now)
            _check_timeout_update(body)
            # Fields left out fall back to the defaults, not to the session's current values.
            session.timeout_config = merge_timeout_config(body)
            session.expires_at = expiration(session, now)
            return JSONResponse(session_info(session, now))

    async def list_agents(request: Request) -> Response:
        with state.lock:
            # Active agents first (all of them here), then by name.
            agents = sorted(eliza.agents.values(), key=lambda a: a.name.casefold())
            body = {"success": True, "data": {"agents": [a.listing() for a in agents]}}
        return JSONResponse(body)

    async def get_agent(request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        if not is_uuid(agent_id):
            return _agents_error(400, "INVALID_ID", "Invalid agent ID format")
        with state.lock:
            # The database compares ids as UUIDs, the runtime lookup as strings: an id in
            # other letter case finds the agent but reports it not running.
            agent = next(
                (a for a in eliza.agents.values() if a.id.lower() == agent_id.lower()), None
            )
            if agent is None:
                return _agents_error(404, "NOT_FOUND", "Agent not found")
            details = agent.details()
            if agent_id != agent.id:
                details["status"] = "inactive"
            return JSONResponse({"success": True, "data": details})

    one = _SESSIONS + "/{session_id}"
    return [
        Route("/api/agents", api(list_agents), methods=["GET"]),
        Route("/api/agents/{agent_id}", api(get_agent), methods=["GET"]),
        Route(_SESSIONS + "/health", api(health), methods=["GET"]),
        Route(_SESSIONS, api(create_session), methods=["POST"]),
        Route(_SESSIONS, api(list_sessions), methods=["GET"]),
        Route(one, api(get_session), methods=["GET"]),
        Route(one, api(delete_session), methods=["DELETE"]),
        Route(one + "/messages", api(send_message), methods=["POST"]),
        Route(one + "/messages", api(get_messages), methods=["GET"]),
        Route(one + "/renew", api(renew_session), methods=["POST"]),
        Route(one + "/heartbeat", api(heartbeat), methods=["POST"]),
        Route(one + "/timeout", api(update_timeout), methods=["PATCH"]),
    ]


# --- public API helpers -------------------------------------------------------------------------


def _agents_error(status: int, code: str, message: str) -> JSONResponse:
    """The agents router's envelope (unlike the sessions API's, it has ``success: false``)."""
    return JSONResponse(
        {"success": False, "error": {"code": code, "message": message}}, status_code=status
    )


def _api_not_found(request: Request) -> Response:
    """What the server answers for any unrouted path or method below ``/api/``."""
    return JSONResponse(
        {"success": False, "error": {"message": "API endpoint not found", "code": 404}},
        status_code=404,
    )


def _outside_api(request: Request) -> Response:
    """Paths outside ``/api/``: the real server (web UI off) answers ``403 Forbidden`` in plain
    text; the emulator keeps the status and answers in the JSON envelope instead."""
    return JSONResponse(
        {"success": False, "error": {"message": "Forbidden", "code": 403}}, status_code=403
    )


def handler(state: SharedState, eliza: ElizaState) -> Callable[[Request, str], Awaitable[Response]]:
    """The ElizaOS mount: ``(request, raw path below /eliza) -> response``.

    The order is the real server's middleware order (see :mod:`.eliza_http`): CORS preflight,
    the JSON body parser, ``/health*``, the ``/api`` key check, the Content-Type check, the
    routes, then 404 below ``/api/`` and 403 elsewhere.
    """
    api_routes = ProviderRouter(
        routes(state, eliza),
        not_found=_api_not_found,
        malformed=lambda request, exc: JSONResponse(
            ElizaApiError(
                500, "INTERNAL_SERVER_ERROR", "An unexpected error occurred", "URIError", str(exc)
            ).body(state.clock.peek()),
            status_code=500,
        ),
        ignore_case=True,  # Express routing ignores case and one trailing slash
        optional_trailing_slash=True,
    )

    async def pipeline(request: Request, raw_path: str) -> Response:
        if request.method == "OPTIONS":
            return preflight(request.headers.get("origin"))
        try:
            request.state.json_body = parse_json_body(request.headers, await request.body())
        except BodyError as exc:
            return JSONResponse(
                {"success": False, "error": {"message": str(exc), "code": 500}}, status_code=500
            )
        lowered = raw_path.lower()
        if lowered in ("/healthz", "/healthz/", "/health", "/health/") and request.method in (
            "GET",
            "HEAD",
        ):
            return _health_check(state, eliza, lowered.strip("/"))
        if lowered == "/api" or lowered.startswith("/api/"):
            key = state.api_keys.get("eliza")
            if key is not None and request.headers.get("x-api-key") != key:
                return JSONResponse(_AUTH_ERROR, status_code=401)
            if not content_type_accepted(request.method, request.headers):
                return _agents_error(
                    400, "INVALID_CONTENT_TYPE", "Invalid or missing Content-Type header"
                )
            if api_routes.match_or_malformed(request.method, raw_path):
                return await api_routes.respond(request, raw_path)
        if raw_path.startswith("/api/"):  # the server's own check is case-sensitive
            return _api_not_found(request)
        return _outside_api(request)

    async def handle(request: Request, raw_path: str) -> Response:
        response = await pipeline(request, raw_path)
        response.headers.update(cors_headers(request.headers.get("origin")))
        return response

    return handle


def _health_check(state: SharedState, eliza: ElizaState, which: str) -> Response:
    """``/healthz`` and ``/health``, outside ``/api`` (no key needed)."""
    now = isoformat_z(state.clock.peek())
    if which == "healthz":
        return JSONResponse({"status": "ok", "timestamp": now})
    with state.lock:
        count = len(eliza.agents)
    body = {
        "status": "OK" if count else "DEGRADED",
        "version": "unknown",
        "timestamp": now,
        "dependencies": {"agents": "healthy" if count else "no_agents"},
        "agentCount": count,
    }
    return JSONResponse(body, status_code=200 if count else 503)


def _uptime(eliza: ElizaState) -> float:
    return time.monotonic() - eliza.started_monotonic


def _live_session(eliza: ElizaState, session_id: str, now: datetime) -> ElizaSession:
    """The session, or 404; an expired one is forgotten and answers 410 this one time."""
    session = eliza.sessions.get(session_id)
    if session is None:
        raise ElizaApiError.session_not_found(session_id)
    if session.expires_at <= now:
        del eliza.sessions[session_id]
        raise ElizaApiError.session_expired(session_id, session.expires_at)
    return session


def _check_metadata(metadata: Any) -> None:
    # Arrays count as objects in JavaScript, so they are size-checked too.
    if isinstance(metadata, (dict, list)) and json_length(metadata) > MAX_METADATA_SIZE:
        reason = f"Metadata exceeds maximum size of {MAX_METADATA_SIZE} bytes"
        raise ElizaApiError.validation(
            f"Invalid metadata: {reason}",
            "InvalidMetadataError",
            {"reason": reason, "providedMetadata": metadata},
        )


def _create_session(state: SharedState, eliza: ElizaState, body: Any) -> Response:
    if not (
        isinstance(body, dict)
        and isinstance(body.get("agentId"), str)
        and isinstance(body.get("userId"), str)
    ):
        raise ElizaApiError.validation(
            "Missing required fields: agentId, userId",
            "MissingFieldsError",
            {"missingFields": ["agentId", "userId"]},
        )
    for field_name in ("agentId", "userId"):
        if not is_uuid(body[field_name]):
            raise ElizaApiError.validation(
                f"Invalid UUID format for field '{field_name}'",
                "InvalidUuidError",
                {"providedValue": body[field_name], "expectedFormat": "UUID v4"},
            )
    agent_id, user_id = body["agentId"], body["userId"]
    if agent_id not in eliza.agents:
        raise ElizaApiError.agent_not_found(agent_id)
    metadata = body.get("metadata")
    if js_truthy(metadata):
        _check_metadata(metadata)
    else:
        metadata = {}
    config = merge_timeout_config(body.get("timeoutConfig"))
    session_id, channel_id = state.ids.uuid4(), state.ids.uuid4()
    channel_metadata = channel_metadata_for(session_id, agent_id, user_id, config, metadata)
    if unstorable_text(channel_metadata):
        # The database refuses NUL and lone surrogates: the channel insert fails, nothing is kept.
        stamp = isoformat_z(state.clock.now())
        raise ElizaApiError(
            500,
            "SESSION_CREATION_FAILED",
            "Failed to create session: Failed to create channel or add participants",
            "SessionCreationError",
            {
                "originalError": _failed_insert(
                    "channels",
                    '("id", "message_server_id", "name", "type", "source_type", "source_id", '
                    '"topic", "metadata", "created_at", "updated_at") values ($1, $2, $3, $4, '
                    "default, default, default, $5, $6, $7) on conflict do nothing",
                    [
                        channel_id,
                        MESSAGE_SERVER_ID,
                        f"session-{session_id}",
                        "DM",
                        js_dumps(channel_metadata),
                        stamp,
                        stamp,
                    ],
                )
            },
        )
    # Read back from a jsonb column: the key order every later reader sees.
    eliza.add_channel(channel_id, jsonb_order(channel_metadata))
    now = state.clock.now()
    session = ElizaSession(
        id=session_id,
        channel_id=channel_id,
        agent_id=agent_id,
        user_id=user_id,
        metadata=metadata,
        created_at=now,
        last_activity=now,
        expires_at=now,
        timeout_config=config,
    )
    session.expires_at = expiration(session, now)
    eliza.sessions[session_id] = session
    created = {
        "sessionId": session_id,
        "channelId": channel_id,
        "agentId": agent_id,
        "userId": user_id,
        "createdAt": isoformat_z(now),
        "metadata": metadata,
        "expiresAt": isoformat_z(session.expires_at),
        "timeoutConfig": config,
    }
    return JSONResponse(created, status_code=201)


def _failed_insert(table: str, columns_and_values: str, params: list[str]) -> str:
    """The database driver's error text for a refused insert (``Failed query: ...``)."""
    return f'Failed query: insert into "{table}" {columns_and_values}\nparams: {",".join(params)}'


def _from_epoch_ms(epoch_ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=epoch_ms)


def _transport(body: dict[str, Any]) -> str:
    """``validateTransport(body.transport ?? body.mode)``."""
    value = body.get("transport")
    if value is None:
        value = body.get("mode")
    if value is None:
        return "websocket"
    if not isinstance(value, str):
        raise ElizaApiError.invalid_content(
            f'Invalid transport type "{js_typeof(value)}". Transport must be a string.'
        )
    if value in _TRANSPORTS:
        return value
    if value in _LEGACY_MODES:
        return _LEGACY_MODES[value]
    allowed = ", ".join(dict.fromkeys([*_TRANSPORTS, *_LEGACY_MODES]))
    raise ElizaApiError.invalid_content(f'Invalid transport "{value}". Must be one of: {allowed}')


def _send_message(state: SharedState, eliza: ElizaState, session_id: str, body: Any) -> Response:
    # The server checks in this order: transport, request shape, session, content, metadata.
    if body is None:
        # No JSON body at all: the server's handler reads `body.transport` and crashes.
        raise ElizaApiError(
            500,
            "INTERNAL_SERVER_ERROR",
            "An unexpected error occurred",
            "TypeError",
            "Cannot read properties of undefined (reading 'transport')",
        )
    if not isinstance(body, dict):
        body = {}
    transport = _transport(body)
    content = body.get("content")
    if not isinstance(content, str):
        raise ElizaApiError.invalid_content("Invalid message request format")
    now = state.clock.now()
    session = _live_session(eliza, session_id, now)
    if not content:
        raise ElizaApiError.invalid_content("Content cannot be empty")
    if utf16_length(content) > MAX_CONTENT_LENGTH:
        raise ElizaApiError.invalid_content(
            f"Content exceeds maximum length of {MAX_CONTENT_LENGTH} characters"
        )
    extra_metadata = body.get("metadata")
    if js_truthy(extra_metadata):
        _check_metadata(extra_metadata)

    was_renewed = renew(session, now)
    if not js_truthy(session.timeout_config.get("autoRenew")):
        session.last_activity = now  # activity is recorded, but expiresAt does not move
    if should_warn(session, now):
        session.warning_sent = True

    raw_message: dict[str, Any] = {"content": content}
    if "attachments" in body:
        raw_message["attachments"] = body["attachments"]
    metadata = {
        **eliza.channel_metadata(session.channel_id),
        "sessionId": session_id,
        **(js_spread(extra_metadata) if js_truthy(extra_metadata) else {}),
    }
    message_id, now_ms = state.ids.uuid4(), state.clock.now_ms()
    if unstorable_text(content) or unstorable_text(raw_message) or unstorable_text(metadata):
        # The insert fails after the session was renewed, as on the real server; nothing stored.
        stamp = isoformat_z(_from_epoch_ms(now_ms))
        raise ElizaApiError(
            500,
            "MESSAGE_SEND_FAILED",
            f"Failed to send message in session '{session_id}': "
            "Failed to create message in database",
            "MessageSendError",
            {
                "originalError": _failed_insert(
                    "central_messages",
                    '("id", "channel_id", "author_id", "content", "raw_message", '
                    '"in_reply_to_root_message_id", "source_type", "source_id", "metadata", '
                    '"created_at", "updated_at") values ($1, $2, $3, $4, $5, default, $6, default, '
                    "$7, $8, $9)",
                    [
                        message_id,
                        session.channel_id,
                        session.user_id,
                        content,
                        js_dumps(raw_message),
                        "user",
                        js_dumps(metadata),
                        stamp,
                        stamp,
                    ],
                )
            },
        )
    # The store stamps the row after the renewal.
    message = _store_user_message(
        eliza, session, message_id, now_ms, content, raw_message, metadata
    )
    session_status = {
        "expiresAt": isoformat_z(session.expires_at),
        "renewalCount": session.renewal_count,
        "wasRenewed": was_renewed,
        # Always false in practice: the warning flag was set just above when it applied.
        "isNearExpiration": should_warn(session, now),
    }
    user_message = bus_message(message)
    agent = eliza.agents.get(session.agent_id)
    reply = eliza.auto_reply if agent is not None else None

    if transport == "http":
        if reply is None:
            # What a real server without a model provider answers (the message stays stored).
            return JSONResponse(
                {"success": False, "error": "Failed to process message in HTTP transport"},
                status_code=500,
            )
        # The synchronous reply is returned but, as on the real server, not stored.
        return JSONResponse(
            {
                "success": True,
                "userMessage": user_message,
                "agentResponse": _response_content(reply),
                "sessionStatus": session_status,
            },
            status_code=201,
        )
    if transport == "sse":
        events = [("user_message", user_message)]
        if reply is None:
            events.append(("error", {"error": "No handler found for delegate type: TEXT_LARGE"}))
        else:
            events.append(("done", _response_content(reply)))
        stream = "".join(f"event: {name}\ndata: {js_dumps(data)}\n\n" for name, data in events)
        return Response(
            stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    if reply is not None and agent is not None:
        _store_agent_message(state, eliza, session, agent, reply, _CANNED_THOUGHT, ["REPLY"], None)
    return JSONResponse(
        {"success": True, "userMessage": user_message, "sessionStatus": session_status},
        status_code=201,
    )


def _response_content(text: str) -> dict[str, Any]:
    return {"text": text, "thought": _CANNED_THOUGHT, "actions": ["REPLY"]}


def _store_agent_message(
    state: SharedState,
    eliza: ElizaState,
    session: ElizaSession,
    agent: ElizaAgent,
    content: str,
    thought: str | None,
    actions: list[str] | None,
    metadata: dict[str, Any] | None,
) -> ElizaMessage:
    raw: dict[str, Any] = {"text": content}
    if thought is not None:
        raw["thought"] = thought
    if actions is not None:
        raw["actions"] = actions
    return eliza.store_message(
        message_id=state.ids.uuid4(),
        channel_id=session.channel_id,
        author_id=agent.id,
        content=content,
        now_ms=state.clock.now_ms(),
        source_type="agent_response",
        raw_message=raw,
        metadata=agent_reply_metadata(agent) if metadata is None else metadata,
    )


def _store_user_message(
    eliza: ElizaState,
    session: ElizaSession,
    message_id: str,
    now_ms: int,
    content: str,
    raw_message: dict[str, Any],
    metadata: dict[str, Any],
) -> ElizaMessage:
    return eliza.store_message(
        message_id=message_id,
        channel_id=session.channel_id,
        author_id=session.user_id,
        content=content,
        now_ms=now_ms,
        source_type="user",
        raw_message=raw_message,
        metadata=metadata,
    )


def _query_value(request: Request, name: str) -> str | None:
    """A query parameter as the server sees it: repeated keys arrive as an array, which
    ``parseInt`` reads through its string form (``"1,2"``); absent or empty means "not given"."""
    values = request.query_params.getlist(name)
    if not values or values == [""]:
        return None
    return ",".join(values)


def _paging_params(request: Request) -> tuple[int, int | None, int | None]:
    limit = DEFAULT_LIMIT
    raw_limit = _query_value(request, "limit")
    if raw_limit is not None:
        parsed = js_parse_int(raw_limit)
        # safeParseInt: unparsable -> the default, out of range -> clamped, never an error.
        limit = DEFAULT_LIMIT if not math.isfinite(parsed) else int(min(MAX_LIMIT, max(1, parsed)))
    return limit, _timestamp_param(request, "before"), _timestamp_param(request, "after")


def _timestamp_param(request: Request, name: str) -> int | None:
    raw = _query_value(request, name)
    if raw is None:
        return None
    parsed = js_parse_int(raw)
    if not math.isfinite(parsed):
        reason = "Must be a valid timestamp"
    elif abs(parsed) > _MAX_DATE_MS:
        reason = "Invalid date from timestamp"
    else:
        return int(parsed)
    raise ElizaApiError.validation(
        f"Invalid pagination parameter '{name}': {reason}",
        "InvalidPaginationError",
        {"parameter": name, "value": raw, "reason": reason},
    )


def _check_timeout_update(body: Any) -> None:
    """PATCH timeout is stricter than session creation: wrong types and out-of-range timeouts
    are rejected instead of being replaced by defaults or clamped.

    ``isValidTimeoutConfig``: the body must be an object (an array is one); each key that is
    present (``null`` counts as present) must be a number or a string (``autoRenew``: a boolean).
    """

    def fail(reason: str) -> ElizaApiError:
        details: dict[str, Any] = {"reason": reason}
        if body is not NO_BODY:  # `providedConfig: undefined` is left out by JSON.stringify
            details["providedConfig"] = body
        return ElizaApiError.validation(
            f"Invalid timeout configuration: {reason}", "InvalidTimeoutConfigError", details
        )

    present = body if isinstance(body, dict) else {}
    numeric = ("timeoutMinutes", "maxDurationMinutes", "warningThresholdMinutes")
    well_formed = (
        isinstance(body, (dict, list))
        and all(
            js_typeof(present[key]) in ("number", "string") for key in numeric if key in present
        )
        and ("autoRenew" not in present or isinstance(present["autoRenew"], bool))
    )
    if not well_formed:
        raise fail("Invalid timeout configuration format")
    if "timeoutMinutes" in present:
        value = js_number(present["timeoutMinutes"])
        if math.isfinite(value) and not MIN_TIMEOUT_MINUTES <= value <= MAX_TIMEOUT_MINUTES:
            raise fail(
                f"Timeout must be between {MIN_TIMEOUT_MINUTES} and {MAX_TIMEOUT_MINUTES} minutes"
            )


# --- seeding routes ------------------------------------------------------------------------------


class AgentBody(StrictBody):
    name: str = Field(min_length=1)
    id: str | None = None
    bio: list[str] | None = None


class AutoReplyBody(StrictBody):
    text: str | None = Field(default=None, min_length=1, max_length=MAX_CONTENT_LENGTH)


class AgentMessageBody(StrictBody):
    content: str = Field(min_length=1)
    thought: str | None = None
    actions: list[str] | None = None
    # None: what the real agent pipeline stores (agentName, agent_id, isDm, channelType).
    metadata: dict[str, Any] | None = None


class SeedBody(StrictBody):
    count: int = Field(ge=1, le=100_000)
    template: str = "message {n}"
    authors: Literal["user", "agent", "alternate"] = "user"


def control_routes(state: SharedState, eliza: ElizaState) -> list[BaseRoute]:
    """ElizaOS seeding routes, mounted under ``/_emulator/eliza``."""

    @control_endpoint(AgentBody, "eliza/agents", ' (send {"name": "Ava"})')
    async def add_agent(request: Request, body: AgentBody) -> Response:
        extra: dict[str, Any] = {"created_ms": state.clock.now_ms()}
        if body.bio is not None:
            extra["bio"] = tuple(body.bio)
        if body.id is None:
            agent = ElizaAgent.named(body.name, **extra)
        else:
            agent = ElizaAgent(body.id, body.name, **extra)
        if not is_uuid(agent.id):
            raise ControlError(f"eliza/agents: id {agent.id!r} is not a UUID")
        with state.lock:
            eliza.agents[agent.id] = agent
        return JSONResponse({"id": agent.id, "name": agent.name}, status_code=201)

    async def list_agents(request: Request) -> Response:
        with state.lock:
            agents = [{"id": a.id, "name": a.name} for a in eliza.agents.values()]
        return JSONResponse({"agents": agents})

    @control_endpoint(AutoReplyBody, "eliza/auto-reply", ' (send {"text": "ACK"} or null)')
    async def auto_reply(request: Request, body: AutoReplyBody) -> Response:
        with state.lock:
            eliza.auto_reply = body.text
        return JSONResponse({"autoReply": body.text})

    @control_endpoint(AgentMessageBody, "eliza/agent-messages", ' (send {"content": "Hi"})')
    async def agent_message(request: Request, body: AgentMessageBody) -> Response:
        with state.lock:
            session, agent = _seedable(eliza, request.path_params["session_id"])
            message = _store_agent_message(
                state,
                eliza,
                session,
                agent,
                body.content,
                body.thought,
                body.actions,
                body.metadata,
            )
            return JSONResponse(message_view(message), status_code=201)

    @control_endpoint(SeedBody, "eliza/seed", ' (send {"count": 100})')
    async def seed(request: Request, body: SeedBody) -> Response:
        if "{n}" not in body.template:
            raise ControlError("eliza/seed: template needs a {n} placeholder")
        with state.lock:
            session, agent = _seedable(eliza, request.path_params["session_id"])
            stamps = [
                _seed_one(state, eliza, session, agent, body, n) for n in range(1, body.count + 1)
            ]
        return JSONResponse(
            {"count": body.count, "firstCreatedAt": stamps[0], "lastCreatedAt": stamps[-1]},
            status_code=201,
        )

    async def expire(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        with state.lock:
            session = eliza.sessions.get(session_id)
            if session is None:
                return control_error(f"eliza/expire: no session {session_id!r}", 404)
            session.expires_at = state.clock.peek()
        return JSONResponse({"expiresAt": isoformat_z(session.expires_at)})

    one = "/sessions/{session_id}"
    return [
        Route("/agents", add_agent, methods=["POST"]),
        Route("/agents", list_agents, methods=["GET"]),
        Route("/auto-reply", auto_reply, methods=["POST"]),
        Route(one + "/agent-messages", agent_message, methods=["POST"]),
        Route(one + "/seed", seed, methods=["POST"]),
        Route(one + "/expire", expire, methods=["POST"]),
    ]


def _seedable(eliza: ElizaState, session_id: str) -> tuple[ElizaSession, ElizaAgent]:
    session = must_exist(
        eliza.sessions.get(session_id), f"no session {session_id!r} (create it first)"
    )
    agent = must_exist(
        eliza.agents.get(session.agent_id), f"the session's agent {session.agent_id!r} is gone"
    )
    return session, agent


def _seed_one(
    state: SharedState,
    eliza: ElizaState,
    session: ElizaSession,
    agent: ElizaAgent,
    body: SeedBody,
    n: int,
) -> int:
    content = body.template.replace("{n}", str(n))
    from_agent = body.authors == "agent" or (body.authors == "alternate" and n % 2 == 0)
    if from_agent:
        message = _store_agent_message(
            state, eliza, session, agent, content, _CANNED_THOUGHT, ["REPLY"], None
        )
    else:
        message = _store_user_message(
            eliza,
            session,
            state.ids.uuid4(),
            state.clock.now_ms(),
            content,
            {"content": content},
            {**eliza.channel_metadata(session.channel_id), "sessionId": session.id},
        )
    return message.created_ms
