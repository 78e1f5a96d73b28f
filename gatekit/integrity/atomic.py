"""Atomic file writes: a report is either written whole or not at all, and a previous file stays intact.

Only regular files are written. A target that exists and is not a regular file (a character device such as
a copy of /dev/full, a FIFO, a socket, a directory, or a symlink to any of them, /proc/self/fd/2 among them)
is an `OutputError` (exit 2) and is left as it is: renaming over it would replace a device node with a file.
A symlink to a regular file is written through: the new content replaces the file it points to, atomically
(the temporary file is made beside the target), and the link stays a link.

A new file gets the permissions the umask allows (0644 under umask 022); a replaced file keeps its own. The
temporary file is removed on every exit path gatekit controls, an interrupt (Ctrl-C) included; only a
kill -9 between its creation and the rename can leave a `.NAME.*.tmp` beside the target.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from gatekit.errors import Diagnostic, OutputError


def _fail(message: str, path: Path, cause: BaseException | None = None) -> OutputError:
    error = OutputError([Diagnostic(f"cannot write the report: {message}", str(path))])
    error.__cause__ = cause
    return error


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _writable_target(path: Path) -> tuple[Path, int]:
    """The regular file to replace (a symlink's target) and the permission bits the new file gets."""
    try:
        info = path.stat()  # follows symlinks
    except FileNotFoundError:
        if path.is_symlink():
            raise _fail("it is a symlink to nothing; remove it or point it at a file", path) from None
        return path, 0o666 & ~_current_umask()
    except OSError as e:
        raise _fail(e.strerror or str(e), path, e) from e
    if not stat.S_ISREG(info.st_mode):
        raise _fail(
            "it exists and is not a regular file (a directory, device, FIFO or socket, or a symlink to one); "
            "give a file path, or - for stdout",
            path,
        )
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    return target, stat.S_IMODE(info.st_mode)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside the target, flush it to disk, then rename it over the target."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    target, mode = _writable_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise _fail(e.strerror or str(e), path, e) from e
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # mkstemp makes 0600 whatever the umask
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _fail(e.strerror or str(e), path, e) from e
        raise
