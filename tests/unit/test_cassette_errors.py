"""Every cassette error, with its message text; and canonical matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_sessionmem.cassette.schema import Body
from pytest_sessionmem.errors import CassetteCorrupt, CassetteNotFound, UnmatchedRequest

REPLAY_BASE = "https://api.getzep.com/api/v2"

COMMAND = "pytest 'tests/test_x.py::test_y' --sessionmem-record-mode=once"


def write_cassette(path: Path, *requests: dict[str, object]) -> None:
    interactions = [
        {"request": request, "response": {"status": 200, "json": {"n": n}}}
        for n, request in enumerate(requests)
    ]
    path.write_text(json.dumps({"version": 1, "interactions": interactions}))


# -- missing cassette ----------------------------------------------------------------------


def test_missing_cassette_names_file_and_command_on_first_request(
    cassettes, tmp_path: Path
) -> None:
    path = tmp_path / "cassettes" / "test_x" / "test_y.json"
    session = cassettes.session(path, "none", record_command=COMMAND)  # no error yet
    with cassettes.client(session) as client, pytest.raises(CassetteNotFound) as info:
        client.get("/sessions/s1/messages", params={"limit": 100, "cursor": 2})
    assert str(info.value) == (
        f"Cassette {path} does not exist, and record mode 'none' only replays, so "
        "GET /sessions/s1/messages?limit=100&cursor=2 has no recorded answer. To record it, "
        f"run:\n    {COMMAND}"
    )
    assert info.value.path == str(path)


def test_missing_cassette_without_command_names_flag(cassettes, tmp_path: Path) -> None:
    with (
        cassettes.replay_client(tmp_path / "x.json") as client,
        pytest.raises(CassetteNotFound) as info,
    ):
        client.get("/sessions/s1")
    assert str(info.value).endswith("run the test with --sessionmem-record-mode=once.")


# -- unmatched -----------------------------------------------------------------------------


def test_unmatched_names_request_candidates_differences_and_flag(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_cassette(
        path,
        {
            "method": "GET",
            "path": "/sessions/s1/messages",
            "query": {"cursor": "1", "limit": "100"},
        },
        {
            "method": "GET",
            "path": "/sessions/s2/messages",
            "query": {"cursor": "2", "limit": "100"},
        },
        {"method": "DELETE", "path": "/users/u1"},
        {
            "method": "POST",
            "path": "/sessions/s1/messages",
            "json": {"messages": [{"content": "a"}]},
        },
    )
    with cassettes.replay_client(path) as client, pytest.raises(UnmatchedRequest) as info:
        client.get("/sessions/s1/messages", params={"cursor": 2, "limit": 100})
    assert str(info.value) == "\n".join(
        [
            f"No recorded interaction matches GET /sessions/s1/messages?cursor=2&limit=100 in "
            f"cassette {path} (record mode 'none').",
            "Closest recorded requests (this request != recorded):",
            "  1. GET /sessions/s1/messages?cursor=1&limit=100",
            "       - query param cursor: '2' != '1'",
            "  2. GET /sessions/s2/messages?cursor=2&limit=100",
            "       - path: '/sessions/s1/messages' != '/sessions/s2/messages'",
            "  3. POST /sessions/s1/messages",
            "       - method: 'GET' != 'POST'",
            "       - query param cursor: '2' != (absent)",
            "       - query param limit: '100' != (absent)",
            '       - body: (empty) != json {"messages": [{"content": "a"}]}',
            # The file does not say where it was recorded: the whole test, afresh.
            "To record the whole test again, run the test with --sessionmem-record-mode=all.",
        ]
    )


def test_unmatched_json_body_names_the_differing_path(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    recorded = {"messages": [{"role": "user", "content": "hello"}], "extra": 1}
    write_cassette(path, {"method": "POST", "path": "/s/messages", "json": recorded})
    with cassettes.replay_client(path) as client, pytest.raises(UnmatchedRequest) as info:
        client.post("/s/messages", json={"messages": [{"role": "user", "content": "bye"}]})
    message = str(info.value)
    assert "- body at `messages[0].content`: 'bye' != 'hello'" in message
    assert "- body at `extra`: (absent) != 1" in message


def test_unmatched_in_empty_cassette(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_cassette(path)
    with (
        cassettes.replay_client(path) as client,
        pytest.raises(UnmatchedRequest, match="holds no interactions"),
    ):
        client.get("/x")


def test_unmatched_under_once_with_file_names_mode(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_cassette(path, {"method": "GET", "path": "/a"})
    session = cassettes.session(path, "once", upstream=cassettes.upstream())
    with (
        cassettes.client(session) as client,
        pytest.raises(UnmatchedRequest, match="record mode 'once'"),
    ):
        client.get("/b")


# -- canonical matching --------------------------------------------------------------------


def test_query_order_and_encoding_do_not_matter(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_cassette(path, {"method": "GET", "path": "/m", "query": {"b": "x y", "a": "1"}})
    with cassettes.replay_client(path) as client:
        assert client.get(f"{REPLAY_BASE}/m?a=1&b=x%20y").json() == {"n": 0}


def test_json_body_compared_structurally(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_cassette(path, {"method": "POST", "path": "/m", "json": {"a": 1, "b": [1, 2]}})
    with cassettes.replay_client(path) as client:
        response = client.post(
            "/m", content=b'{ "b" : [1,2],\n "a": 1 }', headers={"content-type": "application/json"}
        )
    assert response.json() == {"n": 0}


@pytest.mark.parametrize(
    ("sent", "recorded"),
    [
        ({"a": 1}, {"a": 1.0}),
        ({"a": 1}, {"a": True}),
        ({}, None),  # an empty object is not an empty body
    ],
)
def test_json_values_of_different_type_do_not_match(
    cassettes, tmp_path: Path, sent: object, recorded: object
) -> None:
    path = tmp_path / "c.json"
    request: dict[str, object] = {"method": "POST", "path": "/m"}
    if recorded is not None:
        request["json"] = recorded
    write_cassette(path, request)
    with cassettes.replay_client(path) as client, pytest.raises(UnmatchedRequest):
        client.post("/m", json=sent)


def test_get_with_empty_json_object_body_matches_its_recording(cassettes, tmp_path: Path) -> None:
    # The Zep SDK sends `{}` on GET; it is recorded and replayed the same way.
    path = tmp_path / "c.json"
    write_cassette(path, {"method": "GET", "path": "/m", "json": {}})
    with cassettes.replay_client(path) as client:
        assert client.request("GET", "/m", json={}).json() == {"n": 0}


def test_text_bodies_compared_as_text(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_cassette(path, {"method": "POST", "path": "/form", "text": "a=1&b=2"})
    with cassettes.replay_client(path) as client:
        assert client.post("/form", data={"a": "1", "b": "2"}).json() == {"n": 0}
        with pytest.raises(UnmatchedRequest, match=r"body: text 'a=1' != text 'a=1&b=2'"):
            client.post("/form", data={"a": "1"})


def test_body_classification() -> None:
    assert Body.from_bytes(b"") == Body("empty")
    assert Body.from_bytes(b'{"a":1}', "application/json; charset=utf-8") == Body("json", {"a": 1})
    assert Body.from_bytes(b"[1]", "application/vnd.api+json").kind == "json"
    assert Body.from_bytes(b'{"a":1}').kind == "json"  # undeclared object
    assert Body.from_bytes(b"123", "text/plain") == Body("text", "123")
    assert Body.from_bytes(b"1e5", "application/json") == Body("json", 100000.0)
    assert Body.from_bytes(b"{broken", "application/json") == Body("text", "{broken")
    assert Body.from_bytes(b"\xff\x00", "application/octet-stream") == Body("base64", b"\xff\x00")


# -- corrupt files -------------------------------------------------------------------------


def test_corrupt_json_names_file_and_position(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"version": 1,\n  "interactions": [,]}')
    with pytest.raises(CassetteCorrupt) as info:
        cassettes.session(path, "none")
    assert str(info.value) == (
        f"Cassette {path} is not valid JSON: Expecting value at line 2 column 20. Fix it by "
        "hand (a merge conflict?), or record it again (the old file is replaced); run the "
        "test with --sessionmem-record-mode=all."
    )
    assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "top level: expected an object, got []"),
        ({"version": 1}, "top level: missing key 'interactions'"),
        ({"version": 1, "interactions": {}}, "interactions: expected a list, got {}"),
        ({"version": 1, "interactions": [], "when": 1}, "top level: unknown key 'when'"),
        (
            {"version": 1, "interactions": [{"request": {"method": "GET"}, "response": {}}]},
            "interactions[0].request: missing key 'path'",
        ),
        (
            {
                "version": 1,
                "interactions": [
                    {"request": {"method": "GET", "path": "/"}, "response": {"status": "200"}}
                ],
            },
            'interactions[0].response.status: expected an integer HTTP status, got "200"',
        ),
        (
            {
                "version": 1,
                "interactions": [
                    {
                        "request": {"method": "GET", "path": "/", "json": {}, "text": ""},
                        "response": {"status": 200},
                    }
                ],
            },
            "interactions[0].request: has both 'json' and 'text'; a body has one encoding",
        ),
        (
            {
                "version": 1,
                "interactions": [
                    {
                        "request": {"method": "GET", "path": "/"},
                        "response": {"status": 200, "base64": "!!"},
                    }
                ],
            },
            "interactions[0].response.base64: not valid base64",
        ),
    ],
)
def test_wrong_shape_names_file_place_and_problem(
    cassettes, tmp_path: Path, document: object, problem: str
) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CassetteCorrupt) as info:
        cassettes.session(path, "none")
    assert str(info.value).startswith(f"Cassette {path} is not a valid cassette: {problem}")
    assert str(info.value).endswith(
        "Fix it by hand, or record it again (the old file is replaced); run the test with "
        "--sessionmem-record-mode=all."
    )


@pytest.mark.parametrize(
    ("version", "shown"), [(2, "version 2"), ("1", 'version "1"'), (None, "no version")]
)
def test_foreign_version_is_named(cassettes, tmp_path: Path, version: object, shown: str) -> None:
    path = tmp_path / "c.json"
    document: dict[str, object] = {"interactions": []}
    if version is not None:
        document["version"] = version
    path.write_text(json.dumps(document))
    with pytest.raises(CassetteCorrupt) as info:
        cassettes.session(path, "new_episodes")
    assert str(info.value) == (
        f"Cassette {path} has {shown}; this pytest-sessionmem reads cassette version 1. "
        "Use the pytest-sessionmem release that wrote it, or record it again (the old file is "
        "replaced); run the test with --sessionmem-record-mode=all."
    )


def test_an_unterminated_string_reads_once_at(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"version": 1, "interactions": [{"request": "GET /x')
    with pytest.raises(CassetteCorrupt) as info:
        cassettes.session(path, "none")
    assert "Unterminated string starting at line 1 column 45." in str(info.value)
    assert "at at" not in str(info.value)


@pytest.mark.parametrize(
    ("against", "flag"), [("emulator", " --sessionmem-emulator"), ("service", "")]
)
def test_a_corrupt_file_still_says_where_it_was_recorded(
    cassettes, tmp_path: Path, against: str, flag: str
) -> None:
    path = tmp_path / "c.json"
    # A merge conflict: not JSON, yet the file still says where it came from.
    conflict = "<" * 7 + " HEAD"
    path.write_text(
        f'{{"version": 1,\n{conflict}\n  "recorded_against": "{against}",\n"interactions": []}}'
    )
    with pytest.raises(CassetteCorrupt) as info:
        cassettes.session(path, "none")
    assert str(info.value).endswith(f"run the test with --sessionmem-record-mode=all{flag}.")


def test_non_utf8_file_is_corrupt(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(CassetteCorrupt, match="is not UTF-8 text"):
        cassettes.session(path, "none")
