"""Immutable records of what the evaluator found. They serialize to the verdict JSON as they are.

Fields are only ever added to these records, never renamed or removed: the JSON verdict is a public format.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatekit.spec.model import ArtifactName, BoundName, OnFail

Status = Literal["pass", "fail", "missing", "inconclusive"]
"""pass: the bound holds. fail: it is breached. missing: it could not be evaluated (no data, NaN, empty slice,
no baseline). inconclusive: the data cannot tell (the interval straddles the threshold, or too few examples).
Only pass ships."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GateOutcome(_Record):
    """One (gate, slice, bound) check: the unit of every report."""

    id: str
    """The gate's id."""
    metric: str
    slice: str
    bound: BoundName
    limit: float
    """The number written in the spec for this bound."""
    on_fail: OnFail
    status: Status
    observed: float | None
    """The candidate's value on this slice (null when absent or not finite)."""
    baseline: float | None
    """The baseline's value on this slice (relative bounds only)."""
    threshold: float | None
    """The value the observed value is compared with."""
    margin: float | None
    """Headroom on the passing side of the threshold; negative means a breach by that much."""
    n: int | None
    """Examples behind the candidate's value, when known."""
    reason: str
    """Why this status, in words."""
    uncertainty: Literal["interval", "point"] = "point"
    """interval: decided by a confidence interval; point: by the point estimate alone (no uncertainty known)."""
    method: str | None = None
    """The interval method, e.g. "Wilson score", "Newcombe hybrid score", "order statistics (distribution-free)"."""
    confidence: float | None = None
    """One-sided confidence of the decision (0.95 unless the spec or gate sets it)."""
    interval: tuple[float | None, float | None] | None = None
    """(lower, upper) bounds of the compared quantity, each one-sided at `confidence`, on the observed value's
    scale: for relative bounds, the baseline's value plus the interval of the difference (or times the interval
    of the ratio), so both are compared with `threshold`. null inside: unbounded (too few examples, timeouts)."""
    p_value: float | None = None
    """One-sided p-value for "the bound is breached" (1.0 when the estimate itself is not beyond the threshold)."""
    p_adjusted: float | None = None
    """`p_value` after the spec's family-wise correction; a fail needs it <= 1 - confidence."""
    evidence_needed: int | None = None
    """For inconclusive checks: roughly how many examples per arm would decide it at the observed effect."""


class AggregateCallout(_Record):
    """The aggregate slice passes a bound that one or more other slices of the same gate fail."""

    id: str
    metric: str
    bound: BoundName
    aggregate_observed: float
    aggregate_threshold: float
    failing_slices: tuple[str, ...]
    message: str


class BudgetOutcome(_Record):
    """One budget line: a named cost limit, or the cost per point gained."""

    item: str
    limit: float
    spent: float | None
    """The cost recorded in the candidate results (or the cost per point)."""
    status: Literal["pass", "fail", "missing", "inconclusive"]
    """inconclusive: a cost per point whose gain's interval straddles the limit (revise, never stop)."""
    reason: str


class ArtifactOutcome(_Record):
    """One rollback-manifest entry and whether it pins the artifact."""

    name: ArtifactName
    required: bool
    uri: str | None
    pin: str | None
    """The digest or revision that pins it."""
    status: Literal["pinned", "missing", "unpinned", "not_required"]
    reason: str


class HypothesisOutcome(_Record):
    """Whether a metric the hypothesis meant to improve did improve on the aggregate slice (informational)."""

    metric: str
    candidate: float | None
    baseline: float | None
    change: float | None
    status: Literal["improved", "not_improved", "unknown"]
    reason: str
