"""The cost budget, checked against the costs recorded in the candidate results. Pure functions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from gatekit.decide.bounds import BOUND_KINDS, passes
from gatekit.decide.confidence import settings_for
from gatekit.decide.evaluate import fmt, usable_value
from gatekit.decide.methods import POINT_FLAG, NoInterval, choose_interval
from gatekit.numbers import format_number
from gatekit.outcomes import BudgetOutcome
from gatekit.results import Results
from gatekit.spec.model import Budget, CostPerPoint, Gate, Spec


def evaluate_budget(
    budget: Budget, candidate: Results, baseline: Results | None, spec: Spec | None = None
) -> tuple[BudgetOutcome, ...]:
    """One outcome per limit. A cost the results do not record is missing: an unverified budget never ships.

    The cost per point is judged on the gain's interval (the spec's confidence and metric kinds, from `spec`):
    it passes only when even the gain's lower bound is worth the cost, fails only when even its upper bound
    is not, and is otherwise inconclusive (revise)."""
    outcomes = [_limit(item, limit, candidate) for item, limit in budget.limits.items()]
    if budget.max_cost_per_point is not None:
        outcomes.append(_cost_per_point(budget.max_cost_per_point, candidate, baseline, spec))
    return tuple(outcomes)


def _limit(item: str, limit: float, candidate: Results) -> BudgetOutcome:
    spent = candidate.costs.get(item)
    if spent is None:
        return BudgetOutcome(
            item=item,
            limit=limit,
            spent=None,
            status="missing",
            reason=f"the candidate results record no cost {item!r}",
        )
    if spent > limit:
        return BudgetOutcome(
            item=item,
            limit=limit,
            spent=spent,
            status="fail",
            reason=f"{fmt(spent)} spent, over the limit of {fmt(limit)} by {fmt(spent - limit)}",
        )
    return BudgetOutcome(item=item, limit=limit, spent=spent, status="pass", reason=f"{fmt(spent)} of {fmt(limit)}")


def _cost_per_point(
    rule: CostPerPoint, candidate: Results, baseline: Results | None, spec: Spec | None
) -> BudgetOutcome:
    item = f"{rule.cost} per point of {rule.metric}"

    def missing(reason: str) -> BudgetOutcome:
        return BudgetOutcome(item=item, limit=rule.limit, spent=None, status="missing", reason=reason)

    spent = candidate.costs.get(rule.cost)
    if spent is None:
        return missing(f"the candidate results record no cost {rule.cost!r}")
    if baseline is None:
        return missing("cost per point needs baseline results")
    gain = gain_bounds(rule, candidate, baseline, spec)
    if isinstance(gain, str):
        return missing(gain)
    decision = judge_gain(rule, gain, spent)
    status = _BUDGET_STATUS[decision.decision]
    return BudgetOutcome(item=item, limit=rule.limit, spent=decision.per_point, status=status, reason=decision.reason)


_BUDGET_STATUS: dict[str, Literal["pass", "fail", "inconclusive"]] = {
    "continue": "pass",  # worth it with evidence
    "stop": "fail",  # not worth it with evidence
    "inconclusive": "inconclusive",
}


@dataclass(frozen=True)
class Gain:
    """The gain on the rule's metric (in its favourable direction, metric units): estimate and one-sided
    bounds at `confidence`, or the estimate twice when no uncertainty is known (`method` says so)."""

    estimate: float
    lower: float
    upper: float
    confidence: float
    method: str


def gain_bounds(rule: CostPerPoint, after: Results, before: Results, spec: Spec | None) -> Gain | str:
    """The gain from `before` to `after` on (rule.metric, rule.slice), or why it cannot be measured. The
    interval is the gates' own (`choose_interval` on the difference: MOVER, paired where the ids match,
    t, bootstrap); a value with no uncertainty gives a point gain, flagged, unless `require_uncertainty`."""
    a_value, _, a_why = usable_value(after, rule.metric, rule.slice, "candidate")
    b_value, _, b_why = usable_value(before, rule.metric, rule.slice, "baseline")
    if a_value is None or b_value is None:
        return a_why or b_why or f"{rule.metric!r} on {rule.slice!r} is missing"
    settings = settings_for(spec, Gate(id="cost-per-point", metric=rule.metric, min=0.0))
    a_m, b_m = after.measurement(rule.metric, rule.slice), before.measurement(rule.metric, rule.slice)
    assert a_m is not None
    assert b_m is not None
    sign = 1.0 if rule.higher_is_better else -1.0
    estimate = sign * (a_value - b_value)
    found = choose_interval(BOUND_KINDS["max_decrease"], settings, a_m, b_m, 0.0)
    if isinstance(found, NoInterval):
        if found.status != "point" or settings.require_uncertainty:
            return f"the gain's interval cannot be computed: {found.why}"
        return Gain(estimate, estimate, estimate, settings.confidence, POINT_FLAG)
    lo, hi = found.bounds_at(settings.confidence)
    lower, upper = (lo, hi) if rule.higher_is_better else (-hi, -lo)
    return Gain(estimate, lower, upper, settings.confidence, found.method)


@dataclass(frozen=True)
class GainDecision:
    decision: Literal["continue", "stop", "inconclusive"]
    per_point: float | None
    """Cost per point at the estimated gain (None when the estimate is no gain)."""
    reason: str


def judge_gain(rule: CostPerPoint, gain: Gain, cost: float) -> GainDecision:
    """Worth it with evidence (continue / pass), not worth it with evidence (stop / fail), or inconclusive.

    The gain that `cost` must buy is `cost / limit` points. *continue* when the gain's lower bound is at
    least that (and above zero); *stop* when its upper bound is below it (or at most zero); otherwise the
    interval straddles the price and the data cannot tell. Inclusive like the gates: a bound exactly at the
    price is worth it.
    """
    points = gain.estimate / rule.point
    lower, upper = gain.lower / rule.point, gain.upper / rule.point
    # A limit of 0 per point: only a free step is worth anything.
    needed = cost / rule.limit if rule.limit > 0 else (0.0 if cost == 0 else math.inf)
    per_point = cost / points if points > 0 else None
    level = f"{gain.confidence * 100:g}%"
    head = (
        f"{fmt(cost)} for {fmt(points)} points"
        + (f" = {fmt(per_point)} per point" if per_point is not None else " (no gain)")
        + f" (limit {fmt(rule.limit)}; {fmt(cost)} needs {fmt(needed)} points)"
    )
    if gain.method == POINT_FLAG:
        head += f"; {POINT_FLAG}"
        interval = ""
    else:
        width = upper - lower  # each bound shown to the precision the interval allows
        shown = f"[{format_number(lower, uncertainty=width)}, {format_number(upper, uncertainty=width)}]"
        interval = f"; at {level} confidence the gain is in {shown} points ({gain.method})"
    # The gates' own rounding rule (relative to the threshold, never absolute): see bounds.passes.
    if lower > 0 and passes("at_least", lower, needed):
        return GainDecision("continue", per_point, head + interval + ": worth it even at the lower bound")
    if upper <= 0 or not passes("at_least", upper, needed):
        return GainDecision(
            "stop", per_point, head + interval + ": over the limit even at the upper bound (over budget)"
        )
    return GainDecision(
        "inconclusive", per_point, head + interval + ": the interval straddles the limit, so the data cannot tell"
    )
