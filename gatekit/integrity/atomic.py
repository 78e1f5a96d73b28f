"""Atomic file writes: a report is either written whole or not at all, and a previous file stays intact."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from gatekit.errors import OutputError


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OutputError.at(f"cannot write the report: {e.strerror or e}", str(path)) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError.at(f"cannot write the report: {e.strerror or e}", str(path)) from e
