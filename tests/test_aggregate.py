"""Per-slice aggregates of a per-example table, checked against a plain Python reference.

The fast path counts every cut as a marginal of one cube (the cross of all slice columns); when that cross is
too large each cut counts on its own codes. Both must give what a loop over the rows gives.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gatekit.sources.columns
import gatekit.sources.cuts
from gatekit import stats
from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results
from gatekit.sources.adapters.common import minimal_spec
from gatekit.sources.measure import table_results
from gatekit.sources.rows import rows_to_table
from gatekit.spec.model import Spec

METRICS = {
    "acc": {"from": {"column": "correct", "aggregate": "rate"}},
    "score": {"from": {"column": "score", "aggregate": "mean"}},
    "cost": {"from": {"column": "score", "aggregate": "sum"}},
    "n_rows": {"from": {"aggregate": "count"}},
    "p90": {"from": {"column": "score", "aggregate": "p90"}},
    "harmless_acc": {"from": {"column": "correct", "aggregate": "rate", "where": {"column": "kind", "equals": "a"}}},
}


def make_spec(**table: Any) -> Spec:
    data = minimal_spec().model_dump(mode="python", by_alias=True, exclude_defaults=True)
    return Spec.model_validate({**data, "version": 1, "metrics": METRICS, "table": table})


def measure(rows: list[dict[str, Any]], **table: Any) -> Results:
    return table_results(rows_to_table(rows, "rows.jsonl", first_line=1), make_spec(**table))


# --- the reference: a loop over the rows ------------------------------------------------------------------


def _good(metric: str, row: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    column = METRICS[metric]["from"].get("column")
    if column is None:
        return True
    cell = row.get(column)
    if metric in ("acc", "harmless_acc"):
        # A column of mixed kinds keeps its majority kind; on a tie text wins, so no boolean is good.
        texts = sum(isinstance(r.get(column), str) for r in rows)
        booleans = sum(isinstance(r.get(column), bool) for r in rows)
        return isinstance(cell, bool) and booleans > texts
    return isinstance(cell, (int, float)) and not isinstance(cell, bool) and math.isfinite(cell)


def _in_slice(row: dict[str, Any], label: str) -> bool:
    if label == "all":
        return True
    return all(row.get(part.split("=", 1)[0]) == part.split("=", 1)[1] for part in label.split(","))


def reference(rows: list[dict[str, Any]], metric: str, label: str) -> tuple[float, int, float | None] | None:
    """(value, n, stderr) of one slice with bad rows dropped; None when the slice has no row of the metric."""
    where = METRICS[metric]["from"].get("where")
    chosen = [r for r in rows if _in_slice(r, label) and (where is None or r.get("kind") == where["equals"])]
    if not chosen:
        return None
    column = METRICS[metric]["from"].get("column")
    cells = [float(r[column]) if column else 1.0 for r in chosen if _good(metric, r, rows)]
    n = len(cells)
    aggregate = METRICS[metric]["from"]["aggregate"]
    if aggregate == "count":
        return float(n), n, None
    if n == 0:
        return math.nan, 0, None
    sd = float(np.std(cells, ddof=1)) if n > 1 else None
    if aggregate == "sum":
        # One example, or examples that all agree, give no spread: an unbounded stderr, never a point. np.std
        # of equal values can be a rounding error above 0, which is still no spread.
        total = math.fsum(cells)
        stderr = math.sqrt(n) * sd if sd else math.inf
        return total, n, (math.inf if stats.no_spread(stderr, total) else stderr)
    if aggregate == "p90":
        return sorted(cells)[math.ceil(0.9 * n) - 1], n, None
    return math.fsum(cells) / n, n, (sd / math.sqrt(n) if sd is not None else None)


def labels(rows: list[dict[str, Any]], slice_by: list[str], cross: list[list[str]]) -> set[str]:
    out = {"all"}
    for column in slice_by:
        out |= {f"{column}={r[column]}" for r in rows if r.get(column) is not None}
    for a, b in cross:
        out |= {f"{a}={r[a]},{b}={r[b]}" for r in rows if r.get(a) is not None and r.get(b) is not None}
    return out


def _unreached_cuts(
    rows: list[dict[str, Any]], metric: str, found: set[str], slice_by: list[str], cross: Any
) -> set[str]:
    """The `col=*` stand-ins: a cut none of whose slices the metric reaches although some of its rows lack
    the cut's value. They are reported missing, so that `"*"` never shrinks to `all`."""
    where = METRICS[metric]["from"].get("where")
    chosen = [r for r in rows if where is None or r.get("kind") == where["equals"]]
    out = set()
    for columns in [[c] for c in slice_by] + [list(pair) for pair in cross]:
        prefix = ",".join(f"{c}=" for c in columns)
        reached = any(label != "all" and [p.split("=", 1)[0] for p in label.split(",")] == columns for label in found)
        absent = any(any(r.get(c) is None for c in columns) for r in chosen)
        if absent and not reached and prefix:
            out.add(",".join(f"{c}=*" for c in columns))
    return out


def assert_matches_reference(results: Results, rows: list[dict[str, Any]], slice_by: list[str], cross: Any) -> None:
    for metric in METRICS:
        got = results.metrics[metric]
        expected_labels = {label for label in labels(rows, slice_by, cross) if reference(rows, metric, label)}
        unreached = _unreached_cuts(rows, metric, expected_labels, slice_by, cross)
        assert set(got) == expected_labels | unreached, metric
        for label in unreached:
            assert got[label].n == 0
            assert "no slice of" in (got[label].problem or ""), (metric, label)
        for label in expected_labels:
            expected = reference(rows, metric, label)
            assert expected is not None
            value, n, stderr = expected
            measured = got[label]
            assert measured.n == n, (metric, label)
            if math.isnan(value):
                assert math.isnan(measured.value)
                assert measured.problem == "every row of this slice is bad"
                continue
            assert measured.value == pytest.approx(value, rel=1e-9, abs=1e-12), (metric, label)
            if stderr is None or math.isinf(stderr):
                assert measured.stderr == stderr, (metric, label)
            else:
                # Deviations from each cell's own mean: a zero variance stays within rounding of zero.
                assert measured.stderr == pytest.approx(stderr, rel=1e-9, abs=1e-12), (metric, label)


# --- generated tables -------------------------------------------------------------------------------------

_slice_value = st.one_of(st.none(), st.sampled_from(["x", "y", "z"]))
_row = st.fixed_dictionaries(
    {
        "task": _slice_value,
        "lang": st.one_of(st.none(), st.sampled_from(["en", "de"])),
        "kind": st.sampled_from(["a", "b"]),
        "correct": st.one_of(st.booleans(), st.booleans(), st.booleans(), st.just("maybe")),
        "score": st.one_of(
            st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 3)),
            st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 3)),
            st.just(math.nan),
        ),
    }
)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(_row, min_size=1, max_size=40), cube=st.booleans(), block=st.sampled_from([1 << 20, 1, 3]))
def test_property_every_slice_matches_a_loop_over_its_rows(rows: list[dict[str, Any]], cube: bool, block: int) -> None:
    slice_by, cross = ["task", "lang"], [["task", "lang"]]
    with pytest.MonkeyPatch.context() as patch:
        if not cube:
            patch.setattr(gatekit.sources.cuts, "_CUBE_MAX_CELLS", 0)
        patch.setattr(gatekit.sources.cuts, "_BLOCK_ROWS", block)  # totals summed over blocks of rows
        results = measure(rows, slice_by=slice_by, slice_cross=cross, drop_invalid=True)

    assert_matches_reference(results, rows, slice_by, cross)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(_row, min_size=1, max_size=30))
def test_property_cube_and_per_cut_counting_agree_exactly_on_problems(rows: list[dict[str, Any]]) -> None:
    spec = {"slice_by": ["lang", "task"], "slice_cross": [["lang", "task"]]}
    with_cube = measure(rows, **spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gatekit.sources.cuts, "_CUBE_MAX_CELLS", 0)
        per_cut = measure(rows, **spec)

    def shown(results: Results) -> dict[tuple[str, str], tuple[Any, ...]]:
        # Values to 12 digits: the two paths add the same numbers in a different order.
        return {
            (metric, label): (f"{m.value:.12g}", m.n, m.problem)
            for metric, slices in results.metrics.items()
            for label, m in slices.items()
        }

    assert shown(with_cube) == shown(per_cut)


# --- single behaviours ------------------------------------------------------------------------------------


def test_a_sum_carries_the_stderr_of_a_sum_and_no_per_example_values() -> None:
    rows = [{"score": v, "correct": True, "kind": "a"} for v in (1.0, 2.0, 3.0, 6.0)]

    total = measure(rows).metrics["cost"]["all"]

    assert (total.value, total.n, total.samples) == (12.0, 4, None)
    assert total.stderr == pytest.approx(math.sqrt(4) * float(np.std([1, 2, 3, 6], ddof=1)))


def test_a_rate_fetches_its_slice_rows_in_row_order_only_when_asked() -> None:
    rows = [
        {"id": f"e{i}", "task": "x" if i % 2 else "y", "correct": i % 3 == 0, "score": 0.0, "kind": "a"}
        for i in range(9)
    ]

    measured = measure(rows, slice_by=["task"]).metrics["acc"]["task=x"]

    assert measured.samples is not None
    assert measured.samples.n == 4
    assert measured.samples.summary().events == 1.0  # e3 only; known without fetching the rows
    assert measured.samples.ids is not None
    assert list(measured.samples.ids) == ["e1", "e3", "e5", "e7"]
    assert list(measured.samples.values) == [0.0, 1.0, 0.0, 0.0]


def test_quantile_samples_are_sorted_with_their_ids() -> None:
    scores = [5.0, 1.0, 4.0, 2.0, 3.0]
    rows = [{"id": f"e{i}", "score": s, "correct": True, "kind": "a"} for i, s in enumerate(scores)]

    measured: Measurement = measure(rows).metrics["p90"]["all"]

    assert measured.samples is not None
    assert list(measured.samples.values) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert measured.samples.ids is not None
    assert list(measured.samples.ids) == ["e1", "e3", "e4", "e2", "e0"]
    assert measured.value == 5.0  # nearest rank: ceil(0.9 * 5) = 5


@pytest.mark.parametrize("block", [1 << 20, 5])
@pytest.mark.parametrize("source", ["arrow-chunks", "parquet-row-groups"])
def test_a_table_in_many_pieces_gives_the_same_slices(source: str, block: int, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gatekit.sources.load import load_results
    from gatekit.sources.table import Table

    rng = np.random.default_rng(5)
    rows = [
        {
            "task": str(rng.choice(["x", "y", "z"])),
            "lang": str(rng.choice(["en", "de"])),
            "kind": str(rng.choice(["a", "b"])),
            "correct": bool(rng.random() < 0.7),
            "score": float(round(rng.normal(), 3)),
        }
        for _ in range(300)
    ]
    spec = make_spec(slice_by=["task"], slice_cross=[["task", "lang"]])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gatekit.sources.columns, "_MIN_CHUNK_ROWS", 1)  # keep every chunk: sums run chunk by chunk
        patch.setattr(gatekit.sources.cuts, "_BLOCK_ROWS", block)  # and, with 5, block by block within each
        if source == "arrow-chunks":
            batches = pa.Table.from_pylist(rows).to_batches(max_chunksize=7)  # 43 chunks per column
            table = Table("rows.parquet", pa.Table.from_batches(batches), first_line=0)
            assert table.data["score"].num_chunks == 43
            measured = table_results(table, spec)
        else:
            path = tmp_path / "rows.parquet"
            pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=7)  # 43 row groups
            measured = load_results(path, spec)

    assert_matches_reference(measured, rows, ["task"], [["task", "lang"]])


def test_two_slices_with_one_name_are_an_error_not_an_overwrite() -> None:
    rows = [{"task": "x,lang=en", "lang": "de", "correct": True, "score": 1.0, "kind": "a"}]
    rows += [{"task": "x", "lang": "en", "correct": False, "score": 0.0, "kind": "a"}]

    with pytest.raises(ResultsError, match=r"slice name 'task=x,lang=en' comes from both task and task x lang"):
        measure(rows, slice_by=["task"], slice_cross=[["task", "lang"]])


def count_square_passes(patch: pytest.MonkeyPatch) -> list[str]:
    """Records which way each metric's squared deviations were taken: 'raw' moments or 'centred'."""
    passes: list[str] = []
    original = gatekit.sources.cuts._weighted_chunks

    def spy(source: Any, column: Any, valid: Any, weights: Any) -> Any:
        if weights.__name__ in ("raw", "centred"):
            passes.append(weights.__name__)
        return original(source, column, valid, weights)

    patch.setattr(gatekit.sources.cuts, "_weighted_chunks", spy)
    return passes


@pytest.mark.parametrize(
    ("offset", "expected_passes", "precision"),
    [
        (0.0, ["raw"], 1e-12),  # spread comparable to the values: raw moments are trusted
        # Values 1e9 from 0 with a spread of a few units: raw moments would keep no correct digit (the
        # rounding of sum(x^2) ~ 1e18 is ~ 1e2); centred ones keep what float64 means of 1e9 allow.
        (1e9, ["raw", "centred"], 1e-6),
    ],
)
def test_a_mean_stderr_keeps_full_precision_whichever_way_the_squares_are_taken(
    offset: float, expected_passes: list[str], precision: float
) -> None:
    scores = [offset + v for v in (1.0, 2.0, 4.0, 7.0, 11.0, 3.0)]
    rows = [{"task": "x" if i % 2 else "y", "score": s, "correct": True, "kind": "a"} for i, s in enumerate(scores)]

    with pytest.MonkeyPatch.context() as patch:
        passes = count_square_passes(patch)
        patch.setattr(gatekit.sources.cuts, "_BLOCK_ROWS", 4)  # each block looks up its own rows' cell means
        measured = measure(rows, slice_by=["task"]).metrics["score"]

    assert passes == expected_passes
    for label, chosen in (("all", scores), ("task=x", scores[1::2]), ("task=y", scores[0::2])):
        spread = [s - offset for s in chosen]  # the same deviations, computed exactly
        assert measured[label].stderr == pytest.approx(
            float(np.std(spread, ddof=1)) / math.sqrt(len(spread)), rel=precision
        ), label


def test_a_slice_of_equal_values_has_no_spread() -> None:
    rows = [{"task": "x", "score": 0.1, "correct": True, "kind": "a"} for _ in range(7)]
    rows += [{"task": "y", "score": v, "correct": True, "kind": "a"} for v in (0.1, 0.2, 0.4)]

    measured = measure(rows, slice_by=["task"]).metrics["score"]["task=x"]

    assert measured.samples is not None
    summary = measured.samples.summary()
    # Rounding of the mean may leave a trace, never more: the intervals read it as no spread (unbounded).
    assert stats.no_spread(summary.stderr, summary.mean)


# --- example ids -----------------------------------------------------------------------------------------


def test_text_ids_reach_the_evaluator_as_fixed_width_text() -> None:
    # Python-object ids make every sort and np.isin of the evaluator a loop over Python strings (numpy's
    # isin on objects compares every pair): 145 s of a 20,000-row paired check. Fixed-width text sorts in C.
    rows = [{"id": f"ex-{i}", "correct": i % 2 == 0, "score": 1.0, "kind": "a"} for i in range(12)]

    ids = measure(rows).metrics["acc"]["all"].samples.ids  # type: ignore[union-attr]

    assert ids is not None
    assert ids.dtype.kind == "U"
    assert ids.tolist() == [f"ex-{i}" for i in range(12)]


@pytest.mark.parametrize(
    "ids",
    [
        ["é1", "é2", "日本"],  # not ASCII: kept exactly
        ["a", "a\x00", "b"],  # a trailing NUL, which fixed-width numpy text would cut off: still three ids
        ["", " ", "  "],  # empty and blank ids are ids
    ],
)
def test_text_ids_keep_their_exact_values(ids: list[str]) -> None:
    rows = [{"id": v, "correct": True, "score": 1.0, "kind": "a"} for v in ids]

    found = measure(rows).metrics["acc"]["all"].samples.ids  # type: ignore[union-attr]

    assert found is not None
    assert [str(v) for v in found] == ids


def test_integer_ids_stay_integers() -> None:
    rows = [{"id": 10 - i, "correct": True, "score": 1.0, "kind": "a"} for i in range(5)]

    found = measure(rows).metrics["acc"]["all"].samples.ids  # type: ignore[union-attr]

    assert found is not None
    assert found.dtype == np.int64
    assert found.tolist() == [10, 9, 8, 7, 6]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["b", "a", "a", "b"], r"duplicate example id 'b' in column 'id' \(rows used by 'acc'\) at line 1 and line 4"),
        (["c", "a", "b", "a"], r"duplicate example id 'a' in column 'id' \(rows used by 'acc'\) at line 2 and line 4"),
        ([3, 1, 2, 1, 3], r"duplicate example id 3 in column 'id' \(rows used by 'acc'\) at line 1 and line 5"),
    ],
)
def test_the_duplicate_id_named_is_the_one_seen_first(ids: list[object], message: str) -> None:
    rows = [{"id": v, "correct": True, "score": 1.0, "kind": "a"} for v in ids]

    with pytest.raises(ResultsError, match=message):
        measure(rows)


def test_ids_repeated_outside_a_metrics_filter_are_not_duplicates_for_it() -> None:
    # `harmless_acc` reads only kind=a rows, where every id is distinct; `acc` reads them all.
    rows = [{"id": v, "correct": True, "score": 1.0, "kind": k} for v, k in [("x", "a"), ("x", "b"), ("y", "a")]]
    spec = make_spec()
    spec = spec.model_copy(update={"metrics": {"harmless_acc": spec.metrics["harmless_acc"]}})

    found = table_results(rows_to_table(rows, "rows.jsonl", first_line=1), spec).metrics["harmless_acc"]["all"]

    assert found.samples is not None
    assert found.samples.ids is not None
    assert found.samples.ids.tolist() == ["x", "y"]


def test_a_repeated_id_that_is_not_ascii_is_named_as_text() -> None:
    rows = [{"id": v, "correct": True, "score": 1.0, "kind": "a"} for v in ["é", "x", "é"]]

    with pytest.raises(ResultsError, match=r"duplicate example id 'é' in column 'id' .* at line 1 and line 3"):
        measure(rows)
