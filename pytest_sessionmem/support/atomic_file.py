"""The one way the product writes a file: whole or not at all.

Cassettes and expected-transcript files are written to a temporary file in the target's
folder, flushed to disk, then renamed over the target, so a crash or a full disk never
leaves half a file. The result gets the permissions any new file would get under the
user's umask (a temporary file is created private, 0600, which would surprise a team
sharing a checkout).

A process killed mid-write (SIGKILL, a power cut) leaves its temporary file,
``.<name>.XXXXXXXX.tmp``. The writer holds an exclusive ``flock`` on it until the rename,
and the kernel drops that lock when the process dies, so the next write into the same
folder removes every temporary of this naming that no live writer holds (once per folder
and process; cassette and transcript folders only). Where there is no ``flock``
(Windows), only temporaries older than a day go.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["folder_problem", "remove_stale_temporaries", "write_atomic"]

# ".<target name>." + tempfile's eight random characters + ".tmp"
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
_UNLOCKED_AGE = 24 * 3600  # seconds, where no flock tells a live writer's file from a dead one's
_swept: set[str] = set()  # folders this process has swept


def write_atomic(path: Path, data: bytes, *, sweep: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step, creating parent folders as needed.

    ``sweep=False`` leaves the folder's stale temporaries alone: for a folder the product
    does not own (the HTML report's), where another program may name its own files alike.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if sweep and str(path.parent) not in _swept:
        _swept.add(str(path.parent))
        remove_stale_temporaries(path.parent)
    fd, temp_name = _locked_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(temp_name, 0o666 & ~_umask())
            if fcntl is not None:  # renamed while locked: a sweep never takes a live file
                os.replace(temp_name, path)
        if fcntl is None:  # Windows renames no open file
            os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _locked_temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path``, open and (where possible) locked."""
    while True:
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        if fcntl is None:
            return fd, temp_name
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: written unlocked, as before
            return fd, temp_name
        # A sweep may have taken the file between its creation and the lock: start again.
        with contextlib.suppress(OSError):
            if os.path.samestat(os.fstat(fd), os.lstat(temp_name)):
                return fd, temp_name
        os.close(fd)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files of this module's naming in ``folder`` that no live writer
    holds (see the module doc); returns what it removed."""
    removed: list[Path] = []
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if _TEMPORARY.fullmatch(e.name)]
    except OSError:
        return removed
    for name in names:
        path = folder / name
        with contextlib.suppress(OSError):
            if _remove_if_stale(path):
                removed.append(path)
    return removed


def _remove_if_stale(path: Path) -> bool:
    if fcntl is None:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or time.time() - info.st_mtime < _UNLOCKED_AGE:
            return False
        os.unlink(path)
        return True
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a live writer holds it
            return False
        # Still the file under that name (not renamed into place meanwhile)?
        if not os.path.samestat(os.fstat(fd), os.lstat(path)):
            return False
        os.unlink(path)
        return True
    finally:
        os.close(fd)


def folder_problem(path: Path, exc: OSError) -> str:
    """Why :func:`write_atomic` could not write ``path``, and the fix, for an error message.

    "its folder ... is not writable (...). Make the folder writable (chmod u+w '...')" or
    "writing into its folder ... failed (...). Fix that": the caller ends the sentence with
    what to do next.
    """
    folder = path.parent
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"its folder {folder} is not writable ({reason}). "
            f"Make the folder writable (chmod u+w '{folder}')"
        )
    return f"writing into its folder {folder} failed ({reason}). Fix that"


def _umask() -> int:
    # The only portable way to read the umask is to set it; set it straight back.
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open directories, which is fine.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
