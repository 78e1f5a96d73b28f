"""`gatekit inspect`: what gatekit sees in a results file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gatekit.cli._app import app


@app.command("inspect")
def inspect_results(
    path: Annotated[Path, typer.Argument(help="A results file: table, harness output or gatekit YAML/JSON.")],
    spec: Annotated[
        Optional[Path], typer.Option(help="Compute the spec's derived metrics and slices too.")  # noqa: UP045
    ] = None,
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="Force the input format instead of detecting it (see gatekit.sources.adapters)."),
    ] = None,
    model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--model", help="The model or provider to show from a file holding several (promptfoo)."),
    ] = None,
) -> int:
    """Show what gatekit sees in a results file: columns, metrics, slices and n, so gates use real names."""
    from gatekit.memory import keep_freed_memory
    from gatekit.sources.inspect_view import describe

    keep_freed_memory()
    sys.stdout.write(describe(path, spec, format, model))
    return 0
