"""Meibel v2 session API emulation, mounted under ``/meibel/v2``.

Endpoints (what the meibel 2.0.x SDK calls)::

    POST /agents/{agent_id}/sessions  agents.sessions.create             {"session_id"}
    GET  /sessions/{id}               sessions.get                       AgentExecutionDetails...
    GET  /sessions/{id}/messages      sessions.get_messages              SessionMessagesResponse
    POST /sessions/{id}/chat          agents.sessions.send_chat_message  ChatMessageResponse

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

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._http import BadRequest, control_error, parse_body
from .core import isoformat_z

if TYPE_CHECKING:
    from .core import EmulatorState

__all__ = ["MeibelState", "control_routes", "routes"]

ITEM_FIELDS = (
    "type",
    "timestamp",
    "message",
    "signal_id",
    "tool_id",
    "tool_name",
    "arguments",
    "result",
)


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
class MeibelState:
    """Everything the Meibel emulation remembers."""

    sessions: dict[str, MeibelSession] = field(default_factory=dict)


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
        data = json.loads(raw)
    except ValueError as exc:
        raise _Unprocessable(
            [{"loc": ["body", 0], "msg": f"JSON decode error: {exc}", "type": "json_invalid"}]
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


def _unauthorized(state: EmulatorState, request: Request) -> Response | None:
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


def routes(state: EmulatorState) -> list[BaseRoute]:
    async def create_session(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        try:
            await _validated(request, CreateSessionRequest, optional=True)
        except _Unprocessable as exc:
            return JSONResponse({"detail": exc.detail}, status_code=422)
        with state.lock:
            session_id = state.ids.uuid4()
            state.meibel.sessions[session_id] = MeibelSession(
                session_id=session_id,
                agent_id=request.path_params["agent_id"],
                agent_name=None,
                version=None,
                status="RUNNING",
                start_time=state.clock.now(),
            )
        return JSONResponse({"session_id": session_id})

    async def get_session(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        with state.lock:
            session = state.meibel.sessions.get(request.path_params["session_id"])
            if session is None:
                return _session_not_found()
            return JSONResponse(_execution_details(session))

    async def get_messages(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        with state.lock:
            session = state.meibel.sessions.get(request.path_params["session_id"])
            if session is None:
                return _session_not_found()
            return JSONResponse(
                {
                    "agent_id": session.agent_id,
                    "agent_name": session.agent_name,
                    "version": session.version,
                    "messages": list(session.items),
                }
            )

    async def chat(request: Request) -> Response:
        if denied := _unauthorized(state, request):
            return denied
        try:
            body: ChatMessageRequest = await _validated(request, ChatMessageRequest, optional=False)
        except _Unprocessable as exc:
            return JSONResponse({"detail": exc.detail}, status_code=422)
        with state.lock:
            session = state.meibel.sessions.get(request.path_params["session_id"])
            if session is None:
                return _session_not_found()
            reply = (
                session.scripted_replies.pop(0)
                if session.scripted_replies
                else f"Echo: {body.user_message}"
            )
            signal_id = state.ids.uuid4()
            for kind, text in (("user", body.user_message), ("assistant", reply)):
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
        return JSONResponse(
            {
                "signal_id": signal_id,
                "response": {
                    "message": reply,
                    "sources": [],
                    "follow_up_questions": [],
                    "call_to_actions": [],
                    "artifacts": [],
                },
                "assistant_response": reply,
                "tool_activity": [] if body.include_tool_activity else None,
                "thinking": None,
                "token_usage": None,
            }
        )

    return [
        Route("/agents/{agent_id}/sessions", create_session, methods=["POST"]),
        Route("/sessions/{session_id}", get_session, methods=["GET"]),
        Route("/sessions/{session_id}/messages", get_messages, methods=["GET"]),
        Route("/sessions/{session_id}/chat", chat, methods=["POST"]),
    ]


# ---------------------------------------------------------------- control API


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionSeed(_Strict):
    agent_id: str
    session_id: str | None = None
    agent_name: str | None = None
    version: str | None = None
    status: str = "RUNNING"


class ItemSeed(_Strict):
    type: str
    timestamp: str | None = None
    message: str | None = None
    signal_id: str | None = None
    tool_id: str | None = None
    tool_name: str | None = None
    arguments: dict[str, Any] | None = None
    # str, not object: the SDK's SessionMessageItem.result is typed str and rejects a dict.
    result: str | None = None


class ItemsBody(_Strict):
    items: list[ItemSeed] = Field(min_length=1)


class RepliesBody(_Strict):
    replies: list[str] = Field(min_length=1)


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """Seeding endpoints, mounted under ``/_emulator/meibel``.

    ``POST /sessions {"agent_id", "session_id"?, "agent_name"?, "version"?, "status"?}`` -> 201
    ``{"session_id"}``; ``POST /sessions/{id}/items {"items": [SessionMessageItem, ...]}`` appends
    items (``timestamp`` defaults to emulator time when the key is absent);
    ``POST /sessions/{id}/replies {"replies": ["...", ...]}`` queues the agent's next answers.
    """

    def missing(session_id: str) -> JSONResponse:
        return control_error(
            f"meibel session {session_id!r} does not exist; create it with "
            "POST /_emulator/meibel/sessions or POST /meibel/v2/agents/{agent_id}/sessions",
            404,
        )

    async def seed_session(request: Request) -> Response:
        try:
            body = await parse_body(request, SessionSeed)
        except BadRequest as exc:
            return control_error(f"meibel sessions: {exc}")
        with state.lock:
            session_id = body.session_id or state.ids.uuid4()
            if session_id in state.meibel.sessions:
                return control_error(f"meibel session {session_id!r} already exists", 409)
            state.meibel.sessions[session_id] = MeibelSession(
                session_id=session_id,
                agent_id=body.agent_id,
                agent_name=body.agent_name,
                version=body.version,
                status=body.status,
                start_time=state.clock.now(),
            )
        return JSONResponse({"session_id": session_id}, status_code=201)

    async def seed_items(request: Request) -> Response:
        try:
            body = await parse_body(request, ItemsBody)
        except BadRequest as exc:
            return control_error(f"meibel items: {exc}")
        with state.lock:
            session = state.meibel.sessions.get(request.path_params["session_id"])
            if session is None:
                return missing(request.path_params["session_id"])
            added = []
            for seed in body.items:
                data = seed.model_dump()
                if "timestamp" not in seed.model_fields_set:
                    data["timestamp"] = isoformat_z(state.clock.now())
                added.append(_item(data))
            session.items.extend(added)
        return JSONResponse({"items": added}, status_code=201)

    async def seed_replies(request: Request) -> Response:
        try:
            body = await parse_body(request, RepliesBody)
        except BadRequest as exc:
            return control_error(f"meibel replies: {exc}")
        with state.lock:
            session = state.meibel.sessions.get(request.path_params["session_id"])
            if session is None:
                return missing(request.path_params["session_id"])
            session.scripted_replies.extend(body.replies)
            return JSONResponse({"queued": len(session.scripted_replies)})

    return [
        Route("/sessions", seed_session, methods=["POST"]),
        Route("/sessions/{session_id}/items", seed_items, methods=["POST"]),
        Route("/sessions/{session_id}/replies", seed_replies, methods=["POST"]),
    ]
