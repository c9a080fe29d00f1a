"""Reading and writing cassette files.

Writes are atomic: the bytes go to a temporary file in the same directory (so the rename
never crosses a file system), are fsynced, and replace the target with ``os.replace``. A
reader, or a process killed mid-write, sees either the complete old file or the complete
new one. Temporary names come from ``tempfile.mkstemp``, unique per process, so pytest-xdist
workers never collide (and each test writes only its own cassette anyway).
"""

from __future__ import annotations

import json
from pathlib import Path

from pytest_sessionmem.atomic_file import write_atomic
from pytest_sessionmem.cassette.schema import Cassette, cassette_from_data, cassette_to_data
from pytest_sessionmem.errors import CassetteCorrupt

__all__ = ["dump_cassette", "load_cassette", "write_atomic"]


def dump_cassette(cassette: Cassette) -> bytes:
    """The file's bytes: ``indent=2``, unescaped Unicode, trailing newline; deterministic."""
    text = json.dumps(cassette_to_data(cassette), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def load_cassette(path: Path) -> Cassette:
    """Read and validate a cassette; :class:`CassetteCorrupt` says what is wrong and where."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CassetteCorrupt(f"Cassette {path} cannot be read: {exc}", path=str(path)) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CassetteCorrupt(
            f"Cassette {path} is not UTF-8 text ({exc}). Delete it and record it again "
            "with --sessionmem-record-mode=once.",
            path=str(path),
        ) from None
    except json.JSONDecodeError as exc:
        raise CassetteCorrupt(
            f"Cassette {path} is not valid JSON: {exc.msg} at line {exc.lineno} column "
            f"{exc.colno}. Fix the file (a merge conflict?), or delete it and record it again "
            "with --sessionmem-record-mode=once.",
            path=str(path),
        ) from None
    return cassette_from_data(data, path=str(path))
