"""Bounds on means, their differences and their ratios.

Guarantees: none of these is exact. A t interval is exact for normal data only; skewed data (latency, cost,
token counts) make its one-sided tail under-cover at the n users have (100-1000). The skewness-corrected t
(`skew_corrected_bounds`, Hall 1992) removes the first-order effect of skew and is what gatekit uses for
per-example values; the guarantee is approximate and its measured worst cell is in docs/statistics.md.
Data that are all 0 or 1 are proportions and never reach this module (gatekit.decide.confidence routes them).
"""

from __future__ import annotations

import math

import numpy as np

from gatekit.stats._base import Bounds, FloatArray, critical_value, z_value


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


def third_cumulant(values: FloatArray) -> float:
    """The unbiased estimate k3 = n^2 / ((n-1)(n-2)) * mean((x - mean)^3) of the third cumulant (0 below 3)."""
    n = len(values)
    if n < 3:
        return 0.0
    centred = values - values.mean()
    return float(n * n / ((n - 1) * (n - 2)) * np.mean(centred**3))


def skew_corrected_bounds(
    estimate: float, stderr: float, skew: float, confidence: float, df: int | None = None
) -> Bounds:
    """Bounds on a mean (or a difference of means) corrected for the skewness of its estimator, by Hall's
    monotone transformation of the studentized statistic (Hall 1992, "On the removal of skewness by
    transformation", JRSS B 54; for one and two samples as in Zhou & Dinh 2005, Biostatistics 6).

    With T = (estimate - truth) / stderr and `skew` = a = third cumulant of the estimator / stderr^3 (gamma /
    sqrt(n) for one sample), g(T) = T + a T^2 / 3 + a^2 T^3 / 27 + a / 6 is close to Student t; g is monotone
    and g^{-1}(h) = (3 / a) ((1 + a (h - a/6))^(1/3) - 1). Lower = estimate - stderr g^{-1}(c), upper =
    estimate - stderr g^{-1}(-c), c the t (or z) quantile. a = 0 gives the t interval. Approximate.
    """
    if not math.isfinite(stderr):
        return -math.inf, math.inf
    c = critical_value(confidence, df)
    return estimate - stderr * _hall_inverse(c, skew), estimate - stderr * _hall_inverse(-c, skew)


def _hall_inverse(h: float, a: float) -> float:
    if abs(a) < 1e-9:
        return h - a / 6
    x = 1 + a * (h - a / 6)
    return 3 / a * (math.copysign(abs(x) ** (1 / 3), x) - 1)


def mean_skew(values: FloatArray, stderr: float) -> float:
    """The skew a of a sample mean's estimator: k3 / n^2 / stderr^3."""
    n = len(values)
    if n < 3 or not stderr > 0 or not math.isfinite(stderr):
        return 0.0
    return third_cumulant(values) / (n * n) / stderr**3


def welch_skew(c: FloatArray, se_c: float, b: FloatArray, se_b: float) -> float:
    """The skew of mean(c) - mean(b) for independent samples: (k3_c / n_c^2 - k3_b / n_b^2) / se^3."""
    se = math.hypot(se_c, se_b)
    if not se > 0 or not math.isfinite(se):
        return 0.0
    return (third_cumulant(c) / len(c) ** 2 - third_cumulant(b) / len(b) ** 2) / se**3
