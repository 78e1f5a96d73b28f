"""Decisions across many checkpoints: each checkpoint's verdict, the noise-aware frontier, the recommendation.

Pure: the caller (`gatekit.cli.compare`) loads the results and builds each checkpoint's verdict with the one
evaluator (`gatekit.decide.verdict.build_verdict`); this module never judges a gate itself. The gates are
constraints: only a checkpoint whose verdict is ship is *eligible*. The recommendation is the eligible
checkpoint on the eligible frontier (dominated by no other eligible checkpoint, with confidence; see
`gatekit.decide.frontier`) that the tie-break picks, or none, with why.

Exit codes: 0 a recommendation exists, 3 none is eligible (or none can be picked), 4 every checkpoint stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatekit import __version__
from gatekit.decide import frontier as fr
from gatekit.decide.lineage import BisectFinding, bisect
from gatekit.decide.series import SeriesStep, describe_rule, series_steps
from gatekit.decide.verdict import Decision, Verdict
from gatekit.exit_codes import ExitCode
from gatekit.outcomes import GateOutcome, Status
from gatekit.results import Results
from gatekit.spec.many import FrontierAxis, TieBreak
from gatekit.spec.model import AGGREGATE_SLICE, CostPerPoint, Spec

COMPARISON_SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GateCell(_Record):
    """One gate at one checkpoint: its worst status, its value on `all` and on its worst slice."""

    gate: str
    metric: str
    status: Status
    """The worst status over the gate's slices and bounds (fail, inconclusive, missing, then pass)."""
    all_value: float | None
    worst_slice: str | None
    """The slice (other than `all`, when there are others) with the worst status, then the least margin."""
    worst_value: float | None


class AxisPoint(_Record):
    axis: str
    value: float | None
    lower: float | None
    upper: float | None
    """One-sided bounds at the spec's confidence (equal to the value for a cost; null when unbounded)."""
    missing: str | None = None


class CheckpointRow(_Record):
    id: str
    order: float | None
    results: str
    model: str
    verdict: Decision
    summary: str
    gates: tuple[GateCell, ...]
    costs: dict[str, float]
    axes: tuple[AxisPoint, ...]
    eligible: bool
    """Its verdict is ship: the gates hold, so it may be recommended."""
    on_frontier: bool
    """No other checkpoint dominates it with confidence."""
    dominated_by: tuple[str, ...]
    trade_off_with: tuple[str, ...]
    """Each is better than the other with confidence on some axis."""
    undecided_with: tuple[str, ...]
    """Neither dominates: one is better with confidence on some axis, but the other axes are within noise."""
    not_told_apart: tuple[str, ...]
    """No axis separates the two with confidence."""
    recommended: bool


class AxisInfo(_Record):
    label: str
    kind: Literal["metric", "cost"]
    higher_is_better: bool


class DominanceClaim(_Record):
    dominant: str
    dominated: str
    p_value: float
    """The intersection-union p-value: the largest over the metric axes of "the dominant one is better"."""
    p_adjusted: float
    methods: tuple[str, ...] = ()
    """The interval method of each metric axis, as `axis: method` (e.g. "accuracy: Clopper-Pearson exact")."""


class FrontierSummary(_Record):
    axes: tuple[AxisInfo, ...]
    confidence: float
    correction: str
    comparisons: int
    """Ordered pairs tested: the size of the family the correction runs over."""
    tie_break: str
    claims: tuple[DominanceClaim, ...]


class Comparison(_Record):
    """Everything a comparison report needs, and nothing it must recompute."""

    schema_version: int = COMPARISON_SCHEMA_VERSION
    gatekit_version: str = __version__
    spec_name: str
    spec_path: str
    baseline: str | None
    decision: Literal["recommend", "none_eligible", "all_stop", "undecidable"]
    exit_code: int
    recommendation: str | None
    why: str
    sorted_by: str
    checkpoints: tuple[CheckpointRow, ...]
    frontier: FrontierSummary
    series_rule: str | None = None
    series: tuple[SeriesStep, ...] | None = None
    bisection: tuple[BisectFinding, ...] | None = None


@dataclass(frozen=True)
class Checkpoint:
    """One compared checkpoint: its id and order, its results (costs merged in) and its verdict."""

    id: str
    order: float | None
    results: Results
    verdict: Verdict


_SEVERITY = {"fail": 0, "inconclusive": 1, "missing": 2, "pass": 3}


def _gate_cells(spec: Spec, verdict: Verdict) -> tuple[GateCell, ...]:
    cells = []
    for gate in spec.gates:
        outcomes = [o for o in verdict.gates if o.id == gate.id]
        if not outcomes:
            continue
        worst = min(outcomes, key=lambda o: (_SEVERITY[o.status], _margin(o)))
        others = [o for o in outcomes if o.slice != AGGREGATE_SLICE] or outcomes
        worst_slice = min(others, key=lambda o: (_SEVERITY[o.status], _margin(o)))
        on_all = next((o for o in outcomes if o.slice == AGGREGATE_SLICE), None)
        cells.append(
            GateCell(
                gate=gate.id,
                metric=gate.metric,
                status=worst.status,
                all_value=on_all.observed if on_all else None,
                worst_slice=worst_slice.slice,
                worst_value=worst_slice.observed,
            )
        )
    return tuple(cells)


def _margin(o: GateOutcome) -> float:
    return o.margin if o.margin is not None else math.inf


def frontier_axes(spec: Spec) -> tuple[FrontierAxis, ...]:
    """The spec's frontier axes, or the hypothesis's `improves` metrics on `all`."""
    if spec.frontier is not None:
        return spec.frontier.axes
    return tuple(FrontierAxis(metric=m) for m in spec.hypothesis.improves)


def compare(
    spec: Spec,
    checkpoints: Sequence[Checkpoint],
    *,
    spec_path: str,
    baseline: str | None,
    sort_by: str | None = None,
    series: CostPerPoint | None = None,
    with_bisection: bool = False,
) -> Comparison:
    """Compare checkpoints (each already judged by `build_verdict`) and recommend one, or none with why."""
    confidence = spec.confidence
    axes = fr.axes_for(spec, frontier_axes(spec), confidence)
    tie_break = spec.frontier.default_tie_break() if spec.frontier else _default_tie_break(axes)
    ids = [c.id for c in checkpoints]
    values = [[fr.axis_value(ax, c.results, dict(c.results.costs)) for ax in axes] for c in checkpoints]
    claims = fr.dominance(ids, values, axes, spec.correction)
    eligible_ids = [c.id for c in checkpoints if c.verdict.verdict == "ship"]
    alpha = 1 - confidence
    dominated_by = {i: tuple(c.a for c in claims if c.b == i and c.dominates) for i in ids}
    eligible_frontier = [i for i in eligible_ids if not any(d in eligible_ids for d in dominated_by[i])]
    recommendation, why = _recommend(spec, checkpoints, eligible_frontier, tie_break, claims, alpha)
    decision, code = _decision(checkpoints, recommendation)
    rows = []
    for c, row_values in zip(checkpoints, values, strict=True):
        relations = {other: fr.relation(claims, c.id, other, alpha) for other in ids if other != c.id}
        rows.append(
            CheckpointRow(
                id=c.id,
                order=c.order,
                results=c.results.source,
                model=c.results.model,
                verdict=c.verdict.verdict,
                summary=c.verdict.summary,
                gates=_gate_cells(spec, c.verdict),
                costs=dict(c.results.costs),
                axes=tuple(
                    AxisPoint(axis=ax.label, value=v.value, lower=v.lower, upper=v.upper, missing=v.why_missing)
                    for ax, v in zip(axes, row_values, strict=True)
                ),
                eligible=c.id in eligible_ids,
                on_frontier=not dominated_by[c.id],
                dominated_by=dominated_by[c.id],
                trade_off_with=tuple(o for o, r in relations.items() if r == "trade_off"),
                undecided_with=tuple(o for o, r in relations.items() if r == "undecided"),
                not_told_apart=tuple(o for o, r in relations.items() if r == "not_told_apart"),
                recommended=c.id == recommendation,
            )
        )
    in_run = sorted(checkpoints, key=_run_key(checkpoints))
    return Comparison(
        spec_name=spec.name,
        spec_path=spec_path,
        baseline=baseline,
        decision=decision,
        exit_code=int(code),
        recommendation=recommendation,
        why=why,
        sorted_by=sort_by or "order",
        checkpoints=tuple(_sorted(rows, spec, sort_by)),
        frontier=FrontierSummary(
            axes=tuple(AxisInfo(label=a.label, kind=a.kind, higher_is_better=a.higher_is_better) for a in axes),
            confidence=confidence,
            correction=spec.correction,
            comparisons=len(claims),
            tie_break=tie_break.describe(),
            claims=tuple(
                DominanceClaim(
                    dominant=c.a,
                    dominated=c.b,
                    p_value=c.p_value,
                    p_adjusted=c.p_adjusted,
                    methods=tuple(
                        f"{ax.label}: {e.method}"
                        for ax, e in zip(axes, c.axes, strict=True)
                        if e is not None and e.method is not None
                    ),
                )
                for c in claims
                if c.dominates
            ),
        ),
        series_rule=describe_rule(series) if series is not None else None,
        series=series_steps(spec, series, [(c.id, c.results) for c in in_run]) if series is not None else None,
        bisection=bisect([(c.id, c.verdict) for c in in_run]) if with_bisection else None,
    )


def _default_tie_break(axes: Sequence[fr.Axis]) -> TieBreak:
    cost = next((a for a in axes if a.kind == "cost"), None)
    return TieBreak(cost=cost.name) if cost is not None else TieBreak(order="first")


def _run_key(checkpoints: Sequence[Checkpoint]) -> Callable[[Checkpoint], tuple[bool, float, int]]:
    position = {c.id: i for i, c in enumerate(checkpoints)}

    def key(c: Checkpoint) -> tuple[bool, float, int]:
        return (c.order is None, c.order if c.order is not None else 0.0, position[c.id])

    return key


def _recommend(  # noqa: PLR0917
    spec: Spec,
    checkpoints: Sequence[Checkpoint],
    eligible_frontier: Sequence[str],
    tie_break: TieBreak,
    claims: Sequence[fr.PairClaim],
    alpha: float,
) -> tuple[str | None, str]:
    by_id = {c.id: c for c in checkpoints}
    if not eligible_frontier:
        verdicts = ", ".join(f"{c.id}: {c.verdict.verdict}" for c in checkpoints)
        return None, f"no checkpoint is eligible (its verdict must be ship): {verdicts}"
    # No value on a metric axis means no evidence about it there: "nothing dominates it" must not rest on that.
    unmeasured = [i for i in eligible_frontier if _missing_axes(spec, by_id[i])]
    eligible_frontier = [i for i in eligible_frontier if i not in unmeasured]
    if not eligible_frontier:
        listed = "; ".join(f"{i}: {', '.join(_missing_axes(spec, by_id[i]))}" for i in unmeasured)
        return None, f"no eligible frontier checkpoint has a usable value on every frontier axis ({listed})"
    position = {c.id: i for i, c in enumerate(checkpoints)}

    def rank(i: str) -> tuple[bool, float, bool, float, int]:
        c = by_id[i]
        value = _tie_value(spec, c, tie_break)
        order = c.order if c.order is not None else 0.0
        return (value is None, value if value is not None else 0.0, c.order is None, order, position[i])

    ranked = sorted(eligible_frontier, key=rank)
    best = ranked[0]
    if _tie_value(spec, by_id[best], tie_break) is None and tie_break.order is None:
        return None, f"no eligible frontier checkpoint records what the tie-break needs ({tie_break.describe()})"
    others = ranked[1:]
    why = f"{best} ships and no other eligible checkpoint dominates it with confidence"
    if unmeasured:
        why += f"; not recommendable without a usable value on every frontier axis: {', '.join(unmeasured)}"
    why += _headline_note(spec, checkpoints, best, claims)
    if others:
        why += f"; picked by the tie-break ({tie_break.describe()}) over {', '.join(others)}"
        told = [o for o in others if fr.relation(claims, best, o, alpha) == "not_told_apart"]
        if told:
            why += f" (not told apart from {', '.join(told)})"
    return best, why


def _missing_axes(spec: Spec, checkpoint: Checkpoint) -> list[str]:
    """The metric frontier axes on which the checkpoint has no usable value (absent, not finite, a problem)."""
    out = []
    for axis in frontier_axes(spec):
        if axis.metric is None:
            continue
        m = checkpoint.results.measurement(axis.metric, axis.slice)
        if m is None or m.problem is not None or not math.isfinite(m.value):
            out.append(f"{axis.metric}[{axis.slice}]")
    return out


def _headline_note(spec: Spec, checkpoints: Sequence[Checkpoint], best: str, claims: Sequence[fr.PairClaim]) -> str:
    """Why the best headline score (the first frontier axis's best point estimate) is not the one picked."""
    axes = frontier_axes(spec)
    first = axes[0] if axes else None
    if first is None or first.metric is None:
        return ""
    metric, direction = first.metric, spec.metric_direction(first.metric, first.higher_is_better) is not False
    scored = [
        (m.value, c)
        for c in checkpoints
        if (m := c.results.measurement(metric, first.slice)) and math.isfinite(m.value)
    ]
    if not scored:
        return ""
    top = (max if direction else min)(scored, key=lambda pair: pair[0])[1]
    if top.id == best:
        return ""
    if top.verdict.verdict != "ship":
        because = f"its verdict is {top.verdict.verdict}: {top.verdict.summary}"
    else:
        by = [c.a for c in claims if c.b == top.id and c.dominates]
        because = f"dominated by {', '.join(by)}" if by else f"the tie-break prefers {best}"
    return f"; {top.id} has the best {first.label} but is not recommended ({because})"


def _tie_value(spec: Spec, c: Checkpoint, tie_break: TieBreak) -> float | None:
    """Smaller is preferred."""
    if tie_break.cost is not None:
        return c.results.costs.get(tie_break.cost)
    if tie_break.order is not None:
        if c.order is None:
            return None
        return c.order if tie_break.order == "first" else -c.order
    assert tie_break.metric is not None
    m = c.results.measurement(tie_break.metric, AGGREGATE_SLICE)
    if m is None or not math.isfinite(m.value):
        return None
    return m.value if spec.metric_direction(tie_break.metric) is False else -m.value


def _decision(
    checkpoints: Sequence[Checkpoint], recommendation: str | None
) -> tuple[Literal["recommend", "none_eligible", "all_stop", "undecidable"], ExitCode]:
    if recommendation is not None:
        return "recommend", ExitCode.SHIP
    if checkpoints and all(c.verdict.verdict == "stop" for c in checkpoints):
        return "all_stop", ExitCode.STOP
    if any(c.verdict.verdict == "ship" for c in checkpoints):
        return "undecidable", ExitCode.REVISE
    return "none_eligible", ExitCode.REVISE


def _sorted(rows: list[CheckpointRow], spec: Spec, sort_by: str | None) -> list[CheckpointRow]:
    position = {r.id: i for i, r in enumerate(rows)}
    if sort_by is None or sort_by == "order":
        return sorted(rows, key=lambda r: (r.order is None, r.order or 0.0, position[r.id]))
    higher = spec.metric_direction(sort_by)
    sign = -1.0 if higher is not False else 1.0

    def key(r: CheckpointRow) -> tuple[bool, float, int]:
        value = _metric_value(r, sort_by)
        return (value is None, sign * value if value is not None else 0.0, position[r.id])

    return sorted(rows, key=key)


def _metric_value(row: CheckpointRow, metric: str) -> float | None:
    for cell in row.gates:
        if cell.metric == metric and cell.all_value is not None:
            return cell.all_value
    for point in row.axes:
        if point.axis == metric:
            return point.value
    return None
