"""`gatekit compare`: many checkpoints against one spec and one baseline; the frontier and a recommendation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gatekit.cli._app import _render_options, app


@app.command()
def compare(
    spec: Annotated[Path, typer.Argument(help="The gate spec (YAML).", show_default=False, metavar="SPEC")],
    results: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            help="Results files or globs, one checkpoint each (id: the file name; order: as given). "
            "Default: --lineage, else the spec's `checkpoints:`.",
            show_default=False,
            metavar="RESULTS...",
        ),
    ] = None,
    lineage: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="A file listing `checkpoints:` (id, results, order, costs), paths relative to it."),
    ] = None,
    baseline: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Baseline results, or ledger:last-ship (verified against its recorded SHA-256)."),
    ] = None,
    ledger: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="The ledger ledger:last-ship reads; default $GATEKIT_LEDGER, else the spec's `ledger:`."),
    ] = None,
    sort_by: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Sort the rows by this metric on `all` (best first) instead of the order key."),
    ] = None,
    series: Annotated[
        bool, typer.Option(help="Continue or stop per step (the spec's `stopping:` or budget.max_cost_per_point).")
    ] = False,
    bisect: Annotated[
        bool, typer.Option(help="For each failing or inconclusive check, the first stage that fails it.")
    ] = False,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json, markdown or html.")] = "table",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report here (atomically) instead of stdout.")  # noqa: UP045
    ] = None,
    width: Annotated[Optional[int], typer.Option(help="Table width in columns.")] = None,  # noqa: UP045
) -> int:
    """Check every checkpoint against the spec and the same baseline; recommend the eligible frontier checkpoint
    the tie-break picks. Exit 0 a recommendation, 3 none eligible or undecidable, 4 every checkpoint stops."""
    from gatekit.api_compare import run_compare
    from gatekit.report.comparison import get_comparison_renderer, headline

    renderer = get_comparison_renderer(format)
    comparison = run_compare(
        spec,
        results or (),
        lineage=lineage,
        baseline=baseline,
        ledger=ledger,
        sort_by=sort_by,
        series=series,
        bisect=bisect,
    )
    text = renderer(comparison, _render_options(width, False))  # type: ignore[arg-type]
    if output is None:
        sys.stdout.write(text)
    else:
        from gatekit.integrity.atomic import write_atomic
        from gatekit.report import printable

        write_atomic(output, text)
        typer.echo(printable(f"{headline(comparison)} (report: {output})"), err=True)
    return comparison.exit_code
