"""The stats contract on DuckDB: the SQL `gatekit stats-sql` prints, run on per-example Parquet files, gives a
stats table from which `gatekit check` reaches the very verdict the local path reaches on the same files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stats_support import both_verdicts, decisions, random_table, write_spec

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


@pytest.mark.parametrize("seed", [1, 2, 3])
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
