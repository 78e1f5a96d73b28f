"""UK AISI Inspect eval logs: `.json` (one EvalLog document) and `.eval` (a ZIP of header.json + samples/).

Aggregate metrics: `results.scores[i]` gives metrics named `<score>/<metric>` (e.g. `match/accuracy`) on
slice `all`; the sibling `stderr` metric is the stderr, and n is `scored_samples` (else `completed_samples`).
Per-sample rows (columns `id`, `epoch`, `score.<scorer>`, `total_time`, `working_time`, `metadata.<key>`)
feed the spec's derived metrics, so sample metadata can be slices (`slice_by: [metadata.subject]`).

Corners handled: a log whose `status` is not "success" (error, cancelled, started) is not gateable: every
measurement carries the problem. Score values "C"/"I"/"P"/"N" map to 1/0/0.5/0; an unscored sample is NaN,
which is a counted bad row, never a silent zero.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results
from gatekit.spec.jsonio import DuplicateJsonKeyError, loads_strict
from gatekit.spec.model import Spec

NAME = "inspect"
SCORE_VALUES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def detect(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("eval"), dict) and "task" in data["eval"] and "status" in data


def _read_eval_zip(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "header.json" not in names:
                raise ResultsError.at("not an Inspect .eval log (no header.json in the archive)", str(path))
            log = loads_strict(archive.read("header.json"))
            log["samples"] = [
                loads_strict(archive.read(name))
                for name in sorted(names)
                if name.startswith("samples/") and name.endswith(".json")
            ]
            return dict(log)
    except (zipfile.BadZipFile, json.JSONDecodeError, DuplicateJsonKeyError, KeyError) as e:
        raise ResultsError.at(f"not a readable Inspect .eval log: {e}", str(path)) from None


def _score(value: Any) -> float | None:
    if isinstance(value, str):
        return SCORE_VALUES.get(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def sample_rows(log: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for sample in log.get("samples") or []:
        if not isinstance(sample, dict):
            continue
        row: dict[str, Any] = {
            "id": f"{sample.get('id')}" + (f"#{sample['epoch']}" if sample.get("epoch", 1) != 1 else ""),
            "epoch": sample.get("epoch"),
            "total_time": sample.get("total_time"),
            "working_time": sample.get("working_time"),
        }
        for scorer, score in (sample.get("scores") or {}).items():
            value = _score(score.get("value") if isinstance(score, dict) else score)
            row[f"score.{scorer}"] = math.nan if value is None else value
        for key, value in (sample.get("metadata") or {}).items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                row[f"metadata.{key}"] = value
        rows.append(row)
    return rows


def load(path: Path, data: Any, spec: Spec | None) -> Results:
    source = str(path)
    log = _read_eval_zip(path) if data is None else data
    if not detect(log):
        raise ResultsError.at("not an Inspect eval log (no `eval.task` and `status`)", source)
    status = log.get("status")
    problem = None if status == "success" else f"the Inspect log's status is {status!r}, not 'success'"
    results = log.get("results") or {}
    metrics: dict[str, dict[str, Measurement]] = {}
    default_n = results.get("completed_samples")
    for score in results.get("scores") or []:
        if not isinstance(score, dict):
            continue
        n = score.get("scored_samples", default_n)
        named = score.get("metrics") or {}
        stderr_entry = named.get("stderr")
        stderr = stderr_entry.get("value") if isinstance(stderr_entry, dict) else None
        for metric_name, entry in named.items():
            if metric_name == "stderr" or not isinstance(entry, dict):
                continue
            value = entry.get("value")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            se = float(stderr) if isinstance(stderr, (int, float)) and math.isfinite(stderr) else None
            count = n if isinstance(n, int) and not isinstance(n, bool) else None
            metrics[f"{score.get('name')}/{metric_name}"] = {"all": Measurement(float(value), count, se, None, problem)}
    model = str((log.get("eval") or {}).get("model") or path.stem)
    rows = sample_rows(log)
    if spec is not None and rows and any(d.from_ is not None for d in spec.metrics.values()):
        from gatekit.sources.aggregate import table_columns, table_results
        from gatekit.sources.rows import rows_to_table

        present = set().union(*rows)
        table = rows_to_table(rows, source, table_columns(spec, present))
        derived = table_results(table, spec, model=model, extra=metrics)
        if problem is not None:
            derived = _with_problem(derived, problem)
        return derived
    return Results(source=source, model=model, metrics=metrics)


def _with_problem(results: Results, problem: str) -> Results:
    from dataclasses import replace

    metrics = {
        metric: {name: replace(m, problem=m.problem or problem) for name, m in slices.items()}
        for metric, slices in results.metrics.items()
    }
    return replace(results, metrics=metrics)
