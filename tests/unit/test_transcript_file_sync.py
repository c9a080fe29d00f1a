"""The one policy for a test's expected-transcript file before a comparison."""

from __future__ import annotations

from pathlib import Path

from pytest_sessionmem.assertions.transcript_file import sync_transcript_file
from pytest_sessionmem.models import Message, Role, Transcript


def _transcript(*contents: str) -> Transcript:
    return Transcript(messages=tuple(Message(role=Role.USER, content=c) for c in contents))


def test_without_update_a_file_is_only_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    assert sync_transcript_file(_transcript("hi"), path, update=False) == "missing"
    assert not path.exists()
    path.write_text("anything", encoding="utf-8")
    assert sync_transcript_file(_transcript("hi"), path, update=False) == "unchanged"
    assert path.read_text(encoding="utf-8") == "anything"


def test_update_writes_a_new_or_changed_file_and_leaves_an_equal_one(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "t.txt"
    assert sync_transcript_file(_transcript("hi"), path, update=True) == "written"
    first = path.read_bytes()
    assert b"hi" in first
    assert sync_transcript_file(_transcript("hi"), path, update=True) == "unchanged"
    assert path.read_bytes() == first
    assert sync_transcript_file(_transcript("hi", "there"), path, update=True) == "written"
    assert b"there" in path.read_bytes()
