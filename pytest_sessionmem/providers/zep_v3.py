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

NAME = "zep-v3"


class V3MessageList(WireModel):
    messages: list[ThreadMessage] | None = None
    row_count: int | None = None
    total_count: int | None = None
    thread_created_at: datetime | None = None
    user_id: str | None = None


class V3Thread(WireModel):
    uuid: str | None = None
    thread_id: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None


class V3Context(WireModel):
    context: str | None = None


class V3Summary(WireModel):
    summary: str | None = None


class ZepV3Provider(AdapterBase):
    """Adapter for Zep threads on ``/api/v2`` (zep-cloud 3.x)."""

    name = NAME

    def describe_error(self, response: httpx.Response) -> ErrorInfo:
        data, text = json_or_text(response)
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return ErrorInfo(message=data["message"], detail=data)
        return ErrorInfo(message=text.strip()[:300] or None, detail=data)

    def _url(self, *segments: str) -> str:
        return join_url(self.base_url, *segments)

    def _messages(self, response: httpx.Response) -> tuple[V3MessageList, tuple[Message, ...]]:
        data = decode_json(response, NAME)
        wire = parse_wire(V3MessageList, data, response, NAME)
        raws = data.get("messages") or []
        for index, message in enumerate(wire.messages or []):
            if message.role is None or message.content is None:
                missing = "role" if message.role is None else "content"
                raise payload_error(response, NAME, f"messages[{index}].{missing}: field required")
        messages = tuple(
            thread_message(m, raw) for m, raw in zip(wire.messages or [], raws, strict=True)
        )
        return wire, messages

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Operation[Session]:
        require_id(session_id, "thread_id")
        response = yield httpx.Request(
            "GET", self._url("threads", session_id, "messages"), params={"limit": 1, "cursor": 1}
        )
        wire, _ = self._messages(response)
        return Session(
            id=session_id,
            provider=NAME,
            user_id=wire.user_id,
            created_at=aware(wire.thread_created_at),
            raw=decode_json(response, NAME),
        )

    def messages_page(
        self, session_id: str, *, page_size: int, cursor: object | None
    ) -> Operation[MessagePage]:
        require_id(session_id, "thread_id")
        page = cursor if isinstance(cursor, int) else 1
        response = yield httpx.Request(
            "GET",
            self._url("threads", session_id, "messages"),
            params={"limit": page_size, "cursor": page},
        )
        _, messages = self._messages(response)
        return MessagePage(
            messages=messages, next_cursor=page + 1 if len(messages) >= page_size else None
        )

    def get_memory(
        self, session_id: str, *, last_n: int | None, min_rating: float | None
    ) -> Operation[Memory]:
        require_id(session_id, "thread_id")
        response = yield httpx.Request(
            "GET",
            self._url("threads", session_id, "messages"),
            params={"lastn": last_n or DEFAULT_MEMORY_MESSAGES},
        )
        listing, messages = self._messages(response)
        raw: dict[str, Any] = {"messages": decode_json(response, NAME)}

        response = yield httpx.Request("GET", self._url("threads", session_id, "context"))
        raw["context"] = decode_json(response, NAME)
        context = parse_wire(V3Context, raw["context"], response, NAME).context

        response = yield accept_missing(
            httpx.Request("GET", self._url("threads", session_id, "summary"))
        )
        summary = None
        if response.status_code < 400:
            raw["summary"] = decode_json(response, NAME)
            summary = parse_wire(V3Summary, raw["summary"], response, NAME).summary

        facts: tuple[Any, ...] = ()
        if listing.user_id:
            response = yield httpx.Request(
                "POST", self._url("graph", "edge", "user", listing.user_id)
            )
            data = decode_json(response, NAME)
            if not isinstance(data, list):
                raise payload_error(response, NAME, "edges: expected a JSON array")
            raw["edges"] = data
            edges = [(parse_wire(WireEdge, e, response, NAME), e) for e in data]
            facts = edge_facts(edges, response, NAME, min_rating=min_rating)
        return Memory(
            context=context or None,
            facts=facts,
            summary=summary,
            messages=Transcript(messages=messages, session_id=session_id, provider=NAME),
            raw=raw,
        )

    # -- writes ---------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> Operation[Session]:
        session_id, user_id, metadata = new.session_id, new.user_id, new.metadata
        check_no_agent(new.agent_id, NAME)
        if metadata is not None:
            raise ConfigError("zep-v3 threads have no metadata; leave metadata= out")
        body = {
            "thread_id": require_id(session_id, "session_id (the thread id)"),
            "user_id": require_id(user_id, "user_id"),
            **new.fields,
        }
        response = yield httpx.Request("POST", self._url("threads"), json=body)
        data = decode_json(response, NAME)
        wire = parse_wire(V3Thread, data, response, NAME)
        return Session(
            id=wire.thread_id or body["thread_id"],
            provider=NAME,
            user_id=wire.user_id,
            created_at=aware(wire.created_at),
            raw=data,
        )

    def add_user(self, user_id: str, fields: Mapping[str, Any]) -> Operation[dict[str, Any]]:
        body = {"user_id": require_id(user_id, "user_id"), **fields}
        response = yield httpx.Request("POST", self._url("users"), json=body)
        return json_object(response, NAME)

    def add_messages(
        self, session_id: str, messages: Sequence[Message]
    ) -> Operation[list[dict[str, Any]]]:
        require_id(session_id, "thread_id")
        wire = [wire_message(m, provider=NAME, time_field="created_at") for m in messages]
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
            "zep-v3 has no chat endpoint; store turns with add_messages(thread_id, messages)"
        )

    def delete_session(self, session_id: str) -> Operation[None]:
        require_id(session_id, "thread_id")
        yield httpx.Request("DELETE", self._url("threads", session_id))
        return None


if TYPE_CHECKING:
    _meets_the_protocol: type[Provider] = ZepV3Provider
