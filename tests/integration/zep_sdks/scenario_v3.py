"""Every user, thread, message, graph and task call of zep-cloud 3.x against the emulator.

Run in a subprocess whose PYTHONPATH holds the zep-cloud 3.30.0 environment::

    python scenario_v3.py EMULATOR_URL sync|async

It prints one JSON object: for each call, what it returned (the fields the test checks) or
the error it raised. The test in ``test_zep_sdk_v3.py`` asserts on that.
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
from zep_cloud.types import Message

OUT: dict[str, Any] = {}


async def maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def error_of(call: Any) -> dict[str, Any]:
    try:
        await maybe(call())
    except (NotFoundError, BadRequestError) as exc:
        body = exc.body
        message = getattr(body, "message", None) or (
            body.get("message") if isinstance(body, dict) else None
        )
        return {"class": type(exc).__name__, "status": exc.status_code, "message": message}
    return {"class": None}


async def scenario(zep: Any, control: httpx.Client) -> None:
    user = await maybe(zep.user.add(user_id="jane", first_name="Jane", email="j@x.test"))
    OUT["user.add"] = {"user_id": user.user_id, "uuid": bool(user.uuid_)}
    got = await maybe(zep.user.get("jane"))
    OUT["user.get"] = {"first_name": got.first_name, "email": got.email}
    updated = await maybe(zep.user.update("jane", last_name="Doe"))
    OUT["user.update"] = {"last_name": updated.last_name, "first_name": updated.first_name}
    await maybe(zep.user.add(user_id="bob"))
    listed = await maybe(zep.user.list_ordered(page_number=1, page_size=5))
    OUT["user.list_ordered"] = {
        "users": [u.user_id for u in listed.users or []],
        "total": listed.total_count,
    }
    node = await maybe(zep.user.get_node("jane"))
    OUT["user.get_node"] = node.node is not None

    await maybe(
        zep.user.add_user_summary_instructions(
            instructions=[{"name": "tone", "text": "Short"}, {"name": "lang", "text": "English"}],
            user_ids=["jane"],
        )
    )
    await maybe(
        zep.user.delete_user_summary_instructions(instruction_names=["lang"], user_ids=["jane"])
    )
    listed_instructions = await maybe(zep.user.list_user_summary_instructions(user_id="jane"))
    OUT["user.*_user_summary_instructions"] = [
        [i.name, i.text] for i in listed_instructions.instructions or []
    ]

    thread = await maybe(zep.thread.create(thread_id="support-1", user_id="jane"))
    OUT["thread.create"] = {
        "thread_id": thread.thread_id,
        "user_id": thread.user_id,
        "uuid": bool(thread.uuid_),
    }
    await maybe(zep.thread.create(thread_id="support-2", user_id="bob"))
    OUT["thread.create(taken id)"] = await error_of(
        lambda: zep.thread.create(thread_id="support-1", user_id="jane")
    )
    threads = await maybe(
        zep.thread.list_all(page_number=1, page_size=10, order_by="created_at", asc=True)
    )
    OUT["thread.list_all"] = {
        "ids": [t.thread_id for t in threads.threads or []],
        "total": threads.total_count,
    }
    OUT["user.get_threads"] = [t.thread_id for t in await maybe(zep.user.get_threads("jane"))]
    OUT["user.warm"] = (await maybe(zep.user.warm("jane"))).message

    turns = [
        Message(role="user", name="Jane", content="Hi, I moved to Oslo and I love green tea."),
        Message(role="assistant", name="Ava", content="Welcome to Oslo, Jane!"),
        Message(
            role="user", name="Jane", content="My order #5521 never came.", metadata={"k": "v"}
        ),
    ]
    added = await maybe(zep.thread.add_messages("support-1", messages=turns, return_context=True))
    OUT["thread.add_messages"] = {
        "uuids": len(added.message_uuids or []),
        "task": bool(added.task_id),
        "context": added.context,
    }
    batch = await maybe(
        zep.thread.add_messages_batch(
            "support-1",
            messages=[
                Message(
                    role="assistant",
                    content="I re-sent order #5521.",
                    created_at="2025-06-01T13:11:12Z",
                ),
                Message(role="user", content="Thanks!"),
            ],
        )
    )
    OUT["thread.add_messages_batch"] = len(batch.message_uuids or [])
    task = await maybe(zep.task.get(added.task_id))
    OUT["task.get"] = {"status": task.status, "task_id": task.task_id == added.task_id}

    pages = []
    for cursor in (1, 2, 3):
        page = await maybe(zep.thread.get("support-1", limit=2, cursor=cursor))
        pages.append([m.content for m in page.messages or []])
    OUT["thread.get(limit, cursor)"] = pages
    everything = await maybe(zep.thread.get("support-1"))
    OUT["thread.get"] = {
        "roles": [[m.role, m.name] for m in everything.messages or []],
        "row_count": everything.row_count,
        "total_count": everything.total_count,
        "user_id": everything.user_id,
        "created_at": (everything.messages or [])[3].created_at,
    }
    last = await maybe(zep.thread.get("support-1", lastn=2))
    OUT["thread.get(lastn)"] = [m.content for m in last.messages or []]
    target = (everything.messages or [])[2]
    patched = await maybe(zep.thread.message.update(target.uuid_, metadata={"seen": True}))
    OUT["thread.message.update"] = {"metadata": patched.metadata, "content": patched.content}

    OUT["thread.get_summary(none yet)"] = await error_of(
        lambda: zep.thread.get_summary("support-1")
    )
    control.post("/_emulator/zep/threads/support-1/summary", json={"summary": "Jane's order"})
    control.post(
        "/_emulator/zep/threads/support-1/edges",
        json={"edges": [{"fact": "Jane lives in Oslo", "rating": 0.9}]},
    )
    summary = await maybe(zep.thread.get_summary("support-1"))
    OUT["thread.get_summary"] = {"summary": summary.summary, "thread_id": summary.thread_id}
    context = await maybe(zep.thread.get_user_context("support-1"))
    OUT["thread.get_user_context"] = context.context
    episodes = await maybe(zep.thread.get_episodes("support-1"))
    OUT["thread.get_episodes"] = [e.content for e in episodes.episodes or []][:2]

    episode = await maybe(zep.graph.add(user_id="jane", type="text", data="Jane prefers email."))
    OUT["graph.add"] = {"content": episode.content, "uuid": bool(episode.uuid_)}
    triple = await maybe(
        zep.graph.add_fact_triple(
            user_id="jane",
            fact="Jane loves green tea",
            fact_name="LOVES",
            source_node_name="Jane",
            target_node_name="green tea",
        )
    )
    OUT["graph.add_fact_triple"] = {"fact": triple.edge.fact, "name": triple.edge.name}
    edges = await maybe(zep.graph.edge.get_by_user_id("jane"))
    OUT["graph.edge.get_by_user_id"] = [[e.fact, e.score] for e in edges]
    found = await maybe(zep.graph.search(user_id="jane", query="green tea", scope="edges", limit=5))
    OUT["graph.search"] = [e.fact for e in found.edges or []]
    user_episodes = await maybe(zep.graph.episode.get_by_user_id("jane", lastn=1))
    OUT["graph.episode.get_by_user_id"] = [e.content for e in user_episodes.episodes or []]

    # v2 and v3 share one store: a v2 session is readable as a thread.
    control.post("/zep/api/v2/sessions", json={"session_id": "legacy-1", "user_id": "bob"})
    control.post(
        "/zep/api/v2/sessions/legacy-1/memory",
        json={"messages": [{"role_type": "user", "role": "Bob", "content": "from v2"}]},
    )
    legacy = await maybe(zep.thread.get("legacy-1"))
    OUT["v2 session as thread"] = [[m.role, m.name, m.content] for m in legacy.messages or []]

    OUT["errors.not_found"] = await error_of(lambda: zep.thread.get("no-such-thread"))
    OUT["thread.delete"] = (await maybe(zep.thread.delete("support-2"))).message
    OUT["thread.get(deleted)"] = await error_of(lambda: zep.thread.get("support-2"))
    OUT["user.delete"] = (await maybe(zep.user.delete("bob"))).message
    OUT["user.get(deleted)"] = await error_of(lambda: zep.user.get("bob"))


async def main(url: str, mode: str) -> None:
    OUT["version"] = importlib.metadata.version("zep-cloud")
    base_url = f"{url}/zep/api/v2"
    with httpx.Client(base_url=url, timeout=10) as control:
        if mode == "sync":
            with httpx.Client(timeout=10) as http:
                await scenario(Zep(api_key="k", base_url=base_url, httpx_client=http), control)
        else:
            async with httpx.AsyncClient(timeout=10) as http:
                await scenario(AsyncZep(api_key="k", base_url=base_url, httpx_client=http), control)
    json.dump(OUT, sys.stdout, default=str)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
