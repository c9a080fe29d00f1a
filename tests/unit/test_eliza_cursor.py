"""The ElizaOS paging cursor stays one page long, and still loses nor repeats nothing.

Driven sans-IO: each operation's request is answered by a handler with the real server's
GET messages semantics (newest first, strict integer ``before``, ``hasMore`` on a full page).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx

from pytest_sessionmem.providers.base import MessagePage
from pytest_sessionmem.providers.eliza import ElizaCursor, ElizaProvider

T0 = 1_736_937_000_000


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def answer(rows: list[tuple[str, int]], request: httpx.Request) -> httpx.Response:
    params = request.url.params
    limit = int(params["limit"])
    newest_first = sorted(rows, key=lambda row: row[1], reverse=True)
    if "before" in params:
        newest_first = [row for row in newest_first if row[1] < int(params["before"])]
    page = newest_first[:limit]
    body: dict[str, Any] = {
        "messages": [
            {"id": ident, "content": ident, "isAgent": False, "createdAt": iso(ms)}
            for ident, ms in page
        ],
        "hasMore": len(page) == limit,
    }
    if page:
        body["cursors"] = {"before": page[-1][1], "after": page[0][1]}
    return httpx.Response(200, content=json.dumps(body).encode(), request=request)


def walk(rows: list[tuple[str, int]], page_size: int) -> tuple[list[str], list[ElizaCursor]]:
    provider = ElizaProvider("http://eliza.test")
    cursor: object | None = None
    ids: list[str] = []
    cursors: list[ElizaCursor] = []
    while True:
        operation = provider.messages_page("s1", page_size=page_size, cursor=cursor)
        request = next(operation)
        try:
            operation.send(answer(rows, request))
        except StopIteration as stop:
            page: MessagePage = stop.value
        ids.extend(m.id or "" for m in page.messages)
        if page.next_cursor is None:
            return ids, cursors
        assert isinstance(page.next_cursor, ElizaCursor)
        cursors.append(page.next_cursor)
        cursor = page.next_cursor


def test_a_long_session_with_ties_on_page_boundaries() -> None:
    # 3,000 messages, three to a millisecond, read 10 at a time: almost every page ends in
    # the middle of a group of ties.
    rows = [(f"m{i}", T0 + i // 3) for i in range(3_000)]

    ids, cursors = walk(rows, page_size=10)

    assert sorted(ids) == sorted(ident for ident, _ in rows)
    assert len(ids) == len(set(ids))
    assert max(len(c.seen) for c in cursors) <= 10  # one page of ids, not all seen so far


def test_ties_longer_than_a_page_step_past_the_group() -> None:
    rows = [(f"t{i}", T0 + 50) for i in range(25)] + [(f"o{i}", T0 + i) for i in range(5)]

    ids, cursors = walk(rows, page_size=10)

    assert len(ids) == len(set(ids))
    assert {f"o{i}" for i in range(5)} <= set(ids)  # the older messages are still reached
    assert max(len(c.seen) for c in cursors) <= 10
