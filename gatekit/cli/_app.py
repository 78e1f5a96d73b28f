"""The typer app every command registers on, and the helpers the commands share."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from gatekit import __version__
from gatekit.errors import GatekitError

app = typer.Typer(
    name="gatekit",
    help="Hold a checkpoint to the release gate written before its run: ship, stop or revise.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

STAGE_TEMPLATES = (
    "pretraining",
    "sft",
    "preference",
    "quantization",
    "adapter",
    "vendor-selection",
    "serving",
    "other",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gatekit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """gatekit: release gates for ML/LLM checkpoints."""


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _render_options(width: int | None, color: bool | None) -> object:
    from gatekit.report import RenderOptions

    terminal = _stdout_is_terminal()
    if color is None:
        color = terminal and "NO_COLOR" not in os.environ
    if width is None:
        width = shutil.get_terminal_size((120, 24)).columns if terminal else 120
    return RenderOptions(width=max(width, 60), color=color)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _print_error(error: GatekitError) -> None:
    from gatekit.text import printable

    for diagnostic in error.diagnostics:
        typer.echo(printable(f"error: {diagnostic.format()}"), err=True)


def write_stdout(text: str) -> None:
    """Write a report to stdout and flush it: a full disk or a closed pipe is known before the exit code is.

    A write that fails (`> /dev/full`: no space left on device) is an `OutputError` (exit 2): a verdict no
    one received is never a pass. A reader that went away (`| head`) stays a `BrokenPipeError` for `main`."""
    from gatekit.errors import OutputError

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise OutputError.at(f"cannot write the report to stdout: {e.strerror or e}", "<stdout>") from e
