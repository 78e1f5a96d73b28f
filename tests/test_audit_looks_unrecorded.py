"""Audit: under an alpha-spending design every look must be counted, so a new look that is not recorded
cannot ship: the next look would read the same alpha again (and `max_looks` could never be reached)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gatekit.api import run_check

CANARY = Path(__file__).parent.parent / "examples" / "canary"


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    for name in ("gate.yaml", "production.yaml", "look-1.yaml", "look-2.yaml", "look-3.yaml"):
        shutil.copy(CANARY / name, tmp_path / name)
    path = tmp_path / "gate.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("method: confidence-sequence\n  max_n: 6000", "method: pocock\n  max_looks: 2"))
    return path


def test_a_new_unrecorded_look_under_a_spending_design_revises(spec: Path) -> None:
    verdict = run_check(spec, candidate=spec.parent / "look-1.yaml", record=False).verdict
    assert verdict.verdict == "revise"
    assert [(r.kind, r.status) for r in verdict.reasons] == [("sequential", "looks_unrecorded")]


def test_unrecorded_looks_cannot_step_past_max_looks(spec: Path) -> None:
    outcomes = [
        run_check(spec, candidate=spec.parent / f"look-{i}.yaml", record=False).verdict.verdict for i in (1, 2, 3)
    ]
    assert "ship" not in outcomes


def test_the_same_results_as_a_recorded_look_may_be_checked_again_unrecorded(spec: Path) -> None:
    recorded = run_check(spec, candidate=spec.parent / "look-1.yaml", record=True)
    assert recorded.verdict.verdict == "ship"
    again = run_check(spec, candidate=spec.parent / "look-1.yaml", record=False).verdict
    assert again.verdict == "ship"
    assert again.reasons == ()
