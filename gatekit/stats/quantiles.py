"""Order-statistic bounds on quantiles (distribution-free, exact for continuous data, conservative with ties)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from gatekit.stats._base import Bounds, FloatArray

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
