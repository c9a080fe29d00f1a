"""The collector pause: off during bulk work, back on after, never turned on against the user.

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
from pytest_sessionmem.gc_pause import collector_paused
from pytest_sessionmem.models import Message, Role, Transcript


@pytest.fixture(autouse=True)
def collector_on_afterwards() -> Iterator[None]:
    """A failing test here must not leave the collector off for the rest of the suite."""
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_exception_inside_still_turns_the_collector_back_on() -> None:
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_a_collector_the_user_turned_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_pauses_end_with_the_outermost() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_end_when_the_last_one_ends() -> None:
    first_inside, second_inside, first_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            first_inside.set()
            second_inside.wait(5)
        first_done.set()

    def second() -> None:
        first_inside.wait(5)
        with collector_paused():
            second_inside.set()
            first_done.wait(5)
            seen["after the first ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first ended": False}
    assert gc.isenabled()


def test_overlapping_pauses_in_async_tasks_end_when_the_last_one_ends() -> None:
    async def main() -> bool:
        second_entered = asyncio.Event()
        first_left = asyncio.Event()

        async def first() -> None:
            with collector_paused():
                await second_entered.wait()
            first_left.set()

        async def second() -> bool:
            with collector_paused():
                second_entered.set()
                await first_left.wait()
                return gc.isenabled()

        _, enabled_in_second = await asyncio.gather(first(), second())
        return enabled_in_second

    assert asyncio.run(main()) is False
    assert gc.isenabled()


def test_a_cycle_made_during_a_pause_is_collected_after_it() -> None:
    class Node:
        partner: Any = None

    with collector_paused():
        a, b = Node(), Node()
        a.partner, b.partner = b, a
        alive = weakref.ref(a)
        del a, b
    assert alive() is not None  # a cycle: reference counting alone cannot free it
    gc.collect()
    assert alive() is None


# -- where the product pauses ------------------------------------------------------------


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


def test_a_client_call_runs_with_the_collector_paused(driver: Any) -> None:
    states: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        states.append(gc.isenabled())
        return httpx.Response(200, json=eliza_page(3))

    transcript = driver.call("eliza", handler, "get_messages", "s1")
    assert len(transcript) == 3
    assert states == [False]
    assert gc.isenabled()


def test_a_failed_client_call_turns_the_collector_back_on(driver: Any) -> None:
    states: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        states.append(gc.isenabled())
        return httpx.Response(404, json={"success": False, "error": {"code": "NOT_FOUND"}})

    with pytest.raises(ProviderError):
        driver.call("eliza", handler, "get_messages", "s1")
    assert states == [False]
    assert gc.isenabled()


def test_loading_a_cassette_runs_with_the_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "test_it.json"
    path.write_text('{"version": 1, "base_url": "http://x", "interactions": []}\n')
    states: list[bool] = []
    real_load = recorder_module.load_cassette

    def load(*args: Any, **kwargs: Any) -> Any:
        states.append(gc.isenabled())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(recorder_module, "load_cassette", load)
    CassetteSession(path, mode="none", base_url="http://x").close()
    assert states == [False]
    assert gc.isenabled()


def test_assert_transcript_compares_with_the_collector_paused() -> None:
    states: list[bool] = []

    def folded(text: str) -> str:
        states.append(gc.isenabled())
        return text.casefold()

    transcript = Transcript(messages=(Message(role=Role.USER, content="hi"),))
    assert_transcript(transcript, [("user", "hi")], content=folded)
    with pytest.raises(AssertionError):
        assert_transcript(transcript, [("user", "bye")], content=folded)
    assert states and not any(states)
    assert gc.isenabled()
