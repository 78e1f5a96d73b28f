"""From bounds to decisions: p-values, the family-wise correction, and the evidence a decision needs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

from scipy import special

from gatekit.stats._base import DEFAULT_POWER, SMALLEST_ALPHA, Bounds, z_value


def breach_p_value(
    bounds_at: Callable[[float], Bounds], side: Literal["at_least", "at_most"], threshold: float
) -> float:
    """The one-sided p-value for "the truth breaches the threshold": the smallest alpha at which the
    favourable bound at confidence 1 - alpha is already beyond the threshold, found by bisection (every
    interval here narrows monotonically as its confidence falls to 0.5). 1.0 when even the point estimate
    (confidence 0.5) is not beyond the threshold: such a p-value can never support a breach."""

    def breached(alpha: float) -> bool:
        lower, upper = bounds_at(1 - alpha)
        return lower > threshold if side == "at_most" else upper < threshold

    lo, hi = SMALLEST_ALPHA, 0.5
    if breached(lo):
        return lo
    if not breached(hi):
        return 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if breached(mid):
            hi = mid
        else:
            lo = mid
    return hi


Correction = Literal["holm", "bonferroni", "none"]


def adjust_p_values(p_values: Sequence[float], correction: Correction) -> list[float]:
    """Family-wise adjusted p-values: Holm's step-down (Holm 1979), Bonferroni, or unchanged.

    Holm: sort ascending, p_adj(i) = max over j <= i of min(1, (m - j + 1) p(j)).
    """
    m = len(p_values)
    if correction == "none" or m == 0:
        return list(p_values)
    if correction == "bonferroni":
        return [min(1.0, m * p) for p in p_values]
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def evidence_needed(
    n: int,
    bounds: Bounds,
    estimate: float,
    threshold: float,
    confidence: float,
    *,
    deciding_at: float | None = None,
    events: float | None = None,
) -> int | None:
    """Examples per arm at which, if the observed effect is the true one, the check would be decided with
    DEFAULT_POWER. The decision is taken at `confidence`, unless `deciding_at` says otherwise (one side of a
    multiple-comparison correction). None when the estimate sits on the threshold (no sample size decides a
    tie) or the interval is unbounded.

    With `events` (a single proportion bounded by Clopper-Pearson) the exact bound is inverted: the smallest n'
    at which Binomial(n', events / n) lands on the deciding side of the exact bound with DEFAULT_POWER (0 events
    of 200 against `max: 0.01` need 299, the fewest whose bound at 0 events is below 0.01). Otherwise the
    normal approximation n ((z_decide + z_power) se / gap)^2, the standard error read off the interval's width.
    """
    gap = abs(estimate - threshold)
    lower, upper = bounds
    if gap <= 1e-12 * max(1.0, abs(threshold)):
        return None
    alpha = 1 - (confidence if deciding_at is None else deciding_at)
    if events is not None:
        return _binomial_evidence_needed(n, events / n, threshold, alpha)
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return None
    z = z_value(confidence)
    stderr = (upper - lower) / (2 * z)
    root = (z_value(1 - alpha) + z_value(DEFAULT_POWER)) * stderr / gap
    needed = n * root * root
    return max(n + 1, math.ceil(needed)) if math.isfinite(needed) else None


_MOST_EXAMPLES = 10**9


def sized_evidence_needed(  # noqa: PLR0917 - the decision, its side and the method at another size
    n: int,
    estimate: float,
    threshold: float,
    side: Literal["at_least", "at_most"],
    bounds_at_size: Callable[[int], Bounds],
    variance: float,
) -> int | None:
    """Examples per arm at which a method whose bounds can be recomputed at any size decides with DEFAULT_POWER
    at the observed effect: the smallest m at which the deciding bound clears the threshold even for an outcome
    z_power standard errors sqrt(variance / m) on the unfavourable side of the estimate. `bounds_at_size(m)`
    gives the method's own bounds at m examples per arm with the observed rates, at the deciding confidence.

    The method is inverted, not its width at the current n: an exact limit's extra width at small counts shrinks
    as m grows, and at 0 events (variance 0) the answer is the first size whose bound at 0 events clears the
    threshold, e.g. 299 for two arms at 0 of n under `max_increase: 0.01` (where the width at n = 200 said
    1,011). None when the estimate sits on the threshold or nothing up to 10^9 examples decides it.
    """
    if abs(estimate - threshold) <= 1e-12 * max(1.0, abs(threshold)):
        return None
    z = z_value(DEFAULT_POWER)
    aim_pass = estimate <= threshold if side == "at_most" else estimate >= threshold

    def decided(size: int) -> bool:
        lower, upper = bounds_at_size(size)
        shift = z * math.sqrt(max(variance, 0.0) / size)
        if side == "at_most":
            return upper + shift <= threshold if aim_pass else lower - shift > threshold
        return lower - shift >= threshold if aim_pass else upper + shift < threshold

    if decided(n + 1):
        return n + 1
    lo, hi = n + 1, 2 * (n + 1)
    while not decided(hi):
        lo, hi = hi, 2 * hi
        if hi > _MOST_EXAMPLES:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if decided(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _binomial_power(size: int, p: float, threshold: float, alpha: float) -> float:
    """P(a Clopper-Pearson bound on Binomial(size, p) clears `threshold` on p's side at level alpha)."""
    if p < threshold:
        # The upper bound at k is <= threshold iff P(X <= k | threshold) <= alpha: find the largest such k.
        lo, hi = -1, size
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if float(special.bdtr(mid, size, threshold)) <= alpha:
                lo = mid
            else:
                hi = mid
        return float(special.bdtr(lo, size, p)) if lo >= 0 else 0.0
    # The lower bound at k is >= threshold iff P(X >= k | threshold) <= alpha: find the smallest such k.
    lo, hi = 0, size + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(special.bdtrc(mid - 1, size, threshold)) <= alpha:
            hi = mid
        else:
            lo = mid
    return float(special.bdtrc(hi - 1, size, p)) if hi <= size else 0.0


def _binomial_evidence_needed(n: int, p: float, threshold: float, alpha: float) -> int | None:
    if not 0 < threshold < 1:
        return None
    if _binomial_power(n + 1, p, threshold, alpha) >= DEFAULT_POWER:
        return n + 1
    lo, hi = n + 1, 2 * (n + 1)
    while _binomial_power(hi, p, threshold, alpha) < DEFAULT_POWER:
        lo, hi = hi, 2 * hi
        if hi > _MOST_EXAMPLES:
            return None
    # The power rises with n up to the binomial's sawtooth: bisection finds the first size past the target.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _binomial_power(mid, p, threshold, alpha) >= DEFAULT_POWER:
            hi = mid
        else:
            lo = mid
    return hi
