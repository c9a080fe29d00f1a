"""zep-cloud 3.30.0, sync and async, against the emulator: every user, thread, message, graph
and task call the scenario makes (``scenario_v3.py``), checked call by call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_sessionmem import Contains
from pytest_sessionmem.emulator.runner import EmulatorServer

SCENARIO = Path(__file__).with_name("scenario_v3.py")
NOT_FOUND = {"class": "NotFoundError", "status": 404, "message": "not found"}

EXPECTED: dict[str, Any] = {
    "version": "3.30.0",
    "user.add": {"user_id": "jane", "uuid": True},
    "user.get": {"first_name": "Jane", "email": "j@x.test"},
    "user.update": {"last_name": "Doe", "first_name": "Jane"},
    "user.list_ordered": {"users": ["jane", "bob"], "total": 2},
    "user.get_node": True,
    "user.*_user_summary_instructions": [["tone", "Short"]],  # add two, delete one, list
    "thread.create": {"thread_id": "support-1", "user_id": "jane", "uuid": True},
    "thread.create(taken id)": {
        "class": "BadRequestError",
        "status": 400,
        "message": "thread support-1 already exists",
    },
    "thread.list_all": {"ids": ["support-1", "support-2"], "total": 2},
    "user.get_threads": ["support-1"],
    "user.warm": "Cache warmed",
    "thread.add_messages": {"uuids": 3, "task": True, "context": ""},
    "thread.add_messages_batch": 2,
    "task.get": {"status": "succeeded", "task_id": True},
    # cursor is a 1-based page number; the last page is short
    "thread.get(limit, cursor)": [
        ["Hi, I moved to Oslo and I love green tea.", "Welcome to Oslo, Jane!"],
        ["My order #5521 never came.", "I re-sent order #5521."],
        ["Thanks!"],
    ],
    "thread.get": {
        "roles": [
            ["user", "Jane"],
            ["assistant", "Ava"],
            ["user", "Jane"],
            ["assistant", None],
            ["user", None],
        ],
        "row_count": 5,
        "total_count": 5,
        "user_id": "jane",
        "created_at": "2025-06-01T13:11:12Z",  # a written created_at is kept
    },
    "thread.get(lastn)": ["I re-sent order #5521.", "Thanks!"],  # ascending
    "thread.message.update": {
        "metadata": {"k": "v", "seen": True},
        "content": "My order #5521 never came.",
    },
    "thread.get_summary(none yet)": {
        "class": "NotFoundError",
        "status": 404,
        "message": "no summary exists for this thread yet",
    },
    "thread.get_summary": {"summary": "Jane's order", "thread_id": "support-1"},
    "thread.get_user_context": Contains("  - Jane lives in Oslo ("),
    "thread.get_episodes": [
        "Jane: Hi, I moved to Oslo and I love green tea.",
        "Ava: Welcome to Oslo, Jane!",
    ],
    "graph.add": {"content": "Jane prefers email.", "uuid": True},
    "graph.add_fact_triple": {"fact": "Jane loves green tea", "name": "LOVES"},
    "graph.edge.get_by_user_id": [["Jane lives in Oslo", 0.9], ["Jane loves green tea", None]],
    "graph.search": ["Jane loves green tea"],
    "graph.episode.get_by_user_id": ["Jane prefers email."],
    "v2 session as thread": [["user", "Bob", "from v2"]],  # role_type -> role, role -> name
    "errors.not_found": NOT_FOUND,
    "thread.delete": "Thread successfully deleted.",
    "thread.get(deleted)": NOT_FOUND,
    "user.delete": "OK",
    "user.get(deleted)": NOT_FOUND,
}


@pytest.fixture(scope="module", params=["sync", "async"])
def report(
    request: pytest.FixtureRequest, run_sdk: Callable[..., Any], zep_emulator: EmulatorServer
) -> dict[str, Any]:
    zep_emulator.control.reset()
    result: dict[str, Any] = run_sdk("3.30.0", SCENARIO, zep_emulator.url, request.param)
    return result


def test_the_scenario_made_every_call(report: dict[str, Any]) -> None:
    assert sorted(report) == sorted(EXPECTED)


@pytest.mark.parametrize("call", list(EXPECTED))
def test_call(report: dict[str, Any], call: str) -> None:
    assert report[call] == EXPECTED[call]
