"""The one atomic writer: whole files, the user's umask, nothing left behind on failure."""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_sessionmem.assertions.transcript_file import TranscriptFileError, write_transcript_file
from pytest_sessionmem.support.atomic_file import remove_stale_temporaries, write_atomic


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_users_umask(
    tmp_path: Path, umask: None, mask: int, mode: int
) -> None:
    os.umask(mask)
    cassette = tmp_path / "cassettes" / "c.json"
    transcript = tmp_path / "transcripts" / "t.txt"

    write_atomic(cassette, b"{}")
    write_transcript_file(transcript, "user: hi\n")

    assert stat.S_IMODE(cassette.stat().st_mode) == mode
    assert stat.S_IMODE(transcript.stat().st_mode) == mode


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t.txt"
    write_transcript_file(target, "old\n")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(TranscriptFileError, match="No space left") as info:
        write_transcript_file(target, "new\n")
    assert f"writing into its folder {tmp_path} failed" in str(info.value)

    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_transcript_text_is_written_byte_for_byte(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"

    write_transcript_file(target, "user: caf\u00e9\r\nassistant: \u4f60\u597d\n")

    assert target.read_bytes() == "user: caf\u00e9\r\nassistant: \u4f60\u597d\n".encode()


def test_a_write_removes_the_temporaries_killed_writers_left_in_its_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    stale = [folder / ".test_big.json.a1b2c3d4.tmp", folder / ".t.txt.zz_9x0qq.tmp"]
    others = [folder / ".test_big.json.tmp", folder / "notes.tmp", folder / "a.json.a1b2c3d4.tmp"]
    for path in (*stale, *others):
        path.write_bytes(b"half a cassette")
    live = folder / ".c.json.livelive.tmp"
    live.write_bytes(b"being written")

    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # as a live writer holds its temporary
        write_atomic(folder / "c.json", b"{}")

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["c.json", live.name, *(p.name for p in others)]
    )


def test_removing_temporaries_leaves_links_and_folders_alone(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"keep")
    os.symlink(target, tmp_path / ".x.json.aaaaaaaa.tmp")
    (tmp_path / ".y.json.bbbbbbbb.tmp").mkdir()

    assert remove_stale_temporaries(tmp_path) == []
    assert target.read_bytes() == b"keep"
    assert len(list(tmp_path.iterdir())) == 3


def test_the_html_report_leaves_look_alike_files_in_its_folder_alone(tmp_path: Path) -> None:
    from pytest_sessionmem.plugin.report_html import write_html

    look_alike = tmp_path / ".build.json.abcdefgh.tmp"  # another program's, maybe mid-write
    look_alike.write_bytes(b"theirs")

    write_html(tmp_path / "report.html", [], summary=[])
    write_atomic(tmp_path / "other.bin", b"x", sweep=False)

    assert look_alike.read_bytes() == b"theirs"
