"""The cost budget: cost limits and the cost per point gained."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gatekit.spec.base import AGGREGATE_SLICE, NonEmptyStr, NonNegativeFloat, _Model


class CostPerPoint(_Model):
    """A limit on cost per point gained: cost spent / (candidate - baseline) on a metric, in units of `point`."""

    cost: NonEmptyStr
    """The cost item in the candidate's `costs` (e.g. train_usd)."""
    metric: NonEmptyStr
    """The metric whose gain the cost bought."""
    slice: NonEmptyStr = AGGREGATE_SLICE
    point: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """The size of one point in the metric's units (0.01 for a percentage point of a 0-1 rate)."""
    limit: NonNegativeFloat
    """Highest acceptable cost per point."""
    higher_is_better: bool = True
    """Whether a gain means the metric going up."""


class Budget(_Model):
    """Cost limits checked against the `costs` recorded in the candidate results. Exceeding one stops a release."""

    limits: dict[NonEmptyStr, NonNegativeFloat] = Field(default_factory=dict)
    """Named cost limits, e.g. {train_gpu_hours: 400, train_usd: 12000, eval_usd: 300}."""
    max_cost_per_point: CostPerPoint | None = None
