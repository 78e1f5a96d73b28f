"""Reading small metadata files (lock files) without trusting what the path is.

A lock file is read whole. Opened naively, a FIFO in its place blocks forever, a symlink to /dev/zero
reads until memory runs out, and a 1 GB sparse file takes 2 GB. So: open without blocking (a FIFO opens at
once with O_NONBLOCK), refuse anything `fstat` says is not a regular file, refuse a size over the cap, and
read at most the cap plus one byte in case the file grows while it is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gatekit.errors import GatekitError

METADATA_MAX_BYTES = 16 << 20
"""A lock file of 16 MiB would hold some 50,000 lock events; no real one comes near."""


def read_small_file(path: Path, *, max_bytes: int, error: type[GatekitError], what: str) -> bytes | None:
    """The bytes of a regular file of at most `max_bytes`, or None when there is no file at `path`."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise error.at("is a directory, not a file", name) from None
    except OSError as e:
        raise error.at(f"cannot read the {what}: {e.strerror or e}", name) from e
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error.at("is a directory, not a file", name)
        if not stat.S_ISREG(info.st_mode):
            raise error.at(f"the {what} is not a regular file (a FIFO, device or socket)", name)
        if info.st_size > max_bytes:
            raise error.at(f"the {what} is {info.st_size} bytes; the limit is {max_bytes}", name)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise error.at(f"the {what} grew past the limit of {max_bytes} bytes while it was read", name)
        return b"".join(chunks)
    except OSError as e:
        raise error.at(f"cannot read the {what}: {e.strerror or e}", name) from e
    finally:
        os.close(fd)
