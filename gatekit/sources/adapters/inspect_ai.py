"""UK AISI Inspect eval logs: `.json` (one EvalLog document) and `.eval` (a zstd ZIP, see `inspect_archive`).

Aggregate metrics: `results.scores[i]` gives metrics named `<score>/<metric>` (e.g. `match/accuracy`) on
slice `all`; the sibling `stderr` metric is the stderr, and n is `scored_samples` (else `completed_samples`).
A `grouped(accuracy(), "subject")` metric is the same `match/accuracy` on slices `metadata.subject=<value>`
(the names the per-sample rows give), with the grouped `stderr` beside it and n counted from the samples.
Their definitions reach the evaluator like the spec's own: `accuracy` of a one-epoch run is a proportion
(Wilson bounds, never above 1), anything else a mean.

Per-sample rows feed the spec's derived metrics, one row per sample id (columns `id`, `epochs`,
`score.<scorer>` or, for a dict-valued score, `score.<scorer>.<key>`, `total_time`, `working_time`,
`latency_ms`, `error`, `metadata.<key>`), so sample metadata can be slices (`slice_by: [metadata.subject]`).

Corners handled:

* epochs: the records of one sample id are ONE example. Its score is the log's `reductions` (Inspect's own
  reducer, `mean` by default, named in a note); a log without reductions is reduced with the mean, as
  Inspect's default. So n and the interval count samples, not sample x epoch.
* a sample that errored (`--no-fail-on-error`) has no score: its row is bad (a NaN score), so a derived
  metric is missing with the count and the first id unless `table.drop_invalid` is set; the log's own
  aggregate metrics, computed without those samples, are missing with the same count and first id.
* a log whose `status` is not "success" (error, cancelled, started) is not gateable: without results it is an
  error naming the status (and the log's error message); with results, every measurement carries the problem.
* score values "C"/"I"/"P"/"N" map to 1/0/0.5/0; an unscored sample is NaN: a counted bad row.
* costs: `stats.model_usage` totals become `costs.cost_usd` (when the log records `total_cost`) and
  `costs.input_tokens` / `output_tokens` / `total_tokens`; created = `eval.created`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results
from gatekit.spec.model import MetricDefinition, Spec

NAME = "inspect"
SCORE_VALUES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
DEFAULT_REDUCER = "mean"
_TOKENS = ("input_tokens", "output_tokens", "total_tokens")


def detect(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("eval"), dict) and "task" in data["eval"] and "status" in data


def _score(value: Any) -> float | None:
    if isinstance(value, str):
        return SCORE_VALUES.get(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _cells(scorer: str, value: Any) -> dict[str, float]:
    """A score value as cells: `score.<scorer>`, or one `score.<scorer>.<key>` per key of a dict value."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            number = _score(item)
            out[f"score.{scorer}.{key}"] = math.nan if number is None else number
        return out
    number = _score(value)
    return {f"score.{scorer}": math.nan if number is None else number}


def _reductions(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """scorer -> sample id -> reduced value, from the log's `reductions`."""
    out: dict[str, dict[str, Any]] = {}
    for entry in log.get("reductions") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("samples"), list):
            continue
        values = out.setdefault(str(entry.get("scorer")), {})
        for sample in entry["samples"]:
            if isinstance(sample, dict) and "sample_id" in sample:
                values[str(sample["sample_id"])] = sample.get("value")
    return out


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)


def sample_rows(log: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per sample id: epochs reduced (the log's reductions, else the mean)."""
    epochs: dict[str, list[dict[str, Any]]] = {}
    for sample in log.get("samples") or []:
        if isinstance(sample, dict):
            epochs.setdefault(str(sample.get("id")), []).append(sample)
    reduced = _reductions(log)
    rows = []
    for sample_id, records in epochs.items():
        records.sort(key=_epoch)
        errors = [text for text in (_error_text(s.get("error")) for s in records) if text is not None]
        times = [float(s["total_time"]) for s in records if isinstance(s.get("total_time"), (int, float))]
        working = [float(s["working_time"]) for s in records if isinstance(s.get("working_time"), (int, float))]
        row: dict[str, Any] = {
            "id": sample_id,
            "epochs": len(records),
            "total_time": _mean(times) if len(times) == len(records) else None,
            "working_time": _mean(working) if len(working) == len(records) else None,
            "error": errors[0] if errors else None,
        }
        row["latency_ms"] = row["total_time"] * 1000 if row["total_time"] is not None else None
        scorers = dict.fromkeys(
            [name for s in records if isinstance(s.get("scores"), dict) for name in s["scores"]] + list(reduced)
        )
        for scorer in scorers:
            if scorer in reduced:
                # An errored sample is not in the reductions: its cells stay NaN (bad), never dropped.
                row.update(_cells(scorer, reduced[scorer].get(sample_id)))
                continue
            per_epoch = [_cells(scorer, _value(s, scorer)) for s in records]
            for column in dict.fromkeys(c for cells in per_epoch for c in cells):
                values = [cells.get(column, math.nan) for cells in per_epoch]
                row[column] = _mean(values)
        for key, value in (records[0].get("metadata") or {}).items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                row[f"metadata.{key}"] = value
        rows.append(row)
    return rows


def _epoch(sample: dict[str, Any]) -> int:
    epoch = sample.get("epoch")
    return epoch if isinstance(epoch, int) else 0


def _value(sample: dict[str, Any], scorer: str) -> Any:
    score = (sample.get("scores") or {}).get(scorer)
    return score.get("value") if isinstance(score, dict) else score


def _errored(log: dict[str, Any], results: dict[str, Any]) -> str | None:
    """How many samples errored and the first one, or None."""
    ids = [str(s.get("id")) for s in log.get("samples") or [] if isinstance(s, dict) and s.get("error") is not None]
    ids = list(dict.fromkeys(ids))
    total, completed = results.get("total_samples"), results.get("completed_samples")
    if ids:
        first = next(s for s in log["samples"] if isinstance(s, dict) and str(s.get("id")) == ids[0])
        return f"{len(ids)} samples errored and were not scored (first: id {ids[0]}: {_error_text(first['error'])})"
    if isinstance(total, int) and isinstance(completed, int) and completed < total:
        return f"{total - completed} of {total} samples did not complete"
    return None


def _definition(metric: str, value: float, n: int | None, epochs: int) -> MetricDefinition:
    """accuracy of a one-epoch run whose value is a whole count of n is a proportion; anything else a mean."""
    whole = n is not None and math.isfinite(value) and abs(value * n - round(value * n)) < 1e-6 * max(n, 1)
    if metric == "accuracy" and epochs <= 1 and whole and 0 <= value <= 1:
        return MetricDefinition(kind="proportion", higher_is_better=True)
    return MetricDefinition(kind="mean")


def _grouped(entry: dict[str, Any]) -> tuple[str, str, str] | None:
    """(inner metric, group key, group value) of a `grouped(metric, key)` entry, or None for a plain one.
    Inspect names such entries by the group value (`math`, `all`, then `math2`... for a second grouped
    metric on the same key) and records the inner metric and key in `params`."""
    params = entry.get("params")
    inner = params.get("metric") if isinstance(params, dict) else None
    if not (isinstance(params, dict) and isinstance(inner, dict) and "group_key" in params):
        return None
    return str(inner.get("name")), str(params.get("group_key")), str(entry.get("name"))


def _group_counts(rows: list[dict[str, Any]], scorer: str) -> dict[tuple[str, str], int]:
    """(metadata key, value) -> how many rows have a score from `scorer`: a grouped metric's n per group."""
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        scores = [v for k, v in row.items() if k == f"score.{scorer}" or k.startswith(f"score.{scorer}.")]
        if not scores or any(isinstance(v, float) and math.isnan(v) for v in scores):
            continue
        for key, value in row.items():
            if key.startswith("metadata."):
                group = (key.removeprefix("metadata."), str(value))
                counts[group] = counts.get(group, 0) + 1
    return counts


def _aggregates(
    log: dict[str, Any],
    problem: str | None,
    spec: Spec | None,
    notes: list[str],
    source: str,
    *,
    rows: list[dict[str, Any]],
) -> tuple[dict[str, dict[str, Measurement]], dict[str, MetricDefinition]]:
    results: dict[str, Any] = log["results"] if isinstance(log.get("results"), dict) else {}
    config = log["eval"].get("config")
    configured = config.get("epochs") if isinstance(config, dict) else None
    epochs = configured if isinstance(configured, int) else 1
    errored = _errored(log, results)
    drop = spec.table.drop_invalid if spec is not None else False
    if errored is not None and drop:
        notes.append(f"{source}: {errored}; the log's metrics leave them out (drop_invalid)")
    metrics: dict[str, dict[str, Measurement]] = {}
    definitions: dict[str, MetricDefinition] = {}
    default_n = results.get("completed_samples")
    for score in results.get("scores") or []:
        if not isinstance(score, dict):
            continue
        n = score.get("scored_samples", default_n)
        count = n if isinstance(n, int) and not isinstance(n, bool) else None
        own = problem
        unscored = score.get("unscored_samples")
        if own is None and isinstance(unscored, int) and unscored > 0:
            own = f"{unscored} samples were not scored by {score.get('name')!r}"
        if own is None and errored is not None and not drop:
            own = f"{errored}; set table.drop_invalid to gate on the scored ones"
        named = score.get("metrics") if isinstance(score.get("metrics"), dict) else {}
        # (metric, slice) -> value; a grouped() metric's groups are slices `metadata.<key>=<value>`.
        values: dict[tuple[str, str], float] = {}
        counts: dict[str, int | None] = {"all": count}
        for key, entry in (named or {}).items():
            if not isinstance(entry, dict):
                continue
            value = entry.get("value")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            group = _grouped(entry)
            if group is None:
                values[(str(key), "all")] = float(value)
                continue
            inner, group_key, group_value = group
            slice_name = "all" if group_value == "all" else f"metadata.{group_key}={group_value}"
            values[(inner, slice_name)] = float(value)
            if slice_name != "all":
                per_group = _group_counts(rows, str(score.get("scorer") or score.get("name")))
                counts[slice_name] = per_group.get((group_key, group_value)) if rows else None
        for (metric_name, slice_name), value in values.items():
            if metric_name == "stderr":
                continue
            stderr = values.get(("stderr", slice_name))
            se = stderr if stderr is not None and math.isfinite(stderr) and stderr >= 0 else None
            name = f"{score.get('name')}/{metric_name}"
            n_slice = counts.get(slice_name)
            metrics.setdefault(name, {})[slice_name] = Measurement(value, n_slice, se, None, own)
            if slice_name == "all" or name not in definitions:
                definitions[name] = _definition(metric_name, value, n_slice, epochs)
    if epochs > 1:
        reducers = {
            str(s.get("reducer") or DEFAULT_REDUCER) for s in results.get("scores") or [] if isinstance(s, dict)
        }
        notes.append(
            f"{source}: {epochs} epochs per sample reduced to one example each by Inspect's "
            f"{'/'.join(sorted(reducers)) or DEFAULT_REDUCER} reducer (the log's reductions)"
        )
    return metrics, definitions


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load(path: Path, data: Any, spec: Spec | None, model: str | None = None) -> Results:
    source = str(path)
    if data is None:
        from gatekit.sources.adapters.inspect_archive import read_eval_log

        log = read_eval_log(path)
    else:
        log = data
    if not detect(log):
        raise ResultsError.at("not an Inspect eval log (no `eval.task` and `status`)", source)
    eval_block = log["eval"]
    name = str(eval_block.get("model") or path.stem)
    from gatekit.sources.adapters.common import select_model

    select_model([name], model, source, "model")
    status = log.get("status")
    problem = None
    if status != "success":
        error = _error_text(log.get("error"))
        problem = f"the Inspect log's status is {status!r}, not 'success'" + (f" ({error})" if error else "")
        if not (isinstance(log.get("results"), dict) and log["results"].get("scores")):
            raise ResultsError.at(f"{problem}: the run has no results to gate", source)
    notes: list[str] = []
    rows = sample_rows(log)
    metrics, definitions = _aggregates(log, problem, spec, notes, source, rows=rows)
    costs = _costs(log)
    created = _created(eval_block.get("created"))
    unused = {k: d for k, d in definitions.items() if spec is None or k not in spec.metrics}
    if spec is not None and rows and any(d.from_ is not None for d in spec.metrics.values()):
        from gatekit.sources.measure import table_columns, table_results
        from gatekit.sources.rows import rows_to_table

        present = set().union(*rows)
        table = rows_to_table(rows, source, table_columns(spec, present))
        derived = table_results(table, spec, model=name, extra=metrics, notes=notes)
        if problem is not None:
            derived = _with_problem(derived, problem)
        return replace(derived, costs=costs, created=created, definitions=unused)
    return Results(
        source=source, model=name, metrics=metrics, costs=costs, created=created, notes=tuple(notes), definitions=unused
    )


def _costs(log: dict[str, Any]) -> dict[str, float]:
    stats = log.get("stats") if isinstance(log.get("stats"), dict) else {}
    usage = (stats or {}).get("model_usage")
    if not isinstance(usage, dict) or not usage:
        return {}
    entries = [u for u in usage.values() if isinstance(u, dict)]
    out: dict[str, float] = {}
    for key in (*_TOKENS, "total_cost"):
        values = [u.get(key) for u in entries]
        numbers = [float(v) for v in values if isinstance(v, (int, float)) and _finite_number(v) and v >= 0]
        if entries and len(numbers) == len(values):
            out["cost_usd" if key == "total_cost" else key] = math.fsum(numbers)
    return out


def _created(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _with_problem(results: Results, problem: str) -> Results:
    metrics = {
        metric: {name: replace(m, problem=m.problem or problem) for name, m in slices.items()}
        for metric, slices in results.metrics.items()
    }
    return replace(results, metrics=metrics)
