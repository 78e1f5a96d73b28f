"""Planning the evidence before the run: each check's chance to pass, the n it needs, the gate's chance to ship.

Pure: no I/O, no printing. A check "passes" here exactly as `gatekit check` passes it: the interval comes
from `gatekit.decide.confidence.choose_interval` (the method the evaluator uses, whatever that method is),
its harmful-side bound at the gate's confidence is compared with the threshold. Nothing below assumes a
normal approximation of the bound; the approximations are only in the assumed sampling distribution:

* proportion: the event count of each arm is Binomial(n, p); the set of passing counts is a half-line
  (found by bisection, walked along the baseline's count), so the pass probability is an exact tail sum;
* mean or count: the estimate of each arm is Normal(mu, sd^2 / n) (central limit), the stderr reported
  with it is sd / sqrt(n); the baseline's estimate is integrated by Gauss-Hermite quadrature;
* quantile: no power model (it depends on the whole latency distribution); only whether any result at the
  planned n can pass (`p95 needs >= 59 examples`).

The gate ships only if every check passes. `ship_probability` is the product over checks, which is exact
for independent checks (different slices of different rows); checks that share rows (a slice `all` and its
parts, two metrics on one slice) are dependent, and the product is then an approximation that the report
names. To give the gate a chance P of shipping, each of m checks needs power P ** (1 / m): that is the
"sized for the family" n.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Literal

import numpy as np

from gatekit import stats
from gatekit.decide.bounds import BOUND_KINDS, BoundKind, passes
from gatekit.decide.methods import NoInterval, Settings, choose_interval
from gatekit.results import Measurement
from gatekit.spec.model import BoundName

_NORMAL = NormalDist()

MAX_PLANNED_N = 5_000_000
"""The largest n per arm a search tries; beyond it the report says no n reaches the target."""
_TAIL = 1e-10
"""Binomial mass below this, on each side, is left out of the sums."""
_HERMITE_NODES = 40


@dataclass(frozen=True)
class Truth:
    """What one check's data are assumed to come from: true values and n per arm."""

    candidate: float
    baseline: float | None = None
    sd: float | None = None
    """Per-example standard deviation of a mean or count metric (both arms)."""


@dataclass(frozen=True)
class CheckModel:
    """One (gate, slice, bound) as planning sees it."""

    kind: BoundKind
    limit: float
    settings: Settings

    @classmethod
    def of(cls, bound: BoundName, limit: float, settings: Settings) -> CheckModel:
        return cls(BOUND_KINDS[bound], limit, settings)

    def has_power_model(self) -> bool:
        return self.settings.kind in ("proportion", "mean", "count")


def check_passes(model: CheckModel, cand: Measurement, base: Measurement | None) -> bool:
    """Whether `gatekit check` would pass this check on these (summary) results."""
    settings = model.settings
    base_value = base.value if base is not None else None
    if model.kind.needs_baseline and base_value is None:
        return False
    threshold = model.kind.threshold(model.limit, base_value).value
    if threshold is None:
        return False
    if settings.min_n is not None:
        for m in (cand, base):
            if m is not None and (m.n is None or m.n < settings.min_n):
                return False
    found = choose_interval(model.kind, settings, cand, base, base_value)
    if isinstance(found, NoInterval):
        if found.status == "point" and not settings.require_uncertainty:
            return passes(model.kind.side, cand.value, threshold)
        return False
    lower, upper = found.bounds_at(settings.confidence)
    harmful = upper if model.kind.side == "at_most" else lower
    return passes(model.kind.side, harmful, threshold)


# --- proportions -----------------------------------------------------------------------------------------


def _binomial_pmf(n: int, p: float) -> tuple[int, stats.FloatArray]:
    """(k0, P(K = k) for k = k0, k0 + 1, ...) over the counts that carry all but 2 * _TAIL of the mass."""
    if p <= 0 or p >= 1:
        k = 0 if p <= 0 else n
        return k, np.ones(1)
    spread = 7 * math.sqrt(n * p * (1 - p)) + 8
    k0, k1 = max(0, math.floor(n * p - spread)), min(n, math.ceil(n * p + spread))
    counts = np.arange(k0, k1 + 1, dtype=np.float64)
    log_choose = [math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1) for x in range(k0, k1 + 1)]
    log_pmf = np.array(log_choose) + counts * math.log(p) + (n - counts) * math.log1p(-p)
    pmf = np.exp(log_pmf)
    keep = pmf > _TAIL * pmf.max() * 1e-3
    first = int(np.argmax(keep))
    last = len(keep) - int(np.argmax(keep[::-1]))
    return k0 + first, pmf[first:last]


def _proportion(k: int, n: int) -> Measurement:
    return Measurement(k / n, n)


def _critical_count(ok: Callable[[int], bool], n: int, side: str, start: int | None) -> int | None:
    """The count where passing starts (at_least: the smallest passing k) or ends (at_most: the largest),
    or None when no count passes. Passing counts form a half-line; `start` is a guess near the answer."""
    best = n if side == "at_least" else 0
    if not ok(best):
        return None
    if start is not None:
        k = min(max(start, 0), n)
        # Walk from the guess: the critical count moves by about one step per baseline count.
        if side == "at_least":
            if ok(k):
                while k > 0 and ok(k - 1):
                    k -= 1
                return k
            while not ok(k + 1):
                k += 1
            return k + 1
        if ok(k):
            while k < n and ok(k + 1):
                k += 1
            return k
        while not ok(k - 1):
            k -= 1
        return k - 1
    lo, hi = 0, n
    if side == "at_least":
        if ok(0):
            return 0
        while hi - lo > 1:  # ok(hi), not ok(lo)
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid, hi)
        return hi
    if ok(n):
        return n
    while hi - lo > 1:  # ok(lo), not ok(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _tail(k0: int, pmf: stats.FloatArray, critical: int | None, side: str) -> float:
    """P(K passes) given the critical count of a half-line of passing counts."""
    if critical is None:
        return 0.0
    i = critical - k0
    if side == "at_least":
        return float(pmf[max(i, 0) :].sum()) if i < len(pmf) else 0.0
    return float(pmf[: i + 1].sum()) if i >= 0 else 0.0


def _proportion_power(model: CheckModel, truth: Truth, n: int) -> float:
    side = model.kind.side
    k0, pmf = _binomial_pmf(n, truth.candidate)
    if not model.kind.needs_baseline:
        critical = _critical_count(lambda k: check_passes(model, _proportion(k, n), None), n, side, None)
        return min(1.0, _tail(k0, pmf, critical, side))  # a sum of rounded masses can exceed 1 by 1e-14
    assert truth.baseline is not None
    b0, pmf_b = _binomial_pmf(n, truth.baseline)
    total, guess = 0.0, None
    for j, weight in enumerate(pmf_b):
        base = _proportion(b0 + j, n)

        def ok(k: int, base: Measurement = base) -> bool:
            return check_passes(model, _proportion(k, n), base)

        critical = _critical_count(ok, n, side, guess)
        total += weight * _tail(k0, pmf, critical, side)
        guess = critical
    return min(1.0, total)


# --- means -----------------------------------------------------------------------------------------------


def _mean(value: float, sd: float, n: int) -> Measurement:
    return Measurement(value, n, sd / math.sqrt(n))


def _critical_estimate(ok: Callable[[float], bool], centre: float, se: float, side: str) -> float | None:
    """The estimate where passing starts (at_least) or ends (at_most), within 40 standard errors of the
    truth; -inf/+inf when every estimate there passes, None when none does."""
    reach = 40 * se if side == "at_least" else -40 * se
    far_good, far_bad = centre + reach, centre - reach
    if not ok(far_good):
        return None
    if ok(far_bad):
        return -math.inf if side == "at_least" else math.inf
    good, bad = far_good, far_bad
    for _ in range(60):
        mid = (good + bad) / 2
        good, bad = (mid, bad) if ok(mid) else (good, mid)
        if abs(good - bad) < 1e-7 * se:
            break
    return good


def _normal_tail(critical: float | None, mu: float, se: float, side: str) -> float:
    if critical is None:
        return 0.0
    z = (mu - critical) / se if side == "at_least" else (critical - mu) / se
    return _NORMAL.cdf(z) if math.isfinite(z) else (1.0 if z > 0 else 0.0)


def _mean_power(model: CheckModel, truth: Truth, n: int) -> float:
    assert truth.sd is not None
    side, sd = model.kind.side, truth.sd
    se = sd / math.sqrt(n)
    if not model.kind.needs_baseline:
        critical = _critical_estimate(lambda m: check_passes(model, _mean(m, sd, n), None), truth.candidate, se, side)
        return _normal_tail(critical, truth.candidate, se, side)
    assert truth.baseline is not None
    nodes, weights = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)
    weights = weights / weights.sum()
    total = 0.0
    for z, weight in zip(nodes, weights, strict=True):
        base = _mean(truth.baseline + float(z) * se, sd, n)

        def ok_mean(m: float, base: Measurement = base) -> bool:
            return check_passes(model, _mean(m, sd, n), base)

        critical = _critical_estimate(ok_mean, truth.candidate, se, side)
        total += float(weight) * _normal_tail(critical, truth.candidate, se, side)
    return min(1.0, total)


# --- the public questions ----------------------------------------------------------------------------------


def pass_probability(model: CheckModel, truth: Truth, n: int) -> float | None:
    """The chance the check passes with n examples per arm when the truth is `truth`; None without a power
    model for the metric kind (quantiles, unknown kinds) or without the truth it needs."""
    if not model.has_power_model() or (model.kind.needs_baseline and truth.baseline is None):
        return None
    if model.settings.kind == "proportion":
        if not 0 <= truth.candidate <= 1 or (truth.baseline is not None and not 0 <= truth.baseline <= 1):
            return None
        return _proportion_power(model, truth, n)
    if truth.sd is None:
        return None
    return _mean_power(model, truth, n)


def truth_clears(model: CheckModel, truth: Truth) -> bool:
    """Whether the assumed truth itself is strictly on the passing side: else no n reaches a high power."""
    threshold = model.kind.threshold(model.limit, truth.baseline).value
    if threshold is None:
        return False
    gap = threshold - truth.candidate if model.kind.side == "at_most" else truth.candidate - threshold
    return gap > 1e-12 * max(1.0, abs(threshold))


def n_for_power(model: CheckModel, truth: Truth, power: float, *, start: int = 8) -> int | None:
    """The smallest n per arm (searched by doubling, then bisection) at which the check passes with at least
    `power`; None when no n up to MAX_PLANNED_N does, or there is no power model."""
    if pass_probability(model, truth, max(start, 2)) is None or not truth_clears(model, truth):
        return None
    lo, hi = 0, max(start, 2)
    while True:
        p = pass_probability(model, truth, hi)
        assert p is not None
        if p >= power:
            break
        lo, hi = hi, hi * 2
        if hi > MAX_PLANNED_N:
            return None
    while hi - lo > max(1, lo // 500):  # to 0.2 %: the power of a count is a sawtooth in n anyway
        mid = (lo + hi) // 2
        p = pass_probability(model, truth, mid)
        assert p is not None
        lo, hi = (lo, mid) if p >= power else (mid, hi)
    return hi


def family_power(ship_probability: float, checks: int) -> float:
    """The power each of `checks` independent checks needs for all of them to pass with `ship_probability`."""
    return float(ship_probability ** (1 / max(checks, 1)))


def cannot_pass(model: CheckModel, n: int, baseline_truth: float | None = None) -> str | None:
    """Why no result at n examples per arm can pass this check, or None when the best case passes.

    The best case: a proportion with every example on the good side (0 events for a ceiling); a quantile
    with enough examples for a bound to exist. A relative proportion bound is judged against the assumed
    baseline rate (skipped without one); a mean can always be better, so it is never flagged.
    """
    settings, side = model.settings, model.kind.side
    if settings.min_n is not None and n < settings.min_n:
        return f"min_n is {settings.min_n}, the plan has {n} examples"
    if settings.kind == "quantile":
        q = settings.quantile
        if q is None:
            return None
        needed = stats.min_n_for_quantile(q, settings.confidence)
        if n < needed:
            return (
                f"p{q * 100:g} needs >= {needed} examples for a {settings.confidence * 100:g}% bound, the plan has {n}"
            )
        return None
    if settings.kind != "proportion":
        return None
    best = 0 if side == "at_most" else n
    base = None
    if model.kind.needs_baseline:
        if baseline_truth is None:
            return None
        base = _proportion(round(baseline_truth * n), n)
    if check_passes(model, _proportion(best, n), base):
        return None
    events = "0 events" if best == 0 else f"{n} events of {n}"
    symbol = model.kind.symbol
    threshold = model.kind.threshold(model.limit, base.value if base is not None else None).value
    target = f"{symbol} {threshold:.4g}" if threshold is not None else "the bound"
    fewest = _fewest_n_that_can_pass(model, baseline_truth)
    hint = f"; the best case passes from n = {fewest:,}" if fewest is not None else ""
    return f"{events} at n={n:,} cannot show {target} at {settings.confidence * 100:g}% confidence{hint}"


def _fewest_n_that_can_pass(model: CheckModel, baseline_truth: float | None) -> int | None:
    def best_passes(n: int) -> bool:
        base = _proportion(round(baseline_truth * n), n) if baseline_truth is not None else None
        best = 0 if model.kind.side == "at_most" else n
        return check_passes(model, _proportion(best, n), base)

    lo, hi = 1, 2
    while not best_passes(hi):
        lo, hi = hi, hi * 2
        if hi > MAX_PLANNED_N:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if best_passes(mid) else (mid, hi)
    return hi


Role = Literal["favourable", "point", "harmful"]


@dataclass(frozen=True)
class EvidenceRange:
    """Examples per arm needed for `power`, at three plausible truths read off the observed results: the
    favourable and harmful quartiles of the check's own interval (the middle half of the plausible truth),
    and the point estimate. None at a truth no n can pass (on or beyond the threshold)."""

    power: float
    favourable: int | None
    point: int | None
    harmful: int | None
    truths: tuple[float, float, float]


PLAUSIBLE_CONFIDENCE = 0.75
"""The one-sided level of the bounds that delimit the plausible truth: together the middle half."""


def evidence_range(
    model: CheckModel, cand: Measurement, base: Measurement | None, power: float
) -> EvidenceRange | None:
    """`n_for_power` over the plausible truth given observed results (None without an interval or model)."""
    base_value = base.value if base is not None else None
    found = choose_interval(model.kind, model.settings, cand, base, base_value)
    if isinstance(found, NoInterval) or not model.has_power_model():
        return None
    lower, upper = found.bounds_at(PLAUSIBLE_CONFIDENCE)
    favourable, harmful = (lower, upper) if model.kind.side == "at_most" else (upper, lower)
    sd = None
    if model.settings.kind != "proportion":
        sd = cand.stderr * math.sqrt(cand.n) if cand.stderr is not None and cand.n else None
        if sd is None and cand.samples is not None:
            sd = cand.samples.summary().stderr * math.sqrt(cand.samples.n)
    start = cand.n or 8

    def needed(value: float) -> int | None:
        if model.settings.kind == "proportion":
            value = min(max(value, 0.0), 1.0)
        return n_for_power(model, Truth(value, base_value, sd), power, start=start)

    return EvidenceRange(
        power, needed(favourable), needed(cand.value), needed(harmful), (favourable, cand.value, harmful)
    )


def ship_probability(check_probabilities: Iterable[float]) -> float:
    """P(every check passes) for independent checks: the product."""
    return math.prod(check_probabilities)


def with_confidence(settings: Settings, confidence: float) -> Settings:
    return replace(settings, confidence=confidence)
