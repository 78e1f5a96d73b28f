"""promptfoo `promptfoo eval -o results.json` (or `-o results.jsonl`): one record per test x prompt x provider.

Records become a per-example table with columns `success`, `score`, `latency_ms`, `cost_usd`, `provider`,
`prompt` (the prompt's label or template), `repeats`, `vars.<name>`, `metadata.<name>` and `named.<score>`.
Mapping, and the format's corners it handles:

* one provider at a time: a file holding several (`providers: [echo, file://provider.py]`) is never pooled.
  The spec's `candidate_model:`/`baseline_model:` (or --candidate-model/--baseline-model) names the provider
  id to read; without it such a file is an error listing the providers. The results' model is that id.
* the example id `id` is the test's identity: its prompt template, description and vars (hashed), never the
  provider, the prompt's position or `testIdx`, so runs of the same tests by different providers pair, and
  the repeats of `--repeat N` (each given its own `testIdx`) are recognised as one test.
* repeats are one example: `success` and `score` are the mean over the repeats (a pass fraction), latency
  the mean, cost the sum; `repeats` counts them. With repeats, the built-in `pass_rate` is the mean of the
  pass fractions (kind mean), since a fraction is not an event.
* built-in metrics, as `MetricDefinition`s the evaluator reads too (a spec's `metrics.<name>` replaces
  one): `pass_rate` (rate of `success`), `score` (mean), `latency_p95_ms` and `cost_usd` (sum).
* costs: the selected provider's recorded `cost` summed over its records is `costs.cost_usd`, which the budget's
  `limits: {cost_usd: ...}` reads. `created` is the run's timestamp.
* the prompt-level `metrics.score` and `namedScores` are SUMS over tests; gatekit recomputes from the records.
* `error` is also set on ordinary assertion failures (`failureReason` 1); only `failureReason` 2 is an
  infrastructure error. Such a record has no verdict: its `success` cell is bad (null), so `pass_rate` is
  missing unless `table.drop_invalid` is set, and the count is reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.results import Results
from gatekit.spec.model import MetricDefinition, Spec

NAME = "promptfoo"
_INFRA_ERROR = 2
COST_NAME = "cost_usd"
"""The name under which the selected provider's recorded cost reaches the budget."""


def builtin_metrics(repeated: bool) -> dict[str, MetricDefinition]:
    """The metrics every promptfoo file has, as the spec models the evaluator reads."""
    pass_rate = {"column": "success", "aggregate": "mean" if repeated else "rate"}
    raw = {
        "pass_rate": {"from": pass_rate, "higher_is_better": True},
        "score": {"from": {"column": "score", "aggregate": "mean"}, "higher_is_better": True},
        "latency_p95_ms": {"from": {"column": "latency_ms", "aggregate": "p95"}, "higher_is_better": False},
        "cost_usd": {"from": {"column": "cost_usd", "aggregate": "sum"}, "higher_is_better": False},
    }
    return {name: MetricDefinition.model_validate(definition) for name, definition in raw.items()}


BUILTIN_COLUMNS = {"success", "score", "latency_ms", "cost_usd"}


def detect(data: Any) -> bool:
    results = data.get("results") if isinstance(data, dict) else None
    return (
        isinstance(results, dict)
        and isinstance(results.get("results"), list)
        and ("evalId" in data or "prompts" in results or "table" in results)
    )


def detect_line(row: Any) -> bool:
    """A line of `-o results.jsonl`: one EvaluateResult."""
    return isinstance(row, dict) and {"testIdx", "promptIdx", "provider", "success"}.issubset(row)


def _records(path: Path, data: Any, source: str) -> tuple[list[Any], dict[str, Any]]:
    """The result records and the run's header (empty for JSONL, which has none)."""
    if data is None:
        from gatekit.sources.rows import json_lines

        records = [record for _, record in json_lines(path)]
        for i, record in enumerate(records):
            if not detect_line(record):
                raise ResultsError.at(
                    "not a promptfoo result record (needs testIdx, promptIdx, provider, success)", source, i + 1
                )
        return records, {}
    if not detect(data):
        raise ResultsError.at("not a promptfoo output file (no results.results list)", source)
    return list(data["results"]["results"]), data


def _provider(result: dict[str, Any]) -> str:
    provider = result.get("provider")
    value = provider.get("id") if isinstance(provider, dict) else provider
    return str(value)


def _prompt_label(result: dict[str, Any]) -> str | None:
    prompt = result.get("prompt") if isinstance(result.get("prompt"), dict) else {}
    label = (prompt or {}).get("label") or (prompt or {}).get("raw")
    return str(label) if label is not None else None


def test_identity(result: dict[str, Any]) -> str:
    """The id of the test a record ran: its prompt template, description and vars, never the provider."""
    test_case = result.get("testCase") if isinstance(result.get("testCase"), dict) else {}
    prompt = result.get("prompt") if isinstance(result.get("prompt"), dict) else {}
    key = {
        "prompt": (prompt or {}).get("label") or (prompt or {}).get("raw") or result.get("promptId"),
        "description": (test_case or {}).get("description"),
        "vars": result.get("vars") if isinstance(result.get("vars"), dict) else (test_case or {}).get("vars"),
    }
    text = json.dumps(key, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    # The description makes the id readable in reports; the digest keeps tests of one description apart.
    return f"{key['description']}#{digest}" if isinstance(key["description"], str) else digest


def _row(result: dict[str, Any]) -> dict[str, Any]:
    infra = result.get("failureReason") == _INFRA_ERROR
    row: dict[str, Any] = {
        "success": None if infra else result.get("success"),
        "score": None if infra else result.get("score"),
        "latency_ms": result.get("latencyMs"),
        "cost_usd": result.get("cost"),  # absent: unknown, a bad cell; never a free request
        "provider": _provider(result),
        "prompt": _prompt_label(result),
        "test_idx": result.get("testIdx"),
    }
    test_case = result.get("testCase") if isinstance(result.get("testCase"), dict) else {}
    for prefix, block in (
        ("vars", result.get("vars") or (test_case or {}).get("vars")),
        ("metadata", (test_case or {}).get("metadata")),
        ("named", result.get("namedScores")),
    ):
        if isinstance(block, dict):
            for key, value in block.items():
                if isinstance(value, (str, int, float, bool)) or value is None:
                    row[f"{prefix}.{key}"] = value
    return row


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _reduce(rows: list[dict[str, Any]], repeated: bool) -> dict[str, Any]:
    """Repeats of one test as one row: mean success/score/latency, summed cost; any bad repeat makes it bad.
    In a file with repeats every `success` is a fraction (a float), so the column holds one kind."""
    if not repeated:
        return {**rows[0], "repeats": 1}
    out = {**rows[0], "repeats": len(rows)}
    for column, combine in (("success", "mean"), ("score", "mean"), ("latency_ms", "mean"), ("cost_usd", "sum")):
        values = [_number(r.get(column)) for r in rows]
        if any(v is None for v in values):
            out[column] = None
            continue
        total = math.fsum(v for v in values if v is not None)
        out[column] = total / len(values) if combine == "mean" else total
    return out


def rows(path: Path, data: Any, model: str | None = None) -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
    """(one row per test of the selected provider, that provider, the run's header)."""
    source = str(path)
    records, header = _records(path, data, source)
    for i, result in enumerate(records):
        if not isinstance(result, dict):
            raise ResultsError.at(f"results.results[{i}] is not an object", source)
    providers = list(dict.fromkeys(_provider(r) for r in records))
    from gatekit.sources.adapters.common import select_model

    chosen = select_model(providers, model, source)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for result in records:
        if _provider(result) == chosen:
            grouped.setdefault(test_identity(result), []).append(_row(result))
    repeated = any(len(group) > 1 for group in grouped.values())
    return [{"id": key, **_reduce(group, repeated)} for key, group in grouped.items()], chosen, header


def load(path: Path, data: Any, spec: Spec | None, model: str | None = None) -> Results:
    from gatekit.sources.measure import table_columns, table_results
    from gatekit.sources.rows import rows_to_table

    source = str(path)
    table_rows, provider, header = rows(path, data, model)
    if not table_rows:
        raise ResultsError.at("the promptfoo output has no results", source)
    repeated = any(r["repeats"] > 1 for r in table_rows)
    definitions = builtin_metrics(repeated)
    from gatekit.sources.adapters.common import minimal_spec

    base = spec or minimal_spec()
    judged = base.with_definitions(definitions)
    present = set().union(*table_rows)
    columns = [c for c in table_columns(judged, present) if c in present or c not in BUILTIN_COLUMNS]
    table = rows_to_table(table_rows, source, columns)
    repeats = sorted({r["repeats"] for r in table_rows})
    notes = (
        [
            f"{source}: {len(table_rows)} tests run {'/'.join(map(str, repeats))} times each (--repeat): one example "
            "per test, success and score reduced by the mean over its repeats"
        ]
        if repeated
        else []
    )
    results = table_results(table, judged, model=provider or Path(source).stem, notes=notes)
    costs = [_number(r.get("cost_usd")) for r in table_rows]
    recorded = {COST_NAME: math.fsum(c for c in costs if c is not None)} if all(c is not None for c in costs) else {}
    unused = {name: d for name, d in definitions.items() if name not in base.metrics}
    return replace(results, costs=recorded, created=_created(header), definitions=unused)


def _created(header: dict[str, Any]) -> dt.datetime | None:
    inner = header.get("results") if isinstance(header.get("results"), dict) else {}
    meta = header.get("metadata") if isinstance(header.get("metadata"), dict) else {}
    for value in ((meta or {}).get("evaluationCreatedAt"), (inner or {}).get("timestamp")):
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None
