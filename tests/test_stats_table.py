"""Reading a stats table and printing its SQL: every broken table and every rule the contract cannot state exactly
is a located error (exit 2), never a verdict from a guess."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import Run
from tests.stats_support import HYPOTHESIS

SPEC: dict[str, Any] = {
    "version": 1,
    "name": "stats",
    "hypothesis": HYPOTHESIS,
    "metrics": {
        "acc": {"kind": "proportion", "from": {"column": "correct", "aggregate": "rate"}},
        "lat": {"from": {"column": "latency", "aggregate": "p95"}},
    },
    "table": {"slice_by": ["lang"]},
    "gates": [{"id": "acc", "metric": "acc", "min": 0.5}, {"id": "lat", "metric": "lat", "max": 2.0}],
    "rollback": {},
}


def summary(
    metric: str, cut: str, slice_name: str | None, rows: int, bad: int, n: int, events: float | None
) -> dict[str, Any]:
    return {
        "metric": metric,
        "cut": cut,
        "slice": slice_name,
        "rows": rows,
        "bad": bad,
        "n": n,
        "events": events,
        "total": events,
        "m2": None,
        "rank": None,
        "value": None,
    }


def order(metric: str, cut: str, slice_name: str, rank: int, value: float) -> dict[str, Any]:
    return {
        "metric": metric,
        "cut": cut,
        "slice": slice_name,
        "rows": None,
        "bad": None,
        "n": None,
        "events": None,
        "total": None,
        "m2": None,
        "rank": rank,
        "value": value,
    }


def good_rows() -> list[dict[str, Any]]:
    rows = [
        summary("acc", "all", "all", 60, 0, 60, 45.0),
        summary("acc", "lang", "lang=de", 60, 0, 60, 45.0),
        summary("lat", "all", "all", 60, 0, 60, None),
        summary("lat", "lang", "lang=de", 60, 0, 60, None),
    ]
    for slice_name, cut in (("all", "all"), ("lang=de", "lang")):
        rows += [order("lat", cut, slice_name, r, r / 100) for r in range(1, 61)]
    return rows


SCHEMA = pa.schema(
    [
        ("metric", pa.string()),
        ("cut", pa.string()),
        ("slice", pa.string()),
        ("rows", pa.int64()),
        ("bad", pa.int64()),
        ("n", pa.int64()),
        ("events", pa.float64()),
        ("total", pa.float64()),
        ("m2", pa.float64()),
        ("rank", pa.int64()),
        ("value", pa.float64()),
    ]
)


def check(tmp_path: Path, gatekit: Callable[..., Run], rows: list[dict[str, Any]], spec: dict[str, Any] = SPEC) -> Run:
    return check_table(tmp_path, gatekit, pa.Table.from_pylist(rows, schema=SCHEMA), spec)


def check_table(tmp_path: Path, gatekit: Callable[..., Run], table: pa.Table, spec: dict[str, Any] = SPEC) -> Run:
    (tmp_path / "gate.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    pq.write_table(table, tmp_path / "stats.parquet")
    return gatekit(
        "check",
        tmp_path / "gate.yaml",
        "--candidate",
        tmp_path / "stats.parquet",
        "--candidate-format",
        "stats",
        "--no-record",
        "--format",
        "json",
    )


def test_a_well_formed_stats_table_is_gated(tmp_path: Path, gatekit: Callable[..., Run]) -> None:
    result = check(tmp_path, gatekit, good_rows())

    assert (result.code, result.err) == (3, "")  # revise: only the rollback manifest is empty
    assert '"status": "pass"' in result.out


def _replace(rows: list[dict[str, Any]], index: int, **changes: Any) -> list[dict[str, Any]]:
    return [dict(r, **changes) if i == index else r for i, r in enumerate(rows)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (_replace(good_rows(), 0, n=59), "row 1: n (59) plus bad (0) must equal rows (60)"),
        (_replace(good_rows(), 1, bad=-1), "row 2: bad must be a count (0 or more), not -1"),
        (_replace(good_rows(), 0, events=61.0), "row 1: events (61.0) must be a count between 0 and n (60)"),
        (_replace(good_rows(), 0, events=44.5), "row 1: events (44.5) must be a whole count"),
        (_replace(good_rows(), 1, cut="region"), "row 2: cut 'region' is not one of this spec's cuts (all, lang)"),
        (
            [*good_rows(), summary("acc", "lang", "lang=de", 1, 0, 1, 1.0)],
            "row 125: a second summary row for acc on 'lang=de' (first at row 2)",
        ),
        (
            [r for r in good_rows() if r["rank"] != 57 or r["slice"] != "all"],
            "row 3: the order statistics of this slice (n = 60) must cover ranks 1..60; rank 57 is missing",
        ),
        (
            _replace(good_rows(), 10, value=5.0),
            "row 3: the order statistics of this slice do not ascend with their rank",
        ),
        (_replace(good_rows(), 4, value=None), "row 5: the order statistic at rank 1 has no value"),
        (
            [*good_rows(), order("acc", "all", "all", 1, 0.0)],
            "row 125: an order statistic (rank 1) for a metric that is not a quantile",
        ),
        (
            [*good_rows(), order("lat", "all", "all", 61, 9.0)],
            "row 125: rank 61 lies outside this slice's window 1..60",
        ),
    ],
)
def test_a_broken_stats_table_is_an_error_naming_the_row(
    tmp_path: Path, gatekit: Callable[..., Run], rows: list[dict[str, Any]], message: str
) -> None:
    result = check(tmp_path, gatekit, rows)

    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {tmp_path / 'stats.parquet'}: {message}\n"


def test_a_pass_one_table_for_a_quantile_spec_says_which_pass_is_missing(
    tmp_path: Path, gatekit: Callable[..., Run]
) -> None:
    result = check(tmp_path, gatekit, [r for r in good_rows() if r["rank"] is None])

    assert result.code == 2
    assert "was the table made by pass 2 of `gatekit stats-sql`?" in result.err


def test_a_table_without_a_contract_column_names_it(tmp_path: Path, gatekit: Callable[..., Run]) -> None:
    result = check_table(tmp_path, gatekit, pa.table({"metric": ["acc"], "slice": ["all"]}))

    assert result.code == 2
    assert "missing: cut, rows, bad, n, events, total, m2, rank, value" in result.err


def test_a_bad_slice_is_missing_with_its_count(tmp_path: Path, gatekit: Callable[..., Run]) -> None:
    rows = _replace(_replace(good_rows(), 1, bad=3, n=57, events=43.0), 0, bad=3, n=57, events=43.0)

    result = check(tmp_path, gatekit, rows)

    assert result.code == 3
    assert (
        "3 of 60 rows have a bad 'correct' value (3 bad rows in column 'correct'); set table.drop_invalid "
        "to use the rest"
    ) in result.out


REFUSED = [
    ({"table": {"slice_by": ["lang"], "id_column": "id"}}, "table.id_column 'id': pairing by example id"),
    ({"metrics": {"acc": {"from": {"column": "x", "aggregate": "mean"}}}}, "metrics.acc.from.aggregate 'mean'"),
    ({"metrics": {"acc": {"from": {"column": "x", "aggregate": "sum"}}}}, "metrics.acc.from.aggregate 'sum'"),
]


@pytest.mark.parametrize(("change", "named"), REFUSED)
def test_stats_sql_refuses_what_the_contract_cannot_state(
    tmp_path: Path, gatekit: Callable[..., Run], change: dict[str, Any], named: str
) -> None:
    spec = {**SPEC, **change, "gates": [{"id": "acc", "metric": "acc", "min": 0.5}]}
    (tmp_path / "gate.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")

    result = gatekit("stats-sql", tmp_path / "gate.yaml", "--dialect", "spark", "--table", "t")

    assert (result.code, result.out) == (2, "")
    assert f"the stats contract cannot express {named}" in result.err


@pytest.mark.parametrize(("change", "named"), REFUSED)
def test_check_refuses_a_stats_table_for_what_the_contract_cannot_state(
    tmp_path: Path, gatekit: Callable[..., Run], change: dict[str, Any], named: str
) -> None:
    spec = {**SPEC, **change, "gates": [{"id": "acc", "metric": "acc", "min": 0.5}]}

    result = check(tmp_path, gatekit, good_rows(), spec)

    assert (result.code, result.out) == (2, "")
    assert f"this spec cannot be checked from a stats table: {named}" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dialect", "oracle", "--table", "t"], "unknown --dialect 'oracle'; choose one of: duckdb, spark"),
        (["--dialect", "spark"], "name the per-example table with --table NAME"),
    ],
)
def test_stats_sql_usage_errors(tmp_path: Path, gatekit: Callable[..., Run], args: list[str], message: str) -> None:
    (tmp_path / "gate.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")

    result = gatekit("stats-sql", tmp_path / "gate.yaml", *args)

    assert (result.code, result.out) == (2, "")
    assert message in result.err


def test_stats_sql_says_a_quantile_spec_needs_pass_two(tmp_path: Path, gatekit: Callable[..., Run]) -> None:
    (tmp_path / "gate.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")

    result = gatekit("stats-sql", tmp_path / "gate.yaml", "--dialect", "duckdb", "--table", "t")

    assert result.code == 0
    assert "GROUP BY GROUPING SETS ((), (s0))" in result.out
    assert "row_number()" not in result.out
    assert "--counts RESULT (pass 2)" in result.err


def test_spark_text_literals_escape_quotes_with_backslashes() -> None:
    from gatekit.sources.stats_sql import _text

    assert (_text("it's", "spark"), _text("it's", "duckdb"), _text("a\\b", "spark")) == (
        "'it\\'s'",
        "'it''s'",
        "'a\\\\b'",
    )
