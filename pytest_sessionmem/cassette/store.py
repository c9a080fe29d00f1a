"""Reading and writing cassette files.

Writes are atomic: the bytes go to a temporary file in the same directory (so the rename
never crosses a file system), are fsynced, and replace the target with ``os.replace``. A
reader, or a process killed mid-write, sees either the complete old file or the complete
new one. Temporary names come from ``tempfile.mkstemp``, unique per process, so pytest-xdist
workers never collide (and each test writes only its own cassette anyway).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pytest_sessionmem.cassette.schema import (
    RERECORD,
    Cassette,
    cassette_from_data,
    cassette_to_data,
)
from pytest_sessionmem.errors import CassetteCorrupt, CassetteError
from pytest_sessionmem.support import atomic_file
from pytest_sessionmem.support.jsonfast import (
    FAILED,
    DocumentProblem,
    dumps_indented,
    fast_load_document,
    load_document,
)

__all__ = ["dump_cassette", "load_cassette", "sniff_recorded_against", "write_atomic"]


def dump_cassette(cassette: Cassette) -> bytes:
    """The file's bytes: ``indent=2``, unescaped Unicode, trailing newline; deterministic.

    Exactly ``json.dumps(data, indent=2, ensure_ascii=False)`` plus a newline, written by
    the fast writer (see :func:`pytest_sessionmem.support.jsonfast.dumps_indented`).
    """
    return dumps_indented(cassette_to_data(cassette)) + b"\n"


def load_cassette(path: Path, *, rerecord: Callable[[str | None], str] | None = None) -> Cassette:
    """Read and validate a cassette; :class:`CassetteCorrupt` says what is wrong and where.

    ``rerecord(recorded_against)`` ends each message (after "or "): how to record the file
    again. ``recorded_against`` is read from the file even when the rest of it
    cannot be parsed (``None`` when it says nothing).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CassetteCorrupt(f"Cassette {path} cannot be read: {exc}", path=str(path)) from exc

    def tail() -> str:
        return rerecord(sniff_recorded_against(raw)) if rerecord is not None else RERECORD

    data = fast_load_document(raw)
    if data is not FAILED:
        return cassette_from_data(data, path=str(path), rerecord=tail())
    # Not plain standard JSON (or not JSON at all, or a key twice, or too deep): the
    # standard library reads it, or says precisely what is wrong. Its values may hold NaN,
    # so replays write them with it.
    try:
        data = load_document(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CassetteCorrupt(
            f"Cassette {path} is not UTF-8 text ({exc}). Fix it by hand, or {tail()}",
            path=str(path),
        ) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        # Some messages end in "at" already ("Unterminated string starting at").
        problem = f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"
        raise CassetteCorrupt(
            f"Cassette {path} is not valid JSON: {problem}. Fix it by hand (a merge "
            f"conflict?), or {tail()}",
            path=str(path),
        ) from None
    except DocumentProblem as exc:
        raise CassetteCorrupt(
            f"Cassette {path} cannot be read: {exc.msg} at line {exc.lineno} column "
            f"{exc.colno}. Fix it by hand, or {tail()}",
            path=str(path),
        ) from None
    cassette = cassette_from_data(data, path=str(path), rerecord=tail())
    return replace(cassette, standard_json=False)


_RECORDED_AGAINST = re.compile(rb'"recorded_against"\s*:\s*"([a-z]+)"')


def sniff_recorded_against(raw: bytes) -> str | None:
    """Where a cassette says it was recorded, read from its bytes even if they are not JSON."""
    found = _RECORDED_AGAINST.search(raw)
    return found.group(1).decode("ascii") if found else None


def write_atomic(path: Path, data: bytes, *, sweep: bool = True) -> None:
    """Write a cassette whole or not at all (:mod:`pytest_sessionmem.support.atomic_file`).

    A folder that cannot be written raises :class:`CassetteError` naming the file and the
    folder; the old file, if any, is left as it was. ``sweep`` removes the temporary files
    killed writers left in the folder (see :func:`atomic_file.write_atomic`).
    """
    try:
        atomic_file.write_atomic(path, data, sweep=sweep)
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _unwritable(path: Path, exc: OSError) -> CassetteError:
    problem = atomic_file.folder_problem(path, exc)
    return CassetteError(
        f"Cassette {path} cannot be written: {problem} and record again.", path=str(path)
    )
