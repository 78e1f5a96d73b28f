"""The verdict rule: stop on a stop-gate breach or an exceeded budget; revise on anything else not passed; else ship."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gatekit.decide.verdict import build_verdict
from gatekit.exit_codes import ExitCode
from gatekit.results import Measurement, Results
from tests.factories import PINNED, results, spec

REVISE_GATE = {"id": "quality", "metric": "q", "min": 0.5}
STOP_GATE = {"id": "safety", "metric": "s", "max": 0.1, "on_fail": "stop"}
GOOD = {"q": {"all": 0.9}, "s": {"all": 0.01}}


def verdict_for(candidate: dict[str, Any], costs: dict[str, float] | None = None, **spec_extra: Any) -> Any:
    gate_spec = spec(REVISE_GATE, STOP_GATE, baseline=False, **spec_extra)
    return build_verdict(gate_spec, results(candidate, costs), None, spec_path="s.yaml")


@pytest.mark.parametrize(
    ("candidate", "costs", "extra", "decision"),
    [
        pytest.param(GOOD, None, {}, "ship", id="all-pass"),
        pytest.param({**GOOD, "q": {"all": 0.4}}, None, {}, "revise", id="revise-gate-fails"),
        pytest.param({**GOOD, "s": {"all": 0.2}}, None, {}, "stop", id="stop-gate-fails"),
        pytest.param({"q": {"all": 0.4}, "s": {"all": 0.2}}, None, {}, "stop", id="stop-beats-revise"),
        pytest.param({**GOOD, "s": {"all": math.nan}}, None, {}, "revise", id="stop-gate-missing-is-revise"),
        pytest.param({"q": {"all": 0.9}}, None, {}, "revise", id="metric-absent"),
        pytest.param(GOOD, {"usd": 120.0}, {"budget": {"limits": {"usd": 100}}}, "stop", id="over-budget"),
        pytest.param(GOOD, {"usd": 100.0}, {"budget": {"limits": {"usd": 100}}}, "ship", id="at-budget"),
        pytest.param(GOOD, {}, {"budget": {"limits": {"usd": 100}}}, "revise", id="budget-unrecorded"),
        pytest.param(
            GOOD,
            None,
            {"rollback": {k: v for k, v in PINNED.items() if k != "tokenizer"}},
            "revise",
            id="manifest-incomplete",
        ),
        pytest.param(
            GOOD,
            None,
            {"rollback": {**PINNED, "adapter": {"uri": "a", "revision": "main"}}},
            "revise",
            id="optional-entry-unpinned",
        ),
    ],
)
def test_decision(
    candidate: dict[str, Any], costs: dict[str, float] | None, extra: dict[str, Any], decision: str
) -> None:
    verdict = verdict_for(candidate, costs, **extra)

    assert verdict.verdict == decision
    assert verdict.exit_code == {"ship": ExitCode.SHIP, "revise": ExitCode.REVISE, "stop": ExitCode.STOP}[decision]


def test_every_reason_is_listed_stop_reasons_first() -> None:
    verdict = verdict_for({"q": {"all": 0.4}, "s": {"all": 0.2}})

    assert [(r.leads_to, r.subject, r.status) for r in verdict.reasons] == [
        ("stop", "safety[all].max", "fail"),
        ("revise", "quality[all].min", "fail"),
    ]
    assert verdict.summary == "STOP: 1 gate check failed (safety[all].max); 1 more reason to revise"


def test_ship_has_no_reasons() -> None:
    verdict = verdict_for(GOOD)

    assert verdict.reasons == ()
    assert verdict.summary.startswith("SHIP: all 2 gate checks passed")


def test_cost_per_point_with_no_gain_is_over_budget() -> None:
    budget = {"max_cost_per_point": {"cost": "usd", "metric": "q", "point": 0.01, "limit": 1000}}
    gate_spec = spec(REVISE_GATE, budget=budget)

    verdict = build_verdict(
        gate_spec, results({"q": {"all": 0.9}}, {"usd": 50.0}), results({"q": {"all": 0.9}}), spec_path="s.yaml"
    )

    assert verdict.verdict == "stop"
    assert verdict.budget[0].reason == (
        "50 for 0 points (no gain) (limit 1,000; 50 needs 0.05 points); point estimate, no uncertainty known: "
        "over the limit even at the upper bound (over budget)"
    )


def test_cost_per_point_within_limit_passes() -> None:
    budget = {"max_cost_per_point": {"cost": "usd", "metric": "q", "point": 0.01, "limit": 1000}}
    gate_spec = spec(REVISE_GATE, budget=budget)

    verdict = build_verdict(
        gate_spec, results({"q": {"all": 0.92}}, {"usd": 1500.0}), results({"q": {"all": 0.90}}), spec_path="s.yaml"
    )

    assert (verdict.budget[0].status, verdict.budget[0].spent) == ("pass", pytest.approx(750.0))


def test_cost_per_point_on_a_value_with_a_problem_is_missing_not_passed() -> None:
    # A partial run or bad rows: the gates call such a value missing, and so does the budget.
    budget = {"max_cost_per_point": {"cost": "usd", "metric": "q", "point": 0.01, "limit": 1000}}
    gate_spec = spec(REVISE_GATE, budget=budget)
    partial = Results("b.yaml", "b", {"q": {"all": Measurement(0.90, 100, problem="40 of 100 samples evaluated")}})

    verdict = build_verdict(gate_spec, results({"q": {"all": 0.92}}, {"usd": 1500.0}), partial, spec_path="s.yaml")

    assert verdict.budget[0].status == "missing"
    assert "40 of 100 samples evaluated" in verdict.budget[0].reason
