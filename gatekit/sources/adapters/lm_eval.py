"""EleutherAI lm-evaluation-harness: `results_<timestamp>.json` and the per-sample `samples_<task>_*.jsonl`.

Results file (v0.4): `results[task]["acc,none"]` with `"acc_stderr,none"` beside it; groups appear in both
`results` and `groups`. Mapping, and the format's corners it handles:

* metric = the whole `metric,filter` key (`exact_match,strict-match`): the key is split on its LAST comma and
  every filter is kept as its own metric, so a filter is never picked silently; v0.3 keys have no filter.
* slice = the task or group name. A group is one slice (listed once even though `results` and `groups` both
  hold it); its value is lm-eval's own aggregate, never summed again with its children.
* n = `n-samples[task].effective` (a group: the sum over its leaf tasks, from `group_subtasks`);
  stderr = `<metric>_stderr,<filter>` when it is a number (`"N/A"` or absent: none).
* a `--limit` run (effective < original) is partial: every measurement carries the problem and is reported
  missing, unless the spec sets `table.allow_partial: true`.

Samples file: one JSON object per line and per filter (`doc_id`, `filter`, `doc`, one key per metric). It
becomes a per-example table: `doc_id` is the id column, each `doc` field becomes a `doc.<field>` column
usable in `slice_by`, and `filter` a column to select on (`where: {column: filter, equals: strict-match}`).
v0.4.0-0.4.2 wrote the samples as a pretty-printed JSON array; both shapes are read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results
from gatekit.spec.model import Spec

NAME = "lm-eval"
SAMPLES_NAME = "lm-eval-samples"
_NOT_METRICS = {"alias", "name", "sample_len", "sample_count", "samples"}
_SAMPLE_KEYS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps"}


def detect(data: Any) -> bool:
    """An lm-eval results document: `results` maps tasks to metric dicts, with `configs`/`versions`/`n-samples`."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("results"), dict)
        and any(key in data for key in ("n-samples", "configs", "versions", "group_subtasks"))
    )


def detect_samples(data: Any) -> bool:
    """A list of lm-eval sample records (the JSONL's first row, or a v0.4.0-0.4.2 JSON array)."""
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and _SAMPLE_KEYS.issubset(data[0])


def split_metric_key(key: str) -> tuple[str, str | None]:
    """`"exact_match,strict-match"` -> ("exact_match", "strict-match"); the filter follows the LAST comma."""
    metric, comma, filter_name = key.rpartition(",")
    return (metric, filter_name) if comma else (key, None)


def _task_names(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every task and group once, `results` first; the `groups` entry of a group fills only keys it lacks."""
    merged: dict[str, dict[str, Any]] = {}
    for section in ("results", "groups"):
        block = data.get(section) or {}
        if not isinstance(block, dict):
            raise ResultsError.at(f"`{section}` must be a mapping of task names", "")
        for task, metrics in block.items():
            if not isinstance(metrics, dict):
                raise ResultsError.at(f"`{section}.{task}` must be a mapping of metrics", "")
            merged.setdefault(task, {})
            for key, value in metrics.items():
                merged[task].setdefault(key, value)
    return merged


def _leaves(task: str, subtasks: dict[str, list[str]], seen: frozenset[str] = frozenset()) -> list[str]:
    children = subtasks.get(task) or []
    if not children or task in seen:
        return [task]
    return [leaf for child in children for leaf in _leaves(child, subtasks, seen | {task})]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def load(path: Path, data: Any, spec: Spec | None) -> Results:
    source = str(path)
    if not detect(data):
        raise ResultsError.at("not an lm-evaluation-harness results file (no `results` with task metrics)", source)
    try:
        tasks = _task_names(data)
    except ResultsError as e:
        raise ResultsError.at(e.diagnostics[0].message, source) from None
    counts = data.get("n-samples") or {}
    subtasks = {k: list(v) for k, v in (data.get("group_subtasks") or {}).items() if isinstance(v, list)}
    allow_partial = spec.table.allow_partial if spec is not None else False
    metrics: dict[str, dict[str, Measurement]] = {}
    notes: list[str] = []
    for task, values in tasks.items():
        leaves = _leaves(task, subtasks)
        n, partial = _sample_count(task, leaves, counts, values)
        if partial and not allow_partial:
            problem: str | None = f"partial run: {partial}; set table.allow_partial to gate on it"
        else:
            problem = None
            if partial:
                notes.append(f"{source}: {task}: partial run accepted (allow_partial): {partial}")
        for key, raw in values.items():
            metric, filter_name = split_metric_key(key)
            if key in _NOT_METRICS or metric.endswith("_stderr"):
                continue
            value = _number(raw)
            if value is None:
                if isinstance(raw, (dict, list, str)) or raw is None:
                    continue  # descriptive entries (alias, name) are not metrics
                continue
            stderr_key = f"{metric}_stderr" + (f",{filter_name}" if filter_name is not None else "")
            stderr = _number(values.get(stderr_key))
            if stderr is not None and not (math.isfinite(stderr) and stderr >= 0):
                stderr = None
            metrics.setdefault(key, {})[task] = Measurement(value, n, stderr, None, problem)
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    model = data.get("model_name") or (config or {}).get("model_args") or path.stem
    if not isinstance(model, str):
        model = json.dumps(model, sort_keys=True)
    return Results(source=source, model=model, metrics=metrics, notes=tuple(notes))


def _sample_count(
    task: str, leaves: list[str], counts: dict[str, Any], values: dict[str, Any]
) -> tuple[int | None, str | None]:
    """(n, why the run is partial or None). n is None when the file does not say."""
    effective = original = 0
    known = False
    for leaf in leaves:
        entry = counts.get(leaf)
        if isinstance(entry, dict) and isinstance(entry.get("effective"), int):
            known = True
            effective += entry["effective"]
            if isinstance(entry.get("original"), int):
                original += entry["original"]
    if not known:
        sample_len = values.get("sample_len")
        return (sample_len if isinstance(sample_len, int) and not isinstance(sample_len, bool) else None), None
    if original and effective < original:
        return effective, f"{effective} of {original} samples evaluated (`--limit`)"
    return effective, None


def load_samples(path: Path, data: Any, spec: Spec | None) -> Results:
    """A samples file as a per-example table, measured with the spec's derived metrics."""
    from gatekit.sources.aggregate import table_columns, table_results
    from gatekit.sources.rows import json_lines, rows_to_table

    source = str(path)
    if spec is None:
        raise ResultsError.at("an lm-eval samples file is read against a spec's derived metrics", source)
    records = data if isinstance(data, list) else [record for _, record in json_lines(path)]
    rows = [_flatten(record, i, source) for i, record in enumerate(records)]
    task = _task_from_name(path)
    for row in rows:
        row.setdefault("task", task)
    # `filter` is always read: a duplicate doc_id then says that a filter must be chosen.
    optional = ("filter",) if spec.table.id_column else ("id", "filter")
    columns = [c for c in table_columns(spec) if c != "id"]
    table = rows_to_table(rows, source, _wanted(columns, optional), first_line=1 if data is None else 0)
    return table_results(table, spec)


def _wanted(columns: list[str], optional: tuple[str, ...]) -> Any:
    from gatekit.sources.rows import _Wanted

    return _Wanted(tuple(columns), optional)


def _flatten(record: Any, index: int, source: str) -> dict[str, Any]:
    if not isinstance(record, dict) or "doc_id" not in record:
        raise ResultsError.at(f"sample {index + 1} is not an lm-eval sample record (no doc_id)", source, index + 1)
    row: dict[str, Any] = {"id": record["doc_id"], "doc_id": record["doc_id"], "filter": record.get("filter", "none")}
    doc = record.get("doc")
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                row[f"doc.{key}"] = value
    for key, value in record.items():
        if key in _SAMPLE_KEYS or key in row or key.endswith("_hash") or key in ("filter", "metrics"):
            continue
        if isinstance(value, (int, float, bool)) or value is None:
            row[key] = value
    return row


def _task_from_name(path: Path) -> str:
    # samples_<task>_<timestamp>.jsonl (v0.4.3+); older files are named after the model args.
    stem = path.stem
    if stem.startswith("samples_"):
        return stem.removeprefix("samples_").rsplit("_", 1)[0]
    return stem
