"""Text from a cassette never reaches the terminal raw: every control character it holds
is shown as a visible escape by ``sessionmem show`` and in error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_sessionmem.errors import UnmatchedRequest
from pytest_sessionmem.support.terminal_text import escape_controls, escape_json_output

ROOT = Path(__file__).resolve().parents[2]
ZEP_FACTS = (
    ROOT
    / "examples/zep/cassettes/test_support_memory/test_zep_extracts_facts_after_processing.json"
)

# Clear the screen, set the window title, a hyperlink, overwrite the line, backspace, NUL,
# a C1 CSI, DEL and a right-to-left override.
HOSTILE = (
    "\x1b[2J\x1b]0;pwned\x07 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"
    " ok\rgone\x08\x00\x9b31m\x7f\u202edesrever"
)
SHOWN = (
    "\\x1b[2J\\x1b]0;pwned\\x07 \\x1b]8;;https://evil.example\\x1b\\link\\x1b]8;;\\x1b\\"
    " ok\\rgone\\x08\\x00\\u009b31m\\x7f\\u202edesrever"
)
# What a terminal obeys; newline (and tab, where kept) excepted.
OBEYED = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E)} - {"\n"}


def raw_controls(text: str) -> set[str]:
    return {char for char in text if char in OBEYED}


# -- the helper ----------------------------------------------------------------------------------


def test_every_control_character_shows_as_an_escape() -> None:
    assert escape_controls(HOSTILE) == SHOWN
    assert escape_controls("a\nb\tc") == "a\\nb\\tc"
    assert escape_controls("a\nb\tc\r", keep="\n\t") == "a\nb\tc\\r"


@pytest.mark.parametrize("text", ["plain", "café 日本 😀", "back\\slash \\x1b", ""])
def test_printable_text_is_unchanged(text: str) -> None:
    assert escape_controls(text) == text


def test_json_output_keeps_its_value_and_loses_what_a_terminal_obeys() -> None:
    value = {"content": HOSTILE, "name\u202e": ["é", "\u0085"]}
    text = json.dumps(value, ensure_ascii=False)

    shown = escape_json_output(text)

    assert json.loads(shown) == value
    assert raw_controls(shown) == set()
    assert "é" in shown


# -- sessionmem show -----------------------------------------------------------------------------


def hostile_cassette(folder: Path) -> Path:
    data = json.loads(ZEP_FACTS.read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        body = interaction["response"].get("json")
        if isinstance(body, dict) and body.get("messages"):
            body["messages"][0]["content"] = f"first line\n{HOSTILE}\r\nlast line"
            body["messages"][0]["role"] = f"Alice{HOSTILE}"
            body["context"] = f"context {HOSTILE}\nsecond line"
            body["summary"] = {"content": f"summary {HOSTILE}\nmore"}
            for fact in body.get("relevant_facts", []):
                fact["fact"] = fact["content"] = f"fact {HOSTILE}"
    path = folder / "test_\x1b]0;title\x07.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run_show(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_sessionmem.cli", "show", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )


def test_show_escapes_control_characters_in_everything_a_cassette_holds(tmp_path: Path) -> None:
    path = hostile_cassette(tmp_path)

    result = run_show(str(path))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert raw_controls(out) == set()
    assert out.splitlines()[0] == f"{tmp_path}/test_\\x1b]0;title\\x07.json"
    assert f"(Alice{SHOWN})" in out  # the speaker
    assert f"         first line\n         {SHOWN}\n         last line\n" in out  # CRLF breaks
    assert f"] fact {SHOWN}" in out
    assert f"      context {SHOWN}\n      second line" in out
    assert f"    summary: summary {SHOWN}\\nmore" in out  # one line


def test_show_json_output_holds_no_raw_control_character(tmp_path: Path) -> None:
    path = hostile_cassette(tmp_path)

    result = run_show("--json", str(path))

    assert result.returncode == 0, result.stderr
    assert raw_controls(result.stdout) == set()
    [data] = json.loads(result.stdout)
    assert data["sessions"][0]["summary"] == f"summary {HOSTILE}\nmore"


def test_a_corrupt_cassette_error_escapes_its_path(tmp_path: Path) -> None:
    path = tmp_path / "bad\x1b[2J.json"
    path.write_text("{", encoding="utf-8")

    result = run_show(str(path))

    assert result.returncode == 2
    assert raw_controls(result.stderr) == set()
    assert "bad\\x1b[2J.json" in result.stderr


# -- an unmatched request ------------------------------------------------------------------------


def test_unmatched_request_escapes_what_the_cassette_holds(cassettes, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    recorded = {
        "method": "GET",
        "path": f"/sessions/{HOSTILE}/messages",
        "query": {f"k{HOSTILE}": HOSTILE},
    }
    posted = {"method": "POST", "path": "/sessions/s1/messages", "json": {f"a{HOSTILE}": 1}}
    interactions = [
        {"request": request, "response": {"status": 200, "json": {}}}
        for request in (recorded, posted)
    ]
    path.write_text(json.dumps({"version": 1, "interactions": interactions}), encoding="utf-8")

    with cassettes.replay_client(path) as client, pytest.raises(UnmatchedRequest) as info:
        client.post("/sessions/s1/messages", json={"b": 1})

    message = str(info.value)
    assert raw_controls(message) == set()
    assert f"  2. GET /sessions/{SHOWN}/messages?k{SHOWN}={SHOWN}\n" in message
    assert f"       - body at `a{SHOWN}`: (absent) != 1\n" in message


def test_the_unused_interactions_message_escapes_what_the_cassette_holds(
    cassettes, tmp_path: Path
) -> None:
    from pytest_sessionmem.plugin.hints import unused_message

    path = tmp_path / "c.json"
    interaction = {
        "request": {"method": "GET", "path": f"/sessions/{HOSTILE}"},
        "response": {"status": 200},
    }
    path.write_text(json.dumps({"version": 1, "interactions": [interaction]}), encoding="utf-8")
    session = cassettes.session(path, "none", base_url=cassettes.REPLAY_BASE)
    session.finish(failed=False)

    message = unused_message(session, nodeid="test_x.py::test_y", rootdir=tmp_path)

    assert raw_controls(message) == set()
    assert f"not used by test_x.py::test_y: GET /sessions/{SHOWN}. To drop them" in message
