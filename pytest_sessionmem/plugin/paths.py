"""Where a test's files live: ``<test dir>/cassettes/<module>/<test>.json`` and
``<test dir>/transcripts/<module>/<test>.<ext>``.

Names are made safe for every file system (parametrize ids can hold anything) and
shortened with a stable hash when too long, so the same test always maps to the same file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

__all__ = ["CASSETTE_SUFFIX", "TRANSCRIPT_SUFFIX", "safe_name", "test_file_path"]

CASSETTE_SUFFIX = ".json"
# Kept equal to transcript_file.SUFFIX (checked by a test); here so the plugin need not import it.
TRANSCRIPT_SUFFIX = ".txt"

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]+")
_MAX_NAME = 120


def safe_name(name: str) -> str:
    """A file-name-safe, stable rendering of a test name such as ``test_x[a/b c]``."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "test"
    if len(cleaned) <= _MAX_NAME:
        return cleaned
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]
    return f"{cleaned[: _MAX_NAME - 11]}-{digest}"


def test_file_path(
    test_path: Path, *, folder: str, test_name: str, suffix: str, override: str | None = None
) -> Path:
    """The file for one test under ``<test dir>/<folder>/<module>/``.

    ``override`` (the marker's ``cassette=``) replaces the test name; it may carry its own
    suffix and may not climb out of the folder.
    """
    base = test_path.parent / folder / test_path.stem
    if override:
        relative = Path(override)
        if relative.is_absolute() or ".." in relative.parts:
            from pytest_sessionmem.errors import ConfigError

            raise ConfigError(
                f"cassette name {override!r} must be a relative path inside the {folder}/ folder."
            )
        return base / (override if relative.suffix else override + suffix)
    return base / (safe_name(test_name) + suffix)
