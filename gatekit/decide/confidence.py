"""Confidence-aware decisions: which interval fits a (metric kind, bound, data), and what it says.

Per (gate, slice, bound), one-sided at the gate's confidence (default 0.95):

* **pass** when the harmful-side bound clears the threshold;
* **fail** when the favourable-side bound is beyond it (evidence of a breach), and the breach survives the
  spec's family-wise correction (`correction: holm`, the default) over all checks that have a p-value;
* **inconclusive** otherwise: the interval straddles the threshold, or there is too little data. It never
  ships, and it never stops (stop needs evidence): the verdict is revise.

The methods, by what the results hold, are chosen in gatekit.decide.methods (each outcome names its method,
and says "approximate" where the guarantee is measured rather than proven).

Per-example values that estimate no spread (one example, or examples that all agree) give an unbounded
interval: inconclusive, never a pass on the point. A value whose uncertainty is unknown (no per-example
values or stderr; `{value, n}` of a metric with no declared kind) is inconclusive, unless
`require_uncertainty: false` asks for the point comparison, which the report flags ("point estimate, no
uncertainty known"). A proportion whose value times n is not a whole count is *missing* (the value and n
disagree, so neither is trusted).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gatekit import stats
from gatekit.decide.bounds import BREACH_SYMBOL, BoundKind, Side, passes
from gatekit.decide.methods import Interval, NoInterval, Settings, choose_interval, sample_size
from gatekit.results import Measurement

if TYPE_CHECKING:
    from gatekit.outcomes import GateOutcome
    from gatekit.spec.model import Gate, Spec

_QUANTILE_NAME = re.compile(r"(?:^|[_\-.])p(\d{1,2}(?:\.\d+)?)(?:$|[_\-.])")


def settings_for(spec: Spec | None, gate: Gate) -> Settings:
    """The gate's own settings where it sets them, else the spec's."""
    confidence = gate.confidence if gate.confidence is not None else (spec.confidence if spec else 0.95)
    min_n = gate.min_n if gate.min_n is not None else (spec.min_n if spec else None)
    require = gate.require_uncertainty
    if require is None:
        require = spec.require_uncertainty if spec else True
    definition = spec.metric_definition(gate.metric) if spec else None
    kind = definition.kind if definition else None
    return Settings(
        confidence,
        min_n,
        require,
        kind,
        _quantile_level(gate.metric, spec) if kind == "quantile" else None,
        gate.metric,
        (definition.range_[0], definition.range_[1]) if definition is not None and definition.range_ else None,
    )


def _quantile_level(metric: str, spec: Spec | None) -> float | None:
    # A derived metric names its quantile (`from: {aggregate: p95}`); otherwise the name does (latency_p95_ms).
    definition = spec.metric_definition(metric) if spec else None
    aggregate = definition.from_.aggregate if definition is not None and definition.from_ is not None else ""
    match = re.fullmatch(r"p(\d+)", aggregate) or _QUANTILE_NAME.search(metric)
    if match is None:
        return None
    level = float(match.group(1)) / 100
    return level if 0 < level < 1 else None


@dataclass(frozen=True)
class Judgement:
    status: Literal["pass", "fail", "inconclusive", "missing"]
    reason: str
    method: str | None = None
    interval: tuple[float | None, float | None] | None = None
    p_value: float | None = None
    evidence_needed: int | None = None
    uncertainty: Literal["interval", "point"] = "interval"


# --- deciding --------------------------------------------------------------------------------------------


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _pct(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def judge(  # noqa: PLR0917 - the comparison, its context and the settings
    bound: BoundKind,
    settings: Settings,
    cand: Measurement,
    base: Measurement | None,
    observed: float,
    base_value: float | None,
    threshold: float,
    context: str,
) -> Judgement | None:
    """The confidence-aware status of one check, or None to keep the point comparison (no uncertainty known
    and none required; the caller flags the row)."""
    for m, role in ((cand, "candidate"), (base, "baseline")):
        if m is None or settings.min_n is None:
            continue
        n = sample_size(m)
        if n is None or n < settings.min_n:
            has = "an unknown number" if n is None else str(n)
            return Judgement(
                "inconclusive",
                f"insufficient evidence: the {role} has {has} of examples, min_n is {settings.min_n}{context}",
                evidence_needed=settings.min_n,
                uncertainty="point",
            )
    found = choose_interval(bound, settings, cand, base, base_value)
    if isinstance(found, NoInterval):
        if found.status == "point":
            if not settings.require_uncertainty:
                return None
            return Judgement(
                "inconclusive",
                f"{found.why}; uncertainty is required (`require_uncertainty: false` gates the point "
                f"estimate){context}",
                uncertainty="point",
            )
        return Judgement(found.status, found.why + context, evidence_needed=found.evidence_needed, uncertainty="point")
    return _decide(bound.side, bound.symbol, found, settings.confidence, observed, threshold, context)


def _decide(  # noqa: PLR0917
    side: Side, symbol: str, found: Interval, confidence: float, observed: float, threshold: float, context: str
) -> Judgement:
    lower, upper = found.bounds_at(confidence)
    harmful, favourable = (upper, lower) if side == "at_most" else (lower, upper)
    harmful_name, favourable_name = ("upper", "lower") if side == "at_most" else ("lower", "upper")
    level = _pct(confidence)
    p_value = stats.breach_p_value(found.bounds_at, side, threshold)
    # The point comparison leads, worded as before; the interval says whether it is evidence.
    point_ok = passes(side, observed, threshold)
    # The observed value and the bounds to the precision the interval allows; the threshold as written.
    width = upper - lower

    def shown(value: float) -> str:
        return _fmt(value, width)

    head = f"{shown(observed)} {symbol if point_ok else BREACH_SYMBOL[symbol]} {_fmt(threshold)}{context}"
    if not point_ok:
        head += f"; breached by {shown(abs(observed - threshold))}"

    def judgement(status: Literal["pass", "fail", "inconclusive"], tail: str, needed: int | None = None) -> Judgement:
        return Judgement(
            status, head + tail, found.method, (_finite(lower), _finite(upper)), p_value, needed, "interval"
        )

    if passes(side, harmful, threshold):
        return judgement(
            "pass", f"; at {level} confidence the {harmful_name} bound {shown(harmful)} clears it ({found.method})"
        )
    if not passes(side, favourable, threshold):
        return judgement(
            "fail",
            f"; at {level} confidence even the {favourable_name} bound {shown(favourable)} is beyond it "
            f"({found.method}, p = {p_value:.2g})",
        )
    if found.needed_at is not None:
        needed = found.needed_at(confidence, threshold, side)
    else:
        needed = stats.evidence_needed(found.n, (lower, upper), observed, threshold, confidence, events=found.events)
    if found.nominal_at is not None and _decides(side, found.nominal_at(confidence), threshold):
        tail = (
            f", but the decision flips within the Monte-Carlo error of the bootstrap ({found.method}): "
            "inconclusive; more examples or resamples would decide it"
        )
        return judgement("inconclusive", tail, needed)
    tail = (
        f", but the {level} interval [{shown(lower)}, {shown(upper)}] straddles the threshold ({found.method}); "
        + _needed_text(needed, found.n)
    )
    return judgement("inconclusive", tail, needed)


def _decides(side: Side, bounds: stats.Bounds, threshold: float) -> bool:
    lower, upper = bounds
    harmful, favourable = (upper, lower) if side == "at_most" else (lower, upper)
    return passes(side, harmful, threshold) or not passes(side, favourable, threshold)


def _needed_text(needed: int | None, n: int) -> str:
    if needed is None:
        return "no sample size decides it at the observed effect (the estimate sits on the threshold)"
    return (
        f"about {needed:,} examples per arm (now {n:,}) would decide it at the observed effect "
        f"({stats.DEFAULT_POWER:.0%} power)"
    )


def _fmt(value: float, uncertainty: float | None = None) -> str:
    from gatekit.numbers import format_number

    return format_number(value, uncertainty=uncertainty)


def correct_for_multiplicity(outcomes: Sequence[GateOutcome], correction: stats.Correction) -> tuple[GateOutcome, ...]:
    """Apply the family-wise correction to fail decisions; pass needs none.

    Ship requires every check to pass, an intersection-union test: each check at level alpha already keeps
    P(false ship) <= alpha. A *fail* can stop a release on one slice among many, so its p-value is adjusted
    over the family (every check with a p-value); a breach that does not survive is inconclusive.
    """
    family = [i for i, o in enumerate(outcomes) if o.p_value is not None]
    adjusted = stats.adjust_p_values([outcomes[i].p_value or 0.0 for i in family], correction)
    result = list(outcomes)
    for i, p_adj in zip(family, adjusted, strict=True):
        o = outcomes[i]
        update: dict[str, object] = {"p_adjusted": p_adj}
        alpha = 1 - (o.confidence or 0.95)
        if o.status == "fail" and p_adj > alpha:
            update["status"] = "inconclusive"
            update["reason"] = (
                f"{o.reason}; but not enough to stop after the {correction} correction over {len(family)} checks "
                f"(adjusted p = {p_adj:.2g} > {alpha:.2g})"
            )
            needed = _needed_after_correction(o, alpha / len(family))
            update["evidence_needed"] = needed
            if needed is not None:
                update["reason"] = f"{update['reason']}; {_needed_text(needed, o.n or 0)}"
        result[i] = o.model_copy(update=update)
    return tuple(result)


def _needed_after_correction(o: GateOutcome, alpha: float) -> int | None:
    if o.interval is None or o.observed is None or o.threshold is None or o.n is None or o.confidence is None:
        return None
    lower, upper = o.interval
    if lower is None or upper is None:
        return None
    # A single proportion bounded exactly is inverted exactly: its event count is observed x n.
    events = round(o.observed * o.n) if (o.method or "").startswith("Clopper-Pearson") else None
    return stats.evidence_needed(
        o.n, (lower, upper), o.observed, o.threshold, o.confidence, deciding_at=1 - alpha, events=events
    )
