"""The shared ground of gatekit.stats: normal and Student t quantiles, the bounds type, the fixed constants.

No scipy here: normal quantiles come from `statistics.NormalDist`, Student t from the exact finite series for
integer degrees of freedom. Tests check them against scipy.
"""

from __future__ import annotations

import functools
import itertools
import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Bounds = tuple[float, float]
"""(lower, upper): each a one-sided bound at the stated confidence."""

_NORMAL = NormalDist()
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
        total = _series(c, c, _ODD_FACTORS, (df - 1) // 2)
        central = (2 / math.pi) * (theta + s * total) if df > 1 else 2 * theta / math.pi
    else:
        central = s * _series(c, 1.0, _EVEN_FACTORS, df // 2)
    return 0.5 + central / 2


_MOST_FACTORS = 1024
_ODD_FACTORS = np.array([(2 * k, 2 * k + 1) for k in range(1, _MOST_FACTORS)], dtype=np.float64)
"""(2k, 2k + 1), k = 1, 2, ...: term k + 1 of the odd-df series is term k times c^2 2k / (2k + 1)."""
_EVEN_FACTORS = np.array([(2 * k + 1, 2 * k + 2) for k in range(_MOST_FACTORS - 1)], dtype=np.float64)
"""(2k + 1, 2k + 2), k = 0, 1, ...: the even-df series' factors."""
_ODD_PAIRS = [(float(a), float(b)) for a, b in _ODD_FACTORS]
_EVEN_PAIRS = [(float(a), float(b)) for a, b in _EVEN_FACTORS]
_SERIES_IN_NUMPY = 110
"""From this many terms on, the series is summed by numpy (its fixed cost is then below the loop's)."""


def _series(c: float, first: float, factors: npt.NDArray[np.float64], terms: int) -> float:
    """The sum of `terms` terms, left to right: `first`, then each the one before times c c a / b, (a, b) the
    next of `factors`. The loop and numpy (a cumulative product, then a cumulative sum, both left to right)
    do the very same IEEE operations in the same order: the same float (tests/test_many_slices.py)."""
    cc = c * c
    if terms < _SERIES_IN_NUMPY or terms > _MOST_FACTORS:
        pairs = _ODD_PAIRS if factors is _ODD_FACTORS else _EVEN_PAIRS
        if terms > _MOST_FACTORS:
            pairs = [(float(a), float(b)) for a, b in _factor_pairs(factors is _ODD_FACTORS, terms)]
        total, term = 0.0, first
        for a, b in itertools.islice(pairs, terms):
            total += term
            term *= cc * a / b
        return total
    steps = np.empty(terms, dtype=np.float64)
    steps[0] = first
    steps[1:] = cc * factors[: terms - 1, 0] / factors[: terms - 1, 1]
    return float(np.cumsum(np.cumprod(steps))[-1])


def _factor_pairs(odd: bool, terms: int) -> list[tuple[int, int]]:
    return [(2 * k, 2 * k + 1) for k in range(1, terms + 1)] if odd else [(2 * k + 1, 2 * k + 2) for k in range(terms)]


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


def mover_ratio_limits(c: tuple[float, float, float], b: tuple[float, float, float]) -> Bounds:
    """MOVER-R (Donner & Zou 2012) for est_c / est_b from (estimate, lower, upper) of each positive
    quantity. A denominator that may reach 0 leaves that side unbounded."""
    (e_c, l_c, u_c), (e_b, l_b, u_b) = c, b
    if not (e_b > 0 and e_c >= 0):
        return -math.inf, math.inf
    product = e_c * e_b
    lower, upper = 0.0, math.inf
    lower_den = u_b * (2 * e_b - u_b)
    if math.isfinite(u_b) and lower_den > 0:
        root = product * product - l_c * u_b * (2 * e_c - l_c) * (2 * e_b - u_b)
        lower = max(0.0, (product - math.sqrt(max(root, 0.0))) / lower_den)
    elif math.isfinite(u_b) and u_b > 0:
        lower = max(0.0, l_c / u_b)
    upper_den = l_b * (2 * e_b - l_b)
    if math.isfinite(u_c) and l_b > 0 and upper_den > 0:
        root = product * product - u_c * l_b * (2 * e_c - u_c) * (2 * e_b - l_b)
        upper = (product + math.sqrt(max(root, 0.0))) / upper_den
    ratio = e_c / e_b
    return min(lower, ratio), max(upper, ratio)
