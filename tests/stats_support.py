"""Shared by the stats-contract tests: random per-example tables, a spec over them, and the verdict JSON of the
local path and of the stats path (the printed SQL run by an engine) side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from gatekit.cli import main

RunSql = Callable[[str, Path], None]
"""Runs a query (whose per-example table is named `examples`) over a Parquet file and writes the result to a
Parquet file: (sql with the table name, output path)."""

HYPOTHESIS = {"statement": "s", "stage": "other", "improves": "acc", "owner": "o", "written": "2026-01-01"}

METRICS: dict[str, Any] = {
    "acc": {"kind": "proportion", "higher_is_better": True, "from": {"column": "correct", "aggregate": "rate"}},
    "acc_de": {
        "kind": "proportion",
        "higher_is_better": True,
        "from": {"column": "correct", "aggregate": "rate", "where": {"column": "lang", "equals": "de"}},
    },
    "lat": {"higher_is_better": False, "from": {"column": "latency", "aggregate": "p95"}},
    "lat50": {"higher_is_better": False, "from": {"column": "latency", "aggregate": "p50"}},
    "answered": {"kind": "count", "from": {"aggregate": "count", "where": {"column": "tool", "equals": True}}},
}

GATES: list[dict[str, Any]] = [
    {"id": "acc-floor", "metric": "acc", "slices": ["*"], "min": 0.55},
    {"id": "acc-drop", "metric": "acc", "slices": ["*"], "max_decrease": 0.08},
    {"id": "acc-de-drop", "metric": "acc_de", "max_decrease_pct": 15},
    {"id": "lat-ceiling", "metric": "lat", "slices": ["*"], "max": 3.2},
    {"id": "lat-growth", "metric": "lat", "slices": ["*"], "max_increase_pct": 25},
    {"id": "lat50-growth", "metric": "lat50", "max_increase": 0.3},
    {"id": "answered", "metric": "answered", "min": 10},
]


def write_spec(folder: Path, *, drop_invalid: bool = False, crosses: bool = True) -> Path:
    document = {
        "version": 1,
        "name": "stats",
        "hypothesis": HYPOTHESIS,
        "metrics": METRICS,
        "table": {
            "slice_by": ["lang", "region"],
            "slice_cross": [["lang", "region"]] if crosses else [],
            "drop_invalid": drop_invalid,
        },
        "gates": GATES,
        "rollback": {},
    }
    path = folder / "gate.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def random_table(seed: int, rows: int, *, shift: float = 0.0, dirty: bool = True, in_order: bool = True) -> pa.Table:
    """Slices of skewed sizes (a string and an integer column, with nulls and empty text when dirty), 0/1
    scores, latencies with ties, NaN, null (a timeout) and +inf, and a boolean filter column."""
    rng = np.random.default_rng(seed)
    langs = rng.choice(["en", "de", "fr", "ja", "it's"], size=rows, p=[0.5, 0.25, 0.15, 0.07, 0.03])
    lang: list[str | None] = list(langs)
    region = rng.integers(1, 4, size=rows)
    correct = (rng.random(rows) < 0.75 - shift).astype(np.float64)
    latency = np.round(rng.lognormal(0.0 + shift, 0.5, rows), 2)  # rounded: ties
    tool = rng.random(rows) < 0.4
    latency_cells: list[float | None] = latency.tolist()
    correct_cells: list[float | None] = correct.tolist()
    region_cells: list[int | None] = region.tolist()
    if dirty:
        for i in rng.choice(rows, size=max(1, rows // 200), replace=False):
            latency_cells[i] = [None, float("inf"), float("nan")][int(i) % 3]
        for i in rng.choice(rows, size=max(1, rows // 300), replace=False):
            correct_cells[i] = [None, float("nan")][int(i) % 2]
        for i in rng.choice(rows, size=max(1, rows // 400), replace=False):
            lang[i] = [None, ""][int(i) % 2]
        for i in rng.choice(rows, size=max(1, rows // 500), replace=False):
            region_cells[i] = None
    table = pa.table(
        {
            "lang": pa.array(lang, pa.string()),
            "region": pa.array(region_cells, pa.int64()),
            "correct": pa.array(correct_cells, pa.float64()),
            "latency": pa.array(latency_cells, pa.float64()),
            "tool": pa.array(tool.tolist(), pa.bool_()),
        }
    )
    if not in_order:
        return table
    # In slice order (rows without a slice value last), the local path lists slices in the order of their
    # names, as the stats path does.
    absent = [lang[i] in (None, "") or region_cells[i] is None for i in range(rows)]
    keyed = table.append_column("absent", pa.array(absent))
    ordered = keyed.sort_by([("absent", "ascending"), ("lang", "ascending"), ("region", "ascending")])
    return ordered.drop_columns(["absent"])


def gatekit(*args: str | Path) -> int:
    return main([str(a) for a in args])


def stats_sql(spec: Path, dialect: str, *extra: str | Path) -> str:
    """The SQL `gatekit stats-sql` prints (read from its output file descriptor by the caller's capsys)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = gatekit("stats-sql", spec, "--dialect", dialect, "--table", "examples", *extra)
    assert code == 0
    return out.getvalue()


def engine_stats(spec: Path, dialect: str, examples: Path, out: Path, run_sql: RunSql) -> None:
    """The two passes, as a user runs them: pass 1 to a file, pass 2 printed from it, its result the stats table."""
    counts = out.with_name(out.stem + "-counts.parquet")
    run_sql(stats_sql(spec, dialect), counts)
    run_sql(stats_sql(spec, dialect, "--counts", counts), out)


def verdict_json(folder: Path, spec: Path, *formats: str) -> tuple[int, str, str]:
    """`gatekit check --format json` run in `folder` on its cand.parquet and base.parquet."""
    import contextlib
    import io
    import os

    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = gatekit(
                "check",
                spec,
                "--candidate",
                "cand.parquet",
                "--baseline",
                "base.parquet",
                "--format",
                "json",
                "--no-record",
                *formats,
            )
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def both_verdicts(
    tmp: Path, spec: Path, tables: tuple[pa.Table, pa.Table], dialect: str, run_sql: RunSql
) -> tuple[str, str]:
    """The verdict JSON from the per-example tables (local path) and from the engine's stats tables."""
    local, remote = tmp / "local", tmp / "stats"
    local.mkdir()
    remote.mkdir()
    for name, table in zip(("cand", "base"), tables, strict=True):
        pq.write_table(table, local / f"{name}.parquet")
        engine_stats(spec, dialect, local / f"{name}.parquet", remote / f"{name}.parquet", run_sql)
    code_local, local_json, local_err = verdict_json(local, spec)
    code_stats, stats_json, stats_err = verdict_json(
        remote, spec, "--candidate-format", "stats", "--baseline-format", "stats"
    )
    assert (code_stats, stats_err) == (code_local, local_err), (code_stats, stats_err, code_local, local_err)
    return local_json, stats_json


def decisions(verdict: str) -> list[tuple[Any, ...]]:
    """What a verdict decides, gate by gate and slice by slice, without the wording of problems."""
    data = json.loads(verdict)
    return [data["verdict"], *sorted((g["id"], g["slice"], g["bound"], g["status"]) for g in data["gates"])]
