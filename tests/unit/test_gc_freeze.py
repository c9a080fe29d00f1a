"""Freezing the old objects for bulk work: on inside, undone after, never undoing another's freeze.

And the places that use it: a client call, loading a cassette, ``assert_transcript``.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_sessionmem import ProviderError, assert_transcript
from pytest_sessionmem.cassette import CassetteSession
from pytest_sessionmem.cassette import recorder as recorder_module
from pytest_sessionmem.models import Message, Role, Transcript
from pytest_sessionmem.support.gc_freeze import old_objects_frozen


class Node:
    partner: Any = None


def frozen() -> bool:
    return gc.get_freeze_count() > 0


@pytest.fixture(autouse=True)
def nothing_frozen_afterwards() -> Iterator[None]:
    """A failing test here must not leave the whole heap frozen for the rest of the suite."""
    assert not frozen()
    yield
    gc.unfreeze()


def test_old_objects_are_frozen_inside_and_thawed_after() -> None:
    with old_objects_frozen():
        assert frozen()
    assert not frozen()


def test_an_exception_inside_still_thaws_them() -> None:
    with pytest.raises(KeyError), old_objects_frozen():
        raise KeyError("boom")
    assert not frozen()


def test_objects_someone_else_froze_stay_frozen() -> None:
    gc.freeze()
    before = gc.get_freeze_count()
    with old_objects_frozen():
        pass
    assert gc.get_freeze_count() == before


def test_nested_freezes_end_with_the_outermost() -> None:
    with old_objects_frozen():
        with old_objects_frozen():
            pass
        assert frozen()
    assert not frozen()


def test_a_cycle_made_inside_is_collected_inside() -> None:
    """What the bulk call makes stays visible to the collector: its garbage cycles go."""
    with old_objects_frozen():
        a, b = Node(), Node()
        a.partner, b.partner = b, a
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        assert alive() is None


def test_a_cycle_among_old_objects_is_collected_after() -> None:
    a, b = Node(), Node()
    a.partner, b.partner = b, a
    alive = weakref.ref(a)
    with old_objects_frozen():
        del a, b
        gc.collect()
        assert alive() is not None  # frozen: the collector does not look at it yet
    gc.collect()
    assert alive() is None


def test_overlapping_freezes_in_threads_end_when_the_last_one_ends() -> None:
    first_inside, second_inside, first_done = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    seen: dict[str, bool] = {}

    def first() -> None:
        with old_objects_frozen():
            first_inside.set()
            second_inside.wait(5)
        first_done.set()

    def second() -> None:
        first_inside.wait(5)
        with old_objects_frozen():
            second_inside.set()
            first_done.wait(5)
            seen["after the first ended"] = frozen()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first ended": True}
    assert not frozen()


def test_overlapping_freezes_in_async_tasks_end_when_the_last_one_ends() -> None:
    async def main() -> bool:
        second_entered = asyncio.Event()
        first_left = asyncio.Event()

        async def first() -> None:
            with old_objects_frozen():
                await second_entered.wait()
            first_left.set()

        async def second() -> bool:
            with old_objects_frozen():
                second_entered.set()
                await first_left.wait()
                return frozen()

        _, frozen_in_second = await asyncio.gather(first(), second())
        return frozen_in_second

    assert asyncio.run(main()) is True
    assert not frozen()


# -- where the product freezes -----------------------------------------------------------


def eliza_page(count: int) -> dict[str, Any]:
    """One ElizaOS page, newest first, with nothing after it."""
    messages = [
        {
            "id": f"m{n}",
            "content": f"turn {n}",
            "authorId": "11111111-2222-4333-8444-555555555555",
            "isAgent": n % 2 == 1,
            "createdAt": f"2025-01-01T00:00:0{n}.000Z",
            "metadata": {},
        }
        for n in reversed(range(count))
    ]
    return {"messages": messages, "hasMore": False}


def test_a_client_call_runs_with_old_objects_frozen(driver: Any) -> None:
    states: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        states.append(frozen())
        return httpx.Response(200, json=eliza_page(3))

    transcript = driver.call("eliza", handler, "get_messages", "s1")
    assert len(transcript) == 3
    assert states == [True]
    assert not frozen()


def test_a_failed_client_call_thaws_them(driver: Any) -> None:
    states: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        states.append(frozen())
        return httpx.Response(404, json={"success": False, "error": {"code": "NOT_FOUND"}})

    with pytest.raises(ProviderError):
        driver.call("eliza", handler, "get_messages", "s1")
    assert states == [True]
    assert not frozen()


def test_loading_a_cassette_runs_with_old_objects_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "test_it.json"
    path.write_text('{"version": 1, "base_url": "http://x", "interactions": []}\n')
    states: list[bool] = []
    real_load = recorder_module.load_cassette

    def load(*args: Any, **kwargs: Any) -> Any:
        states.append(frozen())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(recorder_module, "load_cassette", load)
    CassetteSession(path, mode="none", base_url="http://x").close()
    assert states == [True]
    assert not frozen()


def test_assert_transcript_compares_with_old_objects_frozen() -> None:
    states: list[bool] = []

    def folded(text: str) -> str:
        states.append(frozen())
        return text.casefold()

    transcript = Transcript(messages=(Message(role=Role.USER, content="hi"),))
    assert_transcript(transcript, [("user", "hi")], content=folded)
    with pytest.raises(AssertionError):
        assert_transcript(transcript, [("user", "bye")], content=folded)
    assert states and all(states)
    assert not frozen()
