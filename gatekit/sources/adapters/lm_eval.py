"""EleutherAI lm-evaluation-harness: `results_<timestamp>.json` and the per-sample `samples_<task>_*.jsonl`.

Results file (v0.4): `results[task]["acc,none"]` with `"acc_stderr,none"` beside it; groups appear in both
`results` and `groups`. Mapping, and the format's corners it handles:

* metric = the whole `metric,filter` key (`exact_match,strict-match`): the key is split on its LAST comma and
  every filter is kept as its own metric, so a filter is never picked silently; v0.3 keys have no filter.
* slice = the task or group name. A group is one slice (listed once even though `results` and `groups` both
  hold it); its value is lm-eval's own aggregate, never summed again with its children.
* n = `n-samples[task].effective` for a task. A group's n is the group's own count for that metric:
  `sample_count["<metric>,<filter>"]` (v0.4.12+), else the sum over the leaf tasks (from `group_subtasks`)
  that HAVE the metric, never over every leaf (a group of a 60-doc `acc` task and a 40-doc `exact_match`
  task has acc n = 60, exact_match n = 40). stderr = `<metric>_stderr,<filter>` when it is a number
  (`"N/A"` or absent: none).
* a `--limit` run (effective < original) is partial: every measurement carries the problem and is reported
  missing, unless the spec sets `table.allow_partial: true`.
* no `all` slice: the slices are the tasks and groups, which a missing `all` lists.
* model = `model_name`; created = `date` (the run's start, epoch seconds).
* built-in definitions: `acc`, `acc_norm`, `exact_match` and `mc1` are the share of n items scored 1, so a
  metric of theirs whose value x n is a whole count (within float rounding) on every slice is declared
  `kind: proportion` (Clopper-Pearson), not bounded by a normal interval from its stderr, which under-covers
  near 0 and 1 (30/30 with stderr 0 would pass anything). A spec's own `metrics.<name>` replaces it.

Samples file: one JSON object per line and per filter (`doc_id`, `filter`, `doc`, one key per metric). It
becomes a per-example table: `doc_id` is the id column, each `doc` field becomes a `doc.<field>` column
usable in `slice_by`, and `filter` a column to select on (`where: {column: filter, equals: strict-match}`).
v0.4.0-0.4.2 wrote the samples as a pretty-printed JSON array; both shapes are read.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results
from gatekit.spec.model import MetricDefinition, Spec

NAME = "lm-eval"
SAMPLES_NAME = "lm-eval-samples"
_NOT_METRICS = {"alias", "name", "sample_len", "sample_count", "samples"}
PROPORTION_METRICS = frozenset({"acc", "acc_norm", "exact_match", "mc1"})
"""lm-eval metrics that are a per-item 0/1 score averaged over the items (a share of n)."""
_COUNT_TOLERANCE = 1e-6
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


def load(path: Path, data: Any, spec: Spec | None, model: str | None = None) -> Results:
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
        for key, raw in values.items():
            metric, filter_name = split_metric_key(key)
            if key in _NOT_METRICS or metric.endswith("_stderr"):
                continue
            # Only the leaves that report this metric count toward a group's n (not every leaf of the group).
            having = [leaf for leaf in leaves if leaf == task or key in tasks.get(leaf, {})]
            n, partial = _sample_count(key, having, counts, values)
            if partial and not allow_partial:
                problem: str | None = f"partial run: {partial}; set table.allow_partial to gate on it"
            else:
                problem = None
                if partial:
                    notes.append(f"{source}: {task}: {key}: partial run accepted (allow_partial): {partial}")
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
    name = data.get("model_name") or (config or {}).get("model_args") or path.stem
    if not isinstance(name, str):
        name = json.dumps(name, sort_keys=True)
    from gatekit.sources.adapters.common import select_model

    select_model([name], model, source, "model")
    definitions = {
        key: MetricDefinition(kind="proportion", higher_is_better=True)
        for key, slices in metrics.items()
        if split_metric_key(key)[0] in PROPORTION_METRICS
        and all(_whole_share(m) for m in slices.values())
        and (spec is None or key not in spec.metrics)
    }
    return Results(
        source=source,
        model=name,
        metrics=metrics,
        notes=tuple(notes),
        created=_created(data),
        definitions=definitions,
    )


def _whole_share(m: Measurement) -> bool:
    """A value in [0, 1] whose value x n is a whole count of the n items (within float rounding)."""
    if m.n is None or m.n <= 0 or not (math.isfinite(m.value) and 0 <= m.value <= 1):
        return False
    count = m.value * m.n
    return abs(count - round(count)) <= _COUNT_TOLERANCE * m.n


def _created(data: dict[str, Any]) -> dt.datetime | None:
    date = data.get("date")
    if isinstance(date, (int, float)) and not isinstance(date, bool) and math.isfinite(date):
        try:
            return dt.datetime.fromtimestamp(date, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _sample_count(
    key: str, leaves: list[str], counts: dict[str, Any], values: dict[str, Any]
) -> tuple[int | None, str | None]:
    """(n of metric `key`, why the run is partial or None). n is None when the file does not say."""
    own = values.get("sample_count")
    own_n = own.get(key) if isinstance(own, dict) else None
    if isinstance(own_n, bool) or not isinstance(own_n, int):
        own_n = None
    effective = original = 0
    known = False
    for leaf in leaves:
        entry = counts.get(leaf)
        if isinstance(entry, dict) and isinstance(entry.get("effective"), int):
            known = True
            effective += entry["effective"]
            if isinstance(entry.get("original"), int):
                original += entry["original"]
    if own_n is not None:
        # The group's own count for this metric, as lm-eval aggregated it.
        if known and original and effective < original:
            return own_n, f"{effective} of {original} samples evaluated (`--limit`)"
        return own_n, None
    if not known:
        sample_len = values.get("sample_len")
        return (sample_len if isinstance(sample_len, int) and not isinstance(sample_len, bool) else None), None
    if original and effective < original:
        return effective, f"{effective} of {original} samples evaluated (`--limit`)"
    return effective, None


def load_samples(path: Path, data: Any, spec: Spec | None, model: str | None = None) -> Results:
    """A samples file as a per-example table, measured with the spec's derived metrics."""
    from gatekit.sources.measure import table_columns, table_results
    from gatekit.sources.rows import rows_to_table

    source = str(path)
    if spec is None:
        raise ResultsError.at("an lm-eval samples file is read against a spec's derived metrics", source)
    rows = sample_rows(path, data)
    # `filter` is always read: a duplicate doc_id then says that a filter must be chosen.
    optional = ("filter",) if spec.table.id_column else ("id", "filter")
    columns = [c for c in table_columns(spec) if c != "id"]
    table = rows_to_table(rows, source, _wanted(columns, optional), first_line=1 if data is None else 0)
    return table_results(table, spec)


def sample_rows(path: Path, data: Any) -> list[dict[str, Any]]:
    """The samples file's records as flat rows (`doc.<field>`, `filter`, one column per metric)."""
    from gatekit.sources.rows import json_lines

    source = str(path)
    records = data if isinstance(data, list) else [record for _, record in json_lines(path)]
    rows = [_flatten(record, i, source) for i, record in enumerate(records)]
    task = _task_from_name(path)
    for row in rows:
        row.setdefault("task", task)
    return rows


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
