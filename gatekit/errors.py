"""Typed errors for bad input. Each carries where the problem is: file, line, column and field path.

The CLI catches `GatekitError` in one place, prints each diagnostic as
``file:line:col: field: message`` and exits with `ExitCode.INVALID_INPUT`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one input file. `line` and `column` are 1-based; 0 means unknown."""

    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    field: str = ""

    def format(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class GatekitError(Exception):
    """Base of every error caused by the user's input rather than by a bug in gatekit."""

    def __init__(self, diagnostics: Sequence[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    @classmethod
    def at(
        cls,
        message: str,
        file: str = "",
        line: int = 0,
        column: int = 0,
        field: str = "",
    ) -> GatekitError:
        return cls([Diagnostic(message, file, line, column, field)])


class InputFileError(GatekitError):
    """A file could not be read or parsed at all: missing, unreadable, not UTF-8, not YAML."""


class SpecError(GatekitError):
    """The gate spec is malformed or inconsistent."""


class ResultsError(GatekitError):
    """A results file is malformed or inconsistent."""


class UsageError(GatekitError):
    """The command line asks for something impossible (unknown format, bad option value)."""


class OutputError(GatekitError):
    """A report could not be written."""


class LockError(GatekitError):
    """A gate spec's lock file cannot be read, parsed or written."""


class ArtifactError(GatekitError):
    """A rollback artifact cannot be verified at all (as opposed to failing verification, which is a verdict)."""


class LedgerError(GatekitError):
    """The decision ledger cannot be opened, read or written, or holds no matching decision."""
