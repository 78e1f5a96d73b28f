"""Process-wide allocator settings for a check over large per-example tables.

A check converts, groups and sorts whole columns: numpy arrays of tens of megabytes that live for a moment.
glibc's malloc serves each from a fresh `mmap` and hands it back to the kernel on free, so the next array
faults every page in again. On virtual machines, where CI runs, those page faults cost more than the
arithmetic: the throughput benchmark (`bench/throughput.py`) spends more time in the kernel than in numpy.

`keep_freed_memory` tells glibc to serve large blocks from its heap and to keep freed memory for reuse. A
check is a short-lived batch process, so holding its peak footprint until exit costs nothing, and the peak
itself does not grow. Elsewhere (musl, macOS, Windows) it does nothing.

It also stops numpy from asking the kernel to back large arrays with transparent huge pages. Where the kernel
compacts memory on the spot to find them (`defrag` set to `madvise`, the default of many distributions),
that compaction is the kernel time: in the benchmark it made the system time vary from 0.4 s to 1.5 s. A
`NUMPY_MADVISE_HUGEPAGE` set by the user is left alone.

`GATEKIT_MALLOC_TUNING=0` turns both off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt(3) parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8

_applied = False


def keep_freed_memory() -> bool:
    """Apply the settings once per process; True when glibc accepted them."""
    global _applied  # noqa: PLW0603 - a process-wide switch, set once
    if _applied:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("GATEKIT_MALLOC_TUNING", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        return False
    if mallopt is None or not _is_glibc():
        return False
    accepted = (
        # One arena: a thread's own arena is a set of mapped heaps, which would bring the fresh mappings back
        # (candidate and baseline are read on two threads).
        mallopt(_M_ARENA_MAX, 1)
        and mallopt(_M_MMAP_MAX, 0)  # large blocks from the heap, which is reused, instead of fresh mappings
        and mallopt(_M_TRIM_THRESHOLD, 1 << 30)  # keep up to 1 GiB of freed heap instead of returning it
        and mallopt(_M_TOP_PAD, 64 << 20)  # grow the heap 64 MiB at a time
    )
    _applied = bool(accepted)
    if _applied and "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        _no_numpy_huge_pages()
    return _applied


def _no_numpy_huge_pages() -> None:
    numpy = sys.modules.get("numpy")
    if numpy is None:
        # Read by numpy when it is imported. Setting it here, not importing numpy to call the setter below,
        # keeps numpy's import off a check's start-up: it then loads while the tables are being read.
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return
    # Already imported (the Python API): this setter (numpy >= 1.20, in `numpy._core` since 2.0) changes it.
    core = getattr(numpy, "_core", None) or getattr(numpy, "core", None)
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if callable(setter):
        setter(False)


def _is_glibc() -> bool:
    import platform

    return platform.libc_ver()[0] == "glibc"
