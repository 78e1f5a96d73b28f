"""Intervals and tests: pure functions, the one place numpy does statistics.

Every interval here is a pair of *one-sided* bounds, each holding with probability `confidence` on its own
(so the pair is a two-sided interval at 2 * confidence - 1). A gate asks a one-sided question — is the
truth at or below the threshold? — and uses one bound to pass and the other to fail.

No scipy: normal quantiles come from `statistics.NormalDist`, Student t from the exact finite series for
integer degrees of freedom, binomial tail sums from log-space products. Tests check them against scipy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Bounds = tuple[float, float]
"""(lower, upper): each a one-sided bound at the stated confidence."""

_NORMAL = NormalDist()
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20241
"""Fixed so that two runs give the same verdict; reported in the method name."""
BOOTSTRAP_MAX_N = 2000
"""Above this many examples per arm, quantile differences use order-statistic bounds on each arm instead of
the bootstrap: the bootstrap's cost grows with n x resamples, and at this size the distribution-free bounds
lose little power."""
SMALLEST_ALPHA = 1e-12
"""The smallest alpha a p-value search tries: no decision reads a bound beyond confidence 1 - SMALLEST_ALPHA
(1 - SMALLEST_ALPHA / 2 on each arm of a quantile change)."""
DEFAULT_POWER = 0.8
"""The chance of deciding, at the observed effect, that the evidence-needed estimate aims for."""


def z_value(confidence: float) -> float:
    """The standard normal quantile at `confidence` (1.645 at 0.95). Negative below 0.5."""
    return _NORMAL.inv_cdf(confidence)


# --- Student t -------------------------------------------------------------------------------------------


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with integer `df`: the exact finite series (Abramowitz & Stegun 26.7.3-4)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2 == 1:
        total, term = 0.0, c
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * k) / (2 * k + 1)
        central = (2 / math.pi) * (theta + s * total) if df > 1 else 2 * theta / math.pi
    else:
        total, term = 0.0, 1.0
        for k in range(df // 2):
            total += term
            term *= c * c * (2 * k + 1) / (2 * k + 2)
        central = s * total
    return 0.5 + central / 2


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: int) -> float:
    """The Student t quantile at probability `p` with integer `df` (exact series for df <= 300, else a
    fourth-order Cornish-Fisher expansion, accurate to about 1e-9 there)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    z = z_value(p)
    if df > 300:
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
        return float(z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4)
    lo, hi = -1.0, 1.0
    while t_cdf(lo, df) > p:
        lo *= 2
    while t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, abs(mid)):
            break
    return (lo + hi) / 2


def critical_value(confidence: float, df: int | None) -> float:
    """t quantile when the degrees of freedom are known, else the normal one."""
    return t_quantile(confidence, df) if df is not None and df >= 1 else z_value(confidence)


# --- proportions -----------------------------------------------------------------------------------------


def wilson(k: float, n: int, confidence: float) -> Bounds:
    """Wilson score bounds for a proportion k/n (Wilson 1927). Each bound one-sided at `confidence`.

    centre = (p + z^2/2n) / (1 + z^2/n); half = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2).
    """
    if n <= 0:
        raise ValueError("n must be positive")
    p = k / n
    z = z_value(confidence)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k_c: float, n_c: int, k_b: float, n_b: int, confidence: float) -> Bounds:
    """Newcombe's hybrid score bounds (method 10, Newcombe 1998) for p_c - p_b, independent samples.

    With Wilson limits l, u of each proportion: L = d - sqrt((p_c - l_c)^2 + (u_b - p_b)^2),
    U = d + sqrt((u_c - p_c)^2 + (p_b - l_b)^2).
    """
    p_c, p_b = k_c / n_c, k_b / n_b
    l_c, u_c = wilson(k_c, n_c, confidence)
    l_b, u_b = wilson(k_b, n_b, confidence)
    d = p_c - p_b
    return d - math.hypot(p_c - l_c, u_b - p_b), d + math.hypot(u_c - p_c, p_b - l_b)


def newcombe_paired(both: int, only_c: int, only_b: int, neither: int, confidence: float) -> Bounds:
    """Newcombe's score bounds (method 10, Newcombe 1998b) for p_c - p_b on the same examples.

    Cells: `both` examples are 1 for candidate and baseline, `only_c` 1 only for the candidate, and so on.
    The Wilson limits of each margin are combined with the phi correlation of the 2x2 table.
    """
    n = both + only_c + only_b + neither
    p_c, p_b = (both + only_c) / n, (both + only_b) / n
    l_c, u_c = wilson(both + only_c, n, confidence)
    l_b, u_b = wilson(both + only_b, n, confidence)
    margins = (both + only_c) * (only_b + neither) * (both + only_b) * (only_c + neither)
    phi = (both * neither - only_c * only_b) / math.sqrt(margins) if margins > 0 else 0.0
    d = p_c - p_b
    lower_sq = (p_c - l_c) ** 2 - 2 * phi * (p_c - l_c) * (u_b - p_b) + (u_b - p_b) ** 2
    upper_sq = (u_c - p_c) ** 2 - 2 * phi * (u_c - p_c) * (p_b - l_b) + (p_b - l_b) ** 2
    return d - math.sqrt(max(lower_sq, 0.0)), d + math.sqrt(max(upper_sq, 0.0))


# --- means -----------------------------------------------------------------------------------------------


def mean_bounds(estimate: float, stderr: float, confidence: float, df: int | None = None) -> Bounds:
    """estimate -/+ t (or z) * stderr."""
    half = critical_value(confidence, df) * stderr
    return estimate - half, estimate + half


def welch_df(se_c: float, n_c: int | None, se_b: float, n_b: int | None) -> int | None:
    """Welch-Satterthwaite degrees of freedom (rounded down), or None when a sample size is unknown."""
    if n_c is None or n_b is None or n_c < 2 or n_b < 2:
        return None
    a, b = se_c * se_c, se_b * se_b
    if not math.isfinite(a + b) or a + b == 0:
        return None
    # In shares of the total variance: a tiny stderr squared twice would underflow to 0 / 0.
    wa, wb = a / (a + b), b / (a + b)
    df = 1 / (wa * wa / (n_c - 1) + wb * wb / (n_b - 1))
    return max(1, math.floor(df))


def sample_mean_stderr(values: FloatArray) -> tuple[float, float]:
    """Mean and its standard error s / sqrt(n) (s with n - 1 in the denominator)."""
    n = len(values)
    mean = float(np.mean(values))
    stderr = float(np.std(values, ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    return mean, stderr


def no_spread(stderr: float, estimate: float) -> bool:
    """True when a standard error is zero up to rounding: the examples all agree, and a t interval would
    have no width. Such data estimate no spread at all; callers treat the interval as unbounded."""
    return stderr <= 1e-12 * abs(estimate)


def log_ratio_bounds(  # noqa: PLR0917 - two (estimate, stderr) pairs
    m_c: float, se_c: float, m_b: float, se_b: float, confidence: float, covariance: float = 0.0
) -> Bounds:
    """Bounds on m_c / m_b by the delta method on the log ratio; both means must be positive.

    SE_log = sqrt(se_c^2/m_c^2 + se_b^2/m_b^2 - 2 cov/(m_c m_b)); bounds exp(log r -/+ z SE_log).
    """
    if m_c <= 0 or m_b <= 0:
        raise ValueError("the log-ratio method needs positive means")
    r_c, r_b = se_c / m_c, se_b / m_b
    var = r_c * r_c + r_b * r_b - (2 * covariance / m_c / m_b if covariance else 0.0)
    half = z_value(confidence) * math.sqrt(max(var, 0.0))
    log_r = math.log(m_c / m_b)
    return _exp(log_r - half), _exp(log_r + half)


def _exp(x: float) -> float:
    # A huge standard error at an extreme confidence (p-value bisection) overflows exp: that bound is unbounded.
    return math.exp(x) if x < 709 else math.inf


# --- quantiles -------------------------------------------------------------------------------------------


_FULL_CDF_MAX_N = 20_000
"""Up to this n the binomial CDF is tabulated at every k; above it only within 14 standard deviations of the
mean plus a margin, where every rank a bound can ask for lies (the mass outside is below 1e-19, far under
SMALLEST_ALPHA, the smallest alpha the p-value search tries)."""


@functools.lru_cache(maxsize=1024)
def _binomial_cdf(n: int, p: float) -> tuple[int, FloatArray]:
    """(k0, P(B <= k) for k = k0..k1), B ~ Binomial(n, p), summed in log space so large n does not
    underflow. Below k0 the CDF is (numerically) 0, above k1 it is 1."""
    if n <= _FULL_CDF_MAX_N:
        k0, k1 = 0, n
    else:
        spread = 14 * math.sqrt(n * p * (1 - p)) + 10
        k0, k1 = max(0, math.floor(n * p - spread)), min(n, math.ceil(n * p + spread))
    k = np.arange(k0, k1 + 1, dtype=np.float64)
    log_choose_k0 = math.lgamma(n + 1) - math.lgamma(k0 + 1) - math.lgamma(n - k0 + 1)
    steps = np.log(n - k[1:] + 1) - np.log(k[1:])
    log_choose = log_choose_k0 + np.concatenate(([0.0], np.cumsum(steps)))
    log_pmf = log_choose + k * math.log(p) + (n - k) * math.log1p(-p)
    pmf = np.exp(log_pmf - log_pmf.max())
    # Normalised over the table: this cancels the rounding in lgamma of a large n, a constant factor.
    cdf = np.cumsum(pmf / pmf.sum())
    cdf.setflags(write=False)
    return k0, cdf


def quantile_ranks(n: int, q: float, confidence: float) -> tuple[int | None, int | None]:
    """1-based ranks (l, u) of the order statistics that bound the q-quantile (Hahn & Meeker 1991, ch. 5).

    u is the smallest rank with P(B <= u-1) >= confidence, B ~ Bin(n, q); l the largest with
    P(B <= l-1) <= 1 - confidence. None when n is too small for such a bound (n = 1000, q = 0.95: 938, 962).
    """
    k0, cdf = _binomial_cdf(n, q)
    upper = k0 + int(np.searchsorted(cdf, confidence - 1e-12, side="left")) + 1
    lower = k0 + int(np.searchsorted(cdf, 1 - confidence + 1e-12, side="right"))
    return (lower if lower >= 1 else None), (upper if upper <= n else None)


def min_n_for_quantile(q: float, confidence: float) -> int:
    """The fewest samples for which an upper bound on the q-quantile exists: q^n <= 1 - confidence (59 for p95)."""
    return math.ceil(math.log(1 - confidence) / math.log(q) - 1e-12)


@dataclass(frozen=True)
class OrderStatistics:
    """A sample's values in ascending order (+inf last), or a run of them: `values[i]` is the
    (offset + i + 1)-th smallest of the sample's `n`. A large slice of a table keeps only the run of ranks
    that its bounds can ask for (see `quantile_rank_span`)."""

    n: int
    values: FloatArray
    offset: int = 0

    @classmethod
    def of(cls, ordered: FloatArray) -> OrderStatistics:
        """Every order statistic of a sample, from its sorted values."""
        return cls(len(ordered), ordered)

    def at(self, rank: int) -> float | None:
        """The rank-th smallest value (1-based), or None when it lies outside the kept run."""
        i = rank - 1 - self.offset
        return float(self.values[i]) if 0 <= i < len(self.values) else None


def quantile_rank_span(n: int, q: float, confidence: float) -> tuple[int, int]:
    """The first and last ranks (1-based) that the q-quantile's point estimate and its bounds at any confidence
    up to `confidence` read, for a sample of n: the order statistics worth keeping."""
    lower, upper = quantile_ranks(n, q, confidence)
    point = nearest_rank(n, q)
    return min(lower or 1, point), max(upper or n, point)


def nearest_rank(n: int, q: float) -> int:
    """The 1-based rank of the q-quantile (nearest rank, inverted CDF): the smallest value with at least q of
    the sample at or below it. q is taken as the nearest fraction with a denominator up to 10,000, so that
    0.95 * 100 is exactly 95."""
    numerator, denominator = _as_fraction(q)
    return max(1, -(-numerator * n // denominator))


@functools.lru_cache(maxsize=64)
def _as_fraction(q: float) -> tuple[int, int]:
    level = Fraction(q).limit_denominator(10_000)
    return level.numerator, level.denominator


def quantile_bounds(values: FloatArray, q: float, confidence: float) -> Bounds:
    """Distribution-free bounds on the q-quantile from the order statistics; +inf (timeouts) rank last.

    A bound that the sample is too small to give is -inf or +inf: it can never clear a threshold.
    """
    return sorted_quantile_bounds(OrderStatistics.of(np.sort(values)), q, confidence)


def sorted_quantile_bounds(order: OrderStatistics, q: float, confidence: float) -> Bounds:
    """`quantile_bounds` from order statistics (sort once, then ask at many confidence levels). A rank outside
    a kept run gives an unbounded side, never a guess."""
    lower, upper = quantile_ranks(order.n, q, confidence)
    lo = order.at(lower) if lower is not None else None
    hi = order.at(upper) if upper is not None else None
    return (lo if lo is not None else -math.inf, hi if hi is not None else math.inf)


# --- bootstrap -------------------------------------------------------------------------------------------


def bootstrap_difference(
    candidate: FloatArray,
    baseline: FloatArray,
    q: float,
    *,
    ratio: bool,
    paired: bool,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> FloatArray:
    """Sorted bootstrap replicates of q-quantile(candidate) - q-quantile(baseline), or of their ratio.

    Seeded, so two runs give the same replicates. `paired` resamples example pairs together (same ids, same
    order). Undefined replicates (inf - inf, inf / inf) sort last, on the side that can never pass a ceiling.
    """
    rng = np.random.default_rng(seed)
    out = np.empty(resamples, dtype=np.float64)
    chunk = max(1, 2_000_000 // max(len(candidate), len(baseline), 1))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        idx_c = rng.integers(0, len(candidate), size=(size, len(candidate)))
        idx_b = idx_c if paired else rng.integers(0, len(baseline), size=(size, len(baseline)))
        q_c = np.quantile(candidate[idx_c], q, axis=1, method="inverted_cdf")
        q_b = np.quantile(baseline[idx_b], q, axis=1, method="inverted_cdf")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + size] = q_c / q_b if ratio else q_c - q_b
    out[np.isnan(out)] = math.inf
    return np.sort(out)


def quantile_change_bounds(
    candidate: OrderStatistics, baseline: OrderStatistics, q: float, confidence: float, *, ratio: bool
) -> Bounds:
    """Distribution-free bounds on q-quantile(candidate) - q-quantile(baseline), or on their ratio.

    Each arm's quantile gets order-statistic bounds at 1 - alpha/2, so both hold together with probability at
    least 1 - alpha whatever the dependence between the arms (Bonferroni): paired data is covered too. The
    difference is then bounded by [L_c - U_b, U_c - L_b] (ratio: [L_c / U_b, U_c / L_b], for positive values).
    """
    each = 1 - (1 - confidence) / 2
    lo_c, hi_c = sorted_quantile_bounds(candidate, q, each)
    lo_b, hi_b = sorted_quantile_bounds(baseline, q, each)
    with np.errstate(invalid="ignore", divide="ignore"):
        if ratio:
            lower = lo_c / hi_b if hi_b > 0 and math.isfinite(hi_b) else 0.0
            upper = hi_c / lo_b if lo_b > 0 else math.inf
        else:
            lower = lo_c - hi_b
            upper = hi_c - lo_b
    # inf - inf and the like are undefined: widen to the side that can never pass.
    return (-math.inf if math.isnan(lower) else float(lower), math.inf if math.isnan(upper) else float(upper))


def percentile_bounds(replicates: FloatArray, confidence: float) -> Bounds:
    """Percentile bootstrap bounds from sorted replicates (order statistics, no interpolation)."""
    m = len(replicates)
    lo_index = max(0, min(m - 1, math.floor((1 - confidence) * m)))
    hi_index = max(0, min(m - 1, math.ceil(confidence * m) - 1))
    return float(replicates[lo_index]), float(replicates[hi_index])


# --- decisions -------------------------------------------------------------------------------------------


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
    n: int, bounds: Bounds, estimate: float, threshold: float, confidence: float, *, deciding_at: float | None = None
) -> int | None:
    """Examples per arm at which, if the observed effect is the true one, the interval would clear the
    threshold with DEFAULT_POWER: n * ((z_decide + z_power) * se / gap)^2, the standard error read off the
    width of the interval (drawn at `confidence`). The decision is taken at `confidence` too, unless
    `deciding_at` says otherwise (one side of a multiple-comparison correction). None when the estimate sits
    on the threshold (no sample size decides a tie) or the interval is unbounded."""
    gap = abs(estimate - threshold)
    lower, upper = bounds
    if gap <= 1e-12 * max(1.0, abs(threshold)) or not (math.isfinite(lower) and math.isfinite(upper)):
        return None
    z = z_value(confidence)
    stderr = (upper - lower) / (2 * z)
    z_decide = z if deciding_at is None else z_value(deciding_at)
    root = (z_decide + z_value(DEFAULT_POWER)) * stderr / gap
    needed = n * root * root
    return max(n + 1, math.ceil(needed)) if math.isfinite(needed) else None
