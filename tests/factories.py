"""Builders for specs and results in tests: small, explicit, no files."""

from __future__ import annotations

from typing import Any

from gatekit.results import Measurement, Results
from gatekit.spec.model import Spec

PINNED = {
    "checkpoint": {"uri": "s3://m", "digest": "sha256:" + "1" * 64},
    "tokenizer": {"uri": "s3://t", "digest": "sha256:" + "2" * 64},
    "generation_config": {"uri": "s3://g", "digest": "sha256:" + "3" * 64},
    "serving_image": {"uri": "r/i@sha256:" + "4" * 64},
    "data_revision": {"uri": "d", "revision": "5" * 40},
    "code_revision": {"uri": "c", "revision": "6" * 40},
    "eval_record": {"uri": "e", "digest": "sha256:" + "7" * 64},
}


HYPOTHESIS: dict[str, Any] = {
    "statement": "s",
    "stage": "other",
    "improves": ["accuracy"],
    "owner": "o",
    "written": "2026-01-01",
}
"""A spec's hypothesis where the test is about something else (also written into gate files as JSON)."""


def spec(*gates: dict[str, Any], baseline: bool = True, **extra: Any) -> Spec:
    """A spec with these gates. Bare-number results are gated on the point estimate here
    (`require_uncertainty: false`) so that tests of the bounds and the verdict can use plain numbers; tests of
    the uncertainty rules pass `require_uncertainty` themselves (its default is true)."""
    data: dict[str, Any] = {
        "require_uncertainty": False,
        "version": 1,
        "name": "test",
        "hypothesis": dict(HYPOTHESIS),
        "candidate": "c.yaml",
        "gates": list(gates),
        "rollback": dict(PINNED),
    }
    if baseline:
        data["baseline"] = "b.yaml"
    data.update(extra)
    return Spec.model_validate(data)


def results(metrics: dict[str, dict[str, float | Measurement]], costs: dict[str, float] | None = None) -> Results:
    return Results(
        source="r.yaml",
        model="m",
        metrics={
            metric: {s: v if isinstance(v, Measurement) else Measurement(v) for s, v in slices.items()}
            for metric, slices in metrics.items()
        },
        costs=costs or {},
    )
