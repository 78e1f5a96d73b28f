"""Distribution-free bounds on the mean of bounded values: the betting confidence interval.

Waudby-Smith & Ramdas (2023), "Estimating means of bounded random variables by betting", JRSS B 86(1).
For values y_1..y_n in [0, 1] and a candidate mean m, the capital K_t(m) = prod_{i<=t} (1 + lam_i (y_i - m))
is a nonnegative martingale when the mean is m and each bet lam_i depends only on y_1..y_{i-1} (predictable).
By Ville's inequality P(max_t K_t(m) >= 1 / alpha) <= alpha, for ANY distribution on [0, 1]: the means m whose
capital ever reaches 1 / alpha are rejected, and the rest is a one-sided bound at 1 - alpha. No normality,
no symmetry, no large n: the guarantee is exact in the sense of "at most alpha", not asymptotic.

* Bets: the predictable plug-in lam_t = sqrt(2 log(1 / alpha0) / (n sigma2_{t-1})), with the running estimates
  mu_t = (1/2 + sum y) / (t + 1), sigma2_t = (1/4 + sum (y_i - mu_i)^2) / (t + 1) (WSR section 4 / 5, tuned to
  the fixed sample size n), truncated at TRUNCATION / m (TRUNCATION / (1 - m) for the upper side) so that every
  factor stays positive. alpha0 is the gate's own 1 - confidence; other confidences (the p-value search) reuse
  the same bets, which keeps the guarantee (Ville holds for any predictable bets).
* One side at a time: the lower bound bets on "the mean is above m" (the K+ process), the upper bound is the
  lower bound of 1 - y (the K- process). The hedged two-sided process of WSR splits alpha between the two;
  gatekit's bounds are one-sided each (gatekit.stats), so each side gets its whole alpha.
* Order. A betting process depends on the order the values arrive in; a verdict must not. The values are
  processed in a fixed order derived from the multiset alone: SORTED, then permuted by a permutation seeded
  with BETTING_SEED. The bounds are therefore a deterministic function of the multiset of values (re-ordering
  rows never moves them), and the order is still "random-looking" with respect to the values, which keeps the
  bets sensible (a sorted order would bet on the small values first).
* Grid. K_n(m) is decreasing in m (each factor is), so the rejected means form an interval [0, L). L is found
  on a grid of GRID + 1 means over [0, 1], then on a grid of GRID + 1 inside the bracketing cell, LEVELS times
  (a resolution of 1 / GRID^LEVELS of the range), and rounded to the safe side (the largest rejected grid
  mean): the bound is never less conservative than the exact one. Each grid's capital is cached, so the
  p-value search over many confidences costs a few grids, not one per confidence.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from gatekit.stats._base import Bounds, FloatArray

BETTING_SEED = 20231
TRUNCATION = 0.75
GRID = 64
LEVELS = 3
_ROW_CHUNK = 4096


def canonical_betting_order(values: FloatArray) -> FloatArray:
    """The values sorted, then permuted by a permutation seeded with BETTING_SEED: a function of the multiset."""
    ordered = np.sort(np.asarray(values, dtype=float))
    return ordered[np.random.default_rng(BETTING_SEED).permutation(len(ordered))]


class _LowerBound:
    """The lower betting bound of the mean of values in [0, 1] (already in canonical order), at any alpha."""

    def __init__(self, y: FloatArray, design_alpha: float) -> None:
        n = len(y)
        self.y = y
        prefix_count = np.arange(1, n + 1, dtype=float)
        mu = (0.5 + np.cumsum(y)) / (prefix_count + 1)  # mu_t, t = 1..n
        mu_before = np.concatenate(([0.5], mu[:-1]))  # mu_{i-1}, the prediction of y_i
        sigma2 = (0.25 + np.cumsum((y - mu_before) ** 2)) / (prefix_count + 1)
        sigma2_before = np.concatenate(([0.25], sigma2[:-1]))
        self.lam = np.sqrt(2 * math.log(1 / design_alpha) / (n * sigma2_before))
        self._capital = cache(self._cell_capital)

    def _max_log_capital(self, means: FloatArray) -> FloatArray:
        """max_t log K_t(m) for each mean m (vectorised over the means, chunked over the rows)."""
        with np.errstate(divide="ignore"):
            cap = np.where(means > 0, TRUNCATION / np.maximum(means, 1e-300), np.inf)
        running = np.zeros(len(means))
        best = np.zeros(len(means))  # K_0 = 1
        for start in range(0, len(self.y), _ROW_CHUNK):
            y = self.y[start : start + _ROW_CHUNK, None]
            lam = np.minimum(self.lam[start : start + _ROW_CHUNK, None], cap[None, :])
            path = running + np.cumsum(np.log1p(lam * (y - means[None, :])), axis=0)
            best = np.maximum(best, path.max(axis=0))
            running = path[-1]
        return best

    def _cell_capital(self, left: float, right: float) -> tuple[FloatArray, FloatArray]:
        means = np.linspace(left, right, GRID + 1)
        return means, self._max_log_capital(means)

    def at(self, alpha: float) -> float:
        """The largest grid mean still rejected at alpha (0 when none is): at or below the exact bound."""
        threshold = math.log(1 / alpha)
        left, right, bound = 0.0, 1.0, 0.0
        for _ in range(LEVELS):
            means, capital = self._capital(left, right)
            rejected = np.flatnonzero(capital >= threshold)
            if len(rejected) == 0:
                return bound
            cell = int(rejected[-1])
            bound = float(means[cell])
            if cell >= GRID:
                return bound
            left, right = bound, float(means[cell + 1])
        return bound


class BettingBounds:
    """One-sided betting bounds on the mean of values known to lie in [lo, hi], at any confidence.

    Valid for any distribution on [lo, hi] (Waudby-Smith & Ramdas 2023); a deterministic function of the
    multiset of values (see the module docstring). `design_confidence` tunes the bets (the gate's confidence).
    """

    def __init__(self, values: FloatArray, lo: float, hi: float, design_confidence: float) -> None:
        if not hi > lo:
            raise ValueError("a range needs lo < hi")
        if len(values) == 0:
            raise ValueError("no values")
        y = np.clip((canonical_betting_order(values) - lo) / (hi - lo), 0.0, 1.0)
        design_alpha = 1 - design_confidence
        self.lo, self.hi = lo, hi
        self._lower = _LowerBound(y, design_alpha)
        self._upper = _LowerBound(1.0 - y, design_alpha)

    def __call__(self, confidence: float) -> Bounds:
        alpha = 1 - confidence
        if not 0 < alpha < 1:
            return self.lo, self.hi
        width = self.hi - self.lo
        return self.lo + width * self._lower.at(alpha), self.hi - width * self._upper.at(alpha)


def outside_range(values: FloatArray, lo: float, hi: float) -> int:
    """How many values fall outside [lo, hi] (beyond float rounding)."""
    slack = 1e-12 * max(abs(lo), abs(hi), 1.0)
    return int(((values < lo - slack) | (values > hi + slack)).sum())
