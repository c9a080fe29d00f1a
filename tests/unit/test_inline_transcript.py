"""assert_transcript with a string that is transcript text, not the path of a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_sessionmem.assertions import assert_transcript
from pytest_sessionmem.assertions.transcript_file import TranscriptFileError
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Message, Role, Transcript

HELLO = Transcript(
    messages=(
        Message(role=Role.USER, content="hi"),
        Message(role=Role.ASSISTANT, content="Hello! How can I help?"),
    ),
    provider="zep",
)


def test_inline_text_in_the_file_format_is_compared() -> None:
    assert_transcript(HELLO, "--- user\nhi\n\n--- assistant\nHello! How can I help?\n")


def test_inline_text_may_keep_the_version_line_and_use_matchers() -> None:
    assert_transcript(
        HELLO, "# sessionmem transcript 1\n\n--- user\nhi\n\n--- assistant match=contains\nhelp"
    )


def test_one_turn_header_without_a_newline_is_text() -> None:
    assert_transcript(HELLO, "--- user\nhi", mode="prefix")
    with pytest.raises(AssertionError, match="missing turn 1"):
        assert_transcript(Transcript(messages=()), "--- user")


def test_a_failing_inline_turn_is_named_by_its_line() -> None:
    with pytest.raises(AssertionError) as info:
        assert_transcript(HELLO, "--- user\nhi\n\n--- assistant\nGoodbye")
    assert "Goodbye" in str(info.value)


def test_an_error_in_inline_text_names_its_line() -> None:
    with pytest.raises(TranscriptFileError, match=r"^<inline transcript>:3: unknown role 'robot'"):
        assert_transcript(HELLO, "--- user\nhi\n--- robot\nbeep")


def test_role_colon_text_lines_say_how_to_write_them_inline() -> None:
    with pytest.raises(ConfigError) as info:
        assert_transcript(HELLO, "user: hi")
    message = str(info.value)
    assert "not found" not in message
    assert "'--- user\\nhi'" in message
    assert "[('user', 'hi')]" in message


def test_several_role_lines_are_translated_whole() -> None:
    with pytest.raises(ConfigError) as info:
        assert_transcript(HELLO, "user: hi\nassistant: Hello! How can I help?")
    message = str(info.value)
    assert "'--- user\\nhi\\n\\n--- assistant\\nHello! How can I help?'" in message
    assert "[('user', 'hi'), ('assistant', 'Hello! How can I help?')]" in message


def test_an_existing_file_wins_over_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("user: hi").write_text("# sessionmem transcript 1\n\n--- user\nhi\n", encoding="utf-8")
    assert_transcript(HELLO, "user: hi", mode="prefix")


def test_a_plain_missing_path_is_still_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TranscriptFileError, match="expected-transcript file not found"):
        assert_transcript(HELLO, str(tmp_path / "nothing.txt"))
