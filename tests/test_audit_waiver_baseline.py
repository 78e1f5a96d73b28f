"""Audit: a waiver accepts one check on one set of results, the baseline included.

A check against a baseline (max_decrease) is decided by both files: a waiver recorded while it was
inconclusive against one baseline must not accept it failing against another one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_SPEC, Run

SPEC = MINIMAL_SPEC.replace("metric: accuracy\n    min: 0.5\n", "metric: accuracy\n    max_decrease: 0.02\n").replace(
    "baseline: baseline.yaml", "baseline: baseline.yaml\nmetrics:\n  accuracy: {kind: proportion}"
)
FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()


@pytest.fixture
def setup(write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    spec = write("gate.yaml", SPEC)
    write("candidate.yaml", "model: cand\nmetrics:\n  accuracy: {all: {value: 0.80, n: 200}}\n")
    write("baseline.yaml", "model: base\nmetrics:\n  accuracy: {all: {value: 0.80, n: 200}}\n")
    write("other-baseline.yaml", "model: base2\nmetrics:\n  accuracy: {all: {value: 0.95, n: 5000}}\n")
    monkeypatch.chdir(spec.parent)
    return spec


def test_a_waiver_recorded_against_one_baseline_does_not_accept_the_check_against_another(
    gatekit: Callable[..., Run], setup: Path
) -> None:
    waived = gatekit(
        "waive", "gate.yaml", "--check", "acc[all].max_decrease", "--by", "alice", "--reason", "r", "--expires", FUTURE
    )
    assert waived.code == 0
    assert json.loads(gatekit("check", "gate.yaml", "-f", "json", "--no-record").out)["verdict"] == "ship"
    run = gatekit("check", "gate.yaml", "--baseline", "other-baseline.yaml", "-f", "json", "--no-record")
    verdict = json.loads(run.out)
    assert verdict["gates"][0]["status"] == "fail"
    assert verdict["waivers"] == []
    assert verdict["verdict"] == "revise"
    assert run.code == 3
    assert any(
        "waiver #1 (acc[all].max_decrease, by alice) ignored: it was recorded for other" in n for n in verdict["notes"]
    )
