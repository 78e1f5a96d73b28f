"""`gatekit inspect FILE`: what gatekit sees in a results file, as plain text for a human writing a gate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from gatekit.errors import UsageError
from gatekit.results import Results

if TYPE_CHECKING:
    from gatekit.sources.rows import Table


def describe(path: Path, spec_path: Path | None, fmt: str | None) -> str:
    from gatekit.sources.adapters import FORMATS, minimal_spec
    from gatekit.sources.load import _detect_format, load_results, load_spec
    from gatekit.sources.rows import TABLE_SUFFIXES, read_table, summarize_table
    from gatekit.sources.runmeta import results_file

    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown results format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    path = results_file(path)
    fmt = fmt or _detect_format(path)
    spec = load_spec(spec_path).spec if spec_path is not None else None
    lines = [f"{path}: format {fmt}"]
    if fmt in (*TABLE_SUFFIXES.values(), "lm-eval-samples"):
        table = read_table(path, fmt) if fmt != "lm-eval-samples" else _samples_table(path)
        lines.append(f"{table.data.num_rows} rows, {len(table.columns)} columns")
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
        if spec is None:
            lines.append("derived metrics: none (pass --spec with metrics.<name>.from to compute them)")
            return "\n".join(lines) + "\n"
    results = load_results(path, spec or minimal_spec(), fmt)
    lines.extend(_metrics(results))
    return "\n".join(lines) + "\n"


def _samples_table(path: Path) -> Table:
    """An lm-eval samples file as the table gatekit reads it: every column, no spec needed to list them."""
    from gatekit.sources.adapters import read_json
    from gatekit.sources.adapters.lm_eval import sample_rows
    from gatekit.sources.rows import rows_to_table

    data = read_json(path) if path.suffix.lower() == ".json" else None
    return rows_to_table(sample_rows(path, data), str(path))


def _metrics(results: Results) -> list[str]:
    lines = [f"model: {results.model}", f"{len(results.metrics)} metrics"]
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
