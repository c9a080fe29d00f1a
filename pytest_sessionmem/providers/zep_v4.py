"""Zep as zep-cloud 4.x speaks it (provider key ``zep-v4``, base ``.../api/v4``).

* Every user, thread and graph is addressed by a UUID that Zep makes; you cannot choose it.
  :meth:`create_session` takes the user's UUID (``user_id=``, from :meth:`add_user`'s answer)
  and returns the new thread, whose ``Session.id`` is the thread UUID. A v3 id where a UUID is
  expected is a 400 ``invalid_identifier``; resolve old ids with ``POST /threads/lookup``.
* Lists page with ``page_size`` and an opaque ``cursor``: follow ``next_cursor`` until it is
  absent or empty, and stop on an empty page even if it carries one (as the SDK's pager does).
  Messages are asked for oldest first (``order_by=created_at&order=asc``).
* There is no ``norole``; writes take ``reference_time`` for the time a message was sent.
  ``add_messages`` answers 202 with the stored messages and a task.
* Memory: the thread's context, its summary (404 until one exists), its last messages, and the
  edges of the user's graph as facts.
* Errors are ``{"error": {"code", "message", "param", "details", "request_id"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Memory, Message, Session, Transcript
from pytest_sessionmem.providers.base import (
    AdapterBase,
    MessagePage,
    NewSession,
    Provider,
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
from pytest_sessionmem.providers.zep_threads import (
    DEFAULT_MEMORY_MESSAGES,
    MAX_MESSAGES_PER_WRITE,
    ThreadMessage,
    WireEdge,
    accept_missing,
    check_no_agent,
    edge_facts,
    thread_message,
    wire_message,
)

NAME = "zep-v4"
EDGE_PAGE_SIZE = 100


class V4Page(WireModel):
    items: list[dict[str, Any]] | None = None
    next_cursor: str | None = None
    total_size: int | None = None


class V4Thread(WireModel):
    uuid: str | None = None
    thread_id: str | None = None
    user_uuid: str | None = None
    graph_uuid: str | None = None
    created_at: datetime | None = None


class V4Context(WireModel):
    context: str | None = None


class V4Summary(WireModel):
    summary: str | None = None


class V4ErrorBody(WireModel):
    code: str | None = None
    message: str | None = None
    param: str | None = None


_INVALID_ID_HINT = (
    "zep-v4 addresses threads and users by the UUID Zep made; find it for a v3 id with "
    "POST /threads/lookup (zep-cloud 4.x: client.thread.lookup(thread_id=...))"
)


class ZepV4Provider(AdapterBase):
    """Adapter for Zep on ``/api/v4`` (zep-cloud 4.x)."""

    name = NAME

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, text = json_or_text(response)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            body = V4ErrorBody.model_validate(error)
            message = body.message or body.code
            if body.code == "invalid_identifier":
                message = f"{message} ({_INVALID_ID_HINT})"
            # The code stays in ``detail``: a 404 here is always a missing resource.
            return ErrorInfo(message=message, detail=data)
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return ErrorInfo(message=data["message"], detail=data)
        return ErrorInfo(message=text.strip()[:300] or None, detail=data)

    def _url(self, *segments: str) -> str:
        return join_url(self.base_url, *segments)

    def _page(self, response: httpx.Response) -> V4Page:
        return parse_wire(V4Page, decode_json(response, NAME), response, NAME)

    def _messages(self, page: V4Page, response: httpx.Response) -> tuple[Message, ...]:
        raws = page.items or []
        wires = [parse_wire(ThreadMessage, raw, response, NAME) for raw in raws]
        return tuple(thread_message(m, raw) for m, raw in zip(wires, raws, strict=True))

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Operation[Session]:
        require_id(session_id, "thread_uuid")
        response = yield httpx.Request("GET", self._url("threads", session_id))
        data = decode_json(response, NAME)
        return _session(parse_wire(V4Thread, data, response, NAME), data, fallback=session_id)

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        require_id(session_id, "thread_uuid")
        params: dict[str, Any] = {"page_size": page_size, "order_by": "created_at", "order": "asc"}
        if isinstance(cursor, str):
            params["cursor"] = cursor
        response = yield httpx.Request(
            "GET", self._url("threads", session_id, "messages"), params=params
        )
        page = self._page(response)
        messages = self._messages(page, response)
        # The SDK's pager stops on an empty page even when it names a next cursor.
        more = bool(page.next_cursor) and bool(messages)
        return MessagePage(messages=messages, next_cursor=page.next_cursor if more else None)

    def get_memory(
        self, session_id: str, *, last_n: int | None, min_rating: float | None
    ) -> Operation[Memory]:
        require_id(session_id, "thread_uuid")
        response = yield httpx.Request("GET", self._url("threads", session_id))
        raw: dict[str, Any] = {"thread": decode_json(response, NAME)}
        thread = parse_wire(V4Thread, raw["thread"], response, NAME)

        response = yield httpx.Request(
            "GET",
            self._url("threads", session_id, "messages"),
            params={
                "page_size": last_n or DEFAULT_MEMORY_MESSAGES,
                "order_by": "created_at",
                "order": "desc",
            },
        )
        raw["messages"] = decode_json(response, NAME)
        newest_first = self._messages(self._page(response), response)

        response = yield httpx.Request("GET", self._url("threads", session_id, "context"))
        raw["context"] = decode_json(response, NAME)
        context = parse_wire(V4Context, raw["context"], response, NAME).context

        response = yield accept_missing(
            httpx.Request("GET", self._url("threads", session_id, "summary"))
        )
        summary = None
        if response.status_code < 400:
            raw["summary"] = decode_json(response, NAME)
            summary = parse_wire(V4Summary, raw["summary"], response, NAME).summary

        edges: list[tuple[WireEdge, dict[str, Any]]] = []
        graph = thread.graph_uuid or thread.user_uuid
        cursor: str | None = None
        raw["edges"] = []
        while graph:
            params: dict[str, Any] = {"page_size": EDGE_PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            response = yield httpx.Request(
                "POST", self._url("graphs", graph, "edges", "list"), params=params, json={}
            )
            page = self._page(response)
            items = page.items or []
            raw["edges"].extend(items)
            edges.extend((parse_wire(WireEdge, e, response, NAME), e) for e in items)
            if not page.next_cursor or not items:
                break
            cursor = page.next_cursor
        facts = edge_facts(edges, response, NAME, min_rating=min_rating)
        return Memory(
            context=context or None,
            facts=facts,
            summary=summary,
            messages=Transcript(
                messages=tuple(reversed(newest_first)), session_id=session_id, provider=NAME
            ),
            raw=raw,
        )

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        session_id, user_id, metadata = new.session_id, new.user_id, new.metadata
        check_no_agent(new.agent_id, NAME)
        if session_id is not None:
            raise ConfigError(
                "zep-v4 makes the thread's UUID itself; call create_session(user_id=<the "
                "user's uuid>) without session_id= and use the returned Session.id"
            )
        if metadata is not None:
            raise ConfigError("zep-v4 threads have no metadata; leave metadata= out")
        body = {"user_uuid": require_id(user_id, "user_id (the user's uuid)"), **new.fields}
        response = yield httpx.Request("POST", self._url("threads"), json=body)
        data = decode_json(response, NAME)
        wire = parse_wire(V4Thread, data, response, NAME)
        if not wire.uuid:
            raise payload_error(response, NAME, "uuid: field required")
        return _session(wire, data, fallback=wire.uuid)

    def add_user(self, user_id: str, fields: Mapping[str, Any]) -> Operation[dict[str, Any]]:
        """Create a user; the answer's ``uuid`` is its address in v4."""
        body = {"user_id": require_id(user_id, "user_id"), **fields}
        response = yield httpx.Request("POST", self._url("users"), json=body)
        return json_object(response, NAME)

    def add_messages(
        self, session_id: str, messages: Sequence[Message]
    ) -> Operation[list[dict[str, Any]]]:
        require_id(session_id, "thread_uuid")
        wire = [wire_message(m, provider=NAME, time_field="reference_time") for m in messages]
        return (
            yield from post_in_batches(
                self._url("threads", session_id, "messages"),
                wire,
                batch=MAX_MESSAGES_PER_WRITE,
                provider=NAME,
            )
        )

    def send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Operation[Message]:
        return unsupported(
            "zep-v4 has no chat endpoint; store turns with add_messages(thread_uuid, messages)"
        )

    def delete_session(self, session_id: str) -> Operation[None]:
        require_id(session_id, "thread_uuid")
        yield httpx.Request("DELETE", self._url("threads", session_id))
        return None


def _session(wire: V4Thread, raw: dict[str, Any], *, fallback: str) -> Session:
    return Session(
        id=wire.uuid or fallback,
        provider=NAME,
        user_id=wire.user_uuid,
        created_at=aware(wire.created_at),
        metadata={"thread_id": wire.thread_id} if wire.thread_id else {},
        raw=raw,
    )


if TYPE_CHECKING:
    _meets_the_protocol: type[Provider] = ZepV4Provider
