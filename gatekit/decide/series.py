"""Continue or stop along a run: the marginal gain between consecutive checkpoints against its marginal cost.

Pure. The rule is `budget.max_cost_per_point`'s (see `gatekit.decide.budget.judge_gain`), applied to each
step: the cost item is cumulative (what the run has spent by that checkpoint), so a step's cost is the
difference; the gain is the next checkpoint's value minus the previous one's, with the gates' interval of
that difference (paired where the example ids match). *continue* when even the gain's lower bound is worth
the step's cost, *stop* when even its upper bound is not, *inconclusive* otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatekit.decide.budget import gain_bounds, judge_gain
from gatekit.results import Results
from gatekit.spec.model import CostPerPoint, Spec


class SeriesStep(BaseModel):
    """One step of a run: from one checkpoint to the next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    before: str
    after: str
    gain_points: float | None
    """The estimated gain in points (null when it cannot be measured)."""
    gain_lower: float | None
    gain_upper: float | None
    """One-sided bounds of the gain in points, at the spec's confidence."""
    marginal_cost: float | None
    cost_per_point: float | None
    decision: Literal["continue", "stop", "inconclusive"]
    reason: str


def describe_rule(rule: CostPerPoint) -> str:
    direction = "" if rule.higher_is_better else " (lower is better)"
    return (
        f"{rule.cost} per point ({rule.point:g}) of {rule.metric}{direction} on {rule.slice!r}, at most {rule.limit:g}"
    )


def series_steps(spec: Spec, rule: CostPerPoint, run: Sequence[tuple[str, Results]]) -> tuple[SeriesStep, ...]:
    """A step for every consecutive pair of `run` (already in run order)."""
    steps = []
    for (before_id, before), (after_id, after) in itertools.pairwise(run):
        steps.append(_step(spec, rule, before_id, before, after_id, after))
    return tuple(steps)


def _step(  # noqa: PLR0917 - two (id, results) pairs
    spec: Spec, rule: CostPerPoint, before_id: str, before: Results, after_id: str, after: Results
) -> SeriesStep:
    def unknown(reason: str, cost: float | None = None) -> SeriesStep:
        return SeriesStep(
            before=before_id,
            after=after_id,
            gain_points=None,
            gain_lower=None,
            gain_upper=None,
            marginal_cost=cost,
            cost_per_point=None,
            decision="inconclusive",
            reason=reason,
        )

    spent_before, spent_after = before.costs.get(rule.cost), after.costs.get(rule.cost)
    if spent_before is None or spent_after is None:
        which = before_id if spent_before is None else after_id
        return unknown(f"{which} records no cost {rule.cost!r}")
    cost = spent_after - spent_before
    if cost < 0:
        return unknown(
            f"{rule.cost} falls from {spent_before:g} to {spent_after:g}: the series reads it as cumulative", cost
        )
    gain = gain_bounds(rule, after, before, spec)
    if isinstance(gain, str):
        return unknown(gain, cost)
    judged = judge_gain(rule, gain, cost)
    return SeriesStep(
        before=before_id,
        after=after_id,
        gain_points=gain.estimate / rule.point,
        gain_lower=gain.lower / rule.point,
        gain_upper=gain.upper / rule.point,
        marginal_cost=cost,
        cost_per_point=judged.per_point,
        decision=judged.decision,
        reason=judged.reason,
    )
