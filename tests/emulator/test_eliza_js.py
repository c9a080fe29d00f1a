"""The JavaScript value rules the ElizaOS emulation copies (pure functions, no server)."""

from __future__ import annotations

import math

import pytest

from pytest_sessionmem.emulator.eliza_js import (
    js_number,
    js_parse_int,
    js_spread,
    js_truthy,
    json_length,
    json_number,
    string_to_uuid,
    utf16_length,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1795240915272", 1795240915272),
        ("  42", 42),
        ("-7", -7),
        ("+8", 8),
        ("12abc", 12),
        ("2030-01-01T00:00:00Z", 2030),  # the ISO-cursor trap: parsed as 2030 ms
        ("3.9", 3),
        ("1e5", 1),
        ("0x10", 0),
    ],
)
def test_parse_int_reads_leading_decimal_digits(text: str, expected: int) -> None:
    assert js_parse_int(text) == expected


@pytest.mark.parametrize("text", ["abc", "", "  ", "-", "Infinity", ".5"])
def test_parse_int_is_nan_without_leading_digits(text: str) -> None:
    assert math.isnan(js_parse_int(text))


def test_parse_int_overflows_to_infinity_like_javascript() -> None:
    assert js_parse_int("9" * 400) == math.inf
    assert js_parse_int("-" + "9" * 400) == -math.inf


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0.0),
        (True, 1.0),
        ("", 0.0),
        (" 45 ", 45.0),
        ("7.5", 7.5),
        ("0x1f", 31.0),
        ("-Infinity", -math.inf),
        ([], 0.0),
        (["3"], 3.0),
        (12, 12.0),
    ],
)
def test_number_coerces_like_javascript(value: object, expected: float) -> None:
    assert js_number(value) == expected


@pytest.mark.parametrize("value", ["abc", "12abc", {}, [1, 2], "1_000", "nan", "inf"])
def test_number_is_nan_for_non_numeric_values(value: object) -> None:
    assert math.isnan(js_number(value))


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (None, False),
        (False, False),
        (0, False),
        (math.nan, False),
        ("", False),
        ("0", True),
        ({}, True),
        ([], True),
        (-1, True),
    ],
)
def test_truthiness(value: object, truthy: bool) -> None:
    assert js_truthy(value) is truthy


def test_spread_of_objects_strings_and_arrays() -> None:
    assert js_spread({"a": 1}) == {"a": 1}
    assert js_spread("ab") == {"0": "a", "1": "b"}
    assert js_spread([True]) == {"0": True}
    assert js_spread(5) == {}
    assert js_spread(None) == {}


def test_json_number_drops_the_trailing_zero_of_integral_floats() -> None:
    assert json_number(30.0) == 30 and isinstance(json_number(30.0), int)
    assert json_number(7.5) == 7.5


def test_lengths_count_utf16_code_units() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("\U0001f600") == 2
    assert utf16_length("é") == 1
    assert json_length({"a": "é"}) == len('{"a":"é"}')


@pytest.mark.parametrize(
    ("name", "agent_id"),
    [
        # Ids the real server gave agents with these character names.
        ("ReplayPeer", "c8899949-354a-0c0b-b290-7d2ac08b1a39"),
        ("Eliza", "b850bc30-45f8-0041-a00a-83df46d8555d"),
    ],
)
def test_string_to_uuid_matches_the_real_server(name: str, agent_id: str) -> None:
    assert string_to_uuid(name) == agent_id


@pytest.mark.parametrize(
    "uuid", ["11111111-2222-4333-8444-555555555555", "ABCDEF01-2222-4333-8444-555555555555"]
)
def test_string_to_uuid_passes_uuids_through(uuid: str) -> None:
    assert string_to_uuid(uuid) == uuid


def test_string_to_uuid_has_the_variant_bits_and_a_zero_version() -> None:
    agent_id = string_to_uuid("Ava Smith")
    assert agent_id[14] == "0"  # version nibble cleared
    assert agent_id[19] in "89ab"  # RFC 4122 variant
