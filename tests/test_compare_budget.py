"""`budget.max_cost_per_point` judged on the gain's interval: exceeded only with evidence, passed only with
evidence, otherwise inconclusive (revise), with the numbers in the reason."""

from __future__ import annotations

import pytest

from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement
from tests.factories import results, spec

GATE = {"id": "q-floor", "metric": "q", "min": 0.0}
METRICS = {"q": {"kind": "proportion", "higher_is_better": True}}


def judged(candidate: float, baseline: float, n: int, usd: float, limit: float = 1000.0) -> tuple[str, str, str]:
    budget = {"max_cost_per_point": {"cost": "usd", "metric": "q", "point": 0.01, "limit": limit}}
    gate_spec = spec(GATE, budget=budget, metrics=METRICS)
    verdict = build_verdict(
        gate_spec,
        results({"q": {"all": Measurement(candidate, n)}}, {"usd": usd}),
        results({"q": {"all": Measurement(baseline, n)}}),
        spec_path="s.yaml",
    )
    return verdict.budget[0].status, verdict.verdict, verdict.budget[0].reason


@pytest.mark.parametrize(
    ("candidate", "baseline", "n", "usd", "expected"),
    [
        # +10 points on 10,000 examples each: the lower bound (~8.9 points) buys 1,000 USD at 1,000 per point.
        (0.60, 0.50, 10_000, 1_000.0, ("pass", "ship")),
        # +10 points on 10,000 examples, 20,000 USD: even the upper bound (~11.1 points) costs > 1,000 per point.
        (0.60, 0.50, 10_000, 20_000.0, ("fail", "stop")),
        # +2 points on 1,000 examples: 500 USD would be 250 per point at the estimate, but the gain's lower bound
        # is below zero: the data cannot tell.
        (0.52, 0.50, 1_000, 500.0, ("inconclusive", "revise")),
        # A loss with evidence (-10 points on 10,000 examples) is over budget whatever the price.
        (0.40, 0.50, 10_000, 1.0, ("fail", "stop")),
    ],
)
def test_cost_per_point_decides_on_the_gain_interval(
    candidate: float, baseline: float, n: int, usd: float, expected: tuple[str, str]
) -> None:
    status, decision, _ = judged(candidate, baseline, n, usd)

    assert (status, decision) == expected


def test_an_inconclusive_cost_per_point_gives_its_numbers() -> None:
    _, _, reason = judged(0.52, 0.50, 1_000, 500.0)

    assert reason == (
        "500 for 2 points = 250 per point (limit 1,000; 500 needs 0.5 points); at 95% confidence the gain is in "
        "[-1.7, 5.7] points (MOVER difference of Clopper-Pearson limits (approximate)): the interval straddles the "
        "limit, so the data cannot tell"
    )


def test_a_point_gain_is_still_judged_on_the_point_and_says_so() -> None:
    budget = {"max_cost_per_point": {"cost": "usd", "metric": "q", "point": 0.01, "limit": 1000}}
    verdict = build_verdict(
        spec(GATE, budget=budget),
        results({"q": {"all": 0.92}}, {"usd": 1500.0}),
        results({"q": {"all": 0.90}}),
        spec_path="s.yaml",
    )

    assert (verdict.budget[0].status, verdict.budget[0].reason.endswith("worth it even at the lower bound")) == (
        "pass",
        True,
    )
    assert "point estimate, no uncertainty known" in verdict.budget[0].reason


def test_require_uncertainty_makes_a_point_gain_missing() -> None:
    budget = {"max_cost_per_point": {"cost": "usd", "metric": "q", "point": 0.01, "limit": 1000}}
    verdict = build_verdict(
        spec(GATE, budget=budget, require_uncertainty=True),
        results({"q": {"all": 0.92}}, {"usd": 1500.0}),
        results({"q": {"all": 0.90}}),
        spec_path="s.yaml",
    )

    assert (verdict.budget[0].status, verdict.verdict) == ("missing", "revise")
