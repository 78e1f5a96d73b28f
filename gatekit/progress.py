"""One progress line on stderr for long checks (reading, aggregating, deciding), for people at a terminal.

Shown only when stderr is a terminal and the `CI` variable is not set (nor `GATEKIT_NO_PROGRESS`): a CI log
or a redirected stderr gets nothing. The line is rewritten in place and erased before the command writes its
report, so that a report on the same terminal starts on a clean line and a piped report never holds a byte
of it. Standard library only: the start-up path imports it.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

_ERASE = "\r\x1b[K"
_lock = threading.Lock()
_shown = False


def _stderr() -> TextIO:
    return sys.stderr


def enabled() -> bool:
    if os.environ.get("CI") or os.environ.get("GATEKIT_NO_PROGRESS") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(_stderr(), "isatty", None)
    return bool(isatty and isatty())


def stage(text: str) -> None:
    """Show `text` as the current step (replacing the step before it)."""
    global _shown  # noqa: PLW0603 - one line per process
    if not enabled():
        return
    with _lock:
        _stderr().write(f"{_ERASE}gatekit: {text} ...")
        _stderr().flush()
        _shown = True


def clear() -> None:
    """Erase the line, if one is shown (before a report, a message or the exit)."""
    global _shown  # noqa: PLW0603
    with _lock:
        if _shown:
            _stderr().write(_ERASE)
            _stderr().flush()
            _shown = False
