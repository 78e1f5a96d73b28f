"""The command line. It parses arguments, calls the core and maps outcomes to exit codes; nothing else.

Exit codes (`gatekit.exit_codes.ExitCode`): 0 ship, 3 revise, 4 stop, 2 invalid input or usage,
1 internal error. Bad input never prints a traceback; `main` is the one place that turns errors into
messages on stderr.

Each command lives in a module of this package and registers itself on `gatekit.cli._app.app`.
"""

from __future__ import annotations

import itertools
import os
import sys
import traceback

import typer

from gatekit.cli import (  # noqa: F401 - importing a command module registers its commands
    compare,
    gate,
    inspect,
    ledger,
    plan,
    stats_sql,
    waive,
)
from gatekit.cli._app import _print_error, build_command
from gatekit.errors import GatekitError
from gatekit.exit_codes import ExitCode


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code. The only place errors become messages.

    Under `check --exit-codes bisect`, invalid input and internal errors exit 128, which `git bisect run`
    reads as "abort" (its "bad" is 1-127 except 125: exit 2 would blame the commit for a broken input)."""
    code, completed = _main(argv)
    if not completed and _bisect_exit_codes(argv):
        return BISECT_ABORT
    return code


BISECT_ABORT = 128


def _bisect_exit_codes(argv: list[str] | None) -> bool:
    args = sys.argv[1:] if argv is None else argv
    if "--exit-codes=bisect" in args:
        return True
    return any(pair == ("--exit-codes", "bisect") for pair in itertools.pairwise(args))


def _main(argv: list[str] | None) -> tuple[int, bool]:
    """The exit code, and whether the command ran to its end (False: an error stopped it)."""
    command = build_command()
    try:
        result = command.main(args=argv, prog_name="gatekit", standalone_mode=False)
    except GatekitError as e:
        _print_error(e)
        return int(ExitCode.INVALID_INPUT), False
    except typer.Exit as e:
        return int(e.exit_code), True
    except SystemExit as e:  # shell completion (`--show-completion`, the completion hook) exits from within
        return (e.code if isinstance(e.code, int) else int(ExitCode.INTERNAL_ERROR if e.code else ExitCode.SHIP)), True
    except typer.Abort:
        typer.echo("aborted", err=True)
        return int(ExitCode.INVALID_INPUT), False
    except typer.TyperException as e:
        # Usage errors (missing argument, bad option value): typer's vendored click exceptions.
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every usage error typer raises can show itself
            typer.echo(f"error: {e}", err=True)
        return int(ExitCode.INVALID_INPUT), False
    except BrokenPipeError:
        # `gatekit check ... | head`: the reader went away; the verdict is unaffected, but there is no one to tell.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.INTERNAL_ERROR), False
    except Exception:
        typer.echo(
            "gatekit: internal error (a bug in gatekit, not in your input). Please report it with the traceback below.",
            err=True,
        )
        traceback.print_exc()
        return int(ExitCode.INTERNAL_ERROR), False
    return int(result or 0), True


def run() -> None:
    """Console-script entry point.

    It ends the process without the interpreter's teardown, which after a check spends 0.05 s finalising
    numpy, pyarrow and pydantic module by module for an address space the kernel frees anyway. Everything
    a normal exit does for others still happens first: the atexit handlers run (coverage, logging) and the
    standard streams are flushed. A report that cannot be flushed is never a pass."""
    import atexit

    code = main()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # pragma: no cover - an interpreter without it exits the usual way
        sys.exit(code)
    run_exit_handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or int(ExitCode.INTERNAL_ERROR)
    except OSError:
        # The report did not reach its reader (a full disk): never a ship, and the output's fault, not a bug.
        code = code or int(ExitCode.INVALID_INPUT)
    os._exit(code)
