"""The typer app every command registers on, and the helpers the commands share."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer
from typer.core import TyperArgument

from gatekit import __version__
from gatekit.errors import GatekitError

app = typer.Typer(
    name="gatekit",
    help="Hold a checkpoint to the release gate written before its run: ship, stop or revise.",
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell (typer's own).
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# The spec's stages (`gatekit.spec.base.STAGES`), spelled out so that start-up does not import pydantic;
# tests/test_cli.py keeps the two equal.
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


class _PlainArgument(TyperArgument):
    """An argument as usage lines conventionally show it: `SPEC`, `[PATH]`, `SPEC...`; its type is in its help.

    typer 0.29 writes a required argument as `{SPEC}` and adds a type such as `<list[Path]>` to the help."""

    def _plain_name(self) -> str:
        return (self.metavar or self.name or "").upper().removesuffix("...")

    def _usage_display_name(self) -> str:
        name = self._plain_name() + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"

    def _rich_display_name(self) -> str:
        return self._plain_name() + ("..." if self.nargs != 1 else "")

    def display_type(self, ctx: typer.Context) -> str:  # type: ignore[override]
        return ""


def build_command() -> typer.core.TyperGroup:
    """The click command of `app`, with every argument shown the plain way (`_PlainArgument`)."""
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    for sub in command.commands.values():
        for param in sub.params:
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument
    return command


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
