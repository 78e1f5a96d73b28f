"""The stats contract on DuckDB: the SQL `gatekit stats-sql` prints, run on per-example Parquet files, gives a
stats table from which `gatekit check` reaches the very verdict the local path reaches on the same files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.stats_support import both_verdicts, decisions, engine_stats, random_table, write_spec

duckdb = pytest.importorskip("duckdb")


def run_duckdb(sql: str, out: Path, examples: Path) -> None:
    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW examples AS SELECT * FROM read_parquet('{examples}')")
        connection.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")


def runner(tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(sql: str, out: Path) -> None:
        # Pass 1 and pass 2 of a side read the per-example file next to its stats file's name.
        side = out.name.split("-")[0].removesuffix(".parquet")
        run_duckdb(sql, out, tmp_path / "local" / f"{side}.parquet")

    return run


@pytest.mark.parametrize("seed", [1, 2])
def test_clean_tables_give_a_byte_identical_verdict(tmp_path: Path, seed: int) -> None:
    spec = write_spec(tmp_path)
    tables = random_table(seed, 3000, dirty=False), random_table(seed + 100, 2600, shift=0.03, dirty=False)

    local, stats = both_verdicts(tmp_path, spec, tables, "duckdb", runner(tmp_path))

    assert stats == local


def without_notes(verdict: str) -> dict[str, object]:
    data = json.loads(verdict)
    data.pop("notes")
    return data


@pytest.mark.parametrize("seed", [4, 5])
def test_bad_cells_and_missing_slice_values_are_missing_on_both_paths(tmp_path: Path, seed: int) -> None:
    spec = write_spec(tmp_path)
    tables = random_table(seed, 2500), random_table(seed + 100, 2400, shift=0.02)

    local, stats = both_verdicts(tmp_path, spec, tables, "duckdb", runner(tmp_path))

    assert decisions(stats) == decisions(local)
    missing = [g for g in json.loads(stats)["gates"] if g["status"] == "missing"]
    assert {g["metric"] for g in missing} == {"acc", "acc_de", "lat", "lat50"}


def test_under_drop_invalid_the_verdicts_agree_but_for_the_notes_wording(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, drop_invalid=True)
    tables = random_table(6, 2500), random_table(106, 2400, shift=0.02)

    local, stats = both_verdicts(tmp_path, spec, tables, "duckdb", runner(tmp_path))

    assert without_notes(stats) == without_notes(local)
    assert len(json.loads(stats)["notes"]) == len(json.loads(local)["notes"]) > 0


def test_a_table_out_of_slice_order_gives_the_same_outcomes_listed_by_slice_name(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    tables = (
        random_table(7, 2500, dirty=False, in_order=False),
        random_table(8, 2500, shift=0.02, dirty=False, in_order=False),
    )

    local, stats = both_verdicts(tmp_path, spec, tables, "duckdb", runner(tmp_path))

    def by_slice(verdict: str) -> list[str]:
        return sorted(json.dumps(g, sort_keys=True) for g in json.loads(verdict)["gates"])

    assert by_slice(stats) == by_slice(local)
    assert json.loads(stats)["verdict"] == json.loads(local)["verdict"]


def measurements_of(results: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    """What the evaluator reads of each measurement: value (NaN as None), n, whether it has a problem, the rate's
    summary, and the order statistics a quantile's bounds read."""
    from gatekit.sources.stats_sql import QUANTILE_LEVELS
    from gatekit.stats import quantile_rank_span

    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    for metric, slices in results.metrics.items():
        for name, m in slices.items():
            value = None if math.isnan(m.value) else m.value
            extra: tuple[Any, ...] = ()
            if m.samples is not None and metric.startswith("acc") and m.n:
                extra = (m.samples.summary(),)
            if m.samples is not None and metric in ("lat", "lat50") and m.n:
                q = QUANTILE_LEVELS["p95" if metric == "lat" else "p50"]
                first, last = quantile_rank_span(m.n, q, 1 - 1e-6 / 2)
                order = m.samples.order_statistics()
                extra = tuple(order.at(r) for r in range(first, last + 1))
            out[(metric, name)] = (value, m.n, m.problem is not None, *extra)
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 400), dirty=st.booleans(), drop_invalid=st.booleans())
def test_the_stats_table_gives_the_measurements_of_the_local_path(
    tmp_path_factory: pytest.TempPathFactory, seed: int, rows: int, dirty: bool, drop_invalid: bool
) -> None:
    from gatekit.sources.load import load_results, load_spec

    tmp = tmp_path_factory.mktemp("stats")
    spec_path = write_spec(tmp, drop_invalid=drop_invalid)
    spec = load_spec(spec_path, baseline_given=True).spec
    (tmp / "local").mkdir()
    examples = tmp / "local" / "cand.parquet"
    pq.write_table(random_table(seed, rows, dirty=dirty, in_order=False), examples)
    engine_stats(spec_path, "duckdb", examples, tmp / "cand.parquet", runner(tmp))

    local = load_results(examples, spec)
    stats = load_results(tmp / "cand.parquet", spec, "stats")

    assert measurements_of(stats) == measurements_of(local)


def test_a_stats_table_in_csv_gives_the_outcomes_of_the_local_path(tmp_path: Path) -> None:
    from gatekit.api import check

    spec = write_spec(tmp_path)
    (tmp_path / "local").mkdir()
    for name, table in (("cand", random_table(9, 2500, dirty=False)), ("base", random_table(10, 2500, dirty=False))):
        pq.write_table(table, tmp_path / "local" / f"{name}.parquet")
        engine_stats(
            spec, "duckdb", tmp_path / "local" / f"{name}.parquet", tmp_path / f"{name}.parquet", runner(tmp_path)
        )
        with duckdb.connect() as connection:  # the same stats, as CSV (inf written as text)
            connection.execute(f"COPY (FROM read_parquet('{tmp_path / name}.parquet')) TO '{tmp_path / name}.csv'")

    local = check(spec, candidate=tmp_path / "local" / "cand.parquet", baseline=tmp_path / "local" / "base.parquet")
    stats = check(
        spec,
        candidate=tmp_path / "cand.csv",
        baseline=tmp_path / "base.csv",
        candidate_format="stats",
        baseline_format="stats",
    )

    assert stats.gates == local.gates


def test_without_quantiles_pass_one_is_the_whole_stats_table(tmp_path: Path) -> None:
    import yaml

    from gatekit.api import check
    from tests.stats_support import HYPOTHESIS, stats_sql

    spec = tmp_path / "gate.yaml"
    document = {
        "version": 1,
        "name": "rates",
        "hypothesis": HYPOTHESIS,
        "rollback": {},
        "metrics": {"acc": {"kind": "proportion", "from": {"column": "correct", "aggregate": "rate"}}},
        "gates": [{"id": "acc", "metric": "acc", "min": 0.6}],
    }
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    (tmp_path / "local").mkdir()
    pq.write_table(random_table(3, 500, dirty=False), tmp_path / "local" / "cand.parquet")
    runner(tmp_path)(stats_sql(spec, "duckdb"), tmp_path / "cand.parquet")

    local = check(spec, candidate=tmp_path / "local" / "cand.parquet")
    stats = check(spec, candidate=tmp_path / "cand.parquet", candidate_format="stats")

    assert stats.gates == local.gates
    assert [g.status for g in stats.gates] == ["pass"]
