"""Audit: `table.flaky: exclude` never makes a slice vanish. A slice whose every example is flaky is still
a slice of the results: its checks are missing (no evidence left), so a `slices: ["*"]` gate cannot ship
past it."""

from __future__ import annotations

import json
from pathlib import Path

from gatekit.decide.verdict import build_verdict
from gatekit.sources.load import load_results
from tests import factories


def _table(tmp_path: Path) -> Path:
    rows = []
    for epoch in (1, 2, 3):
        rows += [{"id": f"a{i}", "epoch": epoch, "task": "a", "ok": 1} for i in range(300)]
        # Every example of task c passes its first repeat only: pass^3 is 0 on task c, and all are flaky.
        rows += [{"id": f"c{i}", "epoch": epoch, "task": "c", "ok": int(epoch == 1)} for i in range(50)]
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_slice_whose_every_example_is_flaky_and_excluded_is_missing_not_gone(tmp_path: Path) -> None:
    spec = factories.spec(
        {"id": "g", "metric": "pass_k", "slices": ["*"], "min": 0.5},
        baseline=False,
        metrics={"pass_k": {"from": {"column": "ok", "aggregate": "pass_all"}}},
        table={"slice_by": ["task"], "repeats": "epoch", "flaky": "exclude"},
    )
    results = load_results(_table(tmp_path), spec)
    verdict = build_verdict(spec, results, None, spec_path="gate.yaml")
    assert [(g.slice, g.status) for g in verdict.gates] == [("all", "pass"), ("task=a", "pass"), ("task=c", "missing")]
    assert verdict.verdict == "revise"
    measured = results.metrics["pass_k"]["task=c"]
    assert measured.n == 0
    assert measured.problem == "all 50 examples of slice 'task=c' are flaky and were left out (table.flaky: exclude)"
