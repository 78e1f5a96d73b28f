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
    input_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--input-format",
            help="Read the file as this format instead of detecting it: gatekit, jsonl, csv, parquet, lm-eval, "
            "lm-eval-samples, inspect or promptfoo.",
        ),
    ] = None,
    format_alias: Annotated[
        Optional[str],  # noqa: UP045
        # The spelling documented before --input-format; `--format` elsewhere is a report's format.
        typer.Option("--format", hidden=True),
    ] = None,
    model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--model", help="The model or provider to show from a file holding several (promptfoo)."),
    ] = None,
) -> int:
    """Show what gatekit sees in a results file: columns, metrics, slices and n, so gates use real names."""
    from gatekit.errors import UsageError
    from gatekit.memory import keep_freed_memory
    from gatekit.sources.inspect_view import describe

    if input_format is not None and format_alias is not None and input_format != format_alias:
        raise UsageError("give the input format once: --input-format (--format is its old spelling)")
    keep_freed_memory()
    sys.stdout.write(describe(path, spec, input_format or format_alias, model))
    return 0
