"""Zep's rules, free of HTTP: what a request may say, how lists are paged, what is visible when.

The routes of each generation read the request, call these, and render a view
(:mod:`.views`). A rule that refuses raises :class:`~.._http.BadRequest` (each generation
answers it in its own envelope) or, for v4's own codes, :class:`V4Error`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from .._http import BadRequest, optional_str
from ..core import isoformat_z
from .store import Graph, Stamped, Task, Zep, ZepSession, ZepStore, new_task

__all__ = [
    "DEFAULT_LASTN",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_QUESTION_WINDOW",
    "ROLES",
    "SESSION_ORDER_FIELDS",
    "V3_DEFAULT_PAGE_SIZE",
    "V3_MESSAGES",
    "V4_MESSAGES",
    "V4_ROLES",
    "MessageRules",
    "V4Error",
    "check_legacy_id",
    "check_metadata",
    "cursor_page",
    "end",
    "int_param",
    "is_instruction_list",
    "merge_metadata",
    "object_body",
    "optional_object",
    "ordered",
    "page_by_number",
    "page_numbers",
    "query_int",
    "require_object",
    "required_str",
    "session_messages",
    "store_batch",
    "store_session_messages",
    "strict_bool",
    "strict_float",
    "strict_int",
    "thread_messages",
    "updated",
    "visible_context",
    "visible_edges",
    "visible_facts",
    "visible_summary",
    "visible_user_facts",
]

ROLES = frozenset({"norole", "system", "assistant", "user", "function", "tool"})
V4_ROLES = ROLES - {"norole"}
MAX_MESSAGES_PER_CALL = 30
MAX_CONTENT_CHARS = 100_000
MAX_METADATA_KEYS = 10
MAX_ID_CHARS = 500
DEFAULT_PAGE_LIMIT = 100
DEFAULT_LASTN = 6
DEFAULT_QUESTION_WINDOW = 3
SESSION_ORDER_FIELDS = ("created_at", "updated_at", "user_id", "session_id")
V3_DEFAULT_PAGE_SIZE = 100
V4_DEFAULT_PAGE_SIZE = 50
V4_MAX_PAGE_SIZE = 1000
_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


class V4Error(Exception):
    """A refusal v4 answers in its error envelope, with its own code (and the parameter)."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


# ---------------------------------------------------------------- request bodies


def require_object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return data


def object_body(data: Any) -> dict[str, Any]:
    """A thread call's body: an object, ``{}`` when there is none."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def required_str(body: dict[str, Any], key: str) -> str:
    value = optional_str(body, key)
    if not value:
        raise BadRequest(f"{key} is required")
    return value


def optional_object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"{key} must be an object")
    return value


def check_legacy_id(value: str, what: str) -> None:
    if not value.strip():
        raise BadRequest(f"{what} is required")
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"{what} is longer than {MAX_ID_CHARS} characters")


def check_metadata(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"{where}.metadata must be an object")
    if len(value) > MAX_METADATA_KEYS:
        raise BadRequest(f"{where}.metadata has {len(value)} keys; at most {MAX_METADATA_KEYS}")
    return value


def is_instruction_list(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    """Whether ``value`` is a list (empty or not) of ``{name, text}`` summary instructions."""
    return isinstance(value, list) and all(
        isinstance(i, dict) and isinstance(i.get("name"), str) and isinstance(i.get("text"), str)
        for i in value
    )


# ---------------------------------------------------------------- query parameters


def query_int(raw: str | None, *, default: int) -> int:
    """The real v2 handler's parse: empty -> 0, unparsable -> the documented default."""
    if raw is None or raw == "":
        return 0
    if not _ASCII_INT.fullmatch(raw):
        return default
    return int(raw)


def _strict(raw: str | None, name: str, shape: re.Pattern[str], what: str) -> str | None:
    """``raw`` when it has ``shape``; None when absent or empty; else a 400 naming ``what``."""
    if raw is None or raw == "":
        return None
    if not shape.fullmatch(raw):
        raise BadRequest(f"{name} must be {what}, got {raw!r}")
    return raw


def strict_int(raw: str | None, name: str) -> int | None:
    text = _strict(raw, name, _ASCII_INT, "an integer")
    return None if text is None else int(text)


def strict_float(raw: str | None, name: str) -> float | None:
    text = _strict(raw, name, _ASCII_FLOAT, "a number")
    return None if text is None else float(text)


def strict_bool(raw: str | None, name: str) -> bool:
    if raw is None or raw == "":
        return False
    if raw.lower() not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, got {raw!r}")
    return raw.lower() == "true"


def int_param(
    raw: str | None, name: str, *, default: int, low: int = 1, high: int | None = None
) -> int:
    """A thread call's integer parameter, ``default`` when absent, within ``low``..``high``."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise BadRequest(f"{name} must be {bound}, got {value}")
    return value


# ---------------------------------------------------------------- paging


def page_numbers(query: Mapping[str, str], number: str, size: str) -> tuple[int, int | None]:
    """v2's 1-based page number (default 1) and page size (None: no limit), both positive."""
    page_number = strict_int(query.get(number), number)
    page_number = 1 if page_number is None else page_number
    page_size = strict_int(query.get(size), size)
    if page_number < 1 or (page_size is not None and page_size < 1):
        raise BadRequest(f"{number} and {size} must be positive integers")
    return page_number, page_size


def page_by_number(items: list[Any], page_number: int, page_size: int | None) -> list[Any]:
    if page_size is None:
        return items if page_number == 1 else []
    start = (page_number - 1) * page_size
    return items[start : start + page_size]


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        offset = int(text[2:])
        if offset < 0:
            raise ValueError(text)
        return offset
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise V4Error(
            400, "invalid_cursor", f"cursor {cursor!r} is not a cursor this API made", "cursor"
        ) from None


def cursor_page(
    query: Mapping[str, str], items: list[Any], *, total: bool = True
) -> dict[str, Any]:
    """One v4 page of ``items`` (already in order): ``next_cursor`` only when more follow."""
    try:
        size = int_param(
            query.get("page_size"),
            "page_size",
            default=V4_DEFAULT_PAGE_SIZE,
            high=V4_MAX_PAGE_SIZE,
        )
    except BadRequest as exc:
        raise V4Error(400, "invalid_parameter", str(exc), "page_size") from None
    cursor = query.get("cursor")
    offset = _decode_cursor(cursor) if cursor else 0
    chunk = items[offset : offset + size]
    out: dict[str, Any] = {"items": chunk}
    if chunk and offset + size < len(items):
        out["next_cursor"] = _encode_cursor(offset + size)
    if total:
        out["total_size"] = len(items)
    return out


def ordered(
    query: Mapping[str, str], items: list[dict[str, Any]], allowed: tuple[str, ...]
) -> list[dict[str, Any]]:
    """v4's ``order_by`` (one of ``allowed``, default ``created_at``) and ``order`` (asc)."""
    order_by = query.get("order_by") or "created_at"
    order = query.get("order") or "asc"
    if order_by not in allowed:
        raise V4Error(
            400, "invalid_parameter", f"order_by must be one of {', '.join(allowed)}", "order_by"
        )
    if order not in ("asc", "desc"):
        raise V4Error(400, "invalid_parameter", "order must be asc or desc", "order")
    indexed = list(enumerate(items))
    indexed.sort(
        key=lambda pair: (str(pair[1].get(order_by) or ""), pair[0]), reverse=order == "desc"
    )
    return [item for _, item in indexed]


# ---------------------------------------------------------------- what is visible


def _meets_rating(rating: float | None, min_rating: float | None) -> bool:
    # An unrated fact cannot be said to reach a threshold, so a filter leaves it out.
    return min_rating is None or (rating is not None and rating >= min_rating)


def visible_facts(
    session: ZepSession, now: datetime, min_rating: float | None
) -> list[dict[str, Any]]:
    return [
        f.payload
        for f in session.facts
        if f.readiness.reached(now, session.reads)
        and _meets_rating(f.payload["rating"], min_rating)
    ]


def visible_user_facts(store: ZepStore, user_id: str, now: datetime) -> list[dict[str, Any]]:
    """The visible facts of every session of the v2 user ``user_id``."""
    return [
        fact
        for session in store.sessions.values()
        if session.record["user_id"] == user_id
        for fact in visible_facts(session, now, None)
    ]


def visible_summary(session: ZepSession, now: datetime) -> dict[str, Any] | None:
    summary = session.summary
    if summary is None or not summary.readiness.reached(now, session.reads):
        return None
    return summary.payload


def visible_context(session: ZepSession, now: datetime) -> str | None:
    context = session.context
    if context is None or not context.readiness.reached(now, session.reads):
        return None
    text = context.payload["context"]
    return text if isinstance(text, str) else None


def visible_edges(zep: Zep, graph: Graph) -> list[dict[str, Any]]:
    now = zep.clock.peek()
    return [e.payload for e in graph.edges if e.readiness.reached(now, graph.reads)]


# ---------------------------------------------------------------- v2 sessions' writes


def session_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages of a v2 ``add memory`` call, checked."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages are required")
    if len(messages) > MAX_MESSAGES_PER_CALL:
        raise BadRequest(
            f"max messages per memory of {MAX_MESSAGES_PER_CALL} exceeded. "
            "reduce the number of messages in your request"
        )
    for message in messages:
        if not isinstance(message, dict):
            raise BadRequest("each message must be an object")
        if not message.get("role_type"):
            raise BadRequest("messages are required to have a RoleType")
        if message["role_type"] not in ROLES:
            raise BadRequest(f"invalid role_type {message['role_type']!r}")
        if not isinstance(message.get("content"), str):
            raise BadRequest("message content is required")
        if len(message["content"]) > MAX_CONTENT_CHARS:
            raise BadRequest(f"message content exceeds {MAX_CONTENT_CHARS} characters")
        if not isinstance(message.get("role", ""), (str, type(None))):
            raise BadRequest("message role must be a string")
        optional_object(message, "metadata")
    return messages


def store_session_messages(zep: Zep, session: ZepSession, messages: list[dict[str, Any]]) -> None:
    """Checked v2 messages appended to ``session``, stamped with the processing policy."""
    now = zep.clock.peek()
    readiness = zep.store.processing.stamp(now, session.reads)
    for message in messages:
        created = isoformat_z(zep.clock.now())
        payload = {
            "uuid": zep.ids.uuid4(),
            "created_at": created,
            "updated_at": created,
            "role": message.get("role") or "",
            "role_type": message["role_type"],
            "content": message["content"],
            "metadata": message.get("metadata") or {},
            "token_count": 0,
        }
        session.messages.append(Stamped(payload, readiness))


def updated(
    zep: Zep,
    record: dict[str, Any],
    metadata: dict[str, Any] | None,
    rating: dict[str, Any] | None,
) -> dict[str, Any]:
    """``record`` with ``metadata`` merged in and ``rating`` set (either may be absent)."""
    if metadata is not None:
        record["metadata"] = {**(record.get("metadata") or {}), **metadata}
    if rating is not None:
        record["fact_rating_instruction"] = rating
    record["updated_at"] = isoformat_z(zep.clock.now())
    return record


def end(zep: Zep, session: ZepSession) -> None:
    if session.record["ended_at"] is None:
        now = isoformat_z(zep.clock.now())
        session.record["ended_at"] = now
        session.record["updated_at"] = now


# ---------------------------------------------------------------- threads' writes


@dataclass(frozen=True)
class MessageRules:
    """How a thread generation takes messages: v3 and v4 differ in these rules only."""

    roles: frozenset[str]
    role_required: bool  # every message must name its role
    refuses_uuid: bool  # Zep assigns message ids; a message may not bring one
    stamps_times: bool  # created_at is the emulator's; the message's time is reference_time


V3_MESSAGES = MessageRules(ROLES, role_required=True, refuses_uuid=False, stamps_times=False)
V4_MESSAGES = MessageRules(V4_ROLES, role_required=False, refuses_uuid=True, stamps_times=True)


def thread_messages(body: Any, rules: MessageRules) -> list[dict[str, Any]]:
    """The messages of a thread's ``add messages`` call, checked against ``rules``."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages are required")
    if len(messages) > MAX_MESSAGES_PER_CALL:
        raise BadRequest(
            f"at most {MAX_MESSAGES_PER_CALL} messages per call, got {len(messages)}; "
            "send them in batches"
        )
    roles = rules.roles
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise BadRequest(f"{where} must be an object")
        role = message.get("role")
        if role is None and rules.role_required:
            raise BadRequest(f"{where}.role is required")
        if role is not None and role not in roles:
            raise BadRequest(
                f"{where}.role must be one of {', '.join(sorted(roles))}, got {role!r}"
            )
        if not isinstance(message.get("content"), str):
            raise BadRequest(f"{where}.content is required")
        if message.get("name") is not None and not isinstance(message["name"], str):
            raise BadRequest(f"{where}.name must be a string")
        if message.get("uuid") is not None and rules.refuses_uuid:
            raise BadRequest(f"{where}.uuid must be left unset: Zep assigns message ids")
        check_metadata(message.get("metadata"), where)
    return messages


def _store_thread_messages(
    zep: Zep, session: ZepSession, messages: list[dict[str, Any]], rules: MessageRules
) -> list[Stamped]:
    readiness = zep.store.processing.stamp(zep.clock.peek(), session.reads)
    stored: list[Stamped] = []
    for message in messages:
        created = isoformat_z(zep.clock.now())
        payload: dict[str, Any] = {
            "uuid": zep.ids.uuid4(),
            "created_at": created if rules.stamps_times else (message.get("created_at") or created),
            "updated_at": created,
            "role": message.get("name") or "",
            "role_type": message.get("role") or "norole",
            "content": message["content"],
            "metadata": message.get("metadata") or {},
            "token_count": 0,
        }
        if rules.stamps_times:
            payload["reference_time"] = message.get("reference_time") or created
        item = Stamped(payload, readiness)
        session.messages.append(item)
        stored.append(item)
    return stored


def store_batch(
    zep: Zep, session: ZepSession, messages: list[dict[str, Any]], rules: MessageRules
) -> tuple[list[Stamped], Task]:
    """The messages stored, and the task that succeeds once the last of them is processed."""
    stored = _store_thread_messages(zep, session, messages, rules)
    waits = [(m.readiness, lambda: session.reads) for m in stored[-1:]]
    return stored, new_task(zep, "add_messages", waits)


def merge_metadata(item: Stamped, patch: dict[str, Any]) -> None:
    merged = {**(item.payload.get("metadata") or {}), **patch}
    merged = {k: v for k, v in merged.items() if v is not None}
    if len(merged) > MAX_METADATA_KEYS:
        raise BadRequest(f"metadata would have {len(merged)} keys; at most {MAX_METADATA_KEYS}")
    item.payload["metadata"] = merged
