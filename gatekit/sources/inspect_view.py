"""`gatekit inspect FILE`: what gatekit sees in a results file, as plain text for a human writing a gate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from gatekit.errors import UsageError
from gatekit.results import Results

if TYPE_CHECKING:
    from gatekit.sources.table import Table


def describe(path: Path, spec_path: Path | None, fmt: str | None, model: str | None = None) -> str:
    from gatekit.sources.adapters import FORMATS
    from gatekit.sources.adapters.common import minimal_spec
    from gatekit.sources.load import _detect_format, load_results, load_spec
    from gatekit.sources.rows import read_table
    from gatekit.sources.runmeta import results_file
    from gatekit.sources.table import TABLE_SUFFIXES

    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown results format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    path = results_file(path)
    fmt = fmt or _detect_format(path)
    spec = load_spec(spec_path).spec if spec_path is not None else None
    lines = [f"{path}: format {fmt}"]
    if fmt in (*TABLE_SUFFIXES.values(), "lm-eval-samples"):
        table = read_table(path, fmt) if fmt != "lm-eval-samples" else _samples_table(path)
        lines.append(f"{table.data.num_rows} rows, {len(table.columns)} columns")
        lines.extend(_columns(table))
        if spec is None:
            lines.append("derived metrics: none (pass --spec with metrics.<name>.from to compute them)")
            return "\n".join(lines) + "\n"
    results = load_results(path, spec or minimal_spec(), fmt, model)
    lines.extend(_metrics(results))
    rows = _harness_rows(path, fmt, model)
    if rows is not None:
        lines.append(f"per-example rows (for metrics.<name>.from and table.slice_by): {rows.data.num_rows} rows")
        lines.extend(_columns(rows))
    return "\n".join(lines) + "\n"


def _columns(table: Table) -> list[str]:
    from gatekit.sources.columns import summarize_table

    lines = []
    for column in summarize_table(table):
        text = f"  {column.name}: {column.type}"
        if column.distinct is not None:
            shown = ", ".join(repr(v) for v in column.examples)
            more = ", ..." if column.distinct > len(column.examples) else ""
            text += f", {column.distinct} distinct ({shown}{more})"
        if column.nulls:
            text += f", {column.nulls} null"
        if column.problems:
            text += "; bad: " + ", ".join(f"{n} {reason}" for reason, n in column.problems.items())
        lines.append(text)
    return lines


def _harness_rows(path: Path, fmt: str, model: str | None) -> Table | None:
    """The per-example rows an Inspect log or a promptfoo output gives derived metrics, or None."""
    from gatekit.sources.adapters.common import read_json
    from gatekit.sources.rows import rows_to_table

    data = read_json(path) if path.suffix.lower() == ".json" else None
    if fmt == "inspect":
        from gatekit.sources.adapters.inspect_ai import sample_rows
        from gatekit.sources.adapters.inspect_archive import read_eval_log

        rows = sample_rows(read_eval_log(path) if data is None else data)
    elif fmt == "promptfoo":
        from gatekit.sources.adapters import promptfoo

        rows = promptfoo.rows(path, data, model)[0]
    else:
        return None
    return rows_to_table(rows, str(path)) if rows else None


def _samples_table(path: Path) -> Table:
    """An lm-eval samples file as the table gatekit reads it: every column, no spec needed to list them."""
    from gatekit.sources.adapters.common import read_json
    from gatekit.sources.adapters.lm_eval import sample_rows
    from gatekit.sources.rows import rows_to_table

    data = read_json(path) if path.suffix.lower() == ".json" else None
    return rows_to_table(sample_rows(path, data), str(path))


def _metrics(results: Results) -> list[str]:
    lines = [f"model: {results.model}"]
    if results.created is not None:
        lines.append(f"created: {results.created.isoformat()}")
    if results.costs:
        lines.append("costs: " + ", ".join(f"{item} {value:.6g}" for item, value in results.costs.items()))
    lines.append(f"{len(results.metrics)} metrics")
    for metric, slices in results.metrics.items():
        lines.append(f"  {metric}: {len(slices)} slices")
        for name, m in slices.items():
            value = f"{m.value:.6g}" if math.isfinite(m.value) else str(m.value)
            text = f"    {name}: {value}, n={m.n if m.n is not None else '?'}"
            if m.stderr is not None:
                text += f", stderr={m.stderr:.3g}"
            if m.problem:
                text += f"  [unusable: {m.problem}]"
            lines.append(text)
    lines.extend(f"note: {note}" for note in results.notes)
    return lines
