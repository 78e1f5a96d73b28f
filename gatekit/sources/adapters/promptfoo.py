"""promptfoo `promptfoo eval -o results.json`: one row per test x prompt x provider.

Rows become a per-example table with columns `success`, `score`, `latency_ms`, `cost_usd`, `provider`,
`prompt_idx`, `test_idx`, `vars.<name>`, `metadata.<name>` and `named.<score>`; the id column `id` is
`<testIdx>:<promptIdx>:<provider>` so candidate and baseline runs of the same suite pair up.

Built-in metrics (a spec's `metrics.<name>.from` adds or replaces): `pass_rate` (rate of `success`),
`score` (mean per-test score), `latency_p95_ms`, `cost_usd` (sum). Corners handled:

* the prompt-level `metrics.score` and `namedScores` are SUMS over tests; gatekit never reads them as means,
  it recomputes from the rows;
* `error` is also set on ordinary assertion failures (`failureReason` 1); only `failureReason` 2 is an
  infrastructure error. Such a row has no verdict: its `success` cell is bad (null), so `pass_rate` is
  missing unless `table.drop_invalid` is set, and the count is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekit.errors import ResultsError
from gatekit.results import Results
from gatekit.spec.model import ColumnAggregate, MetricDefinition, Spec

NAME = "promptfoo"
_INFRA_ERROR = 2
BUILTIN = {
    "pass_rate": ColumnAggregate(column="success", aggregate="rate"),
    "score": ColumnAggregate(column="score", aggregate="mean"),
    "latency_p95_ms": ColumnAggregate(column="latency_ms", aggregate="p95"),
    "cost_usd": ColumnAggregate(column="cost_usd", aggregate="sum"),
}


def detect(data: Any) -> bool:
    results = data.get("results") if isinstance(data, dict) else None
    return (
        isinstance(results, dict)
        and isinstance(results.get("results"), list)
        and ("evalId" in data or "prompts" in results or "table" in results)
    )


def rows(data: Any, source: str) -> list[dict[str, Any]]:
    if not detect(data):
        raise ResultsError.at("not a promptfoo output file (no results.results list)", source)
    out = []
    for i, result in enumerate(data["results"]["results"]):
        if not isinstance(result, dict):
            raise ResultsError.at(f"results.results[{i}] is not an object", source)
        provider = result.get("provider")
        provider_id = provider.get("id") if isinstance(provider, dict) else provider
        infra = result.get("failureReason") == _INFRA_ERROR
        row: dict[str, Any] = {
            "id": f"{result.get('testIdx')}:{result.get('promptIdx')}:{provider_id}",
            "success": None if infra else result.get("success"),
            "score": None if infra else result.get("score"),
            "latency_ms": result.get("latencyMs"),
            "cost_usd": result.get("cost"),  # absent: unknown, a bad cell; never a free request
            "provider": provider_id,
            "prompt_idx": result.get("promptIdx"),
            "test_idx": result.get("testIdx"),
            "infra_error": infra,
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
        out.append(row)
    return out


def load(path: Path, data: Any, spec: Spec | None) -> Results:
    from gatekit.sources.aggregate import table_columns, table_results
    from gatekit.sources.rows import rows_to_table

    source = str(path)
    table_rows = rows(data, source)
    if not table_rows:
        raise ResultsError.at("the promptfoo output has no results", source)
    spec = _with_builtins(spec)
    present = set().union(*table_rows)
    columns = [c for c in table_columns(spec, present) if c in present or c not in BUILTIN_COLUMNS]
    table = rows_to_table(table_rows, source, columns)
    model = ", ".join(sorted({str(r["provider"]) for r in table_rows}))
    return table_results(table, spec, model=model)


BUILTIN_COLUMNS = {"success", "score", "latency_ms", "cost_usd"}


def _with_builtins(spec: Spec | None) -> Spec:
    """The spec's metrics plus the built-in ones it does not define."""
    from gatekit.sources.adapters import minimal_spec

    base = spec or minimal_spec()
    metrics = dict(base.metrics)
    for name, source in BUILTIN.items():
        if name not in metrics:
            metrics[name] = MetricDefinition.model_validate(
                {"from": source.model_dump(exclude_none=True), "higher_is_better": name in ("pass_rate", "score")}
            )
    return base.model_copy(update={"metrics": metrics})
