"""How a table's rows fall into slices, and the totals of a metric's rows per slice.

A cut is one way of cutting the rows: `all`, one slice column, or the cross of two. Rates, means and sums are
weighted bincounts over one "cube" code per row, the cross of every slice column; each cut is a marginal of the
cube, so one pass per value column serves every cut (when the cross has more cells than the table has rows, each
cut counts on its own codes instead). A cut's rows come in slice order, once, by a stable counting sort of small
codes. `gatekit.sources.aggregate` measures each slice from these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.results import Samples
from gatekit.sources.columns import Decoded, decode_numbers, decode_slices
from gatekit.sources.table import FILTER_BAD, OK, Table
from gatekit.spec.model import AGGREGATE_SLICE, RowFilter, TableOptions

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.intp]
    RowArray = npt.NDArray[np.signedinteger[Any]]
    """Row numbers, int32 while they fit."""
    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]


# ------------------------------------------------------------------------------------------------ the cuts


@dataclass(frozen=True)
class Cut:
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
                return np.arange(n_rows, dtype=row_type(n_rows))
            return np.flatnonzero(valid).astype(row_type(n_rows), copy=False)
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
class Layout:
    n_rows: int
    cuts: list[Cut]
    shape: tuple[int, ...]
    """Per slice column, its label count plus one (the code of a row with no value)."""
    cube: _Source | None
    """Per row the cell of the cross of every slice column, when that cross is small enough."""
    _own: dict[int, _Source] = field(default_factory=dict)

    def source(self, cut: Cut) -> _Source:
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

    def reduce(self, cut: Cut, source: _Source, cells: FloatArray) -> tuple[FloatArray, float]:
        """Per-slice totals of the cut from totals per cell of the source, and the total of the rows that
        have no value in one of the cut's columns."""
        shape, others = self._axes(cut, source)
        marginal = cells.reshape(shape).sum(axis=others)
        inner = self._slices(cut, source, marginal)
        return inner, float(marginal.sum() - inner.sum())

    def spread(
        self, cut: Cut, source: _Source, squares: FloatArray, counts: FloatArray, sums: FloatArray
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

    def _axes(self, cut: Cut, source: _Source) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shape of the source's cells and the axes a cut sums over."""
        if source is self.cube:
            return self.shape, tuple(i for i in range(len(self.shape)) if i not in cut.axes)
        return (source.size,), (() if cut.codes is not None else (0,))

    def _slices(self, cut: Cut, source: _Source, marginal: FloatArray) -> FloatArray:
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


def table_layout(table: Table, options: TableOptions) -> Layout:
    import numpy as np

    n = table.data.num_rows
    names = list(dict.fromkeys([*options.slice_by, *(c for pair in options.slice_cross for c in pair)]))
    columns = [decode_slices(table, name) for name in names]
    # A row with no value has the code after the last label, so that it falls in a bin of its own.
    codes = [column.codes for column in columns]
    cuts = [Cut([AGGREGATE_SLICE], (), (), None, None)]
    for name in options.slice_by:
        i = names.index(name)
        labels = columns[i].labels
        cuts.append(Cut([f"{name}={v}" for v in labels], (name,), (i,), codes[i], _any(columns[i].missing)))
    for a_name, b_name in options.slice_cross:
        ia, ib = names.index(a_name), names.index(b_name)
        a, b = columns[ia], columns[ib]
        width = len(b.labels)
        missing = a.missing | b.missing
        crossed = np.where(missing, len(a.labels) * width, _wide(codes[ia]) * width + codes[ib])
        labels = [f"{a_name}={x},{b_name}={y}" for x in a.labels for y in b.labels]
        narrow = small_keys(crossed, len(labels))
        cuts.append(Cut(labels, (a_name, b_name), (ia, ib), narrow, _any(missing)))
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
    return Layout(n, cuts, shape, cube)


def _check_unique_names(cuts: list[Cut], source: str) -> None:
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
class Selection:
    keep: BoolArray
    bad: BoolArray


def filter_mask(table: Table, where: RowFilter) -> Selection:
    import numpy as np

    if isinstance(where.equals, str):
        column = decode_slices(table, where.column)
        index = column.labels.index(where.equals) if where.equals in column.labels else -1
        return Selection((column.codes == index) & ~column.missing, column.missing)
    role = "rate" if isinstance(where.equals, bool) else "number"
    decoded = decode_numbers(table, where.column, role=role)
    bad = decoded.bad()
    if bad is None:
        return Selection(decoded.values == float(where.equals), np.zeros(len(decoded.values), dtype=bool))
    return Selection((decoded.values == float(where.equals)) & ~bad, bad)


@dataclass(frozen=True)
class MetricRows:
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


def metric_rows(column: Decoded, selection: Selection | None, *, filter_key: RowFilter | None) -> MetricRows:
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
    return MetricRows(selected, bad, reasons, filter_key, valid)


# ------------------------------------------------------------------------------------------ binned totals


class Bins:
    """Totals per bin of a source (rows, bad rows, sums, centred squares), computed once and shared by
    every metric and cut that asks for the same thing."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], FloatArray] = {}

    def rows(self, source: _Source, rows: MetricRows) -> FloatArray:
        key = ("rows", id(source.codes), rows.filter_key)
        if key not in self._cache:
            self._cache[key] = _count(source, rows.selected)
        return self._cache[key]

    def bad(self, source: _Source, rows: MetricRows, column: int) -> FloatArray | None:
        if rows.bad is None:
            return None
        key = ("bad", id(source.codes), column, rows.filter_key)
        if key not in self._cache:
            self._cache[key] = _count(source, rows.bad)
        return self._cache[key]

    def sums(self, source: _Source, rows: MetricRows, column: Decoded) -> FloatArray:
        import numpy as np

        key = ("sums", id(source.codes), id(column), rows.filter_key)
        if key not in self._cache:

            def weights(chunk: FloatArray, valid: BoolArray | None, _codes: IntArray | None) -> FloatArray:
                return chunk if valid is None else np.where(valid, chunk, 0.0)

            self._cache[key] = _weighted_chunks(source, column, rows.valid, weights)
        return self._cache[key]

    def squares(
        self, source: _Source, rows: MetricRows, column: Decoded, counts: FloatArray, sums: FloatArray
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


@dataclass(frozen=True)
class Found:
    """What one slice's measurement is made of."""

    value: float
    n: int
    stderr: float | None = None
    samples: Samples | None = None


SliceFinder = Callable[[int], Found]
"""What one slice of a cut measures, by the slice's index."""


def _slice_order(cut: Cut, n_rows: int) -> tuple[RowArray, IntArray]:
    """The row indices of a cut with codes grouped by slice (row order kept within a slice; rows with no
    slice value left out), and where each slice starts."""
    import numpy as np

    assert cut.codes is not None
    size = len(cut.names)
    counts = np.bincount(cut.codes, minlength=size + 1)
    order = np.argsort(small_keys(cut.codes, size), kind="stable")[: n_rows - int(counts[size])]
    # Kept for every slice fetch of the cut: int32 row numbers (while they fit) halve what stays in memory.
    return order.astype(row_type(n_rows)), np.concatenate([[0], np.cumsum(counts[:size])])


def row_type(n_rows: int) -> type[np.signedinteger[Any]]:
    import numpy as np

    return np.int32 if n_rows < 2**31 else np.intp


def small_keys(codes: npt.NDArray[np.integer[Any]], largest: int) -> npt.NDArray[np.integer[Any]]:
    """Codes in the narrowest unsigned type: numpy's stable sort of 8- and 16-bit keys is a radix sort,
    one pass per byte."""
    import numpy as np

    if largest <= np.iinfo(np.uint8).max:
        return codes.astype(np.uint8, copy=False)
    if largest <= np.iinfo(np.uint16).max:
        return codes.astype(np.uint16, copy=False)
    return codes
