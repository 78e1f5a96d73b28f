"""The one boundary where what a reading library raises about a user's file becomes bad input (exit 2).

`reading(path, error)` wraps the reading of one results file: whatever the OS, PyYAML, json, pyarrow,
zipfile/zlib or sqlite raise while reading it is a located `error` naming the file (and the line and
column where the library says). It is deliberately narrow: it names the libraries' own exception types, not
`ValueError`, `TypeError`, `KeyError` or `IndexError`, so that a bug in gatekit still surfaces as an internal
error (exit 1) with its traceback instead of being blamed on the input.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gatekit.errors import GatekitError
from gatekit.text import printable


def _reading_errors() -> tuple[type[BaseException], ...]:
    """The exception types of the reading libraries loaded so far (none is imported here to find them)."""
    import json
    import zipfile
    import zlib

    import yaml

    from gatekit.spec.jsonio import DuplicateJsonKeyError, NumberError

    kinds: list[type[BaseException]] = [
        OSError,
        UnicodeError,
        json.JSONDecodeError,
        NumberError,
        DuplicateJsonKeyError,
        yaml.YAMLError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,  # a truncated gzip or zip member
    ]
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        kinds.append(pyarrow.ArrowException)
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None:
        kinds.append(sqlite3.DatabaseError)
    return tuple(kinds)


@contextmanager
def reading(path: Path, error: type[GatekitError]) -> Iterator[None]:
    """Turn the reading libraries' errors about `path` into an `error` located at the file."""
    try:
        yield
    except GatekitError:
        raise
    except BrokenPipeError:  # about stdout, not the file
        raise
    except Exception as e:
        if not isinstance(e, _reading_errors()):
            raise
        line = getattr(e, "lineno", 0) or 0
        column = getattr(e, "colno", 0) or 0
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
        detail = getattr(e, "strerror", None) or str(e) or type(e).__name__
        if len(detail) > 300:
            detail = detail[:300] + "…"
        raise error.at(f"cannot read the file: {printable(detail)}", str(path), line, column) from e
