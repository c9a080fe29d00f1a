"""Expected-transcript files: round trips, matchers, matcher survival, malformed files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_sessionmem.assertions import assert_transcript
from pytest_sessionmem.assertions.transcript_file import (
    SUFFIX,
    VERSION_LINE,
    TranscriptFileError,
    parse_transcript,
    read_transcript_file,
    render_transcript_file,
    write_transcript_file,
)
from pytest_sessionmem.matchers import ANY, Contains, Regex
from pytest_sessionmem.models import Message, Role, Transcript
from pytest_sessionmem.plugin import paths

AWKWARD_CONTENTS = [
    "plain",
    "",
    "\n",
    "two\nlines",
    "ends with newline\n\n",
    "--- looks like a header",
    "\\starts with a backslash",
    "line\n---\nheader-like line in the middle",
    "trailing space ",
    "trailing tab\t",
    "in\ttab",
    "carriage\r\nreturn",
    "zero\u200bwidth",
    "line\u2028separator",
    "emoji 😀, CJK 日本語, combining e\u0301",
    "# not a comment inside a turn",
    "\x00 control",
]


def test_every_awkward_content_round_trips() -> None:
    messages = tuple(Message(role=Role.USER, content=c) for c in AWKWARD_CONTENTS)
    turns = parse_transcript(render_transcript_file(Transcript(messages=messages)))
    assert [t.content for t in turns] == AWKWARD_CONTENTS
    assert_transcript(list(messages), turns)


def test_format_is_readable_and_stable() -> None:
    transcript = Transcript(
        messages=(
            Message(role=Role.USER, content="When does my flight leave?", id="x1"),
            Message(role=Role.ASSISTANT, content="At 9:45.\nGate B12.", name="Support Desk"),
            Message(
                role=Role.TOOL,
                content="3 results",
                tool_id="123",
                tool_name="search",
                arguments={"q": "x"},
            ),
            Message(role=Role.USER, content="thanks "),
        ),
        provider="zep",
    )
    text = render_transcript_file(transcript)
    assert text == (
        f"{VERSION_LINE}\n"
        "\n"
        "--- user\n"
        "When does my flight leave?\n"
        "\n"
        '--- assistant name="Support Desk"\n'
        "At 9:45.\n"
        "Gate B12.\n"
        "\n"
        '--- tool tool_id=123 tool_name=search arguments={"q": "x"}\n'
        "3 results\n"
        "\n"
        "--- user encoding=json\n"
        '"thanks "\n'
        "\n"
    )
    assert render_transcript_file(transcript) == text
    turns = parse_transcript(text)
    assert turns[2].fields == {
        "role": Role.TOOL,
        "tool_id": "123",
        "tool_name": "search",
        "arguments": {"q": "x"},
        "content": "3 results",
    }


def test_eliza_author_ids_are_not_written() -> None:
    transcript = Transcript(
        messages=(Message(role=Role.USER, content="hi", name="0b6e-uuid"),), provider="eliza"
    )
    assert "name=" not in render_transcript_file(transcript)


def test_matchers_are_read_from_headers(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text(
        f"{VERSION_LINE}\n# comment\n\n"
        "--- assistant match=regex\n^Your flight leaves at 9:4\\d\\.$\n\n"
        "--- user match=contains ignorecase=true\nTHANK\n\n"
        "--- assistant match=any\n\n",
        encoding="utf-8",
    )
    turns = read_transcript_file(path)
    assert turns[0].content == Regex(r"^Your flight leaves at 9:4\d\.$")
    assert turns[1].content == Contains("THANK", case_sensitive=False)
    assert turns[2].content is ANY
    assert turns[0].source == f"{path}:4"
    actual = [
        Message(role=Role.ASSISTANT, content="Your flight leaves at 9:47."),
        Message(role=Role.USER, content="thanks!"),
        Message(role=Role.ASSISTANT, content="anything"),
    ]
    assert_transcript(actual, path)


def test_matchers_survive_an_update_while_they_still_match() -> None:
    previous = parse_transcript(
        f"{VERSION_LINE}\n\n--- user\nhi\n\n--- assistant match=regex\n^Flight at \\d+:\\d+$\n\n"
        "--- assistant match=contains\nweather\n\n--- user match=any\n\n"
    )
    new = Transcript(
        messages=(
            Message(role=Role.USER, content="hello"),
            Message(role=Role.ASSISTANT, content="Flight at 10:05"),  # regex still matches: kept
            Message(role=Role.ASSISTANT, content="It is sunny"),  # contains no longer matches
            Message(role=Role.ASSISTANT, content="x"),  # role changed: matcher dropped
            Message(role=Role.USER, content="new turn"),
        )
    )
    turns = parse_transcript(render_transcript_file(new, previous))
    assert turns[1].content == Regex(r"^Flight at \d+:\d+$")
    assert turns[2].content == "It is sunny"
    assert turns[3].content == "x"
    assert turns[4].content == "new turn"


def test_write_is_atomic_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "transcripts" / "test_mod" / "test_x.txt"
    write_transcript_file(target, "first\n")
    write_transcript_file(target, "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert os.listdir(target.parent) == ["test_x.txt"]  # no temp file left behind


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    write_transcript_file(target, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_transcript_file(target, "bad \udc80 surrogate")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["t.txt"]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "the first line must be '# sessionmem transcript 1', found an empty file"),
        ("# sessionmem transcript 2\n", 1, "found '# sessionmem transcript 2'"),
        (f"{VERSION_LINE}\nhello\n", 2, "text before the first turn header"),
        (f"{VERSION_LINE}\n---\nhi\n", 2, "turn header without a role"),
        (f"{VERSION_LINE}\n--- robot\nhi\n", 2, "unknown role 'robot'; roles are user, assistant"),
        (f"{VERSION_LINE}\n--- user colour=red\nhi\n", 2, "unknown header option 'colour'"),
        (f"{VERSION_LINE}\n--- user arguments={{bad\nhi\n", 2, "bad JSON value for 'arguments'"),
        (f"{VERSION_LINE}\n--- user match=glob\nhi\n", 2, "unknown match='glob'"),
        (f"{VERSION_LINE}\n--- user match=regex\n(unclosed\n", 3, "bad regular expression"),
        (
            f"{VERSION_LINE}\n--- user encoding=json\nnot json\n",
            3,
            "encoding=json content is not a JSON string",
        ),
        (f"{VERSION_LINE}\n--- user encoding=json\n[1]\n", 3, "must be one JSON string"),
        (f"{VERSION_LINE}\n--- user encoding=base64\nx\n", 2, "unknown encoding 'base64'"),
        (f"{VERSION_LINE}\n--- user !!\nx\n", 2, "cannot read header option at '!!'"),
    ],
)
def test_malformed_files_name_file_line_and_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(TranscriptFileError) as info:
        parse_transcript(text, path="transcripts/m/t.txt")
    assert info.value.line == line
    assert str(info.value).startswith(f"transcripts/m/t.txt:{line}: ")
    assert problem in str(info.value)


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(TranscriptFileError, match="run the test with --sessionmem-update"):
        read_transcript_file(tmp_path / "nope.txt")


def test_crlf_files_read_like_lf_files() -> None:
    text = f"{VERSION_LINE}\r\n\r\n--- user\r\nhi\r\nthere\r\n\r\n"
    assert [t.content for t in parse_transcript(text)] == ["hi\nthere"]


# -- file names -----------------------------------------------------------------------------


def test_transcript_files_end_in_txt_for_the_plugin_and_the_assertions() -> None:
    assert SUFFIX == paths.TRANSCRIPT_SUFFIX == ".txt"


@pytest.mark.parametrize(
    ("test_name", "file_name"),
    [
        ("test_flight", "test_flight.txt"),
        ("test_flight[a/b c]", "test_flight[a_b_c].txt"),
        ("test_v1.2", "test_v1.2.txt"),  # a dot in the name is not taken for a suffix
    ],
)
def test_a_test_maps_to_its_transcript_file(test_name: str, file_name: str) -> None:
    path = paths.test_file_path(
        Path("tests/test_booking.py"),
        folder="transcripts",
        test_name=test_name,
        suffix=paths.TRANSCRIPT_SUFFIX,
    )
    assert path == Path("tests/transcripts/test_booking") / file_name
