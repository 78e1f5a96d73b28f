"""Judge validity: a gate on a metric scored by an unvalidated judge can at best give revise."""

from __future__ import annotations

from typing import Any

import pytest

from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement
from tests import factories

GATE = {"id": "helpful", "metric": "judge_score", "min": 0.5}


def _verdict(judge: dict[str, Any] | None, value: float = 0.9, **gate: Any) -> Any:
    metrics = {"judge_score": {"kind": "proportion", **({"judge": judge} if judge is not None else {})}}
    spec = factories.spec({**GATE, **gate}, baseline=False, metrics=metrics)
    candidate = factories.results({"judge_score": {"all": Measurement(value, 1000)}})
    return build_verdict(spec, candidate, None, spec_path="gate.yaml")


def test_a_gate_on_an_unvalidated_judge_cannot_ship_even_when_every_check_passes() -> None:
    verdict = _verdict({"validated": False})
    assert [o.status for o in verdict.gates] == ["pass"]
    assert verdict.verdict == "revise"
    (reason,) = verdict.reasons
    assert (reason.kind, reason.subject, reason.status, reason.leads_to) == (
        "judge",
        "helpful",
        "not_validated",
        "revise",
    )
    assert reason.message.startswith("judge not validated: judge_score is scored by a judge")
    assert verdict.summary == "REVISE: 1 gate on an unvalidated judge cannot ship on its own (helpful)"


def test_a_validated_judge_ships() -> None:
    assert _verdict({"validated": True, "agreement": 0.87, "labels": 400}).verdict == "ship"


def test_a_metric_without_a_judge_ships() -> None:
    assert _verdict(None).verdict == "ship"


def test_an_unvalidated_judge_still_stops_on_a_failing_stop_gate() -> None:
    verdict = _verdict({"validated": False}, value=0.1, on_fail="stop")
    assert verdict.verdict == "stop"
    assert [r.kind for r in verdict.reasons] == ["gate", "judge"]


@pytest.mark.parametrize("judge", [{"validated": "no"}, {"validated": True, "agreement": 1.5}, {"labels": 3}])
def test_judge_fields_are_strict(judge: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="judge"):
        _verdict(judge)
