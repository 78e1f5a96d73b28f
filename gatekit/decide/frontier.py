"""The noise-aware Pareto frontier over checkpoints. Pure: no I/O, no printing.

The rule: checkpoint A **dominates** B when, on every axis, A is at least as good as B *with confidence*
and, on at least one, better. A metric axis carries noise, so "at least as good" there is a one-sided
interval of A - B (the same intervals as the gates: Clopper-Pearson/MOVER, paired where the example ids match,
t, order statistics, bootstrap) that excludes B being better; a cost axis is exact, so there it is the plain
comparison. The pair's claim is an intersection-union test: its p-value is the largest of its metric axes'
p-values, and the claims of all ordered pairs are corrected together (Holm, or the spec's `correction`).
A checkpoint is on the frontier unless some other checkpoint dominates it after the correction. Two
checkpoints neither of which dominates the other are a *trade-off* when each is better with confidence on
some axis, *undecided* when only one is (the other axes are within noise), and *not told apart* when no
axis separates them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gatekit import stats
from gatekit.decide.bounds import BOUND_KINDS, FLOAT_TOLERANCE
from gatekit.decide.confidence import settings_for
from gatekit.decide.evaluate import usable_value
from gatekit.decide.methods import Interval, Settings, choose_interval
from gatekit.results import Measurement, Results
from gatekit.spec.many import FrontierAxis
from gatekit.spec.model import Gate, Spec

_DIFFERENCE = BOUND_KINDS["max_decrease"]
"""A bound whose interval is of the plain difference (not a ratio); with a baseline value of 0 the interval
`choose_interval` gives is that of candidate - baseline itself."""


@dataclass(frozen=True)
class Axis:
    """A frontier axis with what judging it needs: its direction and the metric's interval settings."""

    label: str
    kind: Literal["metric", "cost"]
    name: str
    slice: str
    higher_is_better: bool
    settings: Settings | None


def axes_for(spec: Spec, declared: Sequence[FrontierAxis], confidence: float) -> tuple[Axis, ...]:
    out = []
    for a in declared:
        if a.cost is not None:
            out.append(Axis(a.label, "cost", a.cost, a.slice, False, None))
            continue
        assert a.metric is not None
        direction = spec.metric_direction(a.metric, a.higher_is_better)
        # A metric of unknown direction is refused by the spec's validation; `improves` metrics default up.
        gate = Gate(id="frontier", metric=a.metric, min=0.0)
        base = settings_for(spec, gate)
        settings = Settings(confidence, None, False, base.kind, base.quantile)
        out.append(Axis(a.label, "metric", a.metric, a.slice, True if direction is None else direction, settings))
    return tuple(out)


@dataclass(frozen=True)
class AxisValue:
    """One checkpoint's value on one axis, with its own interval (for the plots) or why it has none."""

    value: float | None
    lower: float | None = None
    upper: float | None = None
    measurement: Measurement | None = None
    why_missing: str | None = None


def axis_value(axis: Axis, results: Results, costs: dict[str, float]) -> AxisValue:
    if axis.kind == "cost":
        spent = costs.get(axis.name)
        if spent is None:
            return AxisValue(None, why_missing=f"no cost {axis.name!r} recorded")
        return AxisValue(spent, spent, spent)
    value, _, why = usable_value(results, axis.name, axis.slice, "checkpoint")
    if value is None:
        return AxisValue(None, why_missing=why)
    measurement = results.measurement(axis.name, axis.slice)
    assert measurement is not None
    assert axis.settings is not None
    found = choose_interval(BOUND_KINDS["min"], axis.settings, measurement, None, None)
    if isinstance(found, Interval):
        lo, hi = found.bounds_at(axis.settings.confidence)
        return AxisValue(value, _finite(lo), _finite(hi), measurement)
    return AxisValue(value, None, None, measurement)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class AxisEvidence:
    """A against B on one axis: the p-value for "A is better" (0 or 1 on an exact axis) and, for a metric,
    the interval of the difference A - B (oriented as measured, not as better)."""

    p_better: float
    exact: bool = False
    """A cost: compared as it is, no interval."""
    equal: bool = False
    difference: float | None = None
    interval: tuple[float | None, float | None] | None = None
    method: str | None = None


def compare_axis(axis: Axis, a: AxisValue, b: AxisValue) -> tuple[AxisEvidence | None, AxisEvidence | None]:
    """A against B and B against A on one axis, from one interval of A - B (B - A is its mirror image, so the
    two directions never disagree); None when either side has no value (nothing can be said)."""
    if a.value is None or b.value is None:
        return None, None
    if axis.kind == "cost":
        tolerance = FLOAT_TOLERANCE * max(abs(a.value), abs(b.value))  # relative, as bounds.passes
        if abs(a.value - b.value) <= tolerance:
            tie = AxisEvidence(1.0, exact=True, equal=True, difference=0.0)
            return tie, tie
        cheaper = a.value < b.value
        return (
            AxisEvidence(0.0 if cheaper else 1.0, exact=True, difference=a.value - b.value),
            AxisEvidence(1.0 if cheaper else 0.0, exact=True, difference=b.value - a.value),
        )
    assert a.measurement is not None
    assert b.measurement is not None
    assert axis.settings is not None
    found = choose_interval(_DIFFERENCE, axis.settings, a.measurement, b.measurement, 0.0)
    difference = a.value - b.value
    if not isinstance(found, Interval):
        # No uncertainty known (a bare number): the frontier never claims a difference it cannot bound.
        return (
            AxisEvidence(1.0, difference=difference, method=found.why),
            AxisEvidence(1.0, difference=-difference, method=found.why),
        )
    lo, hi = found.bounds_at(axis.settings.confidence)
    side: Literal["at_least", "at_most"] = "at_most" if axis.higher_is_better else "at_least"

    def mirrored(c: float) -> stats.Bounds:
        lower, upper = found.bounds_at(c)
        return -upper, -lower

    # breach_p_value's "breach" of 0 from this side is exactly "the difference is beyond 0 in its favour".
    return (
        AxisEvidence(
            stats.breach_p_value(found.bounds_at, side, 0.0),
            difference=difference,
            interval=(_finite(lo), _finite(hi)),
            method=found.method,
        ),
        AxisEvidence(
            stats.breach_p_value(mirrored, side, 0.0),
            difference=-difference,
            interval=(_finite(-hi), _finite(-lo)),
            method=found.method,
        ),
    )


Relation = Literal["dominates", "dominated_by", "trade_off", "undecided", "not_told_apart", "unknown"]
"""trade_off: each is better with confidence on some axis. undecided: only one is, and the other axes are
within noise (no dominance without evidence on every axis). not_told_apart: no axis tells them apart."""


@dataclass(frozen=True)
class PairClaim:
    """A dominates B? The intersection-union p-value over the axes and its family-wise adjustment."""

    a: str
    b: str
    p_value: float
    p_adjusted: float
    dominates: bool
    axes: tuple[AxisEvidence | None, ...]


def pair_p_value(evidence: Sequence[AxisEvidence | None]) -> float:
    """The p-value of "A dominates B": the largest metric-axis p-value; 1 when an axis is unknown, an exact
    axis is worse, or nothing at all is strictly better."""
    if any(e is None for e in evidence):
        return 1.0
    known = [e for e in evidence if e is not None]
    noisy = [e for e in known if not e.exact]
    exact = [e for e in known if e.exact]
    if any(not e.equal and e.p_better > 0 for e in exact):
        return 1.0
    strictly = any(not e.equal for e in exact) or bool(noisy)
    if not strictly:
        return 1.0
    return max((e.p_better for e in noisy), default=0.0)


def dominance(
    ids: Sequence[str], values: Sequence[Sequence[AxisValue]], axes: Sequence[Axis], correction: stats.Correction
) -> tuple[PairClaim, ...]:
    """Every ordered pair (A, B), A != B, with its corrected dominance claim, at the axes' confidence."""
    raw: list[tuple[int, int, float, tuple[AxisEvidence | None, ...]]] = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            both = [compare_axis(ax, values[i][k], values[j][k]) for k, ax in enumerate(axes)]
            ij, ji = tuple(e[0] for e in both), tuple(e[1] for e in both)
            raw += [(i, j, pair_p_value(ij), ij), (j, i, pair_p_value(ji), ji)]
    adjusted = stats.adjust_p_values([p for _, _, p, _ in raw], correction)
    alpha = 1 - _confidence(axes)
    return tuple(
        PairClaim(ids[i], ids[j], p, p_adj, p_adj <= alpha and p < 1.0, evidence)
        for (i, j, p, evidence), p_adj in zip(raw, adjusted, strict=True)
    )


def _confidence(axes: Sequence[Axis]) -> float:
    for axis in axes:
        if axis.settings is not None:
            return axis.settings.confidence
    return 0.95


def relation(claims: Sequence[PairClaim], a: str, b: str, alpha: float) -> Relation:
    """How A stands to B (see `Relation`); unknown when an axis value is missing."""
    ab = next(c for c in claims if c.a == a and c.b == b)
    ba = next(c for c in claims if c.a == b and c.b == a)
    if ab.dominates:
        return "dominates"
    if ba.dominates:
        return "dominated_by"
    if any(e is None for e in ab.axes):
        return "unknown"
    a_better = any(e is not None and e.p_better <= alpha and not e.equal for e in ab.axes)
    b_better = any(e is not None and e.p_better <= alpha and not e.equal for e in ba.axes)
    if a_better and b_better:
        return "trade_off"
    return "undecided" if a_better or b_better else "not_told_apart"
