"""Continue or stop along a run: each step's marginal gain (with its interval) against its marginal cost, at
and around the price that `max_cost_per_point` sets."""

from __future__ import annotations

import pytest

from gatekit.decide.series import series_steps
from gatekit.results import Measurement, Results
from gatekit.spec.model import CostPerPoint
from tests.factories import spec

SPEC = spec(
    {"id": "floor", "metric": "q", "min": 0.0},
    baseline=False,
    metrics={"q": {"kind": "mean", "higher_is_better": True}},
)


def point(name: str, value: float, spent: float, stderr: float = 0.005) -> tuple[str, Results]:
    # A mean with a known standard error: the step's gain has a normal interval (z = 1.645 at 95%).
    return name, Results(f"{name}.yaml", name, {"q": {"all": Measurement(value, None, stderr)}}, {"usd": spent})


def rule(limit: float) -> CostPerPoint:
    return CostPerPoint(cost="usd", metric="q", point=0.01, limit=limit)


# One step: q from 0.50 to 0.55 (+5 points), each side stderr 0.005: the gain's stderr is 0.00707, so its 95%
# bounds are 5 -/+ 1.645 x 0.707 = [3.8369, 6.1631] points. The step costs 1000 USD.
LOWER, UPPER = 5 - 1.6448536269514722 * 0.7071067811865476, 5 + 1.6448536269514722 * 0.7071067811865476


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (1000 / LOWER * 0.999, "inconclusive"),  # just below the price the lower bound can pay
        (1000 / LOWER, "continue"),  # exactly at it: worth it (inclusive, like the gates)
        (1000 / LOWER * 1.001, "continue"),
        (1000 / 5, "inconclusive"),  # the estimate's price: the interval straddles it
        (1000 / UPPER * 1.001, "inconclusive"),
        (1000 / UPPER, "inconclusive"),  # exactly what the upper bound can pay: not shown to be too dear
        (1000 / UPPER * 0.999, "stop"),  # even the upper bound costs more than the limit per point
    ],
)
def test_a_step_is_decided_at_and_around_the_price(limit: float, expected: str) -> None:
    steps = series_steps(SPEC, rule(limit), [point("s1", 0.50, 1000.0), point("s2", 0.55, 2000.0)])

    assert [s.decision for s in steps] == [expected]


def test_the_step_reports_its_gain_interval_and_marginal_cost() -> None:
    (step,) = series_steps(SPEC, rule(250.0), [point("s1", 0.50, 1000.0), point("s2", 0.55, 2000.0)])

    assert (step.before, step.after, step.marginal_cost, step.cost_per_point) == (
        "s1",
        "s2",
        1000.0,
        pytest.approx(200.0),
    )
    assert (step.gain_points, step.gain_lower, step.gain_upper) == (
        pytest.approx(5.0),
        pytest.approx(LOWER),
        pytest.approx(UPPER),
    )


def test_a_loss_with_evidence_stops_even_when_the_step_is_free() -> None:
    steps = series_steps(SPEC, rule(1000.0), [point("s1", 0.55, 1000.0), point("s2", 0.50, 1000.0)])

    assert [s.decision for s in steps] == ["stop"]


def test_a_run_gives_one_decision_per_consecutive_pair() -> None:
    run = [point("s1", 0.50, 1000.0), point("s2", 0.60, 2000.0), point("s3", 0.601, 3000.0)]

    assert [(s.before, s.after, s.decision) for s in series_steps(SPEC, rule(500.0), run)] == [
        ("s1", "s2", "continue"),
        ("s2", "s3", "stop"),
    ]


def test_a_falling_cumulative_cost_is_inconclusive_with_the_reason() -> None:
    (step,) = series_steps(SPEC, rule(500.0), [point("s1", 0.50, 2000.0), point("s2", 0.60, 1000.0)])

    assert (step.decision, step.reason) == (
        "inconclusive",
        "usd falls from 2000 to 1000: the series reads it as cumulative",
    )


def test_a_missing_value_is_inconclusive_never_continue() -> None:
    nan = ("s2", Results("s2.yaml", "s2", {"q": {"all": Measurement(float("nan"), None, 0.005)}}, {"usd": 2000.0}))

    (step,) = series_steps(SPEC, rule(500.0), [point("s1", 0.50, 1000.0), nan])

    assert (step.decision, step.reason) == ("inconclusive", "the candidate value of 'q' on 'all' is NaN")
