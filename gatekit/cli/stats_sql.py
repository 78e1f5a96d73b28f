"""`gatekit stats-sql`: the queries that compute the sufficient-statistics contract on a warehouse engine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gatekit.cli._app import app


@app.command("stats-sql")
def stats_sql(
    spec_path: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The gate spec whose metrics and slices to compute.")
    ],
    dialect: Annotated[str, typer.Option(help="The SQL dialect: duckdb or spark.")] = "duckdb",
    table: Annotated[str, typer.Option(help="The per-example table's name in the engine (as the SQL names it).")] = "",
    counts: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Pass 1's result (Parquet or CSV): print pass 2, the whole stats table with the order statistics "
            "in each quantile slice's rank window."
        ),
    ] = None,
) -> int:
    """Print the SQL that computes the stats table (docs/stats-contract.md) `check --candidate-format stats` reads.

    A spec with a quantile metric needs two passes: run the printed query, save its result, then run the query
    printed with `--counts RESULT`. Without quantiles, pass 1's result is the whole stats table."""
    from gatekit.errors import UsageError
    from gatekit.sources.load import load_spec
    from gatekit.sources.stats_sql import DIALECTS, Dialect, counts_query, needs_second_pass, stats_query, unsupported

    if dialect not in DIALECTS:
        raise UsageError(f"unknown --dialect {dialect!r}; choose one of: {', '.join(DIALECTS)}")
    chosen: Dialect = "spark" if dialect == "spark" else "duckdb"
    if not table:
        raise UsageError("name the per-example table with --table NAME")
    spec = load_spec(spec_path, baseline_given=True).spec
    reason = unsupported(spec)
    if reason is not None:
        raise UsageError(f"{spec_path}: the stats contract cannot express {reason}")
    if counts is None:
        sys.stdout.write(counts_query(spec, table, chosen))
        if needs_second_pass(spec):
            typer.echo(
                "note: the spec has quantile metrics: save this query's result and run the query printed with "
                "--counts RESULT (pass 2)",
                err=True,
            )
        return 0
    from gatekit.sources.stats_table import pass_one_counts

    windows = pass_one_counts(counts, spec)
    sys.stdout.write(stats_query(spec, table, chosen, windows))
    return 0
