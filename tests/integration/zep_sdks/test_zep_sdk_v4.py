"""zep-cloud 4.0.1, sync and async, against the emulator: every user, thread, message, graph
and task call the scenario makes (``scenario_v4.py``), checked call by call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_sessionmem import Contains
from pytest_sessionmem.emulator.runner import EmulatorServer

SCENARIO = Path(__file__).with_name("scenario_v4.py")
NOT_FOUND = {"class": "NotFoundError", "status": 404, "code": "not_found"}
TURNS = [
    ["user", "Jane", "Hi, I moved to Oslo and I love green tea."],
    ["assistant", "Ava", "Welcome to Oslo, Jane!"],
    ["user", "Jane", "My order #5521 never came."],
    ["assistant", None, "I re-sent order #5521."],
    ["user", None, "Thanks!"],
]

EXPECTED: dict[str, Any] = {
    "version": "4.0.1",
    "user.create": {"user_id": "dev-jane", "uuid": True, "graph": True},
    "user.create(no id)": {"user_id": None, "uuid": True},
    "user.get": {"first_name": "Jane", "uuid": True},
    "user.update": {"last_name": "Doe", "metadata": {"tier": "gold"}},
    "user.list": ["-", "dev-jane"],  # two pages of one
    "user.lookup": True,
    "user.get_node": {"name": "Jane Doe", "graph": True},
    "user.summary_instructions": ["Keep it short"],
    "thread.create": {"uuid": True, "thread_id": None, "user": True},
    "thread.get": {"uuid": True, "graph": True},
    "thread.list": {"mine": [True], "all": True},
    "thread.add_messages": {"count": 5, "uuids": True, "task": "succeeded", "context": ""},
    "thread.list_messages": TURNS,  # three pages of two, walked by the SDK's pager
    "thread.list_messages(desc)": ["Thanks!", "I re-sent order #5521."],
    "reference_time": "2025-06-01T13:11:12Z",
    "thread.message.get": {"content": "My order #5521 never came.", "metadata": {"k": "v"}},
    "thread.message.update": {"seen": True},  # merged; a key set to null is removed
    "thread.get_summary(none yet)": NOT_FOUND,
    "thread.get_summary": {"summary": "Jane's order", "thread": True},
    "thread.get_context": Contains("  - Jane lives in Oslo ("),
    "thread.list_episodes": [f"{n or r}: {c}" for r, n, c in TURNS],
    "thread.lookup(user_id)": True,
    "thread.lookup(thread_id)": {"thread_id": "legacy-1", "messages": [["user", "Old", "from v3"]]},
    "graph.episode.add": {"content": "Jane prefers email.", "task": True},
    "task.get": "succeeded",
    "graph.edge.list": [["Jane lives in Oslo", 0.9], ["Jane likes green tea", None]],
    "graph.search_edges": ["Jane likes green tea"],
    "graph.search_edges(user uuid)": ["Jane lives in Oslo"],
    "graph.get_context": Contains("  - Jane lives in Oslo ("),
    "errors.invalid_identifier": {
        "class": "BadRequestError",
        "status": 400,
        "code": "invalid_identifier",
    },
    "errors.not_found": NOT_FOUND,
    "lookup.batch": [["dev-jane", True, True], ["nobody", False, True]],
    "thread.delete": "succeeded",
    "thread.get(deleted)": NOT_FOUND,
    "user.delete": "succeeded",
    "user.get(deleted)": NOT_FOUND,
}


@pytest.fixture(scope="module", params=["sync", "async"])
def report(
    request: pytest.FixtureRequest, run_sdk: Callable[..., Any], zep_emulator: EmulatorServer
) -> dict[str, Any]:
    zep_emulator.control.reset()
    result: dict[str, Any] = run_sdk("4.0.1", SCENARIO, zep_emulator.url, request.param)
    return result


def test_the_scenario_made_every_call(report: dict[str, Any]) -> None:
    assert sorted(report) == sorted(EXPECTED)


@pytest.mark.parametrize("call", list(EXPECTED))
def test_call(report: dict[str, Any], call: str) -> None:
    assert report[call] == EXPECTED[call]
