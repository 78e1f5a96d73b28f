"""Confidence-aware decisions: which interval fits a (metric kind, bound, data), and what it says.

Per (gate, slice, bound), one-sided at the gate's confidence (default 0.95):

* **pass** when the harmful-side bound clears the threshold;
* **fail** when the favourable-side bound is beyond it (evidence of a breach), and the breach survives the
  spec's family-wise correction (`correction: holm`, the default) over all checks that have a p-value;
* **inconclusive** otherwise: the interval straddles the threshold, or there is too little data. It never
  ships, and it never stops (stop needs evidence): the verdict is revise.

Methods, by what the results hold (the method is named in every outcome):

* proportion, absolute bound: Wilson score; difference to baseline: Newcombe hybrid score, or Newcombe's
  paired score method when both sides carry per-example values with the same example ids; percent bound:
  log-ratio delta method;
* mean or count: t interval from per-example values (paired t on the differences when ids match, else
  Welch), or normal/t from the reported `stderr`; percent bound: log-ratio delta method;
* quantile (p95 latency): distribution-free order-statistic bounds; relative bounds: a seeded percentile
  bootstrap of the difference or ratio of quantiles. Timeouts are +inf and rank last.

Per-example values that estimate no spread (one example, or examples that all agree) give an unbounded
interval: inconclusive, never a pass on the point. With no n, stderr or per-example values the check falls
back to the point comparison and says so
("point estimate, no uncertainty known"), unless `require_uncertainty` makes it inconclusive. A proportion
whose value times n is not a whole count is *missing* (the value and n disagree, so neither is trusted).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from gatekit import stats
from gatekit.decide.bounds import BREACH_SYMBOL, BoundKind, Side, passes
from gatekit.results import Measurement
from gatekit.spec.model import MetricKind

if TYPE_CHECKING:
    from typing import Any

    import numpy.typing as npt

    from gatekit.outcomes import GateOutcome
    from gatekit.spec.model import Gate, Spec

COUNT_TOLERANCE = 1e-6
"""A proportion's value x n may miss a whole count by this much per example (float rounding), no more."""
POINT_FLAG = "point estimate, no uncertainty known"


@dataclass(frozen=True)
class Settings:
    """The statistical settings of one gate, with the spec-wide defaults filled in."""

    confidence: float = 0.95
    min_n: int | None = None
    require_uncertainty: bool = False
    kind: MetricKind | None = None
    quantile: float | None = None
    """The quantile level of a quantile metric (0.95 for p95), when it can be told."""


_QUANTILE_NAME = re.compile(r"(?:^|[_\-.])p(\d{1,2}(?:\.\d+)?)(?:$|[_\-.])")


def settings_for(spec: Spec | None, gate: Gate) -> Settings:
    """The gate's own settings where it sets them, else the spec's."""
    confidence = gate.confidence if gate.confidence is not None else (spec.confidence if spec else 0.95)
    min_n = gate.min_n if gate.min_n is not None else (spec.min_n if spec else None)
    require = gate.require_uncertainty
    if require is None:
        require = spec.require_uncertainty if spec else False
    definition = spec.metric_definition(gate.metric) if spec else None
    kind = definition.kind if definition else None
    return Settings(
        confidence, min_n, require, kind, _quantile_level(gate.metric, spec) if kind == "quantile" else None
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
class Interval:
    """What the data say about the compared quantity, on the observed value's scale.

    For relative bounds the interval of the difference (or ratio) is shifted (or scaled) by the baseline's
    value, so that it is compared with the same threshold as the observed value.
    """

    method: str
    bounds_at: Callable[[float], stats.Bounds]
    n: int
    """Examples per arm, the base of the evidence-needed estimate."""


@dataclass(frozen=True)
class NoInterval:
    """Why no interval can be computed, and what that means for the check."""

    why: str
    status: Literal["point", "inconclusive", "missing"]
    evidence_needed: int | None = None


@dataclass(frozen=True)
class Judgement:
    status: Literal["pass", "fail", "inconclusive", "missing"]
    reason: str
    method: str | None = None
    interval: tuple[float | None, float | None] | None = None
    p_value: float | None = None
    evidence_needed: int | None = None
    uncertainty: Literal["interval", "point"] = "interval"


# --- choosing a method -----------------------------------------------------------------------------------


def _n(m: Measurement) -> int | None:
    return m.samples.n if m.samples is not None else m.n


def _counts(m: Measurement) -> tuple[float, int] | str | None:
    """(events, n) of a proportion, a reason why they disagree, or None when n is unknown."""
    if m.samples is not None:
        if m.samples.n == 0:
            return None
        events = m.samples.summary().events
        if events is None:
            return "a proportion's per-example values must be 0 or 1"
        return events, m.samples.n
    if m.n is None:
        return None
    k = round(m.value * m.n)
    if abs(m.value * m.n - k) > COUNT_TOLERANCE * m.n:
        return (
            f"value {m.value:g} x n {m.n} = {m.value * m.n:g} is not a whole count of examples; "
            "give the exact rate (events / n) or the per-example values"
        )
    return float(k), m.n


def _paired(cand: Measurement, base: Measurement) -> tuple[stats.FloatArray, stats.FloatArray] | None:
    """Candidate and baseline values aligned by example id, when both carry the same set of ids."""
    if cand.samples is None or base.samples is None or cand.samples.n != base.samples.n:
        return None
    c_ids, b_ids = cand.samples.ids, base.samples.ids
    if c_ids is None or b_ids is None:
        return None
    try:
        # Sorting both id lists pairs them in O(n log n): same length, each unique, equal once sorted.
        c_order, b_order = np.argsort(c_ids, kind="stable"), np.argsort(b_ids, kind="stable")
    except TypeError:  # ids that do not compare (a table column never mixes types): leave them unpaired
        return None
    c_sorted, b_sorted = c_ids[c_order], b_ids[b_order]
    if len(c_sorted) > 1 and bool((c_sorted[1:] == c_sorted[:-1]).any()):
        return None
    if not np.array_equal(c_sorted, b_sorted):
        return None
    c_values, b_values = cand.samples.values, base.samples.values
    aligned = np.empty_like(b_values)
    aligned[c_order] = b_values[b_order]  # the baseline in the candidate's example order
    return c_values, aligned


def _unmatched(c_ids: npt.NDArray[Any], b_ids: npt.NDArray[Any]) -> tuple[int, int]:
    """How many candidate ids are not among the baseline's and the other way round: what
    `(~np.isin(c_ids, b_ids)).sum()` and `(~np.isin(b_ids, c_ids)).sum()` count, from one stable sort of both
    lists together (each np.isin sorts both lists' unique values and their concatenation again: 3x slower on
    a million text ids, paid for every slice and gate that is judged unpaired)."""
    try:
        both = np.concatenate([c_ids, b_ids])
        order = np.argsort(both, kind="stable")
    except TypeError:  # ids that do not order (Python objects of mixed kinds): isin compares by equality
        return int((~np.isin(c_ids, b_ids)).sum()), int((~np.isin(b_ids, c_ids)).sum())
    if len(both) == 0:
        return 0, 0
    ordered = both[order]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(starts) - 1  # equal ids share a group
    from_b = order >= len(c_ids)
    in_b = np.bincount(group, weights=from_b)
    in_c = np.bincount(group, weights=~from_b)
    return int(in_c[in_b == 0].sum()), int(in_b[in_c == 0].sum())


def _has_ids(cand: Measurement, base: Measurement) -> bool:
    return all(m.samples is not None and m.samples.ids is not None for m in (cand, base))


def _unpaired_note(cand: Measurement, base: Measurement) -> str:
    """Why examples that carry ids could not be paired, with the counts of unmatched ids; "" without ids."""
    if not _has_ids(cand, base):
        return ""
    assert cand.samples is not None
    assert base.samples is not None
    c_ids, b_ids = cand.samples.ids, base.samples.ids
    assert c_ids is not None
    assert b_ids is not None
    try:
        only_c, only_b = _unmatched(c_ids, b_ids)
    except TypeError:
        return " (unpaired: the example ids differ)"
    if not only_c and not only_b:
        return " (unpaired: an example id repeats)"
    return (
        f" (unpaired: the example ids differ; {only_c} candidate ids not in the baseline, "
        f"{only_b} baseline ids not in the candidate)"
    )


def _mean_se(m: Measurement) -> tuple[float, float, int | None] | None:
    """(estimate, stderr, n) of a mean from per-example values or a reported stderr."""
    if m.samples is not None:
        summary = m.samples.summary()
        if m.samples.n < 2 or stats.no_spread(summary.stderr, summary.mean):
            # One example, or examples that all agree, estimate no spread: the interval is unbounded, not a
            # point (a t interval of width zero would pass on two identical scores).
            return m.value, math.inf, m.samples.n
        if math.isfinite(summary.stderr):
            return summary.mean, summary.stderr, m.samples.n
    if m.stderr is not None:
        return m.value, m.stderr, m.n
    return None


def choose_interval(
    bound: BoundKind, settings: Settings, cand: Measurement, base: Measurement | None, base_value: float | None
) -> Interval | NoInterval:
    """The interval method that fits the metric kind, the bound and the data at hand."""
    n_c = _n(cand)
    if settings.kind == "quantile":
        return _quantile_interval(bound, settings, cand, base, base_value)
    if settings.kind == "proportion":
        counts_c = _counts(cand)
        counts_b = _counts(base) if base is not None else None
        for counts in (counts_c, counts_b):
            if isinstance(counts, str):
                return NoInterval(counts, "missing")
        if base is None and isinstance(counts_c, tuple):
            k, n = counts_c
            return Interval("Wilson score", lambda c: stats.wilson(k, n, c), n)
        if base is not None and isinstance(counts_c, tuple) and isinstance(counts_b, tuple):
            return _proportion_relative(bound, cand, base, counts_c, counts_b, base_value)
    if base is None:
        estimate = _mean_se(cand)
        if estimate is None:
            return NoInterval(POINT_FLAG, "point")
        _, se, n_mean = estimate
        df = n_mean - 1 if n_mean is not None and n_mean >= 2 else None
        name = f"t interval ({df} df)" if df is not None else "normal interval from stderr"
        return Interval(name, lambda c: stats.mean_bounds(cand.value, se, c, df), n_mean or 0)
    return _mean_relative(bound, cand, base, base_value, n_c)


def _proportion_relative(  # noqa: PLR0917
    bound: BoundKind,
    cand: Measurement,
    base: Measurement,
    counts_c: tuple[float, int],
    counts_b: tuple[float, int],
    base_value: float | None,
) -> Interval | NoInterval:
    assert base_value is not None
    (k_c, n_c), (k_b, n_b) = counts_c, counts_b
    pairs = _paired(cand, base)
    unpaired_note = _unpaired_note(cand, base) if pairs is None else ""
    if bound.name.endswith("_pct"):
        # Zero events make the log ratio undefined; half an event on each side (Haldane) keeps it finite.
        p_c, p_b = (k_c or 0.5) / n_c, (k_b or 0.5) / n_b
        se_c, se_b = math.sqrt(p_c * (1 - p_c) / n_c), math.sqrt(p_b * (1 - p_b) / n_b)
        cov = _covariance(*pairs) if pairs is not None else 0.0
        method = "log-ratio delta method" + (" (paired)" if pairs else unpaired_note)

        def ratio_bounds(c: float) -> stats.Bounds:
            lo, hi = stats.log_ratio_bounds(p_c, se_c, p_b, se_b, c, cov)
            return base_value * lo, base_value * hi

        return Interval(method, ratio_bounds, n_c)
    if pairs is not None:
        c_values, b_values = pairs
        both = int(((c_values == 1) & (b_values == 1)).sum())
        only_c = int(((c_values == 1) & (b_values == 0)).sum())
        only_b = int(((c_values == 0) & (b_values == 1)).sum())
        neither = len(c_values) - both - only_c - only_b

        def paired_bounds(c: float) -> stats.Bounds:
            lo, hi = stats.newcombe_paired(both, only_c, only_b, neither, c)
            return base_value + lo, base_value + hi

        return Interval("Newcombe paired score", paired_bounds, n_c)

    def unpaired_bounds(c: float) -> stats.Bounds:
        lo, hi = stats.newcombe(k_c, n_c, k_b, n_b, c)
        return base_value + lo, base_value + hi

    return Interval("Newcombe hybrid score" + unpaired_note, unpaired_bounds, n_c)


def _covariance(c: stats.FloatArray, b: stats.FloatArray) -> float:
    """Covariance of the two means over paired examples: cov(c_i, b_i) / n."""
    n = len(c)
    return float(((c - c.mean()) * (b - b.mean())).sum() / (n - 1) / n) if n > 1 else 0.0


def _mean_relative(
    bound: BoundKind, cand: Measurement, base: Measurement, base_value: float | None, n_c: int | None
) -> Interval | NoInterval:
    assert base_value is not None
    pairs = _paired(cand, base)
    ratio = bound.name.endswith("_pct")
    if pairs is not None and len(pairs[0]) >= 2:
        c_values, b_values = pairs
        n = len(c_values)
        if ratio:
            m_c, se_c = stats.sample_mean_stderr(c_values)
            m_b, se_b = stats.sample_mean_stderr(b_values)
            return _ratio_interval(m_c, se_c, m_b, se_b, base_value, n, "log-ratio delta method (paired)", pairs)
        d, se = stats.sample_mean_stderr(c_values - b_values)
        return Interval(
            f"paired t interval ({n - 1} df)",
            lambda c: _shift(stats.mean_bounds(d, se, c, n - 1), base_value),
            n,
        )
    estimate_c, estimate_b = _mean_se(cand), _mean_se(base)
    if estimate_c is None or estimate_b is None:
        return NoInterval(POINT_FLAG, "point")
    (m_c, se_c, nc), (m_b, se_b, nb) = estimate_c, estimate_b
    unpaired_note = _unpaired_note(cand, base)
    if ratio:
        return _ratio_interval(m_c, se_c, m_b, se_b, base_value, n_c or 0, "log-ratio delta method" + unpaired_note)
    df = stats.welch_df(se_c, nc, se_b, nb)
    se = math.hypot(se_c, se_b)
    name = f"Welch t interval ({df} df)" if df is not None else "normal interval from stderr"
    return Interval(
        name + unpaired_note, lambda c: _shift(stats.mean_bounds(m_c - m_b, se, c, df), base_value), n_c or 0
    )


def _ratio_interval(  # noqa: PLR0917
    m_c: float,
    se_c: float,
    m_b: float,
    se_b: float,
    base_value: float,
    n: int,
    method: str,
    pairs: tuple[stats.FloatArray, stats.FloatArray] | None = None,
) -> Interval | NoInterval:
    if m_c <= 0 or m_b <= 0:
        return NoInterval("a percent bound's log-ratio interval needs positive means", "inconclusive")
    cov = _covariance(*pairs) if pairs is not None else 0.0

    def bounds(c: float) -> stats.Bounds:
        lo, hi = stats.log_ratio_bounds(m_c, se_c, m_b, se_b, c, cov)
        return base_value * lo, base_value * hi

    return Interval(method, bounds, n)


def _shift(bounds: stats.Bounds, by: float) -> stats.Bounds:
    return bounds[0] + by, bounds[1] + by


def _quantile_interval(
    bound: BoundKind, settings: Settings, cand: Measurement, base: Measurement | None, base_value: float | None
) -> Interval | NoInterval:
    q = settings.quantile
    if q is None:
        return NoInterval(f"{POINT_FLAG} (name the quantile, e.g. p95, to get an interval)", "point")
    needed = stats.min_n_for_quantile(q, settings.confidence)
    for m, role in ((cand, "candidate"), (base, "baseline")):
        n = _n(m) if m is not None else None
        if n is not None and n < needed:
            return NoInterval(
                f"insufficient evidence: a {settings.confidence * 100:g}% bound on the p{q * 100:g} needs at least "
                f"{needed} examples, the {role} has {n}",
                "inconclusive",
                needed,
            )
    if cand.samples is None or (base is not None and base.samples is None):
        return NoInterval(f"{POINT_FLAG} (a quantile's interval needs the per-example values)", "point")
    # Sorted once per slice: the p-value search asks for bounds at many confidence levels.
    c_ranked = cand.samples.order_statistics()
    n_c = cand.samples.n
    if base is None:
        return Interval(
            "order statistics (distribution-free)",
            lambda c: stats.sorted_quantile_bounds(c_ranked, q, c),
            n_c,
        )
    assert base_value is not None
    assert base.samples is not None
    ratio = bound.name.endswith("_pct")
    if max(n_c, base.samples.n) > stats.BOOTSTRAP_MAX_N:
        b_ranked = base.samples.order_statistics()
        # Bounds on the change are expressed on the baseline's scale, like the bootstrap's below.
        b_q = base_value

        def large_n_bounds(c: float) -> stats.Bounds:
            lo, hi = stats.quantile_change_bounds(c_ranked, b_ranked, q, c, ratio=ratio)
            return (b_q * lo, b_q * hi) if ratio else (b_q + lo, b_q + hi)

        return Interval(
            f"order statistics of each arm at alpha/2 (distribution-free, n > {stats.BOOTSTRAP_MAX_N})",
            large_n_bounds,
            n_c,
        )
    pairs = _paired(cand, base)
    c_arr, b_arr = pairs if pairs is not None else (cand.samples.values, base.samples.values)
    replicates = stats.bootstrap_difference(c_arr, b_arr, q, ratio=ratio, paired=pairs is not None)
    method = (
        f"{'paired ' if pairs is not None else ''}percentile bootstrap of the {'ratio' if ratio else 'difference'} "
        f"({stats.BOOTSTRAP_RESAMPLES} resamples, seed {stats.BOOTSTRAP_SEED})"
    )

    def bounds(c: float) -> stats.Bounds:
        lo, hi = stats.percentile_bounds(replicates, c)
        return (base_value * lo, base_value * hi) if ratio else (base_value + lo, base_value + hi)

    return Interval(method, bounds, n_c)


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
        n = _n(m)
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
                f"{found.why}, and require_uncertainty is set{context}",
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
    head = f"{_fmt(observed)} {symbol if point_ok else BREACH_SYMBOL[symbol]} {_fmt(threshold)}{context}"
    if not point_ok:
        head += f"; breached by {_fmt(abs(observed - threshold))}"

    def judgement(status: Literal["pass", "fail", "inconclusive"], tail: str, needed: int | None = None) -> Judgement:
        return Judgement(
            status, head + tail, found.method, (_finite(lower), _finite(upper)), p_value, needed, "interval"
        )

    if passes(side, harmful, threshold):
        return judgement(
            "pass", f"; at {level} confidence the {harmful_name} bound {_fmt(harmful)} clears it ({found.method})"
        )
    if not passes(side, favourable, threshold):
        return judgement(
            "fail",
            f"; at {level} confidence even the {favourable_name} bound {_fmt(favourable)} is beyond it "
            f"({found.method}, p = {p_value:.2g})",
        )
    needed = stats.evidence_needed(found.n, (lower, upper), observed, threshold, confidence)
    tail = (
        f", but the {level} interval [{_fmt(lower)}, {_fmt(upper)}] straddles the threshold ({found.method}); "
        + _needed_text(needed, found.n)
    )
    return judgement("inconclusive", tail, needed)


def _needed_text(needed: int | None, n: int) -> str:
    if needed is None:
        return "no sample size decides it at the observed effect (the estimate sits on the threshold)"
    return (
        f"about {needed:,} examples per arm (now {n:,}) would decide it at the observed effect "
        f"({stats.DEFAULT_POWER:.0%} power)"
    )


def _fmt(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else ("+inf" if value > 0 else "-inf")


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
    return stats.evidence_needed(o.n, (lower, upper), o.observed, o.threshold, o.confidence, deciding_at=1 - alpha)
