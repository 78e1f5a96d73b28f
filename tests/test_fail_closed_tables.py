"""Per-example tables that look like evidence but are not: each must keep a gate from passing.

Found in review: a mean slice of one example, a slice whose examples all agree, a slice whose mean sits far
from the rest of the table, a promptfoo result without a cost, and a budget over a value with a problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gatekit.api import check
from gatekit.outcomes import GateOutcome

METRICS = {
    "score": {"from": {"column": "x", "aggregate": "mean"}},
    "total": {"from": {"column": "x", "aggregate": "sum"}},
}


def outcomes(tmp_path: Path, rows: list[dict[str, Any]], gates: list[dict[str, Any]], **spec: Any) -> list[GateOutcome]:
    document = {
        "version": 1,
        "name": "t",
        "hypothesis": {"statement": "s", "stage": "other", "improves": "score", "owner": "o", "written": "2026-01-01"},
        "candidate": "rows.jsonl",
        "metrics": METRICS,
        "table": {"slice_by": ["task"]},
        "gates": gates,
        "rollback": {},
        **spec,
    }
    (tmp_path / "gate.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return list(check(tmp_path / "gate.yaml").gates)


def on(found: list[GateOutcome], slice_name: str) -> GateOutcome:
    return next(o for o in found if o.slice == slice_name)


BIG = [{"task": "big", "x": float(v)} for v in np.random.default_rng(1).normal(0.5, 0.1, 200)]


@pytest.mark.parametrize(
    ("rare", "metric", "bound"),
    [
        ([0.9], "score", {"min": 0.3}),  # one example: no spread to estimate
        ([0.9, 0.9], "score", {"min": 0.85}),  # two that agree: a t interval of width zero
        ([0.9], "total", {"min": 0.3}),
        ([0.9, 0.9, 0.9], "total", {"min": 2.0}),
    ],
)
def test_a_slice_without_spread_is_inconclusive_not_passed(
    tmp_path: Path, rare: list[float], metric: str, bound: dict[str, float]
) -> None:
    rows = BIG + [{"task": "rare", "x": v} for v in rare]

    found = outcomes(tmp_path, rows, [{"id": "g", "metric": metric, "slices": ["*"], **bound}])

    assert on(found, "task=rare").status == "inconclusive"


def test_a_slice_far_from_the_rest_keeps_its_own_spread(tmp_path: Path) -> None:
    small = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    rows = [{"task": "big", "x": 1e9 + i % 3} for i in range(1000)] + [{"task": "small", "x": v} for v in small]
    mean = float(np.mean(small))

    found = outcomes(tmp_path, rows, [{"id": "g", "metric": "score", "slices": ["task=small"], "min": mean - 0.05}])

    outcome = on(found, "task=small")
    assert outcome.status == "inconclusive"
    assert outcome.interval is not None
    low, high = outcome.interval
    # 0/1 scores are a proportion whatever the kind: exact Clopper-Pearson bounds on its own 14 of 20
    # (scipy.stats.beta.ppf(0.05, 14, 7), beta.ppf(0.95, 15, 6)).
    assert (low, high) == (pytest.approx(0.4921816, rel=1e-6), pytest.approx(0.8604463, rel=1e-6))
