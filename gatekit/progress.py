"""One progress line on stderr for long checks (reading, aggregating, deciding), for people at a terminal.

Shown only when stderr is a terminal and the `CI` variable is not set (nor `GATEKIT_NO_PROGRESS`): a CI log
or a redirected stderr gets nothing. The line is rewritten in place and erased before the command writes its
report, so that a report on the same terminal starts on a clean line and a piped report never holds a byte
of it. Standard library only: the start-up path imports it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import ParamSpec, TextIO, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

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


def cleared_after(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """`func`, with the progress line erased however it ends (before the report or an error message)."""

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        finally:
            clear()

    return run
