"""Zep v2 emulation over loopback HTTP: the real zep-cloud SDK and raw httpx."""

from __future__ import annotations

import warnings
from itertools import islice
from typing import Any

import httpx
import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from zep_cloud.client import Zep
    from zep_cloud.core.api_error import ApiError
    from zep_cloud.errors import BadRequestError, NotFoundError
    from zep_cloud.types import Message

ZEP = "/zep/api/v2"


def _session(zep: Zep, session_id: str = "s1", user_id: str = "u1") -> None:
    zep.user.add(user_id=user_id)
    zep.memory.add_session(session_id=session_id, user_id=user_id)


def _add(zep: Zep, session_id: str, count: int, start: int = 0) -> None:
    zep.memory.add(
        session_id=session_id,
        messages=[
            Message(role="alice", role_type="user", content=f"m{i}")
            for i in range(start, start + count)
        ],
    )


def test_sdk_round_trip(zep_client: Zep) -> None:
    user = zep_client.user.add(user_id="u1", email="a@example.com")
    assert user.user_id == "u1" and user.email == "a@example.com"
    session = zep_client.memory.add_session(session_id="s1", user_id="u1", metadata={"k": 1})
    assert (session.session_id, session.user_id, session.metadata) == ("s1", "u1", {"k": 1})
    zep_client.memory.add(
        session_id="s1",
        messages=[
            Message(role="alice", role_type="user", content="Hi", metadata={"k": "v"}),
            Message(role_type="assistant", content="Hello"),
        ],
    )
    page = zep_client.memory.get_session_messages("s1", limit=10, cursor=1)
    assert [(m.role, m.role_type, m.content) for m in page.messages or []] == [
        ("alice", "user", "Hi"),
        ("", "assistant", "Hello"),
    ]
    first = (page.messages or [])[0]
    assert first.metadata == {"k": "v"} and first.processed is True and first.uuid_
    assert (page.row_count, page.total_count) == (2, 2)
    assert zep_client.memory.get_session("s1").session_id == "s1"
    memory = zep_client.memory.get("s1")
    assert [m.content for m in memory.messages or []] == ["Hi", "Hello"]
    assert zep_client.memory.delete("s1").message == "OK"
    with pytest.raises(NotFoundError) as excinfo:
        zep_client.memory.get_session("s1")
    assert excinfo.value.body.message == "not found"


def test_message_has_every_documented_field(zep_client: Zep, http: httpx.Client) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 1)
    body = http.get(f"{ZEP}/sessions/s1/messages", params={"limit": 5, "cursor": 1}).json()
    assert set(body) == {"messages", "row_count", "total_count"}
    assert set(body["messages"][0]) == {
        "uuid",
        "created_at",
        "updated_at",
        "role",
        "role_type",
        "content",
        "metadata",
        "token_count",
        "processed",
    }


def test_pages_are_one_based_oldest_first(zep_client: Zep) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 5)
    pages = [zep_client.memory.get_session_messages("s1", limit=2, cursor=c) for c in (1, 2, 3)]
    assert [[m.content for m in p.messages or []] for p in pages] == [
        ["m0", "m1"],
        ["m2", "m3"],
        ["m4"],
    ]
    assert [(p.row_count, p.total_count) for p in pages] == [(2, 5), (2, 5), (1, 5)]


def test_page_past_the_end_reports_total_count_zero(zep_client: Zep, http: httpx.Client) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 3)
    response = http.get(f"{ZEP}/sessions/s1/messages", params={"limit": 2, "cursor": 3})
    assert response.json() == {"messages": [], "total_count": 0, "row_count": 0}


def test_limit_one_pages_one_message_at_a_time(zep_client: Zep) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 3)
    pages = [zep_client.memory.get_session_messages("s1", limit=1, cursor=c) for c in (1, 2, 3, 4)]
    assert [[m.content for m in p.messages or []] for p in pages] == [["m0"], ["m1"], ["m2"], []]
    assert [(p.row_count, p.total_count) for p in pages] == [(1, 3), (1, 3), (1, 3), (0, 0)]


def test_our_client_with_page_size_one_reads_every_message_once(
    zep_client: Zep, server: EmulatorServer
) -> None:
    from pytest_sessionmem.client import SessionClient

    _session(zep_client)
    _add(zep_client, "s1", 4)
    with SessionClient("zep", base_url=server.base_url("zep"), api_key="zep-key") as client:
        # At most one more than there is: a server that ignored limit=1 would page forever.
        read = list(islice(client.iter_messages("s1", page_size=1), 5))
    assert [m.content for m in read] == ["m0", "m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 35),  # no limit at all: everything
        ({"limit": "", "cursor": ""}, 35),  # empty counts as 0 = no limit
        ({"limit": "abc", "cursor": "1"}, 35),  # unparsable limit -> 100
        ({"limit": "10", "cursor": "xyz"}, 10),  # unparsable cursor -> 1
        ({"limit": "10"}, 10),  # cursor missing -> first page
        ({"limit": "10", "cursor": "4"}, 5),
    ],
)
def test_query_parse_rules(
    zep_client: Zep, http: httpx.Client, params: dict[str, str], expected: int
) -> None:
    _session(zep_client)
    for start in (0, 30):
        _add(zep_client, "s1", 30 if start == 0 else 5, start=start)
    body = http.get(f"{ZEP}/sessions/s1/messages", params=params).json()
    assert body["row_count"] == expected == len(body["messages"])


def test_get_accepts_the_sdk_empty_json_body(zep_client: Zep, http: httpx.Client) -> None:
    _session(zep_client)
    response = http.request("GET", f"{ZEP}/sessions/s1", json={})
    assert response.status_code == 200


def test_unknown_session_is_404_not_found_everywhere(http: httpx.Client) -> None:
    for method, path in [
        ("GET", "/sessions/nope"),
        ("GET", "/sessions/nope/messages"),
        ("GET", "/sessions/nope/memory"),
        ("DELETE", "/sessions/nope/memory"),
    ]:
        response = http.request(method, ZEP + path)
        assert (response.status_code, response.json()) == (404, {"message": "not found"})
        assert response.headers["content-type"] == "application/json"


def test_add_session_for_unknown_user_is_400(zep_client: Zep) -> None:
    with pytest.raises(BadRequestError) as excinfo:
        zep_client.memory.add_session(session_id="s", user_id="ghost")
    assert excinfo.value.body.message == "user not found"


def test_add_session_answers_201(zep_client: Zep, http: httpx.Client) -> None:
    zep_client.user.add(user_id="u1")
    response = http.post(f"{ZEP}/sessions", json={"session_id": "s9", "user_id": "u1"})
    assert response.status_code == 201
    duplicate = http.post(f"{ZEP}/sessions", json={"session_id": "s9", "user_id": "u1"})
    assert duplicate.status_code == 400


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([{"content": "x"}], "messages are required to have a RoleType"),
        ([{"role_type": "robot", "content": "x"}], "invalid role_type"),
        ([{"role_type": "user"}], "content is required"),
        ([{"role_type": "user", "content": "x"}] * 31, "max messages per memory of 30 exceeded"),
        ([], "messages are required"),
    ],
)
def test_bad_memory_writes_are_400(
    zep_client: Zep, http: httpx.Client, messages: list[dict[str, Any]], reason: str
) -> None:
    _session(zep_client)
    response = http.post(f"{ZEP}/sessions/s1/memory", json={"messages": messages})
    assert response.status_code == 400
    assert reason in response.json()["message"]
    assert http.get(f"{ZEP}/sessions/s1/messages").json()["row_count"] == 0  # nothing half-written


def test_thirty_messages_in_one_call_are_fine(zep_client: Zep) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 30)
    assert zep_client.memory.get_session_messages("s1", limit=100, cursor=1).total_count == 30


def test_memory_lastn_default_six_ascending(zep_client: Zep) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 8)
    default = zep_client.memory.get("s1")
    assert [m.content for m in default.messages or []] == [f"m{i}" for i in range(2, 8)]
    two = zep_client.memory.get("s1", lastn=2)
    assert [m.content for m in two.messages or []] == ["m6", "m7"]


def test_negative_lastn_is_400(zep_client: Zep) -> None:
    _session(zep_client)
    with pytest.raises(ApiError) as excinfo:  # memory.get maps no 400 class of its own
        zep_client.memory.get("s1", lastn=-1)
    assert excinfo.value.status_code == 400


def test_memory_shows_seeded_facts_context_summary(zep_client: Zep, server: EmulatorServer) -> None:
    _session(zep_client)
    _add(zep_client, "s1", 2)
    server.control.zep_add_facts(
        "s1", ["likes tea", {"content": "lives in Oslo", "rating": 0.9, "name": "LIVES_IN"}]
    )
    server.control.zep_set_context("s1", "Alice likes tea.")
    server.control.zep_set_summary("s1", "They greeted each other.")
    memory = zep_client.memory.get("s1")
    assert memory.context == "Alice likes tea."
    assert [f.content for f in memory.relevant_facts or []] == ["likes tea", "lives in Oslo"]
    assert memory.facts == ["likes tea", "lives in Oslo"]
    assert memory.summary is not None and memory.summary.content == "They greeted each other."
    rated = zep_client.memory.get("s1", min_rating=0.5)
    assert [(f.content, f.name) for f in rated.relevant_facts or []] == [
        ("lives in Oslo", "LIVES_IN")
    ]


def test_add_memory_can_return_context(
    zep_client: Zep, server: EmulatorServer, http: httpx.Client
) -> None:
    _session(zep_client)
    server.control.zep_set_context("s1", "ctx")
    message = {"role_type": "user", "content": "x"}
    plain = http.post(f"{ZEP}/sessions/s1/memory", json={"messages": [message]})
    assert plain.json() == {"context": None}
    with_context = http.post(
        f"{ZEP}/sessions/s1/memory", json={"messages": [message], "return_context": True}
    )
    assert with_context.json() == {"context": "ctx"}


def test_auth_on_requires_api_key_header(server: EmulatorServer, http: httpx.Client) -> None:
    server.control.set_keys(zep="zep-key")
    anonymous = http.get(f"{ZEP}/sessions/s1")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"message": "unauthorized"}
    wrong = http.get(f"{ZEP}/sessions/s1", headers={"Authorization": "Api-Key nope"})
    assert wrong.status_code == 401
    right = http.get(f"{ZEP}/sessions/s1", headers={"Authorization": "Api-Key zep-key"})
    assert right.status_code == 404  # past auth: the session simply does not exist


def test_auth_on_works_with_the_sdk_key(zep_client: Zep, server: EmulatorServer) -> None:
    server.control.set_keys(zep="zep-key")  # the fixture's SDK client sends "zep-key"
    _session(zep_client)
    server.control.set_keys(zep="other")
    with pytest.raises(ApiError) as excinfo:
        zep_client.memory.get_session("s1")
    assert excinfo.value.status_code == 401
