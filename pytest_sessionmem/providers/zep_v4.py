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

from typing import TYPE_CHECKING, Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Fact, Message, Session
from pytest_sessionmem.providers.base import (
    MessagePage,
    NewSession,
    Provider,
    WireModel,
    aware,
    json_or_text,
    require_id,
)
from pytest_sessionmem.providers.operation import ErrorInfo, Operation
from pytest_sessionmem.providers.zep_threads import (
    ThreadAdapter,
    ThreadFields,
    ThreadMessage,
    WireEdge,
    thread_messages,
)

NAME = "zep-v4"
EDGE_PAGE_SIZE = 100


class V4Page(WireModel):
    items: list[dict[str, Any]] | None = None
    next_cursor: str | None = None
    total_size: int | None = None


class V4Thread(ThreadFields):
    user_uuid: str | None = None
    graph_uuid: str | None = None


class V4ErrorBody(WireModel):
    code: str | None = None
    message: str | None = None
    param: str | None = None


_INVALID_ID_HINT = (
    "zep-v4 addresses threads and users by the UUID Zep made; find it for a v3 id with "
    "POST /threads/lookup (zep-cloud 4.x: client.thread.lookup(thread_id=...))"
)


class ZepV4Provider(ThreadAdapter):
    """Adapter for Zep on ``/api/v4`` (zep-cloud 4.x)."""

    name = NAME
    id_name = "thread_uuid"
    time_field = "reference_time"

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, _ = json_or_text(response)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            body = V4ErrorBody.model_validate(error)
            message = body.message or body.code
            if body.code == "invalid_identifier":
                message = f"{message} ({_INVALID_ID_HINT})"
            # The code stays in ``detail``: a 404 here is always a missing resource.
            return ErrorInfo(message=message, detail=data)
        return super().describe_error(response)

    def _page(self, response: httpx.Response) -> V4Page:
        return self._read(V4Page, response)[0]

    def _messages(self, page: V4Page, response: httpx.Response) -> tuple[Message, ...]:
        raws = page.items or []
        return thread_messages([self._parse(ThreadMessage, raw, response) for raw in raws], raws)

    def _read_session(self, response: httpx.Response, *, fallback: str) -> Session:
        wire, data = self._read(V4Thread, response)
        return _session(wire, data, fallback=fallback)

    # -- reads ----------------------------------------------------------------------------

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        """One page of an oldest-first list; ``cursor`` is the one the last page named."""
        require_id(session_id, self.id_name)
        params: dict[str, Any] = {"page_size": page_size, "order_by": "created_at", "order": "asc"}
        if isinstance(cursor, str):
            params["cursor"] = cursor
        response = yield httpx.Request("GET", self._messages_url(session_id), params=params)
        page = self._page(response)
        messages = self._messages(page, response)
        # The SDK's pager stops on an empty page even when it names a next cursor.
        more = bool(page.next_cursor) and bool(messages)
        return MessagePage(messages=messages, next_cursor=page.next_cursor if more else None)

    def _last_messages(
        self, session_id: str, count: int, raw: dict[str, Any]
    ) -> Operation[tuple[tuple[Message, ...], str | None]]:
        response = yield httpx.Request("GET", self._url("threads", session_id))
        thread, raw["thread"] = self._read(V4Thread, response)

        response = yield httpx.Request(
            "GET",
            self._messages_url(session_id),
            params={"page_size": count, "order_by": "created_at", "order": "desc"},
        )
        raw["messages"] = self._json(response)
        newest_first = self._messages(self._page(response), response)
        return tuple(reversed(newest_first)), thread.graph_uuid or thread.user_uuid

    def _facts(
        self, graph: str | None, raw: dict[str, Any], *, min_rating: float | None
    ) -> Operation[tuple[Fact, ...]]:
        raw["edges"] = []
        if not graph:
            return ()
        edges: list[tuple[WireEdge, dict[str, Any]]] = []
        cursor: str | None = None
        while True:
            page, response, cursor = yield from self._edge_page(graph, cursor, raw["edges"])
            edges.extend(page)
            if cursor is None:
                return self._edge_facts(edges, response, min_rating=min_rating)

    def _edge_page(
        self, graph: str, cursor: str | None, raw_edges: list[Any]
    ) -> Operation[tuple[list[tuple[WireEdge, dict[str, Any]]], httpx.Response, str | None]]:
        params: dict[str, Any] = {"page_size": EDGE_PAGE_SIZE}
        if cursor:
            params["cursor"] = cursor
        response = yield httpx.Request(
            "POST", self._url("graphs", graph, "edges", "list"), params=params, json={}
        )
        page = self._page(response)
        items = page.items or []
        raw_edges.extend(items)
        # The last page names no cursor; an empty page ends the list even if it names one.
        more = bool(page.next_cursor) and bool(items)
        return self._edges(items, response), response, page.next_cursor if more else None

    def graph_of(self, session: Session) -> str | None:
        graph = session.raw.get("graph_uuid")  # as a memory read does: the thread names it
        return graph if isinstance(graph, str) and graph else session.user_id

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        session_id, user_id, metadata = new.session_id, new.user_id, new.metadata
        self._check_no_agent(new.agent_id)
        if session_id is not None:
            raise ConfigError(
                "zep-v4 makes the thread's UUID itself; call create_session(user_id=<the "
                "user's uuid>) without session_id= and use the returned Session.id"
            )
        if metadata is not None:
            raise ConfigError("zep-v4 threads have no metadata; leave metadata= out")
        body = {"user_uuid": require_id(user_id, "user_id (the user's uuid)"), **new.fields}
        response = yield self._post(self._url("threads"), body)
        wire, data = self._read(V4Thread, response)
        if not wire.uuid:
            raise self._payload_error(response, "uuid: field required")
        return _session(wire, data, fallback=wire.uuid)


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
