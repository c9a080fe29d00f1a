"""Every user, thread, message, graph and task call of zep-cloud 4.x against the emulator.

Run in a subprocess whose PYTHONPATH holds the zep-cloud 4.0.1 environment::

    python scenario_v4.py EMULATOR_URL sync|async

It prints one JSON object: for each call, what it returned (the fields the test checks) or
the error it raised. The test in ``test_zep_sdk_v4.py`` asserts on that. Seeding goes through
the emulator's control API, as a test of a user's own would.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import json
import sys
from typing import Any

import httpx
from zep_cloud import AsyncZep, Zep
from zep_cloud.errors import BadRequestError, NotFoundError
from zep_cloud.types import AddMessage

OUT: dict[str, Any] = {}


async def maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def collect(pager: Any) -> list[Any]:
    pager = await maybe(pager)
    if hasattr(pager, "__aiter__"):
        return [item async for item in pager]
    return list(pager)


async def error_of(call: Any) -> dict[str, Any]:
    try:
        await maybe(call())
    except (NotFoundError, BadRequestError) as exc:
        body = exc.body
        error = getattr(body, "error", None)
        return {
            "class": type(exc).__name__,
            "status": exc.status_code,
            "code": getattr(error, "code", None),
        }
    return {"class": None}


async def scenario(zep: Any, control: httpx.Client) -> None:
    user = await maybe(zep.user.create(user_id="dev-jane", first_name="Jane", email="j@x.test"))
    OUT["user.create"] = {
        "user_id": user.user_id,
        "uuid": bool(user.uuid_),
        "graph": bool(user.graph_uuid),
    }
    anonymous = await maybe(zep.user.create())
    OUT["user.create(no id)"] = {"user_id": anonymous.user_id, "uuid": bool(anonymous.uuid_)}
    got = await maybe(zep.user.get(user.uuid_))
    OUT["user.get"] = {"first_name": got.first_name, "uuid": got.uuid_ == user.uuid_}
    updated = await maybe(zep.user.update(user.uuid_, last_name="Doe", metadata={"tier": "gold"}))
    OUT["user.update"] = {"last_name": updated.last_name, "metadata": updated.metadata}
    users = await collect(zep.user.list(page_size=1))
    OUT["user.list"] = sorted(u.user_id or "-" for u in users)
    found = await maybe(zep.user.lookup(user_id="dev-jane"))
    OUT["user.lookup"] = found.uuid_ == user.uuid_
    node = await maybe(zep.user.get_node(user.uuid_))
    OUT["user.get_node"] = {"name": node.name, "graph": node.graph_uuid == user.graph_uuid}
    await maybe(
        zep.user.set_summary_instructions(
            user.uuid_, instructions=[{"name": "tone", "text": "Keep it short"}]
        )
    )
    instructions = await maybe(zep.user.get_summary_instructions(user.uuid_))
    OUT["user.summary_instructions"] = [i.text for i in instructions.instructions or []]

    thread = await maybe(zep.thread.create(user_uuid=user.uuid_))
    OUT["thread.create"] = {
        "uuid": bool(thread.uuid_),
        "thread_id": thread.thread_id,
        "user": thread.user_uuid == user.uuid_,
    }
    other = await maybe(zep.thread.create(user_uuid=anonymous.uuid_))
    got_thread = await maybe(zep.thread.get(thread.uuid_))
    OUT["thread.get"] = {
        "uuid": got_thread.uuid_ == thread.uuid_,
        "graph": got_thread.graph_uuid == user.graph_uuid,
    }
    mine = await collect(zep.thread.list(user_uuid=user.uuid_, page_size=1))
    everything = await collect(zep.thread.list(page_size=1, order="desc"))
    OUT["thread.list"] = {
        "mine": [t.uuid_ == thread.uuid_ for t in mine],
        "all": [t.uuid_ for t in everything] == [other.uuid_, thread.uuid_],
    }

    turns = [
        AddMessage(role="user", name="Jane", content="Hi, I moved to Oslo and I love green tea."),
        AddMessage(role="assistant", name="Ava", content="Welcome to Oslo, Jane!"),
        AddMessage(
            role="user", name="Jane", content="My order #5521 never came.", metadata={"k": "v"}
        ),
        AddMessage(
            role="assistant",
            content="I re-sent order #5521.",
            reference_time="2025-06-01T13:11:12Z",
        ),
        AddMessage(role="user", content="Thanks!"),
    ]
    added = await maybe(zep.thread.add_messages(thread.uuid_, messages=turns, return_context=True))
    OUT["thread.add_messages"] = {
        "count": len(added.messages or []),
        "uuids": all(m.uuid_ for m in added.messages or []),
        "task": added.task.status if added.task else None,
        "context": added.context,
    }
    messages = await collect(zep.thread.list_messages(thread.uuid_, page_size=2))
    OUT["thread.list_messages"] = [[m.role, m.name, m.content] for m in messages]
    newest = await collect(zep.thread.list_messages(thread.uuid_, page_size=5, order="desc"))
    OUT["thread.list_messages(desc)"] = [m.content for m in newest][:2]
    OUT["reference_time"] = messages[3].reference_time
    first = messages[2]
    one = await maybe(zep.thread.message.get(thread.uuid_, first.uuid_))
    OUT["thread.message.get"] = {"content": one.content, "metadata": one.metadata}
    patched = await maybe(
        zep.thread.message.update(thread.uuid_, first.uuid_, metadata={"k": None, "seen": True})
    )
    OUT["thread.message.update"] = patched.metadata

    OUT["thread.get_summary(none yet)"] = await error_of(
        lambda: zep.thread.get_summary(thread.uuid_)
    )
    control.post(f"/_emulator/zep/threads/{thread.uuid_}/summary", json={"summary": "Jane's order"})
    control.post(
        f"/_emulator/zep/threads/{thread.uuid_}/edges",
        json={"edges": [{"fact": "Jane lives in Oslo", "rating": 0.9}, "Jane likes green tea"]},
    )
    summary = await maybe(zep.thread.get_summary(thread.uuid_))
    OUT["thread.get_summary"] = {
        "summary": summary.summary,
        "thread": summary.thread_uuid == thread.uuid_,
    }
    context = await maybe(zep.thread.get_context(thread.uuid_))
    OUT["thread.get_context"] = context.context
    episodes = await collect(zep.thread.list_episodes(thread.uuid_, page_size=2))
    OUT["thread.list_episodes"] = [e.content for e in episodes]
    resolved = await maybe(zep.thread.lookup(user_id="dev-jane"))
    OUT["thread.lookup(user_id)"] = resolved.uuid_ == thread.uuid_

    graph = user.graph_uuid
    episode = await maybe(zep.graph.episode.add(graph, data="Jane prefers email.", type="text"))
    OUT["graph.episode.add"] = {
        "content": episode.episode.content if episode.episode else None,
        "task": bool(episode.task and episode.task.uuid_),
    }
    task = await maybe(zep.task.get(episode.task.uuid_))
    OUT["task.get"] = task.status
    edges = await collect(zep.graph.edge.list(graph, page_size=1))
    OUT["graph.edge.list"] = [[e.fact, e.score] for e in edges]
    hits = await collect(zep.graph.search_edges(graph, query="green tea", page_size=5))
    OUT["graph.search_edges"] = [e.fact for e in hits]
    by_user = await collect(zep.graph.search_edges(user.uuid_, query="Oslo"))
    OUT["graph.search_edges(user uuid)"] = [e.fact for e in by_user]
    graph_context = await maybe(zep.graph.get_context(graph, query="Where does Jane live?"))
    OUT["graph.get_context"] = graph_context.context

    # v3 threads live in the same store: lookup resolves the v3 id to the thread's uuid.
    control.post("/zep/api/v2/users", json={"user_id": "old-user"})
    control.post("/zep/api/v2/threads", json={"thread_id": "legacy-1", "user_id": "old-user"})
    control.post(
        "/zep/api/v2/threads/legacy-1/messages",
        json={"messages": [{"role": "user", "name": "Old", "content": "from v3"}]},
    )
    legacy = await maybe(zep.thread.lookup(thread_id="legacy-1"))
    old_messages = await collect(zep.thread.list_messages(legacy.uuid_))
    OUT["thread.lookup(thread_id)"] = {
        "thread_id": legacy.thread_id,
        "messages": [[m.role, m.name, m.content] for m in old_messages],
    }
    OUT["errors.invalid_identifier"] = await error_of(lambda: zep.thread.get("not-a-uuid"))
    OUT["errors.not_found"] = await error_of(
        lambda: zep.thread.get("00000000-0000-4000-8000-000000000000")
    )
    batch = await maybe(zep.lookup.batch(users=["dev-jane", "nobody"]))
    OUT["lookup.batch"] = [
        [i.legacy_id, i.found, i.uuid_ == (user.uuid_ if i.found else None)]
        for i in batch.items or []
    ]

    deleted = await maybe(zep.thread.delete(other.uuid_))
    OUT["thread.delete"] = deleted.task.status if deleted.task else None
    OUT["thread.get(deleted)"] = await error_of(lambda: zep.thread.get(other.uuid_))
    gone = await maybe(zep.user.delete(anonymous.uuid_))
    OUT["user.delete"] = gone.task.status if gone.task else None
    OUT["user.get(deleted)"] = await error_of(lambda: zep.user.get(anonymous.uuid_))


async def main(url: str, mode: str) -> None:
    OUT["version"] = importlib.metadata.version("zep-cloud")
    base_url = f"{url}/zep/api/v4"
    with httpx.Client(base_url=url, timeout=10) as control:
        if mode == "sync":
            with httpx.Client(timeout=10) as http:
                await scenario(
                    Zep(api_key="k", base_url=base_url, httpx_client=http, max_retries=0), control
                )
        else:
            async with httpx.AsyncClient(timeout=10) as http:
                await scenario(
                    AsyncZep(api_key="k", base_url=base_url, httpx_client=http, max_retries=0),
                    control,
                )
    json.dump(OUT, sys.stdout, default=str)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
