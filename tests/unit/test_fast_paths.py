"""Every fast path gives what the plain path gives: values, bytes, Transcripts, failure text.

- JSON: ``jsonfast`` against the standard library (values, bytes, errors);
- cassettes: the fast writer writes the bytes ``json.dumps(indent=2)`` writes, every committed
  cassette re-writes to its own bytes, and a file only the standard library can read
  (``NaN``) still loads and replays as before;
- scrubbing: skipping the walk of a body with nothing to replace changes nothing;
- assertions: an expected turn read from a Message and the whole-message comparison give
  what the field-by-field walk gives;
- messages: ``trusted_message_builder`` builds what ``Message(**values)`` builds, and the ElizaOS
  page parser gives the Transcript and errors of validating every message.
"""

from __future__ import annotations

import json
import math
import pickle
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pytest_sessionmem import ProviderError, SessionClient
from pytest_sessionmem.assertions import transcript_compare as compare
from pytest_sessionmem.cassette import CassetteSession
from pytest_sessionmem.cassette.schema import (
    Body,
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    cassette_to_data,
)
from pytest_sessionmem.cassette.scrub import Scrubber, ScrubConfig
from pytest_sessionmem.cassette.store import dump_cassette, load_cassette
from pytest_sessionmem.models import Message, Role, trusted_message_builder
from pytest_sessionmem.support.jsonfast import (
    FAILED,
    dumps_compact,
    dumps_indented,
    fast_load_document,
    loads,
)

REPO = Path(__file__).resolve().parents[2]


def nan_aware(value: Any) -> str:
    """A comparable form in which NaN equals NaN and 1 differs from 1.0 and True."""
    return json.dumps(value, sort_keys=True) + repr(value)


# --------------------------------------------------------------------------- JSON


JSON_TEXTS = [
    "{}",
    "[]",
    '{"a": {}, "b": [], "c": [[], {}]}',
    '{"z": 1, "a": 2, "m": {"y": null, "b": true, "x": false}}',
    '{"a": 1, "a": 2}',
    '"caf\\u00e9 \\u2028 \\ud83d\\ude00 \\u0000 \\n"',
    '["\\ud800"]',
    "[NaN, Infinity, -Infinity]",
    "[1e400, -1e400]",
    "[123456789012345678901234567890, -9223372036854775809, 18446744073709551615]",
    '["12345678901234567890123", 1234567890123456789]',
    '{"query": "name+e+x", "n": 1, "big": 1e16}',
    "[1e16, -12345678901234567890123]",
    "[9223372036854775807, -9223372036854775808, 0, -0, 1.0, -0.0, 1e-05, 1E5, 5e-324]",
    ' \n\t{"spaced" : [ 1 , 2 ] } \r\n',
    '{"text": "line\\nbreak \\"quoted\\" back\\\\slash \\t tab"}',
]
BAD_JSON = ["", "{", '{"a": }', "[1,]", "\ufeff{}", '{"a": 1} x', "01", "nul"]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_loads_gives_the_standard_librarys_value(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    assert nan_aware(loads(raw)) == nan_aware(json.loads(raw))
    assert nan_aware(loads(raw, text)) == nan_aware(json.loads(text))


@pytest.mark.parametrize("text", BAD_JSON)
def test_loads_raises_the_standard_librarys_error(text: str) -> None:
    with pytest.raises(ValueError) as standard:
        json.loads(text)
    with pytest.raises(ValueError) as fast:
        loads(text.encode("utf-8"), text)
    assert str(fast.value) == str(standard.value)


def random_floats(count: int) -> list[float]:
    rng = random.Random(13)
    values = [rng.uniform(-1e6, 1e6) for _ in range(count)]
    values += [10.0**e for e in range(-30, 30)] + [-(2.0**e) for e in range(-60, 70, 7)]
    values += [rng.random() * 10.0 ** rng.randint(-320, 300) for _ in range(count)]
    return [*values, 0.1, 1 / 3, 5e-324, 1.7976931348623157e308, 1e16, 1e15, 123456789.125]


def test_floats_read_back_exactly() -> None:
    floats = random_floats(2_000)
    raw = json.dumps(floats).encode()
    assert [float.hex(x) for x in loads(raw)] == [float.hex(x) for x in json.loads(raw)]


def corpus() -> list[Any]:
    return [
        {},
        [],
        {"a": {}, "b": [], "c": [[], [{}]]},
        {"unicode": "café 日本 😀 \u2028 \u200b", "ctrl": '\x00\x01\x1f\x7f\t\n\r\b\f"\\/'},
        {"floats": random_floats(200)},
        {"ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**30]},
        {"nan": [math.nan, math.inf, -math.inf]},
        {"nested": {"x": [1, {"y": [None, True, False, "s"]}]}},
        "just a string",
        12.5,
        None,
        [{"k": i, "v": f"value {i}", "f": i / 7} for i in range(300)],
    ]


@pytest.mark.parametrize("value", corpus())
def test_the_indented_writer_writes_the_standard_librarys_bytes(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False).encode()


# The indented writer trusts orjson's text for strings, integers and every float but those
# below 1e-4 (and NaN and infinities). These hold orjson, whichever version is installed,
# to exactly that.


def test_orjson_writes_every_float_from_1e_4_up_as_repr() -> None:
    rng = random.Random(29)
    floats = random_floats(20_000)
    floats += [rng.uniform(1e-4, 2e-4) for _ in range(5_000)]
    floats += [math.nextafter(1e-4, 1.0), 1e-4, 1e16, math.nextafter(1e16, 0.0), 9.999e15]
    floats += [float(n) for n in range(-2_000, 2_000)]
    checked = [x for x in floats if x == 0 or abs(x) >= 1e-4]
    assert len(checked) > 20_000
    assert [orjson.dumps(x).decode() for x in checked] == [repr(x) for x in checked]
    # Below 1e-4 the standard library writes an exponent, which the writer looks for.
    small = [x for x in floats if 0 < abs(x) < 1e-4] + [math.nextafter(1e-4, 0.0), 5e-324]
    assert small and all("e-" in repr(x) for x in small)
    assert [orjson.dumps(x) for x in (math.nan, math.inf, -math.inf)] == [b"null"] * 3


def test_orjson_writes_every_string_and_integer_as_the_standard_library() -> None:
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    strings = [
        "".join(map(chr, code_points[i : i + 4096])) for i in range(0, len(code_points), 4096)
    ]
    assert [orjson.dumps(s) for s in strings] == [
        json.dumps(s, ensure_ascii=False).encode() for s in strings
    ]
    integers = [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, *range(-1000, 1000, 7)]
    assert [orjson.dumps(n) for n in integers] == [json.dumps(n).encode() for n in integers]


@pytest.mark.parametrize(
    "value",
    [
        {"small": [1e-05, 9.99e-05, -2.5e-07, 5e-324], "at": 1e-4},
        {"only the text looks small": "1e-05, 0.00001 and 3e-7", "n": 0.5},
        [1e-4, 0.0, -0.0, 1e16, 1.5e300],
        {"ids": ["32fb0f51-252e-4251-b327-321a25019200"], "score": 0.25},
    ],
)
def test_small_floats_take_the_standard_librarys_text(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False).encode()


@pytest.mark.parametrize("value", [v for v in corpus() if "nan" not in str(v)])
def test_the_compact_writer_keeps_every_value(value: Any) -> None:
    assert nan_aware(json.loads(dumps_compact(value))) == nan_aware(value)


# --------------------------------------------------------------------------- cassettes


def old_dump(cassette: Cassette) -> bytes:
    """How cassettes were written before the fast writer: the byte-identity reference."""
    text = json.dumps(cassette_to_data(cassette), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def cassette_of(bodies: list[Any]) -> Cassette:
    interactions = tuple(
        Interaction(
            RecordedRequest(
                "POST",
                f"/sessions/s{i}/messages",
                query=(("limit", "100"), ("cursor", str(i))),
                headers=(("content-type", "application/json"),),
                body=Body("json", {"messages": [{"content": f"hi {i}"}]}),
            ),
            RecordedResponse(
                200, headers=(("content-type", "application/json"),), body=Body("json", body)
            ),
        )
        for i, body in enumerate(bodies)
    )
    extra = (
        Interaction(
            RecordedRequest("GET", "/text"),
            RecordedResponse(200, body=Body("text", "plain\ntext ✓")),
        ),
        Interaction(
            RecordedRequest("GET", "/bin"), RecordedResponse(200, body=Body("base64", b"\x00\xff"))
        ),
        Interaction(RecordedRequest("DELETE", "/x"), RecordedResponse(204)),
    )
    return Cassette(base_url="http://127.0.0.1/api/v2", interactions=interactions + extra)


def test_cassette_writer_is_byte_identical_to_the_standard_library() -> None:
    cassette = cassette_of(corpus())
    assert dump_cassette(cassette) == old_dump(cassette)


def committed_cassettes() -> list[Path]:
    found = [
        path
        for folder in ("tests", "examples")
        for path in sorted((REPO / folder).rglob("cassettes/**/*.json"))
        if "node_modules" not in path.parts
    ]
    assert found, "the repository holds committed cassettes"
    return found


@pytest.mark.parametrize("path", committed_cassettes(), ids=lambda p: p.name)
def test_every_committed_cassette_loads_and_rewrites_to_its_own_bytes(path: Path) -> None:
    cassette = load_cassette(path)
    assert dump_cassette(cassette) == path.read_bytes() == old_dump(cassette)
    # and it is read on the fast path, its checks for repeated keys and depth included
    assert fast_load_document(path.read_bytes()) is not FAILED


def test_a_cassette_only_the_standard_library_reads_still_loads_and_replays(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nan.json"
    body = {"messages": [], "score": math.nan, "big": 10**30}
    path.write_bytes(old_dump(cassette_of([body])))

    cassette = load_cassette(path)
    assert cassette.standard_json is False
    assert dump_cassette(cassette) == path.read_bytes()

    session = CassetteSession(path, mode="none", base_url="http://elsewhere.test/api/v2")
    with httpx.Client(transport=session.transport()) as client:
        response = client.post(
            "http://elsewhere.test/api/v2/sessions/s0/messages?limit=100&cursor=0",
            json={"messages": [{"content": "hi 0"}]},
        )
    assert response.content == json.dumps(body, separators=(",", ":")).encode()


def test_replayed_bytes_hold_the_recorded_value(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    bodies = [v for v in corpus() if "nan" not in str(v)]
    path.write_bytes(old_dump(cassette_of(bodies)))
    session = CassetteSession(path, mode="none", base_url="http://elsewhere.test/api/v2")
    with httpx.Client(transport=session.transport()) as client:
        for i, body in enumerate(bodies):
            response = client.post(
                f"http://elsewhere.test/api/v2/sessions/s{i}/messages?cursor={i}&limit=100",
                json={"messages": [{"content": f"hi {i}"}]},
            )
            assert nan_aware(response.json()) == nan_aware(body)


# --------------------------------------------------------------------------- scrubbing


SCRUB_CONFIGS = [
    ScrubConfig(),
    ScrubConfig(secrets={"KEY": "sk-live-123"}),
    ScrubConfig(secrets={"KEY": 'quo"te\\back'}),
    ScrubConfig(secrets={"KEY": "café"}, json_paths=("messages.*.email",)),
    ScrubConfig(patterns=(r"\d{3}-\d{4}",)),
    ScrubConfig(pii=True),
]
SCRUB_BODIES = [
    {"messages": [{"content": "nothing secret here", "email": "a@b.c"}]},
    {"messages": [{"content": "the key is sk-live-123, really"}], "sk-live-123": 1},
    {"text": 'has quo"te\\back inside', "n": [1, 2.5, None]},
    {"deep": [{"x": ["café au lait"]}], "phone": "555-1234"},
]


@pytest.mark.parametrize("config", SCRUB_CONFIGS)
@pytest.mark.parametrize("body", SCRUB_BODIES)
def test_skipping_the_walk_changes_nothing(config: ScrubConfig, body: dict[str, Any]) -> None:
    redactor = Scrubber(config)
    response = RecordedResponse(200, body=Body("json", body))

    scrubbed = redactor.response(response).body.value

    masked: Any = body
    for path in config.json_paths:
        from pytest_sessionmem.cassette.scrub import _mask_path

        masked = _mask_path(masked, tuple(path.split(".")))
    assert nan_aware(scrubbed) == nan_aware(redactor._json_strings(masked))


# --------------------------------------------------------------------------- messages


MESSAGE_VALUES: list[dict[str, Any]] = [
    {},
    {"content": "hi"},
    {
        "id": "m1",
        "role": Role.ASSISTANT,
        "content": "hello",
        "name": "support",
        "kind": "agent",
        "created_at": datetime(2025, 1, 1, tzinfo=timezone.utc),
        "metadata": {"a": [1, 2]},
        "raw": {"id": "m1", "x": {"y": 1}},
    },
    {"role": Role.TOOL, "tool_id": "t1", "tool_name": "lookup", "arguments": {"q": 1}, "result": 3},
]


@pytest.mark.parametrize("values", MESSAGE_VALUES)
def test_trusted_message_is_what_validation_builds(values: dict[str, Any]) -> None:
    fast, validated = trusted_message_builder(*values)(**values), Message(**values)

    assert fast == validated
    assert fast.__dict__ == validated.__dict__
    assert list(fast.__dict__) == list(validated.__dict__)
    assert fast.model_fields_set == validated.model_fields_set
    assert repr(fast) == repr(validated)
    assert fast.model_dump() == validated.model_dump()
    assert fast.model_dump_json() == validated.model_dump_json()
    assert hash(fast) == hash(validated)
    assert pickle.loads(pickle.dumps(fast)) == validated
    assert fast.model_copy(update={"content": "x"}) == validated.model_copy(update={"content": "x"})
    with pytest.raises(Exception, match="frozen"):
        fast.content = "changed"  # type: ignore[misc]


def test_trusted_message_defaults_are_fresh_and_unknown_fields_fail() -> None:
    build = trusted_message_builder("content")
    first, second = build(content="a"), build(content="b")
    assert first.metadata == {} and first.metadata is not second.metadata
    assert first.raw is not second.raw
    assert (
        first.model_fields_set == {"content"}
        and first.model_fields_set is not second.model_fields_set
    )
    with pytest.raises(TypeError, match="unknown fields"):
        trusted_message_builder("content", "colour")
    with pytest.raises(TypeError, match="takes exactly"):
        build(content="a", name="n")
    with pytest.raises(TypeError, match="takes exactly"):
        build()


T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def wire_message(i: int) -> dict[str, Any]:
    created = T0 + timedelta(milliseconds=10 * i)
    message: dict[str, Any] = {
        "id": f"m{i}",
        "content": f"message {i} ✓",
        "authorId": "agent" if i % 2 else "user-1",
        "isAgent": i % 2 == 1,
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{i * 10 % 1000:03d}Z",
        "metadata": {"seq": i, "nested": {"k": [i]}} if i % 3 else None,
    }
    if i % 5 == 0:
        message["createdAt"] = int(created.timestamp() * 1000)  # some servers send epoch ms
    if i % 7 == 0:
        del message["authorId"], message["isAgent"]
    if i % 11 == 0:
        message["extra"] = "kept in raw"
    return message


def validated_message(raw: dict[str, Any]) -> Message:
    """What the adapter built before: every value through Message validation."""
    created = raw.get("createdAt")
    agent = bool(raw.get("isAgent", False))
    moment = (
        datetime.fromtimestamp(created / 1000, tz=timezone.utc)
        if isinstance(created, int)
        else datetime.fromisoformat(created.replace("Z", "+00:00"))
    )
    return Message(
        id=raw["id"],
        role=Role.ASSISTANT if agent else Role.USER,
        content=raw["content"],
        name=raw.get("authorId"),
        kind="agent" if agent else "user",
        created_at=moment,
        metadata=raw.get("metadata") or {},
        raw=raw,
    )


def eliza_transport(body: Any) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


def test_eliza_pages_give_the_transcript_validation_gives() -> None:
    wire = [wire_message(i) for i in range(60)]
    newest_first = list(reversed(wire))
    with SessionClient(
        "eliza", base_url="http://e.test", transport=eliza_transport({"messages": newest_first})
    ) as client:
        transcript = client.get_messages("s1")

    expected = [validated_message(raw) for raw in wire]
    assert list(transcript) == expected
    for got, want in zip(transcript, expected, strict=True):
        assert got.model_dump() == want.model_dump()  # raw too
        assert got.model_fields_set == want.model_fields_set
        assert got.raw is not want.raw  # a copy, as validation makes


FAILURES = {
    "not a list": ({"messages": {"a": 1}}, "messages: Input should be a valid list"),
    "no messages": ({"hasMore": False}, "messages: Field required"),
    "content": (
        {"messages": [{"id": "m1", "content": 5}]},
        "messages[0].content: Input should be a valid string",
    ),
    "no id": ({"messages": [{"content": "x"}]}, "messages[0].id: Field required"),
    "date": (
        {"messages": [{"id": "m1", "content": "x", "createdAt": "yesterday"}]},
        "messages[0].createdAt: Input should be a valid datetime or date, input is too short",
    ),
    "isAgent": (
        {"messages": [{"id": "m1", "content": "x", "isAgent": "maybe"}]},
        "messages[0].isAgent: Input should be a valid boolean, unable to interpret input",
    ),
    "metadata": (
        {"messages": [{"id": "m1", "content": "x", "metadata": [1]}]},
        "messages[0].metadata: Input should be a valid dictionary",
    ),
    "cursor": (
        {"messages": [{"id": "m1", "content": "x"}], "hasMore": True, "cursors": {"before": "x"}},
        "cursors.before: Input should be a valid integer, unable to parse string as an integer",
    ),
    "five shown": (
        {"messages": [{"id": i, "content": None} for i in range(4)]},
        "messages[0].id: Input should be a valid string; messages[0].content: Input should be "
        "a valid string; messages[1].id: Input should be a valid string; messages[1].content: "
        "Input should be a valid string; messages[2].id: Input should be a valid string",
    ),
    "top level": (
        [1, 2],
        "(body): Input should be a valid dictionary or instance of ElizaMessageList",
    ),
}


@pytest.mark.parametrize("name", FAILURES)
def test_eliza_payload_errors_read_as_before(name: str) -> None:
    body, problem = FAILURES[name]
    with (
        SessionClient(
            "eliza", base_url="http://e.test", transport=eliza_transport(body), max_retries=0
        ) as client,
        pytest.raises(ProviderError) as caught,
    ):
        client.get_messages("s1")
    assert str(caught.value) == (
        f"eliza sent a payload that does not fit its API: {problem} "
        "(GET http://e.test/api/messaging/sessions/s1/messages?limit=100)"
    )


# -- assert_transcript: whole-message fast paths ---------------------------------------------

COMPARED_FIELDS = compare.COMPARED_FIELDS


def _expected_the_long_way(message: Message, ignore: frozenset[str]) -> dict[str, Any]:
    """What an expected turn read from a Message holds: every compared field not ignored,
    dicts without their ignored sub-paths."""
    fields: dict[str, Any] = {}
    for name in COMPARED_FIELDS:
        if name in ignore:
            continue
        value = getattr(message, name)
        if isinstance(value, dict):
            value = compare._strip(value, compare._sub_paths(ignore, name))
        fields[name] = value
    return fields


def _variant(rng: random.Random, base: Message) -> Message:
    changes: dict[str, Any] = {}
    for name, value in {
        "content": base.content + "!",
        "role": Role.ASSISTANT if base.role is Role.USER else Role.USER,
        "name": "someone else",
        "created_at": (base.created_at or T0) + timedelta(seconds=1),
        "metadata": {**base.metadata, "extra": 1},
        "result": {"ok": False},
        "id": "other-id",
    }.items():
        if rng.random() < 0.3:
            changes[name] = value
    return base.model_copy(update=changes)


T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
IGNORES = [
    frozenset(),
    frozenset({"id", "created_at"}),
    frozenset({"metadata.trace", "metadata.nested.id"}),
    frozenset(COMPARED_FIELDS) - {"content"},
    frozenset(COMPARED_FIELDS),
]


@pytest.mark.parametrize("ignore", IGNORES, ids=lambda i: ",".join(sorted(i)) or "none")
def test_expected_turns_and_mismatches_equal_the_field_by_field_walk(
    ignore: frozenset[str],
) -> None:
    rng = random.Random(7)
    fast = compare._TurnComparer(ignore, None)
    walk = compare._TurnComparer(ignore, None)
    walk._whole = None  # the field-by-field walk alone
    for n in range(300):
        base = Message(
            id=f"m{n}",
            role=Role.USER if n % 2 else Role.ASSISTANT,
            content=f"turn {n}",
            name="alice",
            created_at=T0 + timedelta(seconds=n),
            metadata={"trace": n, "nested": {"id": n, "keep": "x"}, "lang": "en"},
            result={"ok": True} if n % 3 else None,
        )
        actual = _variant(rng, base)
        turn = compare._from_message(base, ignore)
        assert dict(turn.fields) == _expected_the_long_way(base, ignore)
        assert list(turn.fields) == list(_expected_the_long_way(base, ignore))
        assert fast.mismatches(turn, actual) == walk.mismatches(turn, actual)
        assert fast.mismatches(turn, base) == walk.mismatches(turn, base) == []
