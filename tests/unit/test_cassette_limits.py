"""Cassettes that nest too deeply, hold huge integers or name a key twice are refused with a
CassetteCorrupt naming the file and the line; responses nested too deeply to keep as JSON
are recorded as text and replayed byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import orjson
import pytest

from pytest_sessionmem.cassette.schema import MAX_BODY_DEPTH, RERECORD, Body
from pytest_sessionmem.cassette.store import load_cassette
from pytest_sessionmem.errors import CassetteCorrupt
from pytest_sessionmem.support.jsonfast import (
    FAILED,
    MAX_DEPTH,
    DocumentProblem,
    fast_load_document,
    load_document,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def cassette_text(body: str) -> str:
    """A cassette whose one response body is ``body`` (JSON text), the body on line 7."""
    return (
        '{\n  "version": 1,\n  "interactions": [\n    {\n'
        '      "request": {"method": "GET", "path": "/x"},\n'
        '      "response": {"status": 200,\n'
        f'        "json": {body}}}\n'
        "    }\n  ]\n}\n"
    )


def corrupt(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CassetteCorrupt) as info:
        load_cassette(path)
    assert info.value.path == str(path)
    return str(info.value)


# -- nesting ---------------------------------------------------------------------------------


def test_max_depth_is_the_deepest_orjson_writes() -> None:
    orjson.dumps(json.loads(nested(MAX_DEPTH)))
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(json.loads(nested(MAX_DEPTH + 1)))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 2_000, 100_000])
def test_a_cassette_nested_too_deeply_names_the_file_and_the_line(
    tmp_path: Path, depth: int
) -> None:
    path = tmp_path / "deep.json"
    # the document, "interactions", the interaction and the response are four levels
    message = corrupt(path, cassette_text(nested(depth)))
    column = len('        "json": ') + (MAX_DEPTH - 4) + 1
    assert message == (
        f"Cassette {path} cannot be read: objects and lists nest deeper than {MAX_DEPTH} "
        f"levels at line 7 column {column}. Fix it by hand, or {RERECORD}"
    )


def test_a_whole_document_nested_too_deeply_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    message = corrupt(path, "\n" + nested(100_000))
    assert f"{path} cannot be read: objects and lists nest deeper than 254 levels at line 2 " in (
        message
    )


def test_a_body_nested_as_deep_as_a_cassette_holds_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(cassette_text(nested(MAX_BODY_DEPTH)), encoding="utf-8")
    (interaction,) = load_cassette(path).interactions
    assert interaction.response.body == Body("json", json.loads(nested(MAX_BODY_DEPTH)))


# -- huge integers ---------------------------------------------------------------------------


def test_an_integer_longer_than_python_converts_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    message = corrupt(path, cassette_text('{"n": ' + "7" * 5000 + "}"))
    assert message == (
        f"Cassette {path} cannot be read: an integer of 5000 digits (this Python reads at most "
        f"4300) at line 7 column 23. Fix it by hand, or {RERECORD}"
    )


def test_a_long_number_with_a_fraction_is_a_float(tmp_path: Path) -> None:
    path = tmp_path / "float.json"
    path.write_text(cassette_text('{"n": ' + "7" * 20 + ".5}"), encoding="utf-8")
    (interaction,) = load_cassette(path).interactions
    assert interaction.response.body.value == {"n": 77777777777777777777.5}


# -- duplicate keys and a boolean version ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            cassette_text('{"a": 1, "b": 2, "a": 3}'),
            "key 'a' appears twice in one object at line 7 column 34",
        ),
        (
            '{"version": 1, "interactions": [],\n "version": 1}',
            "key 'version' appears twice in one object at line 2 column 2",
        ),
        # spaced as a hand edit might be, and holding a big integer: the slow path
        (
            '{"version" : 1, "n": 123456789012345678901234567890,\n "interactions" : [], "n" : 2}',
            "key 'n' appears twice in one object at line 2 column 23",
        ),
        # a key spelled with an escape is the same key
        (cassette_text('{"a": 1, "\\u0061": 2}'), "key 'a' appears twice in one object"),
    ],
)
def test_a_key_twice_in_one_object_is_corrupt_and_named(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "twice.json"
    message = corrupt(path, text)
    assert message.startswith(f"Cassette {path} cannot be read: {where}")
    assert message.endswith(RERECORD)


def test_the_same_key_in_two_objects_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(
        cassette_text('[{"a": 1, "b": {"a": 2}}, {"a": "\\": in a string"}]'), encoding="utf-8"
    )
    assert len(load_cassette(path).interactions) == 1


@pytest.mark.parametrize(("version", "shown"), [("true", "true"), ("1.0", "1.0")])
def test_a_version_that_only_equals_one_is_refused(
    tmp_path: Path, version: str, shown: str
) -> None:
    path = tmp_path / "v.json"
    message = corrupt(path, f'{{"version": {version}, "interactions": []}}')
    assert message.startswith(f"Cassette {path} has version {shown}; this pytest-sessionmem reads")


# -- the fast reader and the exact one agree -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": 1, "b": {"a": 2, "a": 3}}',
        '{"k\\u003a": 1}',  # one colon fewer than written again: the exact check decides
        nested(MAX_DEPTH + 1),
    ],
)
def test_the_fast_reader_leaves_every_doubt_to_the_exact_one(text: str) -> None:
    assert fast_load_document(text.encode()) is FAILED


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [{"a": 2}]}',
        '{"k": "\\":", "v": "a\\\\"}',
        '{"a" : 1,\n\t"b":2}',
        nested(MAX_DEPTH),
    ],
)
def test_plain_documents_stay_on_the_fast_path(text: str) -> None:
    assert fast_load_document(text.encode()) == json.loads(text)
    assert load_document(text) == json.loads(text)


def test_a_document_problem_says_where() -> None:
    with pytest.raises(DocumentProblem) as info:
        load_document('{\n  "a": 1,\n  "a": 2\n}')
    assert (info.value.msg, info.value.lineno, info.value.colno) == (
        "key 'a' appears twice in one object",
        3,
        3,
    )


# -- recording bodies too deep to keep as JSON -------------------------------------------------


class DeepUpstream:
    """Answers every request with a JSON document nested ``depth`` levels deep."""

    def __init__(self, depth: int) -> None:
        self.body = ('{"a":' * depth + "1" + "}" * depth).encode()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(
            lambda request: httpx.Response(
                200, content=self.body, headers={"content-type": "application/json"}
            )
        )


@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH + 1, 300, 5_000])
def test_a_response_too_deep_for_json_records_as_text_and_replays(
    cassettes, tmp_path: Path, depth: int
) -> None:
    path = tmp_path / "deep.json"
    upstream = DeepUpstream(depth)
    request_body = ('{"q":' * depth + "0" + "}" * depth).encode()
    session = cassettes.session(path, "once", upstream=upstream)  # type: ignore[arg-type]
    with cassettes.client(session) as client:
        live = client.post(
            "/sessions/s1/messages",
            content=request_body,
            headers={"content-type": "application/json"},
        )
    assert live.content == upstream.body
    assert session.finish(failed=False).written

    (interaction,) = load_cassette(path).interactions
    assert interaction.response.body == Body("text", upstream.body.decode())
    assert interaction.request.body == Body("text", request_body.decode())
    with cassettes.replay_client(path) as client:
        replayed = client.post(
            "/sessions/s1/messages",
            content=request_body,
            headers={"content-type": "application/json"},
        )
    assert replayed.content == upstream.body


def test_a_response_as_deep_as_a_cassette_holds_stays_json(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    upstream = DeepUpstream(MAX_BODY_DEPTH)
    session = cassettes.session(path, "once", upstream=upstream)  # type: ignore[arg-type]
    with cassettes.client(session) as client:
        client.get("/sessions/s1/messages")
    session.finish(failed=False)
    (interaction,) = load_cassette(path).interactions
    assert interaction.response.body.kind == "json"
    with cassettes.replay_client(path) as client:
        assert client.get("/sessions/s1/messages").json() == json.loads(upstream.body)
