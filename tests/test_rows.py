"""Per-example tables (JSONL, CSV, Parquet): derived metrics per slice, bad rows, damaged files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.errors import ResultsError
from gatekit.results import Results
from gatekit.sources.adapters.common import minimal_spec
from gatekit.sources.load import load_results
from gatekit.spec.model import Spec

METRICS = {
    "acc": {"from": {"column": "correct", "aggregate": "rate"}},
    "latency_p50": {"from": {"column": "latency_ms", "aggregate": "p50"}},
}


def make_spec(metrics: dict[str, Any] | None = None, **table: Any) -> Spec:
    data = minimal_spec().model_dump(mode="python", by_alias=True, exclude_defaults=True)
    return Spec.model_validate({**data, "version": 1, "metrics": metrics or METRICS, "table": table})


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(tmp_path: Path, rows: list[dict[str, Any]], tail: str = "") -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail, encoding="utf-8")
    return path


def values(results: Results, metric: str) -> dict[str, tuple[float, int | None]]:
    return {name: (m.value, m.n) for name, m in results.metrics[metric].items()}


CSV = "id,task,correct,latency_ms\n1,NA,true,100\n2,NA,false,200\n3,None,true,300\n4,None,1,400\n5,NA,0,500\n"


def test_csv_rate_per_slice_keeps_na_and_none_as_names(tmp_path: Path) -> None:
    results = load_results(write_csv(tmp_path, CSV), make_spec(slice_by=["task"]))
    assert values(results, "acc") == {"all": (0.6, 5), "task=NA": (pytest.approx(1 / 3), 3), "task=None": (1.0, 2)}


def test_p50_is_nearest_rank(tmp_path: Path) -> None:
    results = load_results(write_csv(tmp_path, CSV), make_spec())
    assert results.metrics["latency_p50"]["all"].value == 300.0


def test_quantile_with_too_few_examples_is_unusable(tmp_path: Path) -> None:
    results = load_results(write_csv(tmp_path, CSV), make_spec(slice_by=["task"]))
    assert results.metrics["latency_p50"]["task=None"].problem == (
        "p50 needs at least 5 examples for a distribution-free bound; this slice has 2"
    )


def test_ids_fill_samples(tmp_path: Path) -> None:
    samples = load_results(write_csv(tmp_path, CSV), make_spec(slice_by=["task"])).metrics["acc"]["task=None"].samples
    assert samples is not None
    assert samples.values.tolist() == [1.0, 1.0]
    assert samples.ids is not None
    assert samples.ids.tolist() == ["3", "4"]


@pytest.mark.parametrize("cell", ["nan", "inf", "1_000", " 0.9 ", "+1", "0x10", "1e400x"])
def test_csv_non_canonical_number_is_a_bad_row(tmp_path: Path, cell: str) -> None:
    path = write_csv(tmp_path, f"correct,latency_ms\ntrue,{cell}\ntrue,5\n")
    measurement = load_results(path, make_spec()).metrics["latency_p50"]["all"]
    assert measurement.problem is not None
    assert "1 of 2 rows has a bad 'latency_ms' value" in measurement.problem


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("yes", "not a boolean"), ("2", "not a boolean"), ("", "null or empty")],
)
def test_csv_bad_boolean_is_counted_with_reason(tmp_path: Path, cell: str, reason: str) -> None:
    path = write_csv(tmp_path, f"correct,latency_ms\n{cell},1\ntrue,2\n")
    measurement = load_results(path, make_spec()).metrics["acc"]["all"]
    assert measurement.problem is not None
    assert f"(1 bad row in column 'correct' (1 {reason}" in measurement.problem


def test_bad_rows_dropped_only_when_spec_opts_in_and_counted(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "correct,latency_ms\nyes,1\ntrue,2\nfalse,3\n")
    results = load_results(path, make_spec(drop_invalid=True))
    assert (results.metrics["acc"]["all"].value, results.metrics["acc"]["all"].n) == (0.5, 2)
    assert results.notes == (
        f"{path}: acc: dropped 1 bad row in column 'correct' (1 not a boolean (true/false or 0/1); "
        "first at line 2) (drop_invalid)",
    )


def test_negative_value_in_non_negative_column_is_bad(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "correct,latency_ms\ntrue,-1\n")
    spec = make_spec({"lat": {"from": {"column": "latency_ms", "aggregate": "mean"}}}, non_negative=["latency_ms"])
    problem = load_results(path, spec).metrics["lat"]["all"].problem
    assert problem is not None
    assert "1 negative" in problem


def test_missing_slice_value_makes_that_dimension_unusable(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "task,correct,latency_ms\na,true,1\n,true,2\n")
    acc = load_results(path, make_spec(slice_by=["task"])).metrics["acc"]
    assert acc["all"].problem is None
    assert acc["task=a"].problem == "1 row has no 'task' value (first at line 3)"


def test_where_filter_and_crossed_slices(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "task,lang,category,refused\nx,en,harmless,true\nx,de,harmless,false\nx,en,harmful,true\ny,en,harmless,false\n",
    )
    metrics = {
        "refusal": {
            "from": {"column": "refused", "aggregate": "rate", "where": {"column": "category", "equals": "harmless"}}
        }
    }
    results = load_results(path, make_spec(metrics, slice_cross=[["task", "lang"]]))
    assert values(results, "refusal") == {
        "all": (pytest.approx(1 / 3), 3),
        "task=x,lang=en": (1.0, 1),
        "task=x,lang=de": (0.0, 1),
        "task=y,lang=en": (0.0, 1),
    }


def test_count_and_sum(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "cost\n0.5\n0.25\n")
    metrics = {"rows": {"from": {"aggregate": "count"}}, "spent": {"from": {"column": "cost", "aggregate": "sum"}}}
    results = load_results(path, make_spec(metrics))
    assert (results.metrics["rows"]["all"].value, results.metrics["spent"]["all"].value) == (2.0, 0.75)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a,a\n1,2\n", 1, "column 'a' appears twice in the header"),
        ("correct,latency_ms\ntrue,1\ntrue\n", 3, "expected 2 cells, found 1"),
    ],
)
def test_damaged_csv_is_an_error_with_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    with pytest.raises(ResultsError) as caught:
        load_results(write_csv(tmp_path, text), make_spec({"x": {"from": {"aggregate": "count"}}}))
    assert (caught.value.diagnostics[0].line, caught.value.diagnostics[0].message) == (line, message)


ROW = {"correct": True, "latency_ms": 1.0}


@pytest.mark.parametrize(
    ("tail", "line", "start"),
    [
        ('{"correct": true, "lat', 3, "truncated last line"),
        ("\n" + json.dumps(ROW) + "\n", 3, "blank line"),
        ('{"correct": true, "correct": false}\n', 3, "key 'correct' appears twice"),
        ("[1, 2]\n", 3, "expected a JSON object"),
    ],
)
def test_damaged_jsonl_is_an_error_with_line(tmp_path: Path, tail: str, line: int, start: str) -> None:
    path = write_jsonl(tmp_path, [ROW, ROW], tail)
    with pytest.raises(ResultsError) as caught:
        load_results(path, make_spec())
    assert caught.value.diagnostics[0].line == line
    assert caught.value.diagnostics[0].message.startswith(start)


def test_jsonl_mixed_types_count_as_bad_rows(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, [ROW, {"correct": "yes", "latency_ms": 2.0}, ROW])
    problem = load_results(path, make_spec()).metrics["acc"]["all"].problem
    assert problem is not None
    assert "1 of 3 rows has a bad 'correct' value" in problem


def test_jsonl_nan_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"correct": true, "latency_ms": NaN}\n{"correct": true, "latency_ms": 1}\n', encoding="utf-8")
    problem = load_results(path, make_spec()).metrics["latency_p50"]["all"].problem
    assert problem is not None
    assert "1 NaN" in problem


def test_null_latency_is_a_timeout_counted_as_slowest(tmp_path: Path) -> None:
    rows = [{"correct": True, "latency_ms": v} for v in (1.0, 2.0, None, 4.0, None)]
    measurement = load_results(write_jsonl(tmp_path, rows), make_spec()).metrics["latency_p50"]["all"]
    assert (measurement.value, measurement.problem) == (4.0, None)


def test_duplicate_id_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "id,correct,latency_ms\n7,true,1\n7,false,2\n")
    with pytest.raises(
        ResultsError, match=r"duplicate example id '7' in column 'id' \(rows used by 'acc'\) at line 2 and line 3"
    ):
        load_results(path, make_spec())


def test_absent_column_is_an_error_with_hint(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "corect,latency_ms\ntrue,1\n")
    with pytest.raises(ResultsError, match=r"column 'correct' is not in the table \(did you mean 'corect'\?\)"):
        load_results(path, make_spec())


def test_parquet_reads_dictionary_slices(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    table = pa.table(
        {"task": ["a", "b", "a", None], "correct": [True, False, True, True], "latency_ms": [1.0, 2.0, 3.0, 4.0]}
    )
    pq.write_table(table, path)
    acc = load_results(path, make_spec(slice_by=["task"], drop_invalid=True)).metrics["acc"]
    assert {k: (m.value, m.n) for k, m in acc.items()} == {
        "all": (1.0 * 3 / 4, 4),
        "task=a": (1.0, 2),
        "task=b": (0.0, 1),
    }


cells = st.one_of(
    st.booleans(),
    st.sampled_from([0, 1, 2, -1, 0.5]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.text(max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, min_size=1, max_size=12))
def test_property_a_rate_is_usable_only_when_every_cell_is_a_boolean(
    tmp_path_factory: pytest.TempPathFactory, column: list[Any]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    path = tmp / "rows.jsonl"
    path.write_text("".join(json.dumps({"correct": c, "latency_ms": 1.0}) + "\n" for c in column), encoding="utf-8")
    measurement = load_results(path, make_spec()).metrics["acc"]["all"]
    # Clean: all JSON booleans, or all 0/1 numbers. A column that mixes the two is treated as bad rows (fail
    # closed): hypothesis found [False, 0], which the reader flags rather than guesses about.
    all_bools = all(isinstance(c, bool) for c in column)
    all_01 = all(type(c) in (int, float) and c in (0, 1) for c in column)
    clean = all_bools or all_01
    if clean:
        assert measurement.problem is None
        assert math.isfinite(measurement.value)
    else:
        assert measurement.problem is not None


# --- Arrow to numpy without pyarrow's pandas conversion -----------------------------------------------------


ARROW_ARRAYS = [
    pa.array([1.5, -2.0, 3.25], pa.float64()),
    pa.array([1.5, -2.0, 3.25], pa.float32()),
    pa.array([1, -2, 3], pa.int8()),
    pa.array([1, -2, 300], pa.int16()),
    pa.array([1, -2, 70_000], pa.int32()),
    pa.array([1, -2, 2**40], pa.int64()),
    pa.array([1, 2, 255], pa.uint8()),
    pa.array([1, 2, 2**63], pa.uint64()),
    pa.array([True, False, True, True, False, False, True, False, True, True, False], pa.bool_()),
    pa.array(["a", "b", "c"]),  # not fixed-width: through pyarrow
]


@pytest.mark.parametrize("array", ARROW_ARRAYS, ids=lambda a: str(a.type))
@pytest.mark.parametrize("offset", [0, 1, 2])
def test_to_numpy_matches_pyarrow_at_any_offset(array: pa.Array, offset: int) -> None:
    from gatekit.sources.arrow import to_numpy

    sliced = array.slice(offset)  # a slice keeps the buffers and moves the offset, bits included

    got = to_numpy(sliced)

    assert got.tolist() == sliced.to_pylist()
    assert got.dtype == sliced.to_numpy(zero_copy_only=False).dtype


@pytest.mark.parametrize("chunks", [[], [[1.0, 2.0]], [[1.0], [], [2.0, 3.0]]])
def test_to_numpy_joins_chunks_in_order(chunks: list[list[float]]) -> None:
    from gatekit.sources.arrow import to_numpy

    got = to_numpy(pa.chunked_array(chunks, pa.float64()))

    assert got.tolist() == [v for chunk in chunks for v in chunk]
    assert got.dtype == np.float64


def test_a_nullable_number_column_reads_its_nulls_as_bad_rows_not_values(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"correct": [True, None, False, True], "latency_ms": [1.0, 2.0, None, 4.0]}), path)
    metrics = {"acc": {"from": {"column": "correct", "aggregate": "rate"}}}

    measured = load_results(path, make_spec(metrics, drop_invalid=True)).metrics["acc"]["all"]

    assert (measured.value, measured.n) == (2 / 3, 3)


def test_a_table_check_imports_neither_pandas_nor_pyarrow_compute(tmp_path: Path) -> None:
    # pyarrow's read_table, to_numpy and pa.array import pandas when it is installed (0.2 s of start-up per
    # check), and pyarrow.compute builds a wrapper for each of its functions on import (0.08 s). The table
    # has what takes each detour: a text and an integer slice column, booleans, integers, nulls, integer ids.
    path = tmp_path / "rows.parquet"
    pq.write_table(
        pa.table(
            {
                "id": list(range(80)),
                "task": ["a", "b", None, "c"] * 20,
                "tier": [1, 2] * 40,
                "correct": [True, False] * 40,
                "latency_ms": [float(i) for i in range(79)] + [None],
                "tokens": list(range(80)),
            }
        ),
        path,
    )
    metrics = {**METRICS, "tokens": {"from": {"column": "tokens", "aggregate": "mean"}, "higher_is_better": False}}
    spec = make_spec(metrics, slice_by=["task", "tier"], drop_invalid=True).model_dump(mode="json", by_alias=True)
    probe = (
        "import sys; from gatekit.sources.load import load_results; from gatekit.spec.model import Spec; "
        f"r = load_results({str(path)!r}, Spec.model_validate({spec!r})); "
        "print(sorted(r.metrics['tokens']), 'pandas' in sys.modules, 'pyarrow.compute' in sys.modules)"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "['all', 'task=a', 'task=b', 'task=c', 'tier=1', 'tier=2'] False False"


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, 1, 2]),
        np.array([3, 1, 2], dtype=np.uint16),
        np.array([0.5, -1.0]),
        np.arange(10)[::3],
        np.array(["x", "y"]),
    ],
    ids=["int64", "uint16", "float64", "strided", "text"],
)
def test_from_numpy_round_trips(values: np.ndarray) -> None:
    from gatekit.sources.arrow import from_numpy

    assert from_numpy(values).to_pylist() == values.tolist()
