"""Quantile slices: each slice's sorted values, or only the run of ranks its bounds read.

A small slice is sorted whole: the sorted slice is both the quantile and the per-example values its bounds
need. A large one locates the run of ranks that its order-statistic bounds can read on a subsample of every
`_RUN_STRIDE`-th row, then selects only the rows inside that run's values; a run that misses a rank is caught
by counting and the slice is read whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatekit.results import Samples
from gatekit.sources.columns import Decoded
from gatekit.sources.cuts import Cut, Found, MetricRows, SliceFinder, small_keys
from gatekit.sources.example_ids import ExampleIds
from gatekit.sources.slice_rows import SliceRows, id_fields

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.intp]
    RowArray = npt.NDArray[np.signedinteger[Any]]
    """Row numbers, int32 while they fit."""
    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]


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


def _valid_codes(cut: Cut, valid: BoolArray | None) -> npt.NDArray[np.integer[Any]] | None:
    """Per row its slice, len(cut.names) for a row outside every slice (no slice value, or a bad cell); None
    when every row is in the one slice."""
    import numpy as np

    size = len(cut.names)
    if cut.codes is None:
        return None if valid is None else small_keys(np.where(valid, 0, 1), size)
    return cut.codes if valid is None else small_keys(np.where(valid, cut.codes, size), size)


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


def quantile_slices(  # noqa: PLR0917 - internal
    cuts: Sequence[Cut],
    counts: Sequence[FloatArray],
    rows: MetricRows,
    column: Decoded,
    ids: ExampleIds | None,
    q: float,
    reach: float,
) -> list[SliceFinder]:
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
    cut: Cut,
    rows: MetricRows,
    column: Decoded,
    ids: ExampleIds | None,
    q: float,
    sizes: IntArray,
    runs: _Runs,
) -> SliceFinder:
    import numpy as np

    from gatekit.stats import OrderStatistics, nearest_rank

    grouped = column.values[runs.rows]
    gather = SliceRows(cut, rows.valid, column, ids)

    def found(g: int) -> Found:
        n, below = int(sizes[g]), int(runs.below[g])
        start, stop = int(runs.starts[g]), int(runs.starts[g + 1])
        run = grouped[start:stop]
        whole = below == 0 and len(run) == n
        if whole and ids is not None:
            order = np.argsort(run, kind="stable")
            run, run_rows = run[order], runs.rows[start:stop][order]
            samples = Samples(run, is_sorted=True, **id_fields(ids, lambda: run_rows))
        else:
            # Ties may come in any order: equal values are interchangeable order statistics.
            run = np.sort(run)
            if whole:
                samples = Samples(run, is_sorted=True)
            else:
                samples = gather.samples(g, n, order_statistics=OrderStatistics(n, run, below))
        if n == 0:
            return Found(math.nan, 0, None, samples)
        return Found(float(run[nearest_rank(n, q) - 1 - below]), n, None, samples)

    return found
