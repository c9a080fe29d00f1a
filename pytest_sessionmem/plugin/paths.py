"""Where a test's files live: ``<test dir>/cassettes/<module>/<test>.json`` and
``<test dir>/transcripts/<module>/<test>.<ext>``.

Names are made safe for every file system (parametrize ids can hold anything) and
shortened with a stable hash when too long, so the same test always maps to the same file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import NoReturn

__all__ = [
    "CASSETTE_SUFFIX",
    "TRANSCRIPT_SUFFIX",
    "check_no_link_out",
    "link_leaving",
    "safe_name",
    "test_file_path",
]

CASSETTE_SUFFIX = ".json"
# Kept equal to transcript_file.SUFFIX (checked by a test); here so the plugin need not import it.
TRANSCRIPT_SUFFIX = ".txt"

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]+")
_MAX_NAME = 120
# File systems hold names of up to 255 bytes. A file is written through a temporary
# ".<name>.XXXXXXXX.tmp" beside it (atomic_file), 14 bytes longer than the name itself.
_MAX_FOLDER_BYTES = 255
_MAX_FILE_BYTES = 255 - len(".") - len(".XXXXXXXX.tmp")


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
            _bad_override(override, f"must be a relative path inside the {folder}/ folder")
        file = override if relative.suffix else override + suffix
        _check_override(override, Path(file).parts)
        return base / file
    return base / (safe_name(test_name) + suffix)


def _check_override(override: str, parts: tuple[str, ...]) -> None:
    """A ``cassette=`` name every file system can hold, or a ``ConfigError`` naming it."""
    if "\0" in override:
        _bad_override(override, "holds a NUL character, which no file name can hold")
    for index, part in enumerate(parts):
        size = len(os.fsencode(part))
        limit = _MAX_FILE_BYTES if index == len(parts) - 1 else _MAX_FOLDER_BYTES
        if size > limit:
            what = "file name" if index == len(parts) - 1 else "folder name"
            _bad_override(
                override,
                f"makes a {what} of {size} bytes ({part[:20]!r}...); a {what} may have at "
                f"most {limit} bytes",
            )


def _bad_override(override: str, problem: str) -> NoReturn:
    from pytest_sessionmem.errors import ConfigError

    shown = override if len(override) <= 80 else override[:77] + "..."
    raise ConfigError(
        f"@pytest.mark.sessionmem(cassette={shown!r}): the cassette name {problem}. "
        "Give a shorter name of letters, digits, '-', '_' and '/', such as "
        "@pytest.mark.sessionmem(cassette='shared/greeting')."
    )


def link_leaving(path: Path, root: Path) -> Path | None:
    """The symlinked folder between ``root`` and ``path`` that leads out of ``root``, if any.

    ``root`` itself may be a link: what counts is where it really is. Folders that do not
    exist yet cannot lead anywhere.
    """
    real_root = Path(os.path.realpath(root))
    try:
        below = path.parent.relative_to(root).parts
    except ValueError:
        return None
    folder = root
    for part in below:
        folder = folder / part
        if folder.is_symlink():
            real = Path(os.path.realpath(folder))
            if real != real_root and real_root not in real.parents:
                return folder
    return None


def check_no_link_out(path: Path, root: Path, *, what: str) -> None:
    """A ``ConfigError`` when writing ``path`` would follow a symlinked folder out of ``root``."""
    link = link_leaving(path, root)
    if link is None:
        return
    from pytest_sessionmem.errors import ConfigError

    raise ConfigError(
        f"The {what} {path} would be written through {link}, a symlink to "
        f"{os.path.realpath(link)}, outside the folder {root}. Files are written inside it "
        f"only: replace the link with a folder (or make {root} itself the link)."
    )
