"""The table engine against a plain-numpy reference, on random tables read back from Parquet files.

Each generated table has a text id column, two slice columns (one crossed with the other), a boolean, a score
and a latency with NaN, null and +inf cells mixed in, and slices large enough (over `BOOTSTRAP_MAX_N` rows)
that quantiles keep only a run of order statistics. The reference is a loop over the slices with numpy: it
drops bad cells by the readers' rules (a null latency is a timeout, +inf, kept; NaN is bad everywhere; +inf
is bad in a score), sorts each slice whole, and pairs the two sides through a dict of ids.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekit import stats
from gatekit.results import Results
from gatekit.sources.adapters.common import minimal_spec
from gatekit.sources.load import load_results
from gatekit.spec.model import Spec

SLICES = {"task": ["t0", "t1", "t2"], "lang": ["en", "de"]}
METRICS = {
    "acc": {"from": {"column": "correct", "aggregate": "rate"}},
    "score": {"from": {"column": "score", "aggregate": "mean"}},
    "p95": {"from": {"column": "latency", "aggregate": "p95"}},
}


def make_spec(drop_invalid: bool) -> Spec:
    data = minimal_spec().model_dump(mode="python", by_alias=True, exclude_defaults=True)
    table = {"slice_by": ["task", "lang"], "slice_cross": [["task", "lang"]], "drop_invalid": drop_invalid}
    return Spec.model_validate({**data, "version": 1, "metrics": METRICS, "table": table})


def write_table(path: Path, seed: int, n: int, order_seed: int) -> dict[str, Any]:
    """A random table, as numpy columns (the reference's view) and as a Parquet file (the engine's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {
        "id": np.array([f"ex-{i}" for i in np.random.default_rng(order_seed).permutation(n)]),
        "task": rng.choice(SLICES["task"], n, p=[0.6, 0.3, 0.1]),
        "lang": rng.choice(SLICES["lang"], n),
        "correct": rng.random(n) < 0.7,
        "score": np.round(rng.normal(0.5, 0.2, n), 3),
        # Few distinct values, so that ties fall inside the rank runs.
        "latency": np.round(rng.lognormal(3, 0.5, n), 1),
    }
    nulls = {name: rng.random(n) < 0.01 for name in ("correct", "score", "latency")}
    columns["score"][rng.random(n) < 0.01] = np.nan
    columns["score"][rng.random(n) < 0.005] = np.inf
    columns["latency"][rng.random(n) < 0.01] = np.nan
    columns["latency"][rng.random(n) < 0.01] = np.inf
    columns["nulls"] = nulls
    arrays = {name: pa.array(columns[name], mask=nulls.get(name)) for name in ("id", *SLICES, *nulls)}
    pq.write_table(pa.table(arrays), path)
    return columns


def cuts() -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = [("all", {})]
    out += [(f"{c}={v}", {c: v}) for c, values in SLICES.items() for v in values]
    out += [(f"task={t},lang={x}", {"task": t, "lang": x}) for t in SLICES["task"] for x in SLICES["lang"]]
    return out


def reference_cells(table: dict[str, Any], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the value the metric reads and whether the cell is good."""
    nulls = table["nulls"]
    if metric == "acc":
        return table["correct"].astype(float), ~nulls["correct"]
    if metric == "score":
        return table["score"], ~nulls["score"] & np.isfinite(table["score"])
    latency = np.where(nulls["latency"], np.inf, table["latency"])  # a null latency timed out: slowest
    return latency, ~np.isnan(latency)


def reference_slice(table: dict[str, Any], metric: str, where: dict[str, str]) -> dict[str, Any]:
    values, good = reference_cells(table, metric)
    rows = np.ones(len(values), dtype=bool)
    for column, value in where.items():
        rows &= table[column] == value
    kept = values[rows & good]
    return {"rows": int(rows.sum()), "bad": int((rows & ~good).sum()), "values": kept, "ids": table["id"][rows & good]}


_tables = st.tuples(st.integers(0, 2**32 - 1), st.integers(2600, 6000), st.booleans())


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("differential")


def measure_both(folder: Path, seed: int, n: int, drop_invalid: bool) -> tuple[Results, Results, Any, Any]:
    cand_path, base_path = folder / f"c{seed}-{n}.parquet", folder / f"b{seed}-{n}.parquet"
    # The same ids on both sides, in another row order; other values.
    cand = write_table(cand_path, seed, n, order_seed=seed)
    base = write_table(base_path, seed + 1, n, order_seed=seed + 7)
    spec = make_spec(drop_invalid)
    return load_results(cand_path, spec), load_results(base_path, spec), cand, base


SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(table=_tables)
def test_rates_means_and_sd_match_numpy(folder: Path, table: tuple[int, int, bool]) -> None:
    seed, n, drop_invalid = table
    cand, _, columns, _ = measure_both(folder, seed, n, drop_invalid)
    for metric in ("acc", "score"):
        for label, where in cuts():
            expected = reference_slice(columns, metric, where)
            measured = cand.metrics[metric][label]
            values = expected["values"]
            assert measured.n == len(values), (metric, label)
            assert measured.value == pytest.approx(float(np.mean(values)), rel=1e-12), (metric, label)
            stderr = float(np.std(values, ddof=1)) / math.sqrt(len(values))
            assert measured.stderr == pytest.approx(stderr, rel=1e-9), (metric, label)
            if metric == "acc":
                assert measured.samples is not None
                assert measured.samples.summary().events == float(values.sum())


@SETTINGS
@given(table=_tables)
def test_bad_rows_are_counted_per_slice(folder: Path, table: tuple[int, int, bool]) -> None:
    seed, n, _ = table
    cand, _, columns, _ = measure_both(folder, seed, n, drop_invalid=False)
    for metric, column in (("acc", "correct"), ("score", "score"), ("p95", "latency")):
        for label, where in cuts():
            expected = reference_slice(columns, metric, where)
            problem = cand.metrics[metric][label].problem
            if expected["bad"] == 0:
                assert problem is None, (metric, label)
            else:
                assert problem is not None
                verb = "has" if expected["bad"] == 1 else "have"
                assert problem.startswith(f"{expected['bad']} of {expected['rows']} rows {verb} a bad {column!r} value")


@SETTINGS
@given(table=_tables)
def test_p95_and_the_order_statistics_its_bounds_read_match_a_full_sort(
    folder: Path, table: tuple[int, int, bool]
) -> None:
    seed, n, _ = table
    cand, _, columns, _ = measure_both(folder, seed, n, drop_invalid=True)
    for label, where in cuts():
        expected = np.sort(reference_slice(columns, "p95", where)["values"])
        measured = cand.metrics["p95"][label]
        size = len(expected)
        assert measured.n == size
        if size == 0:
            continue
        assert measured.value == expected[stats.nearest_rank(size, 0.95) - 1], label
        assert measured.samples is not None
        kept = measured.samples.order_statistics()
        assert kept.n == size
        # Every rank a bound at 99.9995% can read (the deepest the p-value search goes) is kept, exactly.
        first, last = stats.quantile_rank_span(size, 0.95, 1 - stats.SMALLEST_ALPHA / 2)
        for rank in (first, last, stats.nearest_rank(size, 0.95)):
            assert kept.at(rank) == expected[rank - 1], (label, rank)
        lower, upper = stats.quantile_ranks(size, 0.95, 0.95)
        for rank in (lower, upper):
            if rank is not None:
                assert kept.at(rank) == expected[rank - 1], (label, rank)


@SETTINGS
@given(table=_tables)
def test_pairing_aligns_each_example_with_its_baseline(folder: Path, table: tuple[int, int, bool]) -> None:
    from gatekit.decide.pairing import paired as _paired

    seed, n, _ = table
    cand, base, c_columns, b_columns = measure_both(folder, seed, n, drop_invalid=True)
    for label, where in cuts():
        c_ref, b_ref = reference_slice(c_columns, "acc", where), reference_slice(b_columns, "acc", where)
        paired = _paired(cand.metrics["acc"][label], base.metrics["acc"][label])
        if sorted(c_ref["ids"].tolist()) != sorted(b_ref["ids"].tolist()):
            assert paired is None, label  # not the same examples on both sides: never paired
            continue
        assert paired is not None, label
        baseline_of = dict(zip(b_ref["ids"].tolist(), b_ref["values"].tolist(), strict=True))
        c_values, b_aligned = paired
        c_ids = cand.metrics["acc"][label].samples.ids  # type: ignore[union-attr]
        assert c_ids is not None
        assert b_aligned.tolist() == [baseline_of[i] for i in c_ids.tolist()]
        assert sorted(c_values.tolist()) == sorted(c_ref["values"].tolist())
