"""The one way the product writes a file: whole or not at all.

Cassettes and expected-transcript files are written to a temporary file in the target's
folder, flushed to disk, then renamed over the target, so a crash or a full disk never
leaves half a file. The result gets the permissions any new file would get under the
user's umask (a temporary file is created private, 0600, which would surprise a team
sharing a checkout).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

__all__ = ["folder_problem", "write_atomic"]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, creating parent folders as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


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
