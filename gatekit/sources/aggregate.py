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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results, Samples, SampleSummary
from gatekit.sources.example_ids import ExampleIds, IdSpace, UniqueIds
from gatekit.sources.rows import (
    FILTER_BAD,
    OK,
    QUANTILES,
    REASONS,
    Decoded,
    Table,
    check_columns,
    decode_numbers,
    decode_slices,
)
from gatekit.spec.model import AGGREGATE_SLICE, ColumnAggregate, RowFilter, Spec, TableOptions
from gatekit.stats import SMALLEST_ALPHA, min_n_for_quantile, no_spread

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from gatekit.stats import OrderStatistics

    IntArray = npt.NDArray[np.intp]
    RowArray = npt.NDArray[np.signedinteger[Any]]
    """Row numbers, int32 while they fit."""
    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]


def table_columns(spec: Spec, present: Iterable[str] | None = None) -> list[str]:
    """The columns a check reads from a table: slices, id, and each derived metric's column and filter."""
    options = spec.table
    wanted = [*options.slice_by, *(c for pair in options.slice_cross for c in pair)]
    for definition in spec.metrics.values():
        source = definition.from_
        if source is None:
            continue
        if source.column is not None:
            wanted.append(source.column)
        if source.where is not None:
            wanted.append(source.where.column)
    id_column = options.id_column
    if id_column is None and present is not None and "id" in present:
        id_column = "id"
    if id_column is not None:
        wanted.append(id_column)
    from gatekit.sources.repeats import extra_columns

    return list(dict.fromkeys([*wanted, *extra_columns(spec)]))


def derived_metrics(spec: Spec) -> dict[str, ColumnAggregate]:
    return {name: d.from_ for name, d in spec.metrics.items() if d.from_ is not None}


def table_results(
    table: Table,
    spec: Spec,
    *,
    model: str | None = None,
    extra: dict[str, dict[str, Measurement]] | None = None,
    notes: Sequence[str] = (),
    id_space: IdSpace | None = None,
) -> Results:
    """Every derived metric of the spec on every slice of the table. `id_space` codes the example ids as
    integers shared with the tables it is compared with (`gatekit.sources.example_ids`)."""
    from gatekit.sources.repeats import needs_per_example_step, per_example_results

    if needs_per_example_step(spec):  # repeats reduced to one row per example first; see repeats.py
        return per_example_results(table, spec, model=model, extra=extra, notes=tuple(notes), id_space=id_space)
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
    layout = _layout(table, options)
    reach = _deepest_confidence(spec)
    bins = _Bins()
    decoded: dict[tuple[str, str], Decoded] = {}
    filters: dict[RowFilter, _Selection] = {}
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
                filters[source.where] = _filter_mask(table, source.where)
            selection = filters[source.where]
        rows = _metric_rows(column, selection, filter_key=source.where)
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


def _deepest_confidence(spec: Spec) -> float:
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


# ------------------------------------------------------------------------------------------------ the cuts


@dataclass(frozen=True)
class _Cut:
    """One way of cutting the rows into slices: `all`, one slice column, or the cross of two."""

    names: list[str]
    columns: tuple[str, ...]
    axes: tuple[int, ...]
    """The slice columns it is made of, as positions in the layout's dimensions."""
    codes: npt.NDArray[np.integer[Any]] | None
    """Per row, the index of its slice; len(names) where a row has no value in one of the columns (in the
    narrowest unsigned type that holds it). None for `all`."""
    absent: BoolArray | None
    """Rows with no value in one of the columns, or None when every row has one."""
    _order: list[tuple[RowArray, IntArray]] = field(default_factory=list, repr=False, compare=False)
    """The cut's rows in slice order and where each slice starts, once put in that order."""

    def rows(self, g: int, valid: BoolArray | None, n_rows: int) -> RowArray:
        """Slice g's rows among the `valid` ones (None: all of them), in row order.

        The cut's rows are put in slice order once, on first use, for every metric: each picks its valid
        rows from its slices' when it fetches them. One order per cut and metric, kept for the whole
        check, was most of a paired check's memory (5M-row paired-cross: 21 orders of 20 MB a table)."""
        import numpy as np

        if self.codes is None:
            if valid is None:
                return np.arange(n_rows, dtype=_row_type(n_rows))
            return np.flatnonzero(valid).astype(_row_type(n_rows), copy=False)
        if not self._order:
            self._order.append(_slice_order(self, n_rows))
        order, offsets = self._order[0]
        rows = order[offsets[g] : offsets[g + 1]]
        return rows if valid is None else rows[valid[rows]]


@dataclass(frozen=True)
class _Source:
    """Codes that bincounts run over: the cube, one cut's own codes, or none (every row in bin 0)."""

    codes: IntArray | None
    size: int
    n_rows: int


def _wide(codes: npt.NDArray[np.integer[Any]]) -> IntArray:
    import numpy as np

    return codes.astype(np.intp, copy=False)  # what bincount counts with; narrower codes it would copy per call


@dataclass(frozen=True)
class _Layout:
    n_rows: int
    cuts: list[_Cut]
    shape: tuple[int, ...]
    """Per slice column, its label count plus one (the code of a row with no value)."""
    cube: _Source | None
    """Per row the cell of the cross of every slice column, when that cross is small enough."""
    _own: dict[int, _Source] = field(default_factory=dict)

    def source(self, cut: _Cut) -> _Source:
        if self.cube is not None:
            return self.cube
        if cut.codes is None:
            # `all` is the total of any cut, its rows without a value included.
            cut = next((c for c in self.cuts if c.codes is not None), cut)
        if cut.codes is None:
            return _Source(None, 1, self.n_rows)
        key = id(cut)
        if key not in self._own:
            self._own[key] = _Source(_wide(cut.codes), len(cut.names) + 1, self.n_rows)
        return self._own[key]

    def reduce(self, cut: _Cut, source: _Source, cells: FloatArray) -> tuple[FloatArray, float]:
        """Per-slice totals of the cut from totals per cell of the source, and the total of the rows that
        have no value in one of the cut's columns."""
        shape, others = self._axes(cut, source)
        marginal = cells.reshape(shape).sum(axis=others)
        inner = self._slices(cut, source, marginal)
        return inner, float(marginal.sum() - inner.sum())

    def spread(
        self, cut: _Cut, source: _Source, squares: FloatArray, counts: FloatArray, sums: FloatArray
    ) -> FloatArray:
        """Per-slice sums of squared deviations from the slice's mean, from per-cell ones (each centred on its
        own cell's mean): within-cell plus n_cell * (mean_cell - mean_slice)^2, so that no large offset is
        ever subtracted from another (Chan, Golub and LeVeque's pairwise update)."""
        import numpy as np

        shape, others = self._axes(cut, source)
        squares, counts, sums = squares.reshape(shape), counts.reshape(shape), sums.reshape(shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            slice_mean = sums.sum(axis=others, keepdims=True) / counts.sum(axis=others, keepdims=True)
            between = np.where(counts > 0, counts * (sums / counts - slice_mean) ** 2, 0.0)
        return self._slices(cut, source, (squares + between).sum(axis=others))

    def _axes(self, cut: _Cut, source: _Source) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shape of the source's cells and the axes a cut sums over."""
        if source is self.cube:
            return self.shape, tuple(i for i in range(len(self.shape)) if i not in cut.axes)
        return (source.size,), (() if cut.codes is not None else (0,))

    def _slices(self, cut: _Cut, source: _Source, marginal: FloatArray) -> FloatArray:
        """The cut's slices, in label order, from its marginal (rows without a value left out)."""
        import numpy as np

        if cut.codes is None:
            return np.reshape(marginal, (1,))
        if source is not self.cube:
            return marginal[:-1]
        kept = sorted(cut.axes)
        if list(cut.axes) != kept:
            marginal = np.transpose(marginal, [kept.index(a) for a in cut.axes])
        return marginal[tuple(slice(0, -1) for _ in cut.axes)].ravel()


_CUBE_MAX_CELLS = 1 << 22


def _layout(table: Table, options: TableOptions) -> _Layout:
    import numpy as np

    n = table.data.num_rows
    names = list(dict.fromkeys([*options.slice_by, *(c for pair in options.slice_cross for c in pair)]))
    columns = [decode_slices(table, name) for name in names]
    # A row with no value has the code after the last label, so that it falls in a bin of its own.
    codes = [column.codes for column in columns]
    cuts = [_Cut([AGGREGATE_SLICE], (), (), None, None)]
    for name in options.slice_by:
        i = names.index(name)
        labels = columns[i].labels
        cuts.append(_Cut([f"{name}={v}" for v in labels], (name,), (i,), codes[i], _any(columns[i].missing)))
    for a_name, b_name in options.slice_cross:
        ia, ib = names.index(a_name), names.index(b_name)
        a, b = columns[ia], columns[ib]
        width = len(b.labels)
        missing = a.missing | b.missing
        crossed = np.where(missing, len(a.labels) * width, _wide(codes[ia]) * width + codes[ib])
        labels = [f"{a_name}={x},{b_name}={y}" for x in a.labels for y in b.labels]
        narrow = _small_keys(crossed, len(labels))
        cuts.append(_Cut(labels, (a_name, b_name), (ia, ib), narrow, _any(missing)))
    _check_unique_names(cuts, table.source)
    shape = tuple(len(column.labels) + 1 for column in columns)
    cells = math.prod(shape)
    cube = None
    if columns and cells <= min(_CUBE_MAX_CELLS, max(n, 4096)):
        fine = codes[0].astype(np.intp)
        for size, coded in zip(shape[1:], codes[1:], strict=True):
            fine *= size
            fine += coded
        cube = _Source(fine, cells, n)
    return _Layout(n, cuts, shape, cube)


def _check_unique_names(cuts: list[_Cut], source: str) -> None:
    """Two slices with one name would overwrite each other (a value `x,b=y` of `a` reads like a cross)."""
    seen: dict[str, tuple[str, ...]] = {}
    for cut in cuts:
        for name in cut.names:
            if name in seen:
                raise ResultsError.at(
                    f"slice name {name!r} comes from both {' x '.join(seen[name])} and {' x '.join(cut.columns)}; "
                    "rename the slice values so that every slice has its own name",
                    source,
                )
            seen[name] = cut.columns or (AGGREGATE_SLICE,)


def _any(mask: BoolArray) -> BoolArray | None:
    return mask if mask.any() else None


# ------------------------------------------------------------------------------------------- metric rows


@dataclass(frozen=True)
class _Selection:
    keep: BoolArray
    bad: BoolArray


def _filter_mask(table: Table, where: RowFilter) -> _Selection:
    import numpy as np

    if isinstance(where.equals, str):
        column = decode_slices(table, where.column)
        index = column.labels.index(where.equals) if where.equals in column.labels else -1
        return _Selection((column.codes == index) & ~column.missing, column.missing)
    role = "rate" if isinstance(where.equals, bool) else "number"
    decoded = decode_numbers(table, where.column, role=role)
    bad = decoded.bad()
    if bad is None:
        return _Selection(decoded.values == float(where.equals), np.zeros(len(decoded.values), dtype=bool))
    return _Selection((decoded.values == float(where.equals)) & ~bad, bad)


@dataclass(frozen=True)
class _MetricRows:
    """The rows a metric is computed from and which of them are bad. None means "every row" / "none"."""

    selected: BoolArray | None
    """Rows in the metric's filter (`where`), a row with a bad filter value included."""
    bad: BoolArray | None
    """Selected rows with a bad cell in the column or in the filter column."""
    reasons: npt.NDArray[np.int8] | None
    """Why each bad row is bad (a code of `REASONS`), when some row is."""
    filter_key: RowFilter | None = None
    valid: BoolArray | None = field(default=None)
    """Selected rows without a bad cell: the rows the values come from."""


def _metric_rows(column: Decoded, selection: _Selection | None, *, filter_key: RowFilter | None) -> _MetricRows:
    import numpy as np

    reasons = column.reasons
    selected = None
    if selection is not None:
        selected = selection.keep | selection.bad
        if selection.bad.any():
            base = reasons if reasons is not None else np.zeros(len(selected), dtype=np.int8)
            reasons = np.where(selection.bad & (base == OK), np.int8(FILTER_BAD), base).astype(np.int8)
    bad = None
    if reasons is not None:
        bad = reasons != OK
        if selected is not None:
            bad &= selected
        if not bad.any():
            bad, reasons = None, None
    valid = selected if bad is None else (~bad if selected is None else selected & ~bad)
    return _MetricRows(selected, bad, reasons, filter_key, valid)


# ------------------------------------------------------------------------------------------ binned totals


class _Bins:
    """Totals per bin of a source (rows, bad rows, sums, centred squares), computed once and shared by
    every metric and cut that asks for the same thing."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], FloatArray] = {}

    def rows(self, source: _Source, rows: _MetricRows) -> FloatArray:
        key = ("rows", id(source.codes), rows.filter_key)
        if key not in self._cache:
            self._cache[key] = _count(source, rows.selected)
        return self._cache[key]

    def bad(self, source: _Source, rows: _MetricRows, column: int) -> FloatArray | None:
        if rows.bad is None:
            return None
        key = ("bad", id(source.codes), column, rows.filter_key)
        if key not in self._cache:
            self._cache[key] = _count(source, rows.bad)
        return self._cache[key]

    def sums(self, source: _Source, rows: _MetricRows, column: Decoded) -> FloatArray:
        import numpy as np

        key = ("sums", id(source.codes), id(column), rows.filter_key)
        if key not in self._cache:

            def weights(chunk: FloatArray, valid: BoolArray | None, _codes: IntArray | None) -> FloatArray:
                return chunk if valid is None else np.where(valid, chunk, 0.0)

            self._cache[key] = _weighted_chunks(source, column, rows.valid, weights)
        return self._cache[key]

    def squares(
        self, source: _Source, rows: _MetricRows, column: Decoded, counts: FloatArray, sums: FloatArray
    ) -> FloatArray:
        """Sums of squared deviations of the valid values from their own cell's mean, per cell (`counts` and
        `sums` are the cells' valid rows and their sum).

        First from raw moments, sum(x^2) - sum(x)^2 / n: one pass without a per-row lookup of the cell's
        mean. That subtraction loses digits when a cell's values sit far from 0 compared with their spread,
        so it is kept only when every cell's result is at least 1e9 times its worst-case rounding error
        (3n + 2 units in the last place of sum(x^2)). Otherwise, a cell of equal values among them, each
        value is taken from its own cell's mean, which keeps the full precision."""
        import numpy as np

        key = ("squares", id(source.codes), id(column), rows.filter_key)
        if key in self._cache:
            return self._cache[key]

        def raw(chunk: FloatArray, valid: BoolArray | None, _codes: IntArray | None) -> FloatArray:
            squared = chunk * chunk
            return squared if valid is None else np.where(valid, squared, 0.0)

        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            second = _weighted_chunks(source, column, rows.valid, raw)
            many = counts > 1
            spread = np.where(many, second - sums * sums / np.maximum(counts, 1.0), 0.0)
            rounding = (3 * counts + 2) * np.finfo(np.float64).eps * second
            trusted = bool(np.all(~many | (np.isfinite(spread) & (spread >= _RAW_MOMENTS_MARGIN * rounding))))
        if not trusted:
            cell_means = np.where(counts > 0, sums / np.maximum(counts, 1.0), 0.0)

            def centred(chunk: FloatArray, valid: BoolArray | None, codes: IntArray | None) -> FloatArray:
                deviations = chunk - (cell_means[codes] if codes is not None else cell_means[0])
                if valid is not None:
                    deviations[~valid] = 0.0
                deviations *= deviations
                return deviations

            spread = _weighted_chunks(source, column, rows.valid, centred)
        self._cache[key] = spread
        return spread


_RAW_MOMENTS_MARGIN = 1e9
"""How far above its worst-case rounding error a variance from raw moments must be to be used: the error is
then at most 1e-9 of it."""


def _count(source: _Source, mask: BoolArray | None) -> FloatArray:
    import numpy as np

    if source.codes is None:
        return np.array([float(source.n_rows if mask is None else np.count_nonzero(mask))])
    codes = source.codes if mask is None else source.codes[mask]
    return np.bincount(codes, minlength=source.size).astype(np.float64)


def _weighted_chunks(
    source: _Source,
    column: Decoded,
    valid: BoolArray | None,
    weights: Callable[[FloatArray, BoolArray | None, IntArray | None], FloatArray],
) -> FloatArray:
    """Totals per bin of `weights(block, its valid rows, its codes)`, a block of at most `_BLOCK_ROWS` rows
    at a time: the temporaries stay the size of a block and the column itself is never copied."""
    start = 0
    total: FloatArray | None = None
    for chunk in column.chunks:
        for offset in range(0, len(chunk), _BLOCK_ROWS) or [0]:
            block = chunk[offset : offset + _BLOCK_ROWS]
            stop = start + len(block)
            codes = None if source.codes is None else source.codes[start:stop]
            found = _weighted(
                _Source(codes, source.size, len(block)),
                weights(block, None if valid is None else valid[start:stop], codes),
            )
            if total is None:
                total = found
            else:
                total += found
            start = stop
    assert total is not None
    return total


_BLOCK_ROWS = 1 << 20
"""Rows per block of a weighted total: the working set between the weights being computed and counted is a
block's (16 MiB of codes and weights, not a whole column's), and its temporaries reuse the same memory
instead of faulting in a column-sized array each (20 ms less per 5M-row file of `bench/` than whole columns)."""


def _weighted(source: _Source, weights: FloatArray) -> FloatArray:
    import numpy as np

    if source.codes is None:
        return np.array([float(weights.sum())])
    totals: FloatArray = np.bincount(source.codes, weights=weights, minlength=source.size).astype(
        np.float64, copy=False
    )
    return totals


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
    rows: _MetricRows,
    ids: ExampleIds | None,
    layout: _Layout,
    bins: _Bins,
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
        _quantile_slices(
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
            out[label] = _measurement(source, found(g), problem)
            measured = True
        if absent_problem is not None and not measured:
            # Every row of this metric lacks the cut's value: its slices would vanish and `"*"` shrink to `all`.
            out[_no_slices_name(cut)] = Measurement(
                math.nan, 0, problem=f"{absent_problem}: no slice of {names} can be measured"
            )
    return out


def _no_slices_name(cut: _Cut) -> str:
    """The slice that stands, as missing, for a cut none of whose slices a metric's rows reach: `task=*`."""
    return ",".join(f"{column}=*" for column in cut.columns)


def _cut_rows(layout: _Layout, bins: _Bins, cut: _Cut, rows: _MetricRows, *, column_key: int) -> _CutRows:
    source = layout.source(cut)
    per_slice, absent = layout.reduce(cut, source, bins.rows(source, rows))
    bad_cells = bins.bad(source, rows, column_key)
    bad = layout.reduce(cut, source, bad_cells)[0] if bad_cells is not None else None
    valid = per_slice if bad is None else per_slice - bad
    return _CutRows(per_slice, bad, valid, round(absent))


@dataclass(frozen=True)
class _Found:
    """What one slice's measurement is made of."""

    value: float
    n: int
    stderr: float | None = None
    samples: Samples | None = None


_SliceFinder = Callable[[int], _Found]
"""What one slice of a cut measures, by the slice's index."""


def _summed_slices(  # noqa: PLR0917 - internal
    layout: _Layout,
    bins: _Bins,
    cut: _Cut,
    source: ColumnAggregate,
    rows: _MetricRows,
    column: Decoded,
    ids: ExampleIds | None,
    counts: FloatArray,
) -> _SliceFinder:
    """Rate, mean, sum or count of each slice of the cut, from binned totals."""
    import numpy as np

    aggregate = source.aggregate
    if aggregate == "count":
        return lambda g: _Found(float(counts[g]), int(counts[g]))
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
    gather = _SliceRows(cut, rows.valid, column, ids)

    def found(g: int) -> _Found:
        size = int(counts[g])
        var = float(variance[g]) if size > 1 else math.nan
        if aggregate == "sum":
            # The sum's standard error is n times the mean's: sqrt(n) * SD. No per-example values: an
            # interval on a sum is a t interval on that stderr, never one on the mean.
            stderr = math.sqrt(size * var) if math.isfinite(var) else math.nan
            # One example, or examples that all agree, estimate no spread: unbounded, never a point.
            if not math.isfinite(stderr) or no_spread(stderr, float(totals[g])):
                stderr = math.inf
            return _Found(float(totals[g]), size, stderr)
        mean = float(totals[g]) / size if size else math.nan
        se = math.sqrt(var / size) if math.isfinite(var) else None
        events = float(totals[g]) if aggregate == "rate" else None
        summary = SampleSummary(mean, se if se is not None else math.inf, events)
        return _Found(mean, size, se, gather.samples(g, size, summary=summary))

    return found


class _SliceRows:
    """A cut's valid rows slice by slice (see `_Cut.rows`; only paired comparisons and small-sample
    bootstraps ever ask for them)."""

    def __init__(self, cut: _Cut, valid: BoolArray | None, column: Decoded, ids: ExampleIds | None) -> None:
        self._cut, self._valid, self._column, self._ids = cut, valid, column, ids

    def rows(self, g: int) -> RowArray:
        return self._cut.rows(g, self._valid, len(self._column))

    def samples(
        self, g: int, n: int, *, summary: SampleSummary | None = None, order_statistics: OrderStatistics | None = None
    ) -> Samples:
        """Slice g's values, fetched on first use, with its ids and their codes (each fetched on its own)."""
        return Samples(
            fetch=lambda: (self._column.values[self.rows(g)], None),
            n=n,
            summary=summary,
            order_statistics=order_statistics,
            **_id_fields(self._ids, lambda: self.rows(g)),
        )


def _id_fields(ids: ExampleIds | None, rows: Callable[[], RowArray]) -> dict[str, Any]:
    """The `ids` and `keys` of a slice's Samples whose rows `rows` gives: each fetched when first asked for."""
    if ids is None:
        return {}
    return {"ids": lambda: ids.values()[rows()], "keys": lambda: ids.keys(rows())}


def _slice_order(cut: _Cut, n_rows: int) -> tuple[RowArray, IntArray]:
    """The row indices of a cut with codes grouped by slice (row order kept within a slice; rows with no
    slice value left out), and where each slice starts."""
    import numpy as np

    assert cut.codes is not None
    size = len(cut.names)
    counts = np.bincount(cut.codes, minlength=size + 1)
    order = np.argsort(_small_keys(cut.codes, size), kind="stable")[: n_rows - int(counts[size])]
    # Kept for every slice fetch of the cut: int32 row numbers (while they fit) halve what stays in memory.
    return order.astype(_row_type(n_rows)), np.concatenate([[0], np.cumsum(counts[:size])])


def _row_type(n_rows: int) -> type[np.signedinteger[Any]]:
    import numpy as np

    return np.int32 if n_rows < 2**31 else np.intp


def _small_keys(codes: npt.NDArray[np.integer[Any]], largest: int) -> npt.NDArray[np.integer[Any]]:
    """Codes in the narrowest unsigned type: numpy's stable sort of 8- and 16-bit keys is a radix sort,
    one pass per byte."""
    import numpy as np

    if largest <= np.iinfo(np.uint8).max:
        return codes.astype(np.uint8, copy=False)
    if largest <= np.iinfo(np.uint16).max:
        return codes.astype(np.uint16, copy=False)
    return codes


_RUN_STRIDE = 16
"""A large quantile slice's run of ranks is located on every 16th row first, then read off the whole slice."""
_RUN_MARGIN_SD = 4.0
"""How many binomial standard deviations of slack the located run gets on each side. A run that still misses
a rank its bounds need is caught by counting and the slice is read whole: the slack buys speed, not safety."""


class _Subsample:
    """Every `_RUN_STRIDE`-th row of a quantile column, sorted by value once and shared by the column's cuts."""

    def __init__(self, values: FloatArray) -> None:
        self._values = values[::_RUN_STRIDE]
        self._sorted: tuple[IntArray, FloatArray] | None = None

    def thresholds(
        self, codes: npt.NDArray[np.integer[Any]] | None, sizes: IntArray, first: IntArray, last: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """Per slice, value bounds (lo, hi) that very likely enclose the first-th to the last-th smallest
        values of the slice (of `sizes` rows): -inf/+inf where the whole slice is wanted. One more entry, for
        rows outside every slice, encloses nothing."""
        import numpy as np

        if self._sorted is None:
            order = np.argsort(self._values)
            self._sorted = order, self._values[order]
        order, by_value = self._sorted
        size = len(sizes)
        if codes is None:
            in_sample = np.array([len(by_value), 0])
        else:
            sample_codes = codes[::_RUN_STRIDE][order]
            regroup = np.argsort(sample_codes, kind="stable")  # narrow codes: a radix sort
            by_value = by_value[regroup]
            in_sample = np.bincount(sample_codes, minlength=size + 1)
        starts = np.concatenate([[0], np.cumsum(in_sample)])[:size]
        n, m = sizes.astype(np.float64), in_sample[:size].astype(np.float64)
        # The value at rank j of the m sampled rows sits near rank j * n / m of the slice.
        j_lo = _sample_rank(first - 1, n, m, -1)
        j_hi = _sample_rank(last, n, m, +1)
        # Indices outside a slice's sample are clipped to stay in the array; np.where then discards them.
        sampled = by_value if len(by_value) else np.zeros(1)
        top = len(sampled) - 1
        lo = np.where(j_lo >= 1, sampled[np.clip(starts + j_lo - 1, 0, top)], -math.inf)
        hi = np.where(j_hi <= m, sampled[np.clip(starts + j_hi - 1, 0, top)], math.inf)
        whole = (m == 0) | ((first <= 1) & (last >= sizes))
        lo[whole], hi[whole] = -math.inf, math.inf
        empty = sizes == 0  # encloses nothing, like the entry for rows outside every slice
        lo[empty], hi[empty] = math.inf, -math.inf
        return np.append(lo, math.inf), np.append(hi, -math.inf)


def _sample_rank(rank: IntArray, n: FloatArray, m: FloatArray, side: int) -> IntArray:
    """Per slice, the rank among its m sampled rows to use for rank `rank` among its n, pushed out by the
    margin on `side` (meaningless where m or n is 0: those slices are read whole or skipped)."""
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        p = rank / n
        j = np.floor(rank * m / n + side * (_RUN_MARGIN_SD * np.sqrt(m * p * (1 - p)) + 2))
    return np.where(np.isfinite(j), j, 0).astype(np.intp)


@dataclass(frozen=True)
class _Runs:
    """Per slice of a cut, a run of consecutive order statistics: its rows grouped by slice (`starts`), in
    no particular order within a slice, and how many of the slice's rows sort below it."""

    rows: IntArray
    starts: IntArray
    below: IntArray


def _runs(  # noqa: PLR0917 - internal
    values: FloatArray,
    codes: npt.NDArray[np.integer[Any]] | None,
    sizes: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    among: IntArray | None = None,
) -> _Runs:
    """The rows with lo <= value <= hi of their slice, grouped by slice. `among`, when given, holds
    every row that is at or above its slice's lo (a superset found once for all cuts); else the whole column
    is scanned."""
    import numpy as np

    size = len(sizes)
    looked = values if among is None else values[among]
    in_slice: npt.NDArray[np.integer[Any]]
    if codes is None:
        at_or_above = np.flatnonzero(looked >= lo[0])
        in_slice = np.zeros(len(at_or_above), dtype=np.uint8)
    else:
        looked_codes = codes if among is None else codes[among]
        at_or_above = np.flatnonzero(looked >= lo[looked_codes])
        in_slice = looked_codes[at_or_above]
    above = at_or_above if among is None else among[at_or_above]
    at_least = np.bincount(in_slice, minlength=size + 1)[:size]
    keep = values[above] <= hi[in_slice]
    kept, kept_codes = above[keep], in_slice[keep]
    order = np.argsort(kept_codes, kind="stable")  # narrow codes: a radix sort
    counts = np.bincount(kept_codes, minlength=size + 1)[:size]
    return _Runs(kept[order], np.concatenate([[0], np.cumsum(counts)]), sizes - at_least)


def _valid_codes(cut: _Cut, valid: BoolArray | None) -> npt.NDArray[np.integer[Any]] | None:
    """Per row its slice, len(cut.names) for a row outside every slice (no slice value, or a bad cell); None
    when every row is in the one slice."""
    import numpy as np

    size = len(cut.names)
    if cut.codes is None:
        return None if valid is None else _small_keys(np.where(valid, 0, 1), size)
    return cut.codes if valid is None else _small_keys(np.where(valid, cut.codes, size), size)


@dataclass
class _RunPlan:
    """One cut of a quantile metric: its slice codes and sizes, the ranks each slice keeps and the value
    bounds that should enclose them."""

    codes: npt.NDArray[np.integer[Any]] | None
    sizes: IntArray
    first: IntArray
    last: IntArray
    lo: FloatArray
    hi: FloatArray

    def missed(self, runs: _Runs) -> BoolArray:
        """Slices whose run does not hold every rank from first to last."""
        import numpy as np

        return (runs.below >= self.first) | (runs.below + np.diff(runs.starts) < self.last)


def _quantile_slices(  # noqa: PLR0917 - internal
    cuts: Sequence[_Cut],
    counts: Sequence[FloatArray],
    rows: _MetricRows,
    column: Decoded,
    ids: ExampleIds | None,
    q: float,
    reach: float,
) -> list[_SliceFinder]:
    """Per cut, each slice's q-quantile (nearest rank) and the order statistics its bounds read.

    A slice of up to `BOOTSTRAP_MAX_N` rows keeps all its values, sorted (the bootstrap and pairing need
    them). A larger one keeps only the run of ranks that its point estimate and its bounds at any confidence
    up to `reach` can read (about +-7 standard deviations of the binomial around rank q * n): no cut is ever
    put in slice order and sorted whole, and its full values are fetched only on demand. The runs are
    located on a subsample, then every cut whose slices are all large reads them from one set of rows, those
    at or above the lowest of their lower bounds (for a p95, little more than the top few percent).
    """
    import numpy as np

    from gatekit.stats import BOOTSTRAP_MAX_N, quantile_rank_span

    values = column.values
    subsample = _Subsample(values)
    plans = []
    for cut, valid_counts in zip(cuts, counts, strict=True):
        sizes = valid_counts.astype(np.intp)
        spans = [quantile_rank_span(int(n), q, reach) if n > BOOTSTRAP_MAX_N else (1, int(n)) for n in sizes]
        first = np.array([a for a, _ in spans], dtype=np.intp)
        last = np.array([b for _, b in spans], dtype=np.intp)
        codes = _valid_codes(cut, rows.valid)
        plans.append(_RunPlan(codes, sizes, first, last, *subsample.thresholds(codes, sizes, first, last)))
    # A cut with a slice read whole (lo = -inf) scans the column on its own; the others share one scan.
    lowest = [float(plan.lo[:-1].min(initial=math.inf)) for plan in plans]
    floor = min((low for low in lowest if low > -math.inf), default=-math.inf)
    among = np.flatnonzero(values >= floor) if floor > -math.inf else None
    finders = []
    for cut, plan, low in zip(cuts, plans, lowest, strict=True):
        shared = among if low > -math.inf else None
        runs = _runs(values, plan.codes, plan.sizes, plan.lo, plan.hi, shared)
        missed = plan.missed(runs)
        if missed.any():
            # The sample misled on these slices (values in a pattern with the stride, say): read them whole.
            plan.lo[:-1][missed], plan.hi[:-1][missed] = -math.inf, math.inf
            runs = _runs(values, plan.codes, plan.sizes, plan.lo, plan.hi)
            assert not plan.missed(runs).any()
        finders.append(_run_finder(cut, rows, column, ids, q, plan.sizes, runs))
    return finders


def _run_finder(  # noqa: PLR0917 - internal
    cut: _Cut,
    rows: _MetricRows,
    column: Decoded,
    ids: ExampleIds | None,
    q: float,
    sizes: IntArray,
    runs: _Runs,
) -> _SliceFinder:
    import numpy as np

    from gatekit.stats import OrderStatistics, nearest_rank

    grouped = column.values[runs.rows]
    gather = _SliceRows(cut, rows.valid, column, ids)

    def found(g: int) -> _Found:
        n, below = int(sizes[g]), int(runs.below[g])
        start, stop = int(runs.starts[g]), int(runs.starts[g + 1])
        run = grouped[start:stop]
        whole = below == 0 and len(run) == n
        if whole and ids is not None:
            order = np.argsort(run, kind="stable")
            run, run_rows = run[order], runs.rows[start:stop][order]
            samples = Samples(run, is_sorted=True, **_id_fields(ids, lambda: run_rows))
        else:
            # Ties may come in any order: equal values are interchangeable order statistics.
            run = np.sort(run)
            if whole:
                samples = Samples(run, is_sorted=True)
            else:
                samples = gather.samples(g, n, order_statistics=OrderStatistics(n, run, below))
        if n == 0:
            return _Found(math.nan, 0, None, samples)
        return _Found(float(run[nearest_rank(n, q) - 1 - below]), n, None, samples)

    return found


def _measurement(source: ColumnAggregate, found: _Found, problem: str | None) -> Measurement:
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
