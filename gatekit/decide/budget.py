"""The cost budget, checked against the costs recorded in the candidate results. Pure functions."""

from __future__ import annotations

from gatekit.decide.evaluate import fmt, usable_value
from gatekit.outcomes import BudgetOutcome
from gatekit.results import Results
from gatekit.spec.model import Budget, CostPerPoint


def evaluate_budget(budget: Budget, candidate: Results, baseline: Results | None) -> tuple[BudgetOutcome, ...]:
    """One outcome per limit. A cost the results do not record is missing: an unverified budget never ships."""
    outcomes = [_limit(item, limit, candidate) for item, limit in budget.limits.items()]
    if budget.max_cost_per_point is not None:
        outcomes.append(_cost_per_point(budget.max_cost_per_point, candidate, baseline))
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


def _cost_per_point(rule: CostPerPoint, candidate: Results, baseline: Results | None) -> BudgetOutcome:
    item = f"{rule.cost} per point of {rule.metric}"

    def missing(reason: str) -> BudgetOutcome:
        return BudgetOutcome(item=item, limit=rule.limit, spent=None, status="missing", reason=reason)

    spent = candidate.costs.get(rule.cost)
    if spent is None:
        return missing(f"the candidate results record no cost {rule.cost!r}")
    if baseline is None:
        return missing("cost per point needs baseline results")
    # The gates' own rule: a NaN, an empty slice or a value with a problem (bad rows, a partial run) is missing.
    cand_value, _, cand_why = usable_value(candidate, rule.metric, rule.slice, "candidate")
    base_value, _, base_why = usable_value(baseline, rule.metric, rule.slice, "baseline")
    if cand_value is None or base_value is None:
        return missing(cand_why or base_why or f"{rule.metric!r} on {rule.slice!r} is missing")
    gain = (cand_value - base_value) if rule.higher_is_better else (base_value - cand_value)
    points = gain / rule.point
    if points <= 0:
        return BudgetOutcome(
            item=item,
            limit=rule.limit,
            spent=None,
            status="fail",
            reason=f"{fmt(spent)} spent for no gain on {rule.metric} ({fmt(points)} points): over budget",
        )
    per_point = spent / points
    status = "pass" if per_point <= rule.limit else "fail"
    return BudgetOutcome(
        item=item,
        limit=rule.limit,
        spent=per_point,
        status=status,
        reason=f"{fmt(spent)} for {fmt(points)} points = {fmt(per_point)} per point (limit {fmt(rule.limit)})",
    )
