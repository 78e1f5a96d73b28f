"""Per-slice measurements from a per-example table: every derived metric of the spec on every slice.

The spec says how a metric is computed from the columns (`metrics.<name>.from: {column, aggregate, where}`)
and which columns cut the rows into slices (`table.slice_by`, `table.slice_cross`; `all` is always there).
Everything is vectorised numpy over whole columns, never a Python loop over rows:

* rates, means and sums are weighted bincounts over one "cube" code per row, the cross of every slice
  column; each slice column and each cross is a marginal of the cube. That is one pass per value column
  however many cuts the spec asks for. When the cross has more cells than the table has rows, each cut
  counts on its own codes instead.
* quantiles put each cut's rows in slice order once (a stable counting sort of small codes) and sort each
  slice in place: the sorted slice is both the quantile and the per-example values its bounds need.

Per-example values reach the evaluator as `Samples`: a quantile's sorted slice as it is, a rate's or mean's
values only when asked for (`fetch`), with the mean, standard error and event count computed here, so a gate
that needs only those never copies a slice's rows.

Bad cells are never skipped silently: a measurement built from bad rows carries a `problem` and is reported
missing, unless `table.drop_invalid` is set, in which case the valid rows are used and a note says how many
were dropped.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results, SampleSummary
from gatekit.sources.columns import Decoded, decode_numbers
from gatekit.sources.cuts import (
    Bins,
    Cut,
    Found,
    Layout,
    MetricRows,
    Selection,
    SliceFinder,
    filter_mask,
    metric_rows,
    table_layout,
)
from gatekit.sources.example_ids import ExampleIds, IdSpace, UniqueIds
from gatekit.sources.quantile_runs import quantile_slices
from gatekit.sources.rows import check_columns
from gatekit.sources.slice_rows import SliceRows
from gatekit.sources.table import QUANTILES, REASONS, Table
from gatekit.spec.model import ColumnAggregate, RowFilter, Spec
from gatekit.stats import SMALLEST_ALPHA, min_n_for_quantile, no_spread

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.intp]
    RowArray = npt.NDArray[np.signedinteger[Any]]
    """Row numbers, int32 while they fit."""
    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]


def derived_metrics(spec: Spec) -> dict[str, ColumnAggregate]:
    return {name: d.from_ for name, d in spec.metrics.items() if d.from_ is not None}


def slice_results(
    table: Table,
    spec: Spec,
    *,
    model: str | None = None,
    extra: dict[str, dict[str, Measurement]] | None = None,
    notes: Sequence[str] = (),
    id_space: IdSpace | None = None,
) -> Results:
    """Every derived metric of the spec on every slice of a table of one row per example (repeats already
    reduced: see `gatekit.sources.measure.table_results`). `id_space` codes the example ids as
    integers shared with the tables it is compared with (`gatekit.sources.example_ids`)."""
    definitions = derived_metrics(spec)
    if not definitions and not extra:
        raise ResultsError.at(
            "a per-example table needs metrics computed from its columns: add "
            "`metrics: {name: {from: {column: ..., aggregate: rate|mean|sum|count|p95 ...}}}` to the spec",
            table.source,
        )
    options = spec.table
    id_column = options.id_column or ("id" if "id" in table.columns else None)
    if id_column is not None:
        check_columns([id_column], table.columns, table.source)
    ids = ExampleIds(table, id_column, id_space) if id_column else None
    # The other table's id hash waits while this one measures, and the other way round (`IdSpace`).
    with id_space.measuring() if id_space is not None else contextlib.nullcontext():
        return _measured(table, spec, definitions, ids, model, extra, notes)


def _measured(  # noqa: PLR0917 - internal, the body of table_results
    table: Table,
    spec: Spec,
    definitions: dict[str, ColumnAggregate],
    ids: ExampleIds | None,
    model: str | None,
    extra: dict[str, dict[str, Measurement]] | None,
    notes: Sequence[str],
) -> Results:
    options = spec.table
    unique_ids = UniqueIds(ids) if ids is not None else None
    layout = table_layout(table, options)
    reach = deepest_confidence(spec)
    bins = Bins()
    decoded: dict[tuple[str, str], Decoded] = {}
    filters: dict[RowFilter, Selection] = {}
    all_notes = list(notes)
    metrics: dict[str, dict[str, Measurement]] = dict(extra or {})
    for metric, source in definitions.items():
        role = _role(source)
        if source.column is not None:
            key = (source.column, role)
            if key not in decoded:
                non_negative = source.column in options.non_negative
                decoded[key] = decode_numbers(table, source.column, role=role, non_negative=non_negative)
            column = decoded[key]
        else:
            # Kept with the decoded columns: binned totals are cached by the identity of the value array.
            column = decoded.setdefault(("", "count"), _row_count_column(table.data.num_rows))
        selection = None
        if source.where is not None:
            if source.where not in filters:
                filters[source.where] = filter_mask(table, source.where)
            selection = filters[source.where]
        rows = metric_rows(column, selection, filter_key=source.where)
        if unique_ids is not None:
            unique_ids.check(rows.selected, rows.filter_key, metric)
        metrics[metric] = _measure_metric(
            table, metric, source, column, rows, ids, layout, bins, options.drop_invalid, all_notes, reach
        )
    return Results(
        source=table.source,
        model=model or Path(table.source).stem,
        metrics=metrics,
        notes=tuple(all_notes),
    )


def deepest_confidence(spec: Spec) -> float:
    """The highest confidence any decision of the spec reads a quantile bound at: the p-value search down to
    `SMALLEST_ALPHA`, or a gate's own confidence, halved on each arm of a change."""
    highest = max([spec.confidence, *(gate.confidence for gate in spec.gates if gate.confidence is not None)])
    return 1 - min(SMALLEST_ALPHA, 1 - highest) / 2


def _role(source: ColumnAggregate) -> str:
    if source.aggregate == "rate":
        return "rate"
    return "quantile" if source.aggregate in QUANTILES else "number"


def _row_count_column(n: int) -> Decoded:
    import numpy as np

    return Decoded(np.ones(n), None)


# ------------------------------------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class _CutRows:
    """How many of a metric's rows fall in each slice of a cut, and how many have no slice value."""

    rows: FloatArray
    bad: FloatArray | None
    valid: FloatArray
    absent: int


def _measure_metric(  # noqa: PLR0917 - internal, called once per metric
    table: Table,
    metric: str,
    source: ColumnAggregate,
    column: Decoded,
    rows: MetricRows,
    ids: ExampleIds | None,
    layout: Layout,
    bins: Bins,
    drop_invalid: bool,
    notes: list[str],
    reach: float,
) -> dict[str, Measurement]:
    import numpy as np

    column_name = source.column or "(rows)"
    summary = ""
    if rows.bad is not None:
        assert rows.reasons is not None
        reason_counts = np.bincount(rows.reasons[rows.bad], minlength=len(REASONS))
        detail = ", ".join(f"{int(c)} {REASONS[r]}" for r, c in enumerate(reason_counts) if c)
        first = table.where(int(np.flatnonzero(rows.bad)[0]))
        n_bad_rows = int(rows.bad.sum())
        bad_rows = f"{n_bad_rows} bad row{'s' if n_bad_rows != 1 else ''}"
        summary = f"{bad_rows} in column {column_name!r} ({detail}; first at {first})"
        if drop_invalid:
            notes.append(f"{table.source}: {metric}: dropped {summary} (drop_invalid)")
    out: dict[str, Measurement] = {}
    counted_cuts = [_cut_rows(layout, bins, cut, rows, column_key=id(column)) for cut in layout.cuts]
    quantile_finders = (
        quantile_slices(
            layout.cuts, [c.valid for c in counted_cuts], rows, column, ids, QUANTILES[source.aggregate], reach
        )
        if source.aggregate in QUANTILES
        else None
    )
    for i, (cut, counted) in enumerate(zip(layout.cuts, counted_cuts, strict=True)):
        slice_problem = absent_problem = None
        if counted.absent:
            assert cut.absent is not None
            absent = cut.absent if rows.selected is None else cut.absent & rows.selected
            names = " or ".join(repr(c) for c in cut.columns)
            first_absent = table.where(int(np.flatnonzero(absent)[0]))
            rows_have = "row has" if counted.absent == 1 else "rows have"
            slice_problem = absent_problem = f"{counted.absent} {rows_have} no {names} value (first at {first_absent})"
            if drop_invalid:
                notes.append(f"{table.source}: {metric}: {slice_problem}; they are left out of these slices")
                slice_problem = None
        if quantile_finders is not None:
            found = quantile_finders[i]
        else:
            found = _summed_slices(layout, bins, cut, source, rows, column, ids, counted.valid)
        measured = False
        for g, label in enumerate(cut.names):
            n_rows = int(counted.rows[g])
            if n_rows == 0:
                continue  # no row of this metric in this slice: the slice does not exist for the metric
            problem = slice_problem
            n_bad = int(counted.bad[g]) if counted.bad is not None else 0
            if n_bad and not drop_invalid and problem is None:
                problem = (
                    f"{n_bad} of {n_rows} row{'s' if n_rows != 1 else ''} {'has' if n_bad == 1 else 'have'} "
                    f"a bad {column_name!r} value "
                    f"({summary}); set table.drop_invalid to use the rest"
                )
            out[label] = measurement(source, found(g), problem)
            measured = True
        if absent_problem is not None and not measured:
            # Every row of this metric lacks the cut's value: its slices would vanish and `"*"` shrink to `all`.
            out[_no_slices_name(cut)] = Measurement(
                math.nan, 0, problem=f"{absent_problem}: no slice of {names} can be measured"
            )
    return out


def _no_slices_name(cut: Cut) -> str:
    """The slice that stands, as missing, for a cut none of whose slices a metric's rows reach: `task=*`."""
    return ",".join(f"{column}=*" for column in cut.columns)


def _cut_rows(layout: Layout, bins: Bins, cut: Cut, rows: MetricRows, *, column_key: int) -> _CutRows:
    source = layout.source(cut)
    per_slice, absent = layout.reduce(cut, source, bins.rows(source, rows))
    bad_cells = bins.bad(source, rows, column_key)
    bad = layout.reduce(cut, source, bad_cells)[0] if bad_cells is not None else None
    valid = per_slice if bad is None else per_slice - bad
    return _CutRows(per_slice, bad, valid, round(absent))


def _summed_slices(  # noqa: PLR0917 - internal
    layout: Layout,
    bins: Bins,
    cut: Cut,
    source: ColumnAggregate,
    rows: MetricRows,
    column: Decoded,
    ids: ExampleIds | None,
    counts: FloatArray,
) -> SliceFinder:
    """Rate, mean, sum or count of each slice of the cut, from binned totals."""
    import numpy as np

    aggregate = source.aggregate
    if aggregate == "count":
        return lambda g: Found(float(counts[g]), int(counts[g]))
    origin = layout.source(cut)
    cell_sums = bins.sums(origin, rows, column)
    totals = layout.reduce(cut, origin, cell_sums)[0]
    n = np.maximum(counts, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if aggregate == "rate":
            # Exact counts: var = k (n - k) / (n (n - 1)), the sample variance of 0/1 values.
            variance = totals * (counts - totals) / (n * (counts - 1))
        else:
            cell_rows = bins.rows(origin, rows)
            bad_cells = bins.bad(origin, rows, id(column))
            cell_counts = cell_rows if bad_cells is None else cell_rows - bad_cells
            squares = bins.squares(origin, rows, column, cell_counts, cell_sums)
            variance = layout.spread(cut, origin, squares, cell_counts, cell_sums) / (counts - 1)
    gather = SliceRows(cut, rows.valid, column, ids)

    def found(g: int) -> Found:
        size = int(counts[g])
        var = float(variance[g]) if size > 1 else math.nan
        if aggregate == "sum":
            # The sum's standard error is n times the mean's: sqrt(n) * SD. No per-example values: an
            # interval on a sum is a t interval on that stderr, never one on the mean.
            stderr = math.sqrt(size * var) if math.isfinite(var) else math.nan
            # One example, or examples that all agree, estimate no spread: unbounded, never a point.
            if not math.isfinite(stderr) or no_spread(stderr, float(totals[g])):
                stderr = math.inf
            return Found(float(totals[g]), size, stderr)
        mean = float(totals[g]) / size if size else math.nan
        se = math.sqrt(var / size) if math.isfinite(var) else None
        events = float(totals[g]) if aggregate == "rate" else None
        summary = SampleSummary(mean, se if se is not None else math.inf, events)
        return Found(mean, size, se, gather.samples(g, size, summary=summary))

    return found


def measurement(source: ColumnAggregate, found: Found, problem: str | None) -> Measurement:
    if found.n == 0:
        return Measurement(math.nan, 0, None, found.samples, problem or "every row of this slice is bad")
    if source.aggregate in QUANTILES:
        # With fewer examples no distribution-free 95% bound on the quantile exists (p95 needs 59).
        need = min_n_for_quantile(QUANTILES[source.aggregate], 0.95)
        if found.n < need and problem is None:
            problem = (
                f"{source.aggregate} needs at least {need} examples for a distribution-free bound; "
                f"this slice has {found.n}"
            )
    return Measurement(found.value, found.n, found.stderr, found.samples, problem)
