"""The evaluator: pure functions from (spec, candidate, baseline) to outcomes. No I/O, no printing.

Every (gate, slice, bound) is checked on its own; nothing is averaged across slices. Anything that stops a
check from being made — an absent metric or slice, a NaN, an empty slice, an unusable baseline — yields
`missing` with the reason, and `missing` never ships.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from gatekit.decide.bounds import BOUND_KINDS, BREACH_SYMBOL, headroom, passes
from gatekit.decide.confidence import correct_for_multiplicity, judge, settings_for
from gatekit.decide.methods import Settings
from gatekit.names import did_you_mean
from gatekit.numbers import format_number
from gatekit.outcomes import AggregateCallout, GateOutcome, HypothesisOutcome, Status
from gatekit.results import Measurement, Results
from gatekit.spec.model import AGGREGATE_SLICE, EVERY_SLICE, BoundName, Gate, Spec


def fmt(value: float | None) -> str:
    """A number as messages print it (`gatekit.numbers.format_number`, no uncertainty known)."""
    return format_number(value)


ConfidenceAt = Callable[[Gate, str, int | None], float | None]
"""The confidence a sequential design reads a (gate, slice) at, given its n; None keeps the gate's own."""


def evaluate_gates(
    spec: Spec, candidate: Results, baseline: Results | None, *, confidence_at: ConfidenceAt | None = None
) -> tuple[GateOutcome, ...]:
    """Every (gate, slice, bound) outcome, in spec order, slices in the order the spec or results list them.

    Fail decisions are then corrected for multiplicity over the whole family (`spec.correction`).
    """
    outcomes = tuple(
        outcome for gate in spec.gates for outcome in _evaluate_gate(spec, gate, candidate, baseline, confidence_at)
    )
    return correct_for_multiplicity(outcomes, spec.correction)


def _evaluate_gate(
    spec: Spec, gate: Gate, candidate: Results, baseline: Results | None, confidence_at: ConfidenceAt | None
) -> Iterator[GateOutcome]:
    settings = settings_for(spec, gate)  # the same for every slice: once, not per check
    for slice_name, absent_reason in _gate_slices(gate, candidate, baseline):
        for bound, limit in gate.bounds():
            if absent_reason is not None:
                yield _outcome(gate, slice_name, bound, limit, "missing", absent_reason)
            else:
                yield evaluate_bound(
                    gate,
                    slice_name,
                    bound,
                    limit,
                    candidate=candidate,
                    baseline=baseline,
                    spec=spec,
                    confidence_at=confidence_at,
                    settings=settings,
                )


def _gate_slices(gate: Gate, candidate: Results, baseline: Results | None) -> Iterator[tuple[str, str | None]]:
    """The slices a gate applies to, each with a reason when the slice cannot even be looked up."""
    if gate.slices != (EVERY_SLICE,):
        for name in gate.slices:
            yield name, None
        return
    candidate_slices = candidate.metrics.get(gate.metric)
    if candidate_slices is None:
        yield EVERY_SLICE, _metric_absent(gate.metric, candidate)
        return
    if not candidate_slices:
        yield EVERY_SLICE, f'"*" matched no slices: the candidate lists no slices for {gate.metric!r}'
        return
    yield from ((name, None) for name in _aggregate_first(candidate_slices))
    if baseline is not None:
        for name in _aggregate_first(baseline.metrics.get(gate.metric, {})):
            if name not in candidate_slices:
                yield (
                    name,
                    (
                        f"slice {name!r} is in the baseline but absent from the candidate results: "
                        "a vanished slice is not a passed slice"
                    ),
                )


def _aggregate_first(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda n: (n != AGGREGATE_SLICE,))


def evaluate_bound(
    gate: Gate,
    slice_name: str,
    bound: BoundName,
    limit: float,
    *,
    candidate: Results,
    baseline: Results | None,
    spec: Spec | None = None,
    confidence_at: ConfidenceAt | None = None,
    settings: Settings | None = None,
) -> GateOutcome:
    """One bound of one gate on one slice, uncorrected for multiplicity (`spec` supplies the confidence,
    min_n and metric kinds; without it, 0.95 and no kinds). `settings` are `settings_for(spec, gate)`, when
    the caller has them already."""
    kind = BOUND_KINDS[bound]
    observed, n, problem = usable_value(candidate, gate.metric, slice_name, "candidate")
    if problem is not None:
        return _outcome(gate, slice_name, bound, limit, "missing", problem, observed=observed, n=n)
    assert observed is not None
    base_value: float | None = None
    if kind.needs_baseline:
        if baseline is None:
            return _outcome(gate, slice_name, bound, limit, "missing", f"{bound} needs baseline results", observed, n=n)
        base_value, _, problem = usable_value(baseline, gate.metric, slice_name, "baseline")
        if problem is not None:
            return _outcome(gate, slice_name, bound, limit, "missing", problem, observed, base_value, n=n)
    threshold = kind.threshold(limit, base_value)
    if threshold.value is None:
        return _outcome(gate, slice_name, bound, limit, "missing", threshold.problem or "", observed, base_value, n=n)
    margin = headroom(kind.side, observed, threshold.value)
    context = f" (baseline {fmt(base_value)}, {bound}: {fmt(limit)})" if base_value is not None else ""
    measured = candidate.measurement(gate.metric, slice_name)
    assert measured is not None
    measured_base = baseline.measurement(gate.metric, slice_name) if kind.needs_baseline and baseline else None
    if settings is None:
        settings = settings_for(spec, gate)
    sample_n = n if n is not None else (measured.samples.n if measured.samples is not None else None)
    sequential_confidence = confidence_at(gate, slice_name, sample_n) if confidence_at is not None else None
    if sequential_confidence is not None:
        settings = dataclasses.replace(settings, confidence=sequential_confidence)
    judged = judge(kind, settings, measured, measured_base, observed, base_value, threshold.value, context)
    if judged is not None:
        return _outcome(
            gate,
            slice_name,
            bound,
            limit,
            judged.status,
            judged.reason,
            observed,
            base_value,
            threshold.value,
            margin,
            n if n is not None else measured.n,
            uncertainty=judged.uncertainty,
            method=judged.method,
            confidence=settings.confidence if judged.uncertainty == "interval" else None,
            interval=judged.interval,
            p_value=judged.p_value,
            evidence_needed=judged.evidence_needed,
        )
    ok = passes(kind.side, observed, threshold.value)
    relation = kind.symbol if ok else BREACH_SYMBOL[kind.symbol]
    reason = f"{fmt(observed)} {relation} {fmt(threshold.value)}"
    if base_value is not None:
        reason += f" (baseline {fmt(base_value)}, {bound}: {fmt(limit)})"
    if not ok:
        reason += f"; breached by {fmt(-margin)}"
    status: Status = "pass" if ok else "fail"
    return _outcome(gate, slice_name, bound, limit, status, reason, observed, base_value, threshold.value, margin, n)


def usable_value(
    results: Results, metric: str, slice_name: str, role: str
) -> tuple[float | None, int | None, str | None]:
    """The value of (metric, slice) if it can be compared, else why not."""
    slices = results.metrics.get(metric)
    if slices is None:
        return None, None, _metric_absent(metric, results, role)
    measurement: Measurement | None = slices.get(slice_name)
    if measurement is None:
        return (
            None,
            None,
            (
                f"slice {slice_name!r} is not in the {role} results for {metric!r}"
                + (did_you_mean(slice_name, slices) or _slices_there(slices))
            ),
        )
    if measurement.problem is not None:
        unusable = f"the {role} value of {metric!r} on {slice_name!r} is unusable: {measurement.problem}"
        return None, measurement.n, unusable
    if math.isnan(measurement.value):
        return None, measurement.n, f"the {role} value of {metric!r} on {slice_name!r} is NaN"
    if math.isinf(measurement.value):
        return None, measurement.n, f"the {role} value of {metric!r} on {slice_name!r} is infinite"
    if measurement.n == 0:
        return None, 0, f"slice {slice_name!r} is empty in the {role} results (n = 0)"
    return measurement.value, measurement.n, None


def _slices_there(slices: Mapping[str, Measurement], shown: int = 12) -> str:
    """The slices a metric does have (a harness file has no `all`: lm-eval's slices are its tasks)."""
    names = list(slices)
    if not names:
        return ""
    return "; its slices: " + ", ".join(names[:shown]) + (f", ... ({len(names)} in all)" if len(names) > shown else "")


def _metric_absent(metric: str, results: Results, role: str = "candidate") -> str:
    return f"metric {metric!r} is not in the {role} results ({results.source})" + did_you_mean(metric, results.metrics)


def _outcome(  # noqa: PLR0917 - one positional per column of the report row, in report order
    gate: Gate,
    slice_name: str,
    bound: BoundName,
    limit: float,
    status: Status,
    reason: str,
    observed: float | None = None,
    baseline: float | None = None,
    threshold: float | None = None,
    margin: float | None = None,
    n: int | None = None,
    **uncertainty: Any,
) -> GateOutcome:
    """`uncertainty` takes GateOutcome's fields about the interval or test behind a decision."""
    return GateOutcome(
        id=gate.id,
        metric=gate.metric,
        slice=slice_name,
        bound=bound,
        limit=limit,
        on_fail=gate.on_fail,
        status=status,
        observed=observed,
        baseline=baseline,
        threshold=threshold,
        margin=margin,
        n=n,
        reason=reason,
        **uncertainty,
    )


def find_aggregate_callouts(
    spec: Spec, candidate: Results, baseline: Results | None, outcomes: Sequence[GateOutcome]
) -> tuple[AggregateCallout, ...]:
    """Where the aggregate slice passes a bound that another slice of the same gate fails.

    The aggregate is checked even when the gate does not list it, because "the average looked fine" is
    exactly the story a reader needs to be warned about.
    """
    callouts: list[AggregateCallout] = []
    for gate in spec.gates:
        for bound, limit in gate.bounds():
            failing = [
                o
                for o in outcomes
                if o.id == gate.id and o.bound == bound and o.status == "fail" and o.slice != AGGREGATE_SLICE
            ]
            if not failing:
                continue
            aggregate = next(
                (o for o in outcomes if o.id == gate.id and o.bound == bound and o.slice == AGGREGATE_SLICE),
                None,
            ) or evaluate_bound(gate, AGGREGATE_SLICE, bound, limit, candidate=candidate, baseline=baseline, spec=spec)
            if aggregate.status != "pass" or aggregate.observed is None or aggregate.threshold is None:
                continue
            worst = ", ".join(f"{o.slice!r} at {fmt(o.observed)}" for o in failing)
            message = (
                f"the aggregate hides a regression: {gate.metric} on 'all' is {fmt(aggregate.observed)}, "
                f"within {bound} (threshold {fmt(aggregate.threshold)}), but "
                f"{'slice' if len(failing) == 1 else 'slices'} {worst} "
                f"{'breaches' if len(failing) == 1 else 'breach'} it"
            )
            callouts.append(
                AggregateCallout(
                    id=gate.id,
                    metric=gate.metric,
                    bound=bound,
                    aggregate_observed=aggregate.observed,
                    aggregate_threshold=aggregate.threshold,
                    failing_slices=tuple(o.slice for o in failing),
                    message=message,
                )
            )
    return tuple(callouts)


def evaluate_hypothesis(spec: Spec, candidate: Results, baseline: Results | None) -> tuple[HypothesisOutcome, ...]:
    """Did the metrics the hypothesis named improve on the aggregate? Informational: gates decide the verdict."""
    outcomes = []
    for metric in spec.hypothesis.improves:
        cand, _, cand_problem = usable_value(candidate, metric, AGGREGATE_SLICE, "candidate")
        if baseline is None:
            outcomes.append(
                HypothesisOutcome(
                    metric=metric,
                    candidate=cand,
                    baseline=None,
                    change=None,
                    status="unknown",
                    reason="no baseline to compare with",
                )
            )
            continue
        base, _, base_problem = usable_value(baseline, metric, AGGREGATE_SLICE, "baseline")
        problem = cand_problem or base_problem
        if problem is not None or cand is None or base is None:
            outcomes.append(
                HypothesisOutcome(
                    metric=metric, candidate=cand, baseline=base, change=None, status="unknown", reason=problem or ""
                )
            )
            continue
        change = cand - base
        direction = spec.metric_definition(metric).higher_is_better
        if direction is None:
            status: Literal["improved", "not_improved", "unknown"] = "unknown"
            reason = f"changed by {fmt(change)}; declare metrics.{metric}.higher_is_better to judge it"
        else:
            improved = change > 0 if direction else change < 0
            status = "improved" if improved else "not_improved"
            reason = f"{fmt(base)} -> {fmt(cand)} ({'+' if change >= 0 else ''}{fmt(change)})"
        outcomes.append(
            HypothesisOutcome(metric=metric, candidate=cand, baseline=base, change=change, status=status, reason=reason)
        )
    return tuple(outcomes)
