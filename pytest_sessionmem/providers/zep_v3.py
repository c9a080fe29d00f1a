"""Zep threads as zep-cloud 3.x speaks them (provider key ``zep-v3``, base ``.../api/v2``).

The same ``/api/v2`` service as the v2 sessions API, with sessions renamed threads:

* A thread is addressed by the id you chose (``thread_id``). There is no ``GET /threads/{id}``;
  :meth:`get_session` reads the first message page, which names the thread's user and
  creation time.
* ``GET /threads/{id}/messages`` pages with ``limit`` and an integer ``cursor``, read here as a
  1-based page number over an oldest-first list (as the v2 sessions handler does; Zep does not
  document it for threads). A page shorter than ``limit`` is the last one.
* Messages carry ``role`` (the enum) and ``name`` (the speaker); at most 30 per write.
* Memory is put together from the thread's context, its summary (404 until one exists) and the
  user's graph edges (``POST /graph/edge/user/{user_id}``), which are the facts.
* Errors are ``{"message": "..."}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Fact, Message, Session
from pytest_sessionmem.providers.base import NewSession, Provider, WireModel, aware, require_id
from pytest_sessionmem.providers.operation import Operation
from pytest_sessionmem.providers.zep_threads import (
    ThreadAdapter,
    ThreadFields,
    ThreadMessage,
    WireEdge,
    thread_messages,
)

NAME = "zep-v3"


class V3MessageList(WireModel):
    messages: list[ThreadMessage] | None  # required, may be null (as in ZepMessageList)
    row_count: int | None = None
    total_count: int | None = None
    thread_created_at: datetime | None = None
    user_id: str | None = None


class V3Thread(ThreadFields):
    user_id: str | None = None


class ZepV3Provider(ThreadAdapter):
    """Adapter for Zep threads on ``/api/v2`` (zep-cloud 3.x)."""

    name = NAME
    id_name = "thread_id"
    time_field = "created_at"

    def _messages(self, response: httpx.Response) -> tuple[V3MessageList, tuple[Message, ...]]:
        wire, data = self._read(V3MessageList, response)
        for index, message in enumerate(wire.messages or []):
            if message.role is None or message.content is None:
                missing = "role" if message.role is None else "content"
                raise self._payload_error(response, f"messages[{index}].{missing}: field required")
        return wire, thread_messages(wire.messages or [], data.get("messages") or [])

    def _page_messages(self, response: httpx.Response) -> tuple[Message, ...]:
        return self._messages(response)[1]

    def _read_session(self, response: httpx.Response, *, fallback: str) -> Session:
        wire, data = self._read(V3Thread, response)
        return Session(
            id=wire.thread_id or fallback,
            provider=NAME,
            user_id=wire.user_id,
            created_at=aware(wire.created_at),
            raw=data,
        )

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Operation[Session]:
        # There is no GET /threads/{id}: the first message page names the user and the time.
        require_id(session_id, self.id_name)
        response = yield httpx.Request(
            "GET", self._messages_url(session_id), params={"limit": 1, "cursor": 1}
        )
        wire, _ = self._messages(response)
        return Session(
            id=session_id,
            provider=NAME,
            user_id=wire.user_id,
            created_at=aware(wire.thread_created_at),
            raw=self._json(response),
        )

    def _last_messages(
        self, session_id: str, count: int, raw: dict[str, Any]
    ) -> Operation[tuple[tuple[Message, ...], str | None]]:
        response = yield httpx.Request(
            "GET", self._messages_url(session_id), params={"lastn": count}
        )
        listing, messages = self._messages(response)
        raw["messages"] = self._json(response)
        return messages, listing.user_id

    def _facts(
        self, graph: str | None, raw: dict[str, Any], *, min_rating: float | None
    ) -> Operation[tuple[Fact, ...]]:
        # v3 names a user's graph by the user's id; a thread without a user has no facts.
        if not graph:
            return ()
        raw["edges"] = []
        edges, response, _ = yield from self._edge_page(graph, None, raw["edges"])
        return self._edge_facts(edges, response, min_rating=min_rating)

    def _edge_page(
        self, graph: str, cursor: str | None, raw_edges: list[Any]
    ) -> Operation[tuple[list[tuple[WireEdge, dict[str, Any]]], httpx.Response, str | None]]:
        # One answer holds every edge: there is no next page.
        response = yield httpx.Request("POST", self._url("graph", "edge", "user", graph))
        data = self._json(response)
        if not isinstance(data, list):
            raise self._payload_error(response, "edges: expected a JSON array")
        raw_edges.extend(data)
        return self._edges(data, response), response, None

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        session_id, user_id, metadata = new.session_id, new.user_id, new.metadata
        self._check_no_agent(new.agent_id)
        if metadata is not None:
            raise ConfigError("zep-v3 threads have no metadata; leave metadata= out")
        body = {
            "thread_id": require_id(session_id, "session_id (the thread id)"),
            "user_id": require_id(user_id, "user_id"),
            **new.fields,
        }
        response = yield self._post(self._url("threads"), body)
        return self._read_session(response, fallback=body["thread_id"])


if TYPE_CHECKING:
    _meets_the_protocol: type[Provider] = ZepV3Provider
