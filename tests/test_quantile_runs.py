"""A large quantile slice keeps only a run of its order statistics, and nothing downstream may tell.

Above `stats.BOOTSTRAP_MAX_N` valid rows, a slice of a p50/p90/p95/p99 metric keeps only the consecutive order
statistics that its point estimate and its bounds can read: located on every 16th row, checked by counting,
and read whole where the sample misled. Each test holds run-backed slices to a plain sort of the slice's rows:
the quantile, its bounds at every confidence a decision reads, the bounds on a change, the per-example values,
and the verdict of a gate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

import gatekit.sources.columns
import gatekit.sources.cuts
import gatekit.sources.quantile_runs
import gatekit.stats
from gatekit import stats
from gatekit.api import check
from gatekit.results import Measurement, Results
from gatekit.sources.measure import table_results
from gatekit.sources.table import QUANTILES, Table
from gatekit.spec.model import Spec
from gatekit.stats import OrderStatistics
from tests.factories import PINNED, spec

FloatArray = npt.NDArray[np.float64]
Labels = npt.NDArray[np.object_]
Expected = Mapping[str, tuple[FloatArray, "Labels | None"]]
"""Per slice, its valid values and their ids, in row order."""

LEVELS = ("p50", "p95", "p99")
LARGE = stats.BOOTSTRAP_MAX_N
"""Slices above this many valid rows keep a run; up to it, every value."""
SINGLE_ARM = (0.5, 0.9, 0.95, 0.999, 1 - 1e-9, 1 - stats.SMALLEST_ALPHA, 1 - stats.SMALLEST_ALPHA / 2)
"""Confidences one arm's bound is read at, up to the deepest a decision reads (each arm of a change at the
smallest alpha the p-value search tries)."""
CHANGE = (0.5, 0.9, 0.95, 0.999, 1 - 1e-9, 1 - stats.SMALLEST_ALPHA)
"""Confidences a change is read at; each arm is then read at 1 - alpha/2."""


# --- tables and their reference --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """A per-example table kept as numpy columns, so that each slice's values can be found by a plain mask.

    `latency` NaN or -inf is a bad cell; a `timed_out` row has an empty latency cell (a request that never
    finished: +inf). Slice columns hold None for a row with no value."""

    latency: FloatArray
    slices: Mapping[str, Labels] = field(default_factory=dict)
    timed_out: npt.NDArray[np.bool_] | None = None
    kind: Labels | None = None
    ids: Labels | None = None
    integers: bool = False
    """Write the latencies as an int64 column."""
    chunk_rows: int | None = None
    """Write the table in chunks of this many rows."""

    def table(self) -> Table:
        columns = {name: pa.array(list(v), type=pa.string()) for name, v in self.slices.items()}
        latency = self.latency.astype(np.int64) if self.integers else self.latency
        columns["latency"] = pa.array(latency, mask=self.timed_out)
        if self.kind is not None:
            columns["kind"] = pa.array(list(self.kind), type=pa.string())
        if self.ids is not None:
            columns["id"] = pa.array(list(self.ids), type=pa.string())
        data = pa.table(columns)
        if self.chunk_rows is not None:
            data = pa.Table.from_batches(data.to_batches(max_chunksize=self.chunk_rows))
        return Table("rows.parquet", data, first_line=0)

    def values(self) -> FloatArray:
        """Latencies as gatekit reads them: an empty cell is +inf."""
        return self.latency if self.timed_out is None else np.where(self.timed_out, math.inf, self.latency)

    def expected(self, slice_by: list[str], cross: list[list[str]], where: str | None = None) -> Expected:
        """Every slice that has a row of the metric (`kind` == where, when given), with its valid rows."""
        values = self.values()
        chosen = np.ones(len(values), dtype=bool) if where is None else self.kind == where
        valid = chosen & ~np.isnan(values) & (values != -math.inf)
        masks: dict[str, npt.NDArray[np.bool_]] = {"all": np.ones(len(values), dtype=bool)}
        labels = {column: sorted({v for v in self.slices[column] if v is not None}) for column in self.slices}
        for column in slice_by:
            masks.update({f"{column}={x}": self.slices[column] == x for x in labels[column]})
        for a, b in cross:
            for x in labels[a]:
                masks.update({f"{a}={x},{b}={y}": (self.slices[a] == x) & (self.slices[b] == y) for y in labels[b]})
        return {
            label: (values[mask & valid], None if self.ids is None else self.ids[mask & valid])
            for label, mask in masks.items()
            if (mask & chosen).any()
        }


def quantile_spec(where: str | None = None, **table: Any) -> Spec:
    """A spec that measures p50, p95 and p99 of `latency` (of the rows whose `kind` is `where`, when given)."""
    source: dict[str, Any] = {"column": "latency"}
    if where is not None:
        source["where"] = {"column": "kind", "equals": where}
    metrics = {level: {"from": {**source, "aggregate": level}} for level in LEVELS}
    return spec({"id": "g", "metric": "p95", "max": 1.0}, metrics=metrics, table=table)


def labels_of(values: Iterable[str | None]) -> Labels:
    return np.array(list(values), dtype=object)


def measure(rows: Rows, spec_: Spec) -> Results:
    return table_results(rows.table(), spec_)


def run_of(measured: Measurement) -> OrderStatistics:
    assert measured.samples is not None
    return measured.samples.order_statistics()


def is_partial(measured: Measurement) -> bool:
    ranked = run_of(measured)
    return ranked.offset > 0 or len(ranked.values) < ranked.n


def assert_exact(results: Results, expected: Expected) -> None:
    """Every slice of every quantile metric: its count, its quantile and its bounds at every confidence a
    decision reads are those of a plain sort of the slice's valid rows."""
    for level in LEVELS:
        q = QUANTILES[level]
        measured = dict(results.metrics[level])
        # A cut whose column has no value in any row stands as `col=*`, missing (never a vanished slice).
        for label in [label for label in measured if label.endswith("=*")]:
            stand_in = measured.pop(label)
            assert (stand_in.n, "no slice of" in (stand_in.problem or "")) == (0, True), (level, label)
        assert set(measured) == set(expected), level
        for label, (full, _) in expected.items():
            got = measured[label]
            assert got.n == len(full), (level, label)
            if len(full) == 0:
                assert math.isnan(got.value), (level, label)
                continue
            assert got.value == np.quantile(full, q, method="inverted_cdf"), (level, label)
            ranked = run_of(got)
            assert ranked.n == len(full), (level, label)
            for c in SINGLE_ARM:
                got_bounds = stats.sorted_quantile_bounds(ranked, q, c)
                assert got_bounds == stats.quantile_bounds(full, q, c), (level, label, c)


def spy_on_missed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per cut of each quantile metric, whether a located run missed a rank its slice needs (and
    the slice was read again, whole)."""
    found: list[bool] = []
    real = gatekit.sources.quantile_runs._RunPlan.missed

    def missed(self: Any, runs: Any) -> Any:
        result = real(self, runs)
        found.append(bool(result.any()))
        return result

    monkeypatch.setattr(gatekit.sources.quantile_runs._RunPlan, "missed", missed)
    return found


# --- large tables: most slices run-backed, some whole ------------------------------------------------------

SLICE_BY = ["task", "lang"]
CROSS = [["task", "lang"]]


def big_rows(seed: int, n: int, slower: float = 1.0) -> Rows:
    """Slices from about 33,000 rows down to a few dozen: `task=rare`, `lang=ja` and most crosses have at
    most 2,000 rows, the rest more."""
    rng = np.random.default_rng(seed)
    task = rng.choice(["qa", "code", "chat", "math", "rare"], n, p=[0.55, 0.25, 0.1, 0.08, 0.02])
    lang = rng.choice(["en", "de", "ja"], n, p=[0.9, 0.07, 0.03])
    shift = np.select([task == "code", task == "math"], [0.6, -0.4], 0.0)
    latency = rng.lognormal(5.0 + shift, 0.7, n) * slower
    return Rows(latency, {"task": labels_of(task), "lang": labels_of(lang)}, ids=labels_of(f"ex{i}" for i in range(n)))


@dataclass(frozen=True)
class Measured:
    rows: Rows
    results: Results


@pytest.fixture(scope="module")
def candidate() -> Measured:
    rows = big_rows(1, 60_000, slower=1.05)
    return Measured(rows, measure(rows, quantile_spec(slice_by=SLICE_BY, slice_cross=CROSS)))


@pytest.fixture(scope="module")
def baseline() -> Measured:
    rows = big_rows(2, 45_000)
    return Measured(rows, measure(rows, quantile_spec(slice_by=SLICE_BY, slice_cross=CROSS)))


def test_the_large_tables_have_run_backed_slices_and_whole_ones(candidate: Measured, baseline: Measured) -> None:
    for measured in (candidate, baseline):
        for level in LEVELS:
            slices = measured.results.metrics[level].values()
            partial = [run_of(m).n for m in slices if is_partial(m)]
            whole = [run_of(m).n for m in slices if not is_partial(m)]
            assert len(partial) >= 6, level
            assert len(whole) >= 6, level
            assert min(partial) > LARGE >= max(whole), level


def test_a_run_backed_slice_gives_the_quantile_and_bounds_of_a_full_sort(candidate: Measured) -> None:
    assert_exact(candidate.results, candidate.rows.expected(SLICE_BY, CROSS))


def test_runs_are_exact_when_each_cut_is_counted_on_its_own_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Slice sizes come from binned counts (of the cube, or here of each cut), the runs from the slice codes:
    # a size that disagreed with the codes would shift every rank of the run.
    monkeypatch.setattr(gatekit.sources.cuts, "_CUBE_MAX_CELLS", 0)
    rows = big_rows(6, 30_000)

    results = measure(rows, quantile_spec(slice_by=SLICE_BY, slice_cross=CROSS))

    assert_exact(results, rows.expected(SLICE_BY, CROSS))


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
def test_run_backed_arms_bound_a_change_as_full_sorts_do(candidate: Measured, baseline: Measured, ratio: bool) -> None:
    cand_full = candidate.rows.expected(SLICE_BY, CROSS)
    base_full = baseline.rows.expected(SLICE_BY, CROSS)
    for level in LEVELS:
        q = QUANTILES[level]
        for label in cand_full.keys() & base_full.keys():
            c_run = run_of(candidate.results.metrics[level][label])
            b_run = run_of(baseline.results.metrics[level][label])
            c_all = OrderStatistics.of(np.sort(cand_full[label][0]))
            b_all = OrderStatistics.of(np.sort(base_full[label][0]))
            for c in CHANGE:
                got = stats.quantile_change_bounds(c_run, b_run, q, c, ratio=ratio)
                assert got == stats.quantile_change_bounds(c_all, b_all, q, c, ratio=ratio), (level, label, c)


def test_a_run_backed_slice_fetches_every_value_of_the_slice_with_its_id(candidate: Measured) -> None:
    for label, (full, ids) in candidate.rows.expected(SLICE_BY, CROSS).items():
        measured = candidate.results.metrics["p95"][label]
        if not is_partial(measured):
            continue
        samples = measured.samples
        assert samples is not None
        assert samples.n == len(full), label
        assert samples.ids is not None, label
        assert ids is not None
        # As multisets of (id, value) pairs: no order is promised, only that each id keeps its value.
        assert sorted(zip(samples.ids, samples.values, strict=True)) == sorted(zip(ids, full, strict=True)), label


def test_a_run_backed_slice_reads_its_full_values_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real = gatekit.sources.cuts._slice_order

    def counted(*args: Any) -> Any:
        reads.append(1)
        return real(*args)

    monkeypatch.setattr(gatekit.sources.cuts, "_slice_order", counted)
    measured = measure(big_rows(3, 20_000), quantile_spec(slice_by=["task"])).metrics["p95"]["task=qa"]
    assert is_partial(measured)
    stats.sorted_quantile_bounds(run_of(measured), 0.95, 0.95)
    assert reads == []

    assert measured.samples is not None
    assert len(measured.samples.values) == measured.n

    assert reads == [1]


def test_a_shuffled_table_is_read_from_the_located_runs_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # So that the exact results above come from the located runs, not from slices read again whole.
    missed = spy_on_missed(monkeypatch)

    measure(big_rows(4, 40_000), quantile_spec(slice_by=SLICE_BY, slice_cross=CROSS))

    assert missed
    assert not any(missed)


# --- row orders that make the every-16th-row sample mislead ------------------------------------------------

N_ADVERSARIAL = 40_000


def _lognormal(seed: int) -> FloatArray:
    return np.random.default_rng(seed).lognormal(5.0, 0.8, N_ADVERSARIAL)


def _random_halves(seed: int) -> dict[str, Labels]:
    return {"task": labels_of(np.random.default_rng(seed).choice(["a", "b"], N_ADVERSARIAL))}


def _alternating() -> dict[str, Labels]:
    """Slice `a` is the even rows: every row on the stride is in `a`, none in `b`."""
    return {"task": labels_of(["a" if i % 2 == 0 else "b" for i in range(N_ADVERSARIAL)])}


def sorted_ascending() -> Rows:
    return Rows(np.sort(_lognormal(10)), _random_halves(10))


def sorted_descending() -> Rows:
    return Rows(np.sort(_lognormal(11))[::-1].copy(), _random_halves(11))


def _every_16th(value: Callable[[int], FloatArray]) -> Rows:
    latency = _lognormal(12)
    latency[::16] = value(len(latency[::16]))
    return Rows(latency, _alternating())


def every_16th_far_above() -> Rows:
    return _every_16th(lambda k: 1e6 + np.arange(k, dtype=np.float64))


def every_16th_far_below() -> Rows:
    return _every_16th(lambda k: np.arange(k, dtype=np.float64) * 1e-6)


def every_16th_timed_out() -> Rows:
    return _every_16th(lambda k: np.full(k, math.inf))


def sampled_rows_are_the_slice_minimum() -> Rows:
    """Slice `a`'s rows on the stride hold its smallest values, its other rows the rest, shuffled."""
    latency, slices = _lognormal(13), _alternating()
    in_a = np.flatnonzero(slices["task"] == "a")
    ordered = np.sort(latency[in_a])
    on_stride, off_stride = in_a[in_a % 16 == 0], in_a[in_a % 16 != 0]
    latency[on_stride] = ordered[: len(on_stride)]
    latency[off_stride] = np.random.default_rng(13).permutation(ordered[len(on_stride) :])
    return Rows(latency, slices)


def one_slice_sorted_in_row_order() -> Rows:
    latency, slices = _lognormal(14), _random_halves(14)
    in_a = slices["task"] == "a"
    latency[in_a] = np.sort(latency[in_a])
    return Rows(latency, slices)


def one_slice_off_the_stride() -> Rows:
    """No row of slice `a` is on the stride: the sample has nothing to say about it."""
    rng = np.random.default_rng(15)
    task = ["b" if i % 16 == 0 or rng.random() < 0.5 else "a" for i in range(N_ADVERSARIAL)]
    return Rows(_lognormal(15), {"task": labels_of(task)})


MISLEADING = [every_16th_far_above, every_16th_far_below, every_16th_timed_out, sampled_rows_are_the_slice_minimum]
ADVERSARIAL = [sorted_ascending, sorted_descending, *MISLEADING, one_slice_sorted_in_row_order]
ADVERSARIAL += [one_slice_off_the_stride]


@pytest.mark.parametrize("layout", ADVERSARIAL, ids=lambda f: f.__name__)
def test_a_row_order_that_fools_the_sample_still_gives_exact_results(layout: Callable[[], Rows]) -> None:
    rows = layout()

    results = measure(rows, quantile_spec(slice_by=["task"]))

    assert_exact(results, rows.expected(["task"], []))


@pytest.mark.parametrize("layout", MISLEADING, ids=lambda f: f.__name__)
def test_a_sample_that_misled_is_caught_by_counting_and_the_slice_read_whole(
    monkeypatch: pytest.MonkeyPatch, layout: Callable[[], Rows]
) -> None:
    missed = spy_on_missed(monkeypatch)

    measure(layout(), quantile_spec(slice_by=["task"]))

    assert any(missed)


# --- ties, timeouts, bad cells, filters and odd tables ----------------------------------------------------

N_HARD = 30_000


@dataclass(frozen=True)
class Case:
    rows: Rows
    slice_by: list[str]
    cross: list[list[str]] = field(default_factory=list)
    where: str | None = None
    drop_invalid: bool = False

    def measure(self) -> Results:
        table = {"slice_by": self.slice_by, "slice_cross": self.cross, "drop_invalid": self.drop_invalid}
        return measure(self.rows, quantile_spec(self.where, **table))

    def expected(self) -> Expected:
        return self.rows.expected(self.slice_by, self.cross, self.where)


def _slices(seed: int) -> dict[str, Labels]:
    rng = np.random.default_rng(seed)
    return {
        "task": labels_of(rng.choice(["qa", "code", "chat"], N_HARD, p=[0.6, 0.3, 0.1])),
        "lang": labels_of(rng.choice(["en", "de"], N_HARD, p=[0.95, 0.05])),
    }


def _latency(seed: int) -> FloatArray:
    return np.random.default_rng(seed).lognormal(5.0, 0.6, N_HARD)


def rounded_to_10ms() -> Case:
    return Case(Rows(np.round(_latency(20), -1), _slices(20)), ["task", "lang"])


def two_values_only() -> Case:
    """Exactly 95% of the rows at 100 ms and the rest at 900: the p95 of `all` is the last 100."""
    latency = np.random.default_rng(21).permutation(np.repeat([100.0, 900.0], [28_500, 1_500]))
    return Case(Rows(latency, _slices(21)), ["task", "lang"])


def one_slice_all_one_value() -> Case:
    latency, slices = _latency(22), _slices(22)
    latency[slices["task"] == "code"] = 250.0
    return Case(Rows(latency, slices), ["task", "lang"])


def _timeouts(share: float, seed: int) -> Rows:
    rng = np.random.default_rng(seed)
    latency = _latency(seed)
    timeout = rng.random(N_HARD) < share
    empty = timeout & (rng.random(N_HARD) < 0.5)  # half written as +inf, half as an empty cell
    latency[timeout & ~empty] = math.inf
    return Rows(latency, _slices(seed), timed_out=empty)


def timeouts_make_the_p99_infinite() -> Case:
    return Case(_timeouts(0.03, 23), ["task", "lang"])


def timeouts_make_the_p95_infinite() -> Case:
    return Case(_timeouts(0.08, 24), ["task", "lang"])


def _with_bad_cells(seed: int) -> Rows:
    rng = np.random.default_rng(seed)
    latency, slices = _latency(seed), _slices(seed)
    latency[rng.random(N_HARD) < 0.03] = math.nan
    latency[rng.random(N_HARD) < 0.01] = -math.inf
    for column in slices.values():
        column[rng.random(N_HARD) < 0.02] = None
    return Rows(latency, slices)


def bad_cells_and_missing_slices_dropped() -> Case:
    return Case(_with_bad_cells(25), ["task", "lang"], [["task", "lang"]], drop_invalid=True)


def bad_cells_and_missing_slices_kept() -> Case:
    # Without drop_invalid each slice carries a problem, and its value still comes from its valid rows.
    return Case(_with_bad_cells(26), ["task", "lang"], [["task", "lang"]])


def a_row_filter() -> Case:
    rng = np.random.default_rng(27)
    latency = _latency(27)
    kind = labels_of(rng.choice(["chat", "batch"], N_HARD, p=[0.7, 0.3]))
    latency[kind == "batch"] *= 40  # rows outside the filter, far above the rest: they must not count
    return Case(Rows(latency, _slices(27), kind=kind), ["task", "lang"], where="chat")


def integer_milliseconds_with_empty_cells() -> Case:
    empty = np.random.default_rng(28).random(N_HARD) < 0.02
    return Case(Rows(np.round(_latency(28)), _slices(28), timed_out=empty, integers=True), ["task"])


def hundreds_of_slices() -> Case:
    """Three large slices among 260 small ones: slice codes wider than a byte."""
    rng = np.random.default_rng(29)
    small = labels_of(f"s{i}" for i in rng.integers(0, 260, N_HARD))
    task = np.where(rng.random(N_HARD) < 0.7, labels_of(rng.choice(["big1", "big2", "big3"], N_HARD)), small)
    return Case(Rows(_latency(29), {"task": task}), ["task"])


def no_slice_columns() -> Case:
    return Case(Rows(_latency(30)), [])


def a_slice_column_without_values() -> Case:
    slices = {**_slices(31), "lang": labels_of([None] * N_HARD)}
    return Case(Rows(_latency(31), slices), ["task", "lang"], [["task", "lang"]], drop_invalid=True)


def a_column_in_many_chunks() -> Case:
    return Case(Rows(_latency(32), _slices(32), chunk_rows=997), ["task", "lang"])


HARD = [
    rounded_to_10ms,
    two_values_only,
    one_slice_all_one_value,
    timeouts_make_the_p99_infinite,
    timeouts_make_the_p95_infinite,
    bad_cells_and_missing_slices_dropped,
    bad_cells_and_missing_slices_kept,
    a_row_filter,
    integer_milliseconds_with_empty_cells,
    hundreds_of_slices,
    no_slice_columns,
    a_slice_column_without_values,
    a_column_in_many_chunks,
]
"""Each with at least one slice over 2,000 rows."""


@pytest.fixture
def many_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a table's chunks as they come (by default short chunks are joined into one)."""
    monkeypatch.setattr(gatekit.sources.columns, "_MIN_CHUNK_ROWS", 1)


@pytest.mark.usefixtures("many_chunks")
@pytest.mark.parametrize("make", HARD, ids=lambda f: f.__name__)
def test_ties_timeouts_bad_cells_filters_and_odd_tables_give_exact_results(make: Callable[[], Case]) -> None:
    case = make()

    results = case.measure()

    assert_exact(results, case.expected())


@pytest.mark.parametrize(
    "make",
    [
        rounded_to_10ms,
        timeouts_make_the_p99_infinite,
        timeouts_make_the_p95_infinite,
        bad_cells_and_missing_slices_dropped,
        a_row_filter,
        integer_milliseconds_with_empty_cells,
        hundreds_of_slices,
    ],
    ids=lambda f: f.__name__,
)
def test_ties_timeouts_bad_cells_and_filters_still_leave_partial_runs(make: Callable[[], Case]) -> None:
    # What makes the exactness above worth having. (A slice of one or two distinct values is kept whole:
    # every row lies between the run's value bounds.)
    results = make().measure()

    for level in LEVELS:
        assert any(is_partial(m) for m in results.metrics[level].values()), level


@pytest.mark.parametrize(
    ("make", "level", "label", "value"),
    [
        (one_slice_all_one_value, "p50", "task=code", 250.0),
        (one_slice_all_one_value, "p99", "task=code", 250.0),
        (two_values_only, "p95", "all", 100.0),
        (timeouts_make_the_p99_infinite, "p99", "all", math.inf),
        (timeouts_make_the_p95_infinite, "p95", "task=qa", math.inf),
    ],
)
def test_the_hard_cases_put_a_large_slice_where_they_claim(
    make: Callable[[], Case], level: str, label: str, value: float
) -> None:
    measured = make().measure().metrics[level][label]

    assert (measured.value, run_of(measured).n > LARGE) == (value, True)


def test_two_values_only_put_the_bounds_of_the_p95_on_both() -> None:
    measured = two_values_only().measure().metrics["p95"]["all"]

    assert stats.sorted_quantile_bounds(run_of(measured), 0.95, 0.95) == (100.0, 900.0)


# --- the deepest confidence the spec reads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec_confidence", "gate_confidence", "deepest"),
    [
        (0.95, None, 1 - stats.SMALLEST_ALPHA),  # the p-value search
        (1 - 1e-14, None, 1 - 1e-14),
        (0.95, 1 - 1e-14, 1 - 1e-14),
    ],
    ids=["p-value search", "spec confidence", "gate confidence"],
)
def test_a_run_located_without_slack_still_holds_every_rank_the_spec_reads(
    monkeypatch: pytest.MonkeyPatch, spec_confidence: float, gate_confidence: float | None, deepest: float
) -> None:
    # Sampling every row with no margin leaves the run no slack beyond the ranks it was planned for (the
    # margin otherwise widens it far past them, and would hide a plan that reads too shallow).
    monkeypatch.setattr(gatekit.sources.quantile_runs, "_RUN_STRIDE", 1)
    monkeypatch.setattr(gatekit.sources.quantile_runs, "_RUN_MARGIN_SD", 0.0)
    gate: dict[str, Any] = {"id": "g", "metric": "p95", "max": 1.0}
    if gate_confidence is not None:
        gate["confidence"] = gate_confidence
    metrics = {level: {"from": {"column": "latency", "aggregate": level}} for level in LEVELS}
    deep = spec(gate, metrics=metrics, table={"slice_by": ["task"]}, confidence=spec_confidence)
    rows = big_rows(5, 20_000)
    each_arm = 1 - (1 - deepest) / 2

    results = measure(rows, deep)

    for label, (values, _) in rows.expected(["task"], []).items():
        whole = OrderStatistics.of(np.sort(values))
        for level in LEVELS:
            q, ranked = QUANTILES[level], run_of(results.metrics[level][label])
            if ranked.n <= LARGE:
                continue
            first, last = stats.quantile_rank_span(ranked.n, q, each_arm)
            assert len(ranked.values) <= last - first + 1 + 6, (level, label)  # no slack to hide behind
            for c in (deepest, each_arm):
                assert stats.sorted_quantile_bounds(ranked, q, c) == stats.sorted_quantile_bounds(whole, q, c)
            assert stats.quantile_change_bounds(ranked, ranked, q, deepest, ratio=True) == (
                stats.quantile_change_bounds(whole, whole, q, deepest, ratio=True)
            )


# --- a property: small tables with the run machinery scaled down -------------------------------------------

_cell = st.one_of(
    st.integers(0, 40).map(float),  # ties
    st.floats(0, 1000, allow_nan=False, allow_infinity=False),
    st.just(math.inf),  # a timeout written as +inf
    st.none(),  # a timeout written as an empty cell
    st.just(math.nan),  # a bad cell
)
_layouts = st.sampled_from(["as drawn", "sorted", "outliers on the stride"])


@st.composite
def _small_tables(draw: st.DrawFn) -> tuple[list[str | None], list[float | None]]:
    """A `task` value and a latency cell per row, for none to a few hundred rows."""
    n = draw(st.integers(0, 400))
    tasks = draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))
    return tasks, draw(st.lists(_cell, min_size=n, max_size=n))


_SHUFFLED = (["a", "b", None] * 100, [float(i * 7 % 300) for i in range(300)])
"""300 rows in two slices (and some with no slice value), latencies 0 to 299 in a fixed shuffle."""


def test_property_scaled_down_runs_match_a_plain_sort_of_each_slice() -> None:
    partial: list[bool] = []
    missed: list[bool] = []

    @settings(max_examples=60, deadline=None)
    @given(rows=_small_tables(), stride=st.integers(2, 6), threshold=st.integers(8, 40), layout=_layouts)
    @example(rows=_SHUFFLED, stride=2, threshold=10, layout="as drawn")  # partial runs, found in one pass
    @example(rows=_SHUFFLED, stride=4, threshold=10, layout="outliers on the stride")  # the sample misleads
    def scaled_down(
        rows: tuple[list[str | None], list[float | None]], stride: int, threshold: int, layout: str
    ) -> None:
        tasks, cells = rows
        task = labels_of(tasks)
        empty = np.array([v is None for v in cells], dtype=bool)
        latency = np.array([0.0 if v is None else v for v in cells], dtype=np.float64)
        if layout == "sorted":
            order = np.argsort(np.where(empty, math.inf, latency), kind="stable")
            task, empty, latency = task[order], empty[order], latency[order]
        elif layout == "outliers on the stride":
            latency[::stride], empty[::stride] = 1e9, False
        table = Rows(latency, {"task": task}, timed_out=empty)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gatekit.sources.quantile_runs, "_RUN_STRIDE", stride)
            patch.setattr(gatekit.stats, "BOOTSTRAP_MAX_N", threshold)  # read when the slices are measured
            found = spy_on_missed(patch)
            results = measure(table, quantile_spec(slice_by=["task"], drop_invalid=True))
        missed.extend(found)

        expected = table.expected(["task"], [])
        assert_exact(results, expected)
        for level in LEVELS:
            for label, measured in results.metrics[level].items():
                if label.endswith("=*"):
                    continue  # a column with no value in any row: a missing stand-in, checked by assert_exact
                partial.append(is_partial(measured))
                assert measured.samples is not None
                assert sorted(measured.samples.values) == sorted(expected[label][0]), (level, label)

    scaled_down()

    # The property proves something only if it reached both: runs that are really partial, and the re-read
    # (the explicit examples make sure of both; generated ones add more).
    assert sum(partial) >= 10
    assert any(missed)


# --- the stats functions on a hand-made partial run -----------------------------------------------------------

RUN = OrderStatistics(10, np.array([30.0, 40.0, 50.0]), offset=2)
"""Ranks 3 to 5 of a sample of ten."""


@pytest.mark.parametrize(("rank", "value"), [(-1, None), (0, None), (2, None), (3, 30.0), (5, 50.0), (6, None)])
def test_order_statistics_at_a_rank_outside_the_run_is_none(rank: int, value: float | None) -> None:
    assert RUN.at(rank) == value


FULL = np.arange(1.0, 1001.0)
"""A sample of 1,000 whose k-th smallest value is k."""


def _kept(first: int, last: int) -> OrderStatistics:
    return OrderStatistics(len(FULL), FULL[first - 1 : last], offset=first - 1)


@pytest.mark.parametrize(
    ("kept", "q", "confidence", "bounds"),
    [
        # The median's bounds at 0.9 are ranks 480 and 521; the p95's at 0.95 ranks 938 and 962.
        (_kept(400, 600), 0.5, 0.9, (480.0, 521.0)),
        (_kept(500, 1000), 0.5, 0.9, (-math.inf, 521.0)),
        (_kept(1, 500), 0.5, 0.9, (480.0, math.inf)),
        (_kept(400, 600), 0.95, 0.95, (-math.inf, math.inf)),
        (_kept(950, 1000), 0.95, 0.95, (-math.inf, 962.0)),
    ],
    ids=["both ranks kept", "lower rank below", "upper rank above", "both outside", "lower only outside"],
)
def test_a_bound_whose_rank_is_not_kept_is_unbounded(
    kept: OrderStatistics, q: float, confidence: float, bounds: tuple[float, float]
) -> None:
    assert stats.quantile_ranks(1000, q, confidence) == ((480, 521) if q == 0.5 else (938, 962))

    assert stats.sorted_quantile_bounds(kept, q, confidence) == bounds


@pytest.mark.parametrize("ratio", [False, True], ids=["difference", "ratio"])
def test_a_change_whose_arm_lacks_a_rank_can_never_pass_a_ceiling(ratio: bool) -> None:
    # At 0.95 each arm is read at 0.975: ranks 936 and 964. The candidate keeps ranks up to 950 only.
    assert stats.quantile_ranks(1000, 0.95, 0.975) == (936, 964)

    lower, upper = stats.quantile_change_bounds(_kept(1, 950), OrderStatistics.of(FULL), 0.95, 0.95, ratio=ratio)

    assert (lower, upper) == ((936.0 / 964.0 if ratio else 936.0 - 964.0), math.inf)


# --- a gate end to end ------------------------------------------------------------------------------------

GATE_SLICES = {"big": 30_000, "steady": 6_000, "grown": 2_600}
"""Rows per slice of the candidate; the baseline's `grown` has 1,500 (a whole arm against a run-backed one)."""


def _latency_rows(seed: int, *, candidate: bool) -> Rows:
    rng = np.random.default_rng(seed)
    sizes = {**GATE_SLICES, "grown": GATE_SLICES["grown"] if candidate else 1_500}
    task = labels_of([name for name, size in sizes.items() for _ in range(size)])
    slower = np.where(task == "big", 1.3, 1.0) if candidate else 1.0
    latency = rng.lognormal(5.0, 0.5, len(task)) * slower
    order = rng.permutation(len(task))
    return Rows(latency[order], {"task": task[order]})


CANDIDATE_ROWS = _latency_rows(30, candidate=True)
BASELINE_ROWS = _latency_rows(31, candidate=False)


@pytest.fixture
def gate_dir(tmp_path: Path) -> Path:
    """A spec with a p95 ceiling and a p95 change gate on every slice, its candidate and its baseline."""
    import pyarrow.parquet as pq

    pq.write_table(CANDIDATE_ROWS.table().data, tmp_path / "candidate.parquet")
    pq.write_table(BASELINE_ROWS.table().data, tmp_path / "baseline.parquet")
    document = {
        "version": 1,
        "name": "latency",
        "hypothesis": {"statement": "s", "stage": "other", "improves": "x", "owner": "o", "written": "2026-01-01"},
        "candidate": "candidate.parquet",
        "baseline": "baseline.parquet",
        "metrics": {"latency_p95": {"from": {"column": "latency", "aggregate": "p95"}}},
        "table": {"slice_by": ["task"]},
        "gates": [
            {"id": "ceiling", "metric": "latency_p95", "slices": ["*"], "max": 400},
            {"id": "change", "metric": "latency_p95", "slices": ["*"], "max_increase_pct": 10},
        ],
        "rollback": PINNED,
    }
    (tmp_path / "gate.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return tmp_path


def test_a_p95_gate_on_run_backed_slices_decides_as_on_full_sorts(
    gate_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offsets: list[int] = []
    real = gatekit.stats.mover_quantile_change

    def recorded(candidate: OrderStatistics, baseline: OrderStatistics, *args: Any, **kwargs: Any) -> Any:
        offsets.extend((candidate.offset, baseline.offset))
        return real(candidate, baseline, *args, **kwargs)

    monkeypatch.setattr(gatekit.stats, "mover_quantile_change", recorded)
    from_runs = check(gate_dir / "gate.yaml")
    assert max(offsets) > 0
    offsets.clear()
    # Every slice keeps every rank: what a check read before runs.
    monkeypatch.setattr(gatekit.stats, "quantile_rank_span", lambda n, q, confidence: (1, n))
    from_full = check(gate_dir / "gate.yaml")
    assert offsets
    assert max(offsets) == 0

    assert from_runs.model_dump() == from_full.model_dump()
    assert {(o.id, o.slice): o.status for o in from_runs.gates} == {
        ("ceiling", "all"): "fail",
        ("ceiling", "task=big"): "fail",
        ("ceiling", "task=steady"): "pass",
        ("ceiling", "task=grown"): "pass",
        ("change", "all"): "fail",
        ("change", "task=big"): "fail",
        ("change", "task=steady"): "pass",
        ("change", "task=grown"): "inconclusive",
    }


def test_a_p95_gate_reports_the_change_interval_of_full_sorts(gate_dir: Path) -> None:
    outcomes = {o.slice: o for o in check(gate_dir / "gate.yaml").gates if o.id == "change"}

    cand_full, base_full = CANDIDATE_ROWS.expected(["task"], []), BASELINE_ROWS.expected(["task"], [])
    for label, outcome in outcomes.items():
        c_full, b_full = cand_full[label][0], base_full[label][0]
        b_q = float(np.quantile(b_full, 0.95, method="inverted_cdf"))
        lower, upper = stats.mover_quantile_change(
            OrderStatistics.of(np.sort(c_full)), OrderStatistics.of(np.sort(b_full)), 0.95, 0.95, ratio=True
        )
        assert (outcome.baseline, outcome.interval) == (b_q, (b_q * lower, b_q * upper)), label
