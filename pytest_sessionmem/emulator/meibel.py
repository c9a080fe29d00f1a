"""Meibel v2 session API emulation, mounted under ``/meibel/v2``.

Endpoints (what the meibel 2.0.x SDK calls)::

    POST /agents/{agent_id}/sessions      agents.sessions.create             {"session_id"}
    POST /agents/name/{name}/sessions     agents.sessions.create_by_name     {"session_id"}
    GET  /agents/{agent_id}/sessions      agents.sessions.list               SessionListResponse
    GET  /sessions/{id}                   sessions.get                       AgentExecutionDetails...
    GET  /sessions/{id}/messages          sessions.get_messages              SessionMessagesResponse
    POST /sessions/{id}/chat              agents.sessions.send_chat_message  ChatMessageResponse
    POST /sessions/{id}/chat/stream       agents.sessions.send_chat_message_stream   SSE

Agents: ``create`` accepts any agent id and registers it on first use; ``create_by_name`` needs
an agent registered with ``POST /_emulator/meibel/agents {"name": ...}`` (404 otherwise, as the
real service answers when no published version has that name); ``list`` is a 404 for an agent
the emulator has never seen.

The stream answers ``text/event-stream`` with the events the SDK's event models name, each
``data:`` a one-line JSON object: ``connected`` ``{"session_id"}``, ``status``
``{"status": "processing"}``, one ``partial_response`` ``{"text"}`` per word of the reply, then
``completion`` with the same body ``POST /chat`` answers. Only ``connected`` is confirmed by
Meibel's documentation; the other names come from the SDK's models.

The agent is not a language model: it answers the next scripted reply for the session (seeded with
``POST /_emulator/meibel/sessions/{id}/replies``) or, when none is left, ``"Echo: <user_message>"``.
A chat stores two items, ``{"type": "user", ...}`` then ``{"type": "assistant", ...}``, sharing
one ``signal_id``. Meibel publishes no list of item types; these two strings are this emulator's
choice, and seeded items (``POST /_emulator/meibel/sessions/{id}/items``) may use any ``type``.

Like the real FastAPI service: every body is ``application/json`` (the SDK refuses anything else),
bad bodies get ``422 {"detail": [{"loc", "msg", "type"}]}``, an unknown session is
``404 {"detail": "Session not found"}``, and a missing or wrong ``Meibel-API-Key`` header (when a
key is configured) is ``401 {"detail": "..."}``.
"""

from __future__ import annotations

import email
import email.message
import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._http import (
    ControlError,
    NotJSON,
    StrictBody,
    UnservableBody,
    control_endpoint,
    guard,
    guarded_routes,
    must_exist,
    standard_json,
)
from ._routing import ProviderRouter
from .core import SharedState, Store, isoformat_z

__all__ = ["MeibelAgent", "MeibelState", "control_routes", "router", "routes"]


Handler = Callable[[Request], Awaitable[Response]]


class ItemSeed(StrictBody):
    """A SessionMessageItem as the control API seeds it; its fields are the item's fields."""

    type: str
    timestamp: str | None = None
    message: str | None = None
    signal_id: str | None = None
    tool_id: str | None = None
    tool_name: str | None = None
    arguments: dict[str, Any] | None = None
    # str, not object: the SDK's SessionMessageItem.result is typed str and rejects a dict.
    result: str | None = None


ITEM_FIELDS = tuple(ItemSeed.model_fields)


@dataclass
class MeibelSession:
    session_id: str
    agent_id: str | None
    agent_name: str | None
    version: str | None
    status: str
    start_time: datetime
    items: list[dict[str, Any]] = field(default_factory=list)
    scripted_replies: list[str] = field(default_factory=list)


@dataclass
class MeibelAgent:
    agent_id: str
    name: str | None = None
    version: str | None = None


@dataclass
class MeibelState(Store):
    """Everything the Meibel emulation remembers."""

    sessions: dict[str, MeibelSession] = field(default_factory=dict)
    agents: dict[str, MeibelAgent] = field(default_factory=dict)

    def agent(self, agent_id: str) -> MeibelAgent:
        """The agent with this id, registered on first use."""
        return self.agents.setdefault(agent_id, MeibelAgent(agent_id))


# ---------------------------------------------------------------- request models (FastAPI-like)


class CreateSessionRequest(BaseModel):
    prompt: str | None = None
    initial_context: dict[str, Any] | None = None
    max_iterations_per_user_message: int | None = None
    message_wait_timeout_seconds: int | None = None
    execution_policy_ids: list[str] | None = None
    execution_policy: dict[str, Any] | None = None


class ChatMessageRequest(BaseModel):
    user_message: str
    timeout_seconds: int | None = None
    include_thinking: bool | None = None
    include_tool_activity: bool | None = None


class _NoSession(Exception):
    """The session in the path does not exist (404 ``Session not found``)."""


class _Unprocessable(Exception):
    def __init__(self, detail: list[dict[str, Any]]) -> None:
        self.detail = detail


async def _validated(request: Request, model: type[BaseModel], *, optional: bool) -> Any:
    raw = await request.body()
    if not raw.strip():
        if optional:
            return model()
        raise _Unprocessable([{"loc": ["body"], "msg": "Field required", "type": "missing"}])
    try:
        data = standard_json(raw)
    except UnservableBody as exc:
        # What no answer could hold is refused before anything is stored.
        raise _Unprocessable(
            [{"loc": ["body", *exc.loc], "msg": f"Value {exc.reason}", "type": exc.kind}]
        ) from None
    except NotJSON as exc:
        raise _Unprocessable(
            [
                {
                    "loc": ["body", 0],
                    "msg": f"JSON decode error: {exc.detail}",
                    "type": "json_invalid",
                }
            ]
        ) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _Unprocessable(
            [
                {"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]}
                for err in exc.errors()
            ]
        ) from exc


# ---------------------------------------------------------------- responses


def _unauthorized(state: SharedState, request: Request) -> Response | None:
    key = state.api_keys.get("meibel")
    if key is None or request.headers.get("meibel-api-key") == key:
        return None
    return JSONResponse({"detail": "Invalid or missing API key"}, status_code=401)


def _session_not_found() -> JSONResponse:
    return JSONResponse({"detail": "Session not found"}, status_code=404)


def _item(data: dict[str, Any]) -> dict[str, Any]:
    """A SessionMessageItem with every field present (null when unset), as FastAPI emits it."""
    return {name: data.get(name) for name in ITEM_FIELDS}


def _execution_details(session: MeibelSession) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    tools: dict[str, dict[str, Any]] = {}
    for sequence, item in enumerate(session.items):
        timestamp = item["timestamp"]
        if item["tool_id"] is None and isinstance(item["message"], str):
            messages.append(
                {
                    "role": item["type"],
                    "message": item["message"],
                    "signal_id": item["signal_id"],
                    # MessageEntry.timestamp is required; fall back to the session start.
                    "timestamp": timestamp or isoformat_z(session.start_time),
                }
            )
        elif item["tool_id"] is not None:
            entry = tools.setdefault(
                item["tool_id"],
                {"tool_id": item["tool_id"], "tool_call": None, "tool_result": None},
            )
            if item["result"] is None:
                entry["tool_call"] = {
                    "tool_name": item["tool_name"],
                    "arguments": item["arguments"],
                    "sequence": str(sequence),
                    "timestamp": timestamp,
                }
            else:
                entry["tool_result"] = {
                    "tool_name": item["tool_name"],
                    "result": item["result"],
                    "sequence": str(sequence),
                    "timestamp": timestamp,
                }
    return {
        "agent_id": session.agent_id,
        "agent_name": session.agent_name,
        "version": session.version,
        "status": session.status,
        "messages": messages,
        "tool_activity": list(tools.values()),
        "token_usage": [],
        "file_parsing": [],
        "result": [],
    }


# ---------------------------------------------------------------- routes


def router(state: SharedState, meibel: MeibelState) -> ProviderRouter:
    """The Meibel routes; unknown paths and methods answer FastAPI's ``{"detail": ...}``."""
    return ProviderRouter(
        routes(state, meibel),
        not_found=lambda request: JSONResponse({"detail": "Not Found"}, status_code=404),
        method_not_allowed=lambda request: JSONResponse(
            {"detail": "Method Not Allowed"}, status_code=405
        ),
    )


SORT_FIELDS = ("start_time", "status")
STATUSES = ("RUNNING", "COMPLETED", "FAILED", "CANCELED", "TERMINATED")
DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100


def _unprocessable(loc: list[str | int], msg: str, kind: str, value: Any) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"type": kind, "loc": loc, "msg": msg, "input": value}]}, status_code=422
    )


def _new_session(state: SharedState, meibel: MeibelState, agent: MeibelAgent) -> str:
    session_id = state.ids.uuid4()
    meibel.sessions[session_id] = MeibelSession(
        session_id=session_id,
        agent_id=agent.agent_id,
        agent_name=agent.name,
        version=agent.version,
        status="RUNNING",
        start_time=state.clock.now(),
    )
    return session_id


def _chat(state: SharedState, session: MeibelSession, user_message: str) -> tuple[str, str]:
    """Store one exchange; ``(signal_id, reply)``."""
    reply = session.scripted_replies.pop(0) if session.scripted_replies else f"Echo: {user_message}"
    signal_id = state.ids.uuid4()
    for kind, text in (("user", user_message), ("assistant", reply)):
        session.items.append(
            _item(
                {
                    "type": kind,
                    "timestamp": isoformat_z(state.clock.now()),
                    "message": text,
                    "signal_id": signal_id,
                }
            )
        )
    return signal_id, reply


def _chat_response(
    signal_id: str, reply: str, include_tool_activity: bool | None
) -> dict[str, Any]:
    return {
        "signal_id": signal_id,
        "response": {
            "message": reply,
            "sources": [],
            "follow_up_questions": [],
            "call_to_actions": [],
            "artifacts": [],
        },
        "assistant_response": reply,
        "tool_activity": [] if include_tool_activity else None,
        "thinking": None,
        "token_usage": None,
    }


def _summary(session: MeibelSession) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "status": session.status,
        "start_time": isoformat_z(session.start_time),
        "end_time": None,
        "agent_name": session.agent_name,
        "agent_version": session.version,
        "messages_count": len(session.items),
        "token_usage": None,
        "result": None,
    }


def routes(state: SharedState, meibel: MeibelState) -> list[BaseRoute]:
    guarded = guard(
        lambda request: _unauthorized(state, request),
        {
            _Unprocessable: lambda exc: JSONResponse({"detail": exc.detail}, status_code=422),
            _NoSession: lambda exc: _session_not_found(),
        },
    )

    def session_of(request: Request) -> MeibelSession:
        session = meibel.sessions.get(request.path_params["session_id"])
        if session is None:
            raise _NoSession
        return session

    async def create_session(request: Request) -> Response:
        await _validated(request, CreateSessionRequest, optional=True)
        with state.lock:
            agent = meibel.agent(request.path_params["agent_id"])
            session_id = _new_session(state, meibel, agent)
        return JSONResponse({"session_id": session_id})

    async def create_by_name(request: Request) -> Response:
        await _validated(request, CreateSessionRequest, optional=True)
        name = request.path_params["name"]
        with state.lock:
            named = [a for a in meibel.agents.values() if a.name == name]
            if not named:
                return JSONResponse(
                    {"detail": f"No published version found for agent '{name}'"}, status_code=404
                )
            session_id = _new_session(state, meibel, named[-1])
        return JSONResponse({"session_id": session_id})

    async def list_sessions(request: Request) -> Response:
        query = request.query_params
        offset = _query_number(query.get("offset"), 0)
        limit = _query_number(query.get("limit"), DEFAULT_LIST_LIMIT)
        if offset is None or offset < 0:
            return _unprocessable(
                ["query", "offset"],
                "Input should be a valid integer, greater than or equal to 0",
                "int_parsing",
                query.get("offset"),
            )
        if limit is None or not 1 <= limit <= MAX_LIST_LIMIT:
            return _unprocessable(
                ["query", "limit"],
                f"Input should be a valid integer between 1 and {MAX_LIST_LIMIT}",
                "int_parsing",
                query.get("limit"),
            )
        sort_by = query.get("sort_by", "start_time")
        sort_order = query.get("sort_order", "desc")
        status = query.get("status")
        for name, value, allowed in (
            ("sort_by", sort_by, SORT_FIELDS),
            ("sort_order", sort_order, ("asc", "desc")),
            ("status", status, (None, *STATUSES)),
        ):
            if value not in allowed:
                choices = ", ".join(repr(a) for a in allowed if a is not None)
                return _unprocessable(["query", name], f"Input should be {choices}", "enum", value)
        agent_id = request.path_params["agent_id"]
        with state.lock:
            if agent_id not in meibel.agents:
                return JSONResponse({"detail": "Agent not found"}, status_code=404)
            found = [
                s
                for s in meibel.sessions.values()
                if s.agent_id == agent_id and (status is None or s.status == status)
            ]
            # Stable: equal keys keep creation order.
            found.sort(
                key=lambda s: s.start_time if sort_by == "start_time" else s.status,
                reverse=sort_order == "desc",
            )
            page = [_summary(s) for s in found[offset : offset + limit]]
        return JSONResponse({"data": page, "total": len(found), "offset": offset, "limit": limit})

    async def get_session(request: Request) -> Response:
        with state.lock:
            return JSONResponse(_execution_details(session_of(request)))

    async def get_messages(request: Request) -> Response:
        with state.lock:
            session = session_of(request)
            return JSONResponse(
                {
                    "agent_id": session.agent_id,
                    "agent_name": session.agent_name,
                    "version": session.version,
                    "messages": list(session.items),
                }
            )

    async def chat(request: Request) -> Response:
        body: ChatMessageRequest = await _validated(request, ChatMessageRequest, optional=False)
        with state.lock:
            signal_id, reply = _chat(state, session_of(request), body.user_message)
        return JSONResponse(_chat_response(signal_id, reply, body.include_tool_activity))

    async def chat_stream(request: Request) -> Response:
        fields = await _form_fields(request)
        user_message = fields.get("user_message")
        if not user_message:
            return _unprocessable(["body", "user_message"], "Field required", "missing", None)
        include_tools = fields.get("include_tool_activity", "").lower() == "true"
        with state.lock:
            session = session_of(request)
            signal_id, reply = _chat(state, session, user_message)
        events: list[tuple[str, Any]] = [
            ("connected", {"session_id": session.session_id}),
            ("status", {"status": "processing"}),
            *(("partial_response", {"text": word}) for word in _chunks(reply)),
            ("completion", _chat_response(signal_id, reply, include_tools)),
        ]
        stream = "".join(
            f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
            for name, data in events
        )
        return Response(
            stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    table: list[tuple[str, str, Handler]] = [
        ("POST", "/agents/{agent_id}/sessions", create_session),
        ("GET", "/agents/{agent_id}/sessions", list_sessions),
        ("POST", "/agents/name/{name}/sessions", create_by_name),
        ("GET", "/sessions/{session_id}", get_session),
        ("GET", "/sessions/{session_id}/messages", get_messages),
        ("POST", "/sessions/{session_id}/chat", chat),
        ("POST", "/sessions/{session_id}/chat/stream", chat_stream),
    ]
    return guarded_routes(guarded, table)


def _query_number(raw: str | None, default: int) -> int | None:
    if raw is None:
        return default
    return int(raw) if re.fullmatch(r"[+-]?[0-9]+", raw) else None


def _chunks(text: str) -> list[str]:
    """The reply in word-sized pieces that join back to the whole text."""
    return re.findall(r"\S+\s*|\s+", text) or [text]


async def _form_fields(request: Request) -> dict[str, str]:
    """Text fields of a urlencoded or multipart form body (files are accepted and ignored)."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        message = email.message_from_bytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
        )
        fields: dict[str, str] = {}
        parts = message.get_payload() if message.is_multipart() else []
        for part in parts if isinstance(parts, list) else []:
            if not isinstance(part, email.message.Message):
                continue
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str) and part.get_filename() is None:
                payload = part.get_payload(decode=True)
                fields[name] = (
                    payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                )
        return fields
    pairs = urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return dict(pairs)


# ---------------------------------------------------------------- control API


class SessionSeed(StrictBody):
    agent_id: str
    session_id: str | None = None
    agent_name: str | None = None
    version: str | None = None
    status: str = "RUNNING"


class AgentSeed(StrictBody):
    name: str = Field(min_length=1)
    agent_id: str | None = None
    version: str | None = None


class ItemsBody(StrictBody):
    items: list[ItemSeed] = Field(min_length=1)


class RepliesBody(StrictBody):
    replies: list[str] = Field(min_length=1)


def control_routes(state: SharedState, meibel: MeibelState) -> list[BaseRoute]:
    """Seeding endpoints, mounted under ``/_emulator/meibel``.

    ``POST /sessions {"agent_id", "session_id"?, "agent_name"?, "version"?, "status"?}`` -> 201
    ``{"session_id"}``; ``POST /sessions/{id}/items {"items": [SessionMessageItem, ...]}`` appends
    items (``timestamp`` defaults to emulator time when the key is absent);
    ``POST /sessions/{id}/replies {"replies": ["...", ...]}`` queues the agent's next answers.
    """

    def find(session_id: str) -> MeibelSession:
        return must_exist(
            meibel.sessions.get(session_id),
            f"meibel session {session_id!r} does not exist; create it with "
            "POST /_emulator/meibel/sessions or POST /meibel/v2/agents/{agent_id}/sessions",
        )

    @control_endpoint(AgentSeed, "meibel agents", ' (send {"name": "Support"})')
    async def seed_agent(request: Request, body: AgentSeed) -> Response:
        with state.lock:
            agent = MeibelAgent(body.agent_id or state.ids.uuid4(), body.name, body.version)
            meibel.agents[agent.agent_id] = agent
        return JSONResponse(
            {"agent_id": agent.agent_id, "name": agent.name, "version": agent.version},
            status_code=201,
        )

    @control_endpoint(SessionSeed, "meibel sessions")
    async def seed_session(request: Request, body: SessionSeed) -> Response:
        with state.lock:
            session_id = body.session_id or state.ids.uuid4()
            if session_id in meibel.sessions:
                raise ControlError(f"meibel session {session_id!r} already exists", 409)
            agent = meibel.agent(body.agent_id)
            if agent.name is None:
                agent.name, agent.version = body.agent_name, body.version
            meibel.sessions[session_id] = MeibelSession(
                session_id=session_id,
                agent_id=body.agent_id,
                agent_name=body.agent_name,
                version=body.version,
                status=body.status,
                start_time=state.clock.now(),
            )
        return JSONResponse({"session_id": session_id}, status_code=201)

    @control_endpoint(ItemsBody, "meibel items")
    async def seed_items(request: Request, body: ItemsBody) -> Response:
        with state.lock:
            session = find(request.path_params["session_id"])
            added = []
            for seed in body.items:
                data = seed.model_dump()
                if "timestamp" not in seed.model_fields_set:
                    data["timestamp"] = isoformat_z(state.clock.now())
                added.append(_item(data))
            session.items.extend(added)
        return JSONResponse({"items": added}, status_code=201)

    @control_endpoint(RepliesBody, "meibel replies")
    async def seed_replies(request: Request, body: RepliesBody) -> Response:
        with state.lock:
            session = find(request.path_params["session_id"])
            session.scripted_replies.extend(body.replies)
            return JSONResponse({"queued": len(session.scripted_replies)})

    return [
        Route("/agents", seed_agent, methods=["POST"]),
        Route("/sessions", seed_session, methods=["POST"]),
        Route("/sessions/{session_id}/items", seed_items, methods=["POST"]),
        Route("/sessions/{session_id}/replies", seed_replies, methods=["POST"]),
    ]
