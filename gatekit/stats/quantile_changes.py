"""Bounds on the change of a quantile between two checkpoints (p95 latency, candidate vs baseline).

* fewer than BOOTSTRAP_MIN_N examples in either arm: `quantile_change_bounds`, each arm's exact order-statistic
  bounds at 1 - alpha/2 combined (Bonferroni): distribution-free, valid for paired arms, ties and timeouts;
* from there up to BOOTSTRAP_MAX_N examples per arm: the percentile bootstrap of the difference or ratio of the
  quantiles (approximate, measured). Unpaired, it is computed exactly (`ExactBootstrap`: the law of each arm's
  resampled order statistic is binomial, so no resampling and no Monte-Carlo error); paired, it is a seeded
  Monte-Carlo bootstrap on canonically ordered data, widened by its Monte-Carlo error;
* above it: MOVER (Zou & Donner 2008; MOVER-R, Donner & Zou 2012 for the ratio) on each arm's exact
  order-statistic bounds (approximate, measured), which keeps the power of the bootstrap at a fraction of its
  cost.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from gatekit.packed_sort import stable_order
from gatekit.stats._base import Bounds, FloatArray, mover_ratio_limits
from gatekit.stats.quantiles import OrderStatistics, nearest_rank, sorted_quantile_bounds

BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20241
"""Fixed so that two runs give the same verdict; reported in the method name."""
BOOTSTRAP_MIN_N = 300
"""Below this many examples in either arm, a quantile change is bounded distribution-free
(`quantile_change_bounds`), not by the bootstrap. The percentile bootstrap of a tail quantile reads the few
values above it, and where the sample under-represents the tail it over-ships: at the boundary of a +5% p95
allowance it shipped 0.117 (n = 60) and 0.102 (n = 100) of violating checkpoints with 3% timeouts in each arm,
0.086 and 0.074 where the candidate's tail is longer at the same p95; from n = 300 every measured case is within
0.05 + 2 SE (`bench/calibration.py`). The price is power at small n (docs/statistics.md)."""
BOOTSTRAP_MAX_N = 2000
"""Above this many examples per arm, quantile changes use MOVER on each arm's order-statistic bounds instead
of the bootstrap: the bootstrap's cost grows with n x resamples, and at this size the normal approximation
behind MOVER is good."""
MONTE_CARLO_SIGMAS = 2.0
"""A bootstrap bound is read this many Monte-Carlo standard errors further out than its nominal rank: a
decision that would flip with another seed is inconclusive, not a coin toss."""


def canonical_order(candidate: FloatArray, baseline: FloatArray, *, paired: bool) -> tuple[FloatArray, FloatArray]:
    """The same data in an order that does not depend on the row order of the input: each arm sorted, or the
    pairs sorted by (candidate, baseline). The seeded resampling then draws the same replicates for any
    permutation of the rows, so re-ordering a table never changes a verdict."""
    if not paired:
        return np.sort(candidate), np.sort(baseline)
    order = np.lexsort((baseline, candidate))
    return candidate[order], baseline[order]


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

    Seeded and on canonically ordered data (`canonical_order`), so two runs, or two row orders, give the same
    replicates. `paired` resamples example pairs together (same ids, same order). Undefined replicates
    (inf - inf, inf / inf) sort last, on the side that can never pass a ceiling.
    """
    candidate, baseline = canonical_order(candidate, baseline, paired=paired)
    c_pick = _RankPicker(candidate, q)
    b_pick = _RankPicker(baseline, q)
    rng = np.random.default_rng(seed)
    out = np.empty(resamples, dtype=np.float64)
    largest = max(len(candidate), len(baseline), 1)
    chunk = max(1, 2_000_000 // largest)
    # numpy draws a bounded integer below 2**32 from the same 32-bit Lemire step whatever the output type, so
    # int32 positions are the very numbers int64 ones would be, at half the memory traffic (and the partition
    # below sorts half the bytes).
    kind = np.int32 if largest < 2**31 else np.int64
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        idx_c = rng.integers(0, len(candidate), size=(size, len(candidate)), dtype=kind)
        idx_b = idx_c if paired else rng.integers(0, len(baseline), size=(size, len(baseline)), dtype=kind)
        q_c = c_pick.quantiles(idx_c, scratch=not paired)
        q_b = b_pick.quantiles(idx_b, scratch=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + size] = q_c / q_b if ratio else q_c - q_b
    out[np.isnan(out)] = math.inf
    return np.sort(out)


class _RankPicker:
    """The q-quantile (inverted CDF) of each row of resampled positions into `values`, without gathering the
    resampled values: the k-th smallest of values[idx] is values-sorted at the k-th smallest of idx's ranks, so
    an integer partition of the positions' ranks stands for `np.quantile(values[idx], q, axis=1,
    method="inverted_cdf")` and returns the very same array elements (bit for bit). Falls back to that call
    where the shortcut could pick a different element: NaN (np.quantile's NaN rows) and -0.0 (ties with 0.0
    whose sign a division keeps), or values not float64."""

    def __init__(self, values: FloatArray, q: float) -> None:
        self.values = values
        self.q = q
        n = len(values)
        self.exact = (
            n > 0
            and values.dtype == np.float64
            and not bool(np.isnan(values).any())
            and not bool(((values == 0) & np.signbit(values)).any())
        )
        if not self.exact:
            return
        self.k = bootstrap_rank(n, q)
        order = np.argsort(values, kind="stable")
        self.sorted = values[order]
        self.rank: npt.NDArray[np.signedinteger[Any]] | None = None
        if not bool((order == np.arange(n)).all()):
            self.rank = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
            self.rank[order] = np.arange(n)

    def quantiles(self, idx: npt.NDArray[np.signedinteger[Any]], *, scratch: bool) -> FloatArray:
        """`scratch`: `idx` is not read again, so it may be reordered in place (saves a copy). Paired arms
        share `idx`, and the other arm's fallback (np.quantile) picks among tied 0.0/-0.0 by row order."""
        if not self.exact:
            picked: FloatArray = np.quantile(self.values[idx], self.q, axis=1, method="inverted_cdf")
            return picked
        if self.rank is not None:
            ranks = self.rank[idx]  # a fresh array
        elif scratch:
            ranks = idx
        else:
            ranks = idx.copy()
        ranks.partition(self.k, axis=1)
        chosen: FloatArray = self.sorted[ranks[:, self.k]]
        return chosen


@functools.lru_cache(maxsize=65536)
def bootstrap_rank(n: int, q: float) -> int:
    """The 0-based rank numpy's inverted-CDF q-quantile reads in a sorted sample of n (`np.quantile(...,
    method="inverted_cdf")`): the bootstrap's quantile of a resample is its (rank + 1)-th smallest value."""
    # numpy's own steps (`_inverted_cdf`, `_discrete_interpolation_to_boundaries`), in the same float64
    # arithmetic, without building a sample of n to read it from: np.quantile cost 0.27 ms a call, once per
    # slice of a gate on a quantile change. `tests/test_many_slices.py` holds it to np.quantile.
    index = n * q - 1
    below = math.floor(index)
    rank = below if index - below == 0 else below + 1
    return min(max(rank, 0), n - 1)


_NEGLIGIBLE = 1e-18
"""Probability below which a value of a resampled quantile is dropped from its law: at most n such values
(n <= BOOTSTRAP_MAX_N) lose under 1e-14 in all, far inside the margin `ExactBootstrap.bounds` reads with."""
_MARGIN = 1e-12
"""Each bound is read this much probability further out, on the side that can only widen it: float rounding
in the cumulative sum can never move a bound inwards."""


def resampled_quantile_law(values: FloatArray, q: float, *, is_sorted: bool = False) -> tuple[FloatArray, FloatArray]:
    """The exact law of a bootstrap resample's q-quantile: (distinct values, their probabilities). `is_sorted`:
    the values are sorted already (a slice's order statistics).

    Drawing n values with replacement from a sample of n, the number of draws at or below a value v that
    c(v) of the sample's values do not exceed is Binomial(n, c(v)/n); the resample's (k+1)-th smallest
    value is at most v exactly when that number is at least k+1 (Efron 1979, section 3; Hutson 1999). So
    P(quantile <= v) = P(Binomial(n, c(v)/n) > k), at each distinct value, ties and +inf included.
    """
    ordered = (values if is_sorted else np.sort(values)) + 0.0  # + 0.0: -0.0 is 0.0, whose sign a ratio keeps
    n = len(ordered)
    if n and not np.isnan(ordered[-1]):
        # Sorted already: each distinct value starts a run (what np.unique finds by sorting them again).
        starts = np.empty(n, dtype=bool)
        starts[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        first = np.flatnonzero(starts)
        distinct = ordered[first]
    else:  # NaNs sort last, and np.unique counts them as one value
        distinct, first = np.unique(ordered, return_index=True)
    at_or_below = np.append(first[1:], n).astype(np.float64) / n
    rank = bootstrap_rank(n, q)
    count = len(distinct)
    # Only a window of the values carries mass above _NEGLIGIBLE, and the last value (its cumulative
    # probability is set to 1.0, from bdtrc's largest below it): bdtrc is evaluated there only (it is most of
    # the cost: n = 2,000, 0.5 ms a law), unless its values after the window are not all the same.
    start, stop = _mass_window(rank, n, at_or_below)
    cdf = special.bdtrc(rank, n, at_or_below[max(start - 1, 0) : stop])
    if stop < count and cdf[-1] != special.bdtrc(rank, n, at_or_below[count - 2]):
        stop = count
        cdf = special.bdtrc(rank, n, at_or_below[max(start - 1, 0) :])
    if stop < count:  # the last value's mass, after a run of values of none
        cdf = np.append(cdf, 1.0)
        kept = np.append(distinct[start:stop], distinct[-1])
    else:
        cdf[-1] = 1.0
        kept = distinct[start:]
    mass = np.diff(cdf, prepend=0.0) if start == 0 else np.diff(cdf)
    keep = mass > _NEGLIGIBLE
    return kept[keep], mass[keep]


_TAIL = 5e-19
"""Values whose cumulative probability is below this are left out of the window `_mass_window` finds: a mass
is at most its value's cumulative probability, so theirs is below _NEGLIGIBLE."""
_SURE = 1e-17
"""From the p at which P(Binomial(n, p) <= rank) is this, the cumulative probability is, in floating point, as
close to 1 as it comes before p = 1 (1 - 2**-53 from scipy's bdtrc), so the values after the first there have a
mass of 0.0, but the last, whose cumulative probability is set to 1.0; where bdtrc differs, the values after the
window are evaluated too (`resampled_quantile_law`)."""
_WINDOW_GUARD = 2
"""Values kept either side of the window: it is the very window of the full computation even where the
inverses `_mass_window` reads are off in their last digits or bdtrc is not monotone in its last bits."""


@functools.lru_cache(maxsize=65536)
def _window_shares(rank: int, n: int) -> tuple[float, float]:
    """The shares c/n of a sample at or below a value between which its mass can exceed _NEGLIGIBLE: P(quantile
    <= v) = P(Binomial(n, c/n) > rank) = I_{c/n}(rank + 1, n - rank), the regularized incomplete beta function,
    is _TAIL at the first share and 1 - _SURE at the second (Abramowitz & Stegun 26.5.24)."""
    a, b = rank + 1, n - rank
    return float(special.betaincinv(a, b, _TAIL)), float(special.betainccinv(a, b, _SURE))


def _mass_window(rank: int, n: int, at_or_below: FloatArray) -> tuple[int, int]:
    """[start, stop): the positions of the distinct values whose mass in the resampled quantile's law can be
    above _NEGLIGIBLE (`at_or_below`: each value's share of the sample at or below it, increasing), which a
    full computation of every value's probability would find too: before the window the cumulative probability
    is below _TAIL, and after it, but for the last value, it stays what it is at the window's end."""
    count = len(at_or_below)
    if count <= 64:  # a few values: the whole law costs as little as finding the window
        return 0, count
    low, high = _window_shares(rank, n)
    if not (0.0 <= low <= high <= 1.0):  # no inverse found (never seen): the whole law
        return 0, count
    start = int(np.searchsorted(at_or_below, low, side="right"))
    stop = int(np.searchsorted(at_or_below, high, side="left")) + 1
    return max(0, start - _WINDOW_GUARD), min(count, stop + _WINDOW_GUARD)


def stable_argsort(values: FloatArray) -> npt.NDArray[np.intp]:
    """`np.argsort(values, kind="stable")` for values without NaN (3x faster for the 30,000 values of a law of a
    change): each value as an order-preserving 64-bit integer, equal exactly when the values are, in
    `gatekit.packed_sort`'s stable order of such keys."""
    n = len(values)
    if n < 2:
        return np.arange(n, dtype=np.intp)
    values = np.asarray(values, dtype=np.float64)  # the bits below are float64's (a float32 sample too)
    bits = (values + 0.0).view(np.uint64)  # + 0.0: -0.0 orders as 0.0, its equal
    # Negative values: every bit flipped (more negative, smaller); others: the sign bit set (above them all).
    flip = (bits.view(np.int64) >> np.int64(63)).view(np.uint64)
    flip |= np.uint64(1 << 63)
    order: npt.NDArray[np.intp] = stable_order(bits ^ flip, np.intp)[0]
    return order


class ExactBootstrap:
    """The percentile bootstrap of q-quantile(candidate) - q-quantile(baseline), or of their ratio, for
    independent arms, computed exactly instead of by resampling: the law of the difference is the product of
    the arms' laws (`resampled_quantile_law`), over every pair of their values. It is what the Monte-Carlo
    bootstrap tends to as its resamples grow, with no seed and no Monte-Carlo error, and it depends only on
    the two multisets of values, never on the order of the rows. Undefined values (inf - inf, inf / inf, x / 0)
    count as +inf, the side that can never pass a ceiling. `is_sorted`: both arms' values are in ascending
    order already (their order statistics), which saves sorting them again."""

    def __init__(
        self, candidate: FloatArray, baseline: FloatArray, q: float, *, ratio: bool, is_sorted: bool = False
    ) -> None:
        self.defined = (
            len(candidate) > 0
            and len(baseline) > 0
            and not (bool(np.isnan(candidate).any()) or bool(np.isnan(baseline).any()))
        )
        if not self.defined:
            return
        c_values, c_mass = resampled_quantile_law(candidate, q, is_sorted=is_sorted)
        b_values, b_mass = resampled_quantile_law(baseline, q, is_sorted=is_sorted)
        with np.errstate(invalid="ignore", divide="ignore"):
            change = np.divide.outer(c_values, b_values) if ratio else np.subtract.outer(c_values, b_values)
        change[np.isnan(change)] = math.inf
        flat = change.ravel()
        order = stable_argsort(flat)
        self.values = flat[order]
        self.cdf = np.cumsum(np.multiply.outer(c_mass, b_mass).ravel()[order])

    def bounds(self, confidence: float) -> Bounds:
        """(lower, upper): the alpha- and confidence-quantiles of the law, as `percentile_bounds` reads them
        from sorted replicates (the first value whose cumulative probability exceeds alpha, and the first that
        reaches the confidence). Without a NaN-free value in each arm there is no bound."""
        if not self.defined:
            return -math.inf, math.inf
        alpha = 1 - confidence
        last = len(self.values) - 1
        lo = min(last, int(np.searchsorted(self.cdf, alpha - _MARGIN, side="right")))
        hi = min(last, int(np.searchsorted(self.cdf, confidence + _MARGIN, side="left")))
        return float(self.values[lo]), float(self.values[hi])


def percentile_bounds(replicates: FloatArray, confidence: float, monte_carlo_sigmas: float = 0.0) -> Bounds:
    """Percentile bootstrap bounds from sorted replicates (order statistics, no interpolation), each read
    `monte_carlo_sigmas` Monte-Carlo standard errors further out: the rank of an alpha-quantile of m replicates
    varies by sqrt(m alpha (1 - alpha)) from seed to seed."""
    m = len(replicates)
    alpha = 1 - confidence
    shift = math.ceil(monte_carlo_sigmas * math.sqrt(m * alpha * (1 - alpha)))
    lo_index = max(0, min(m - 1, math.floor(alpha * m) - shift))
    hi_index = max(0, min(m - 1, math.ceil(confidence * m) - 1 + shift))
    return float(replicates[lo_index]), float(replicates[hi_index])


def quantile_change_bounds(
    candidate: OrderStatistics, baseline: OrderStatistics, q: float, confidence: float, *, ratio: bool
) -> Bounds:
    """Distribution-free bounds on q-quantile(candidate) - q-quantile(baseline), or on their ratio.

    Each arm's quantile gets order-statistic bounds at 1 - alpha/2, so both hold together with probability at
    least 1 - alpha whatever the dependence between the arms (Bonferroni): paired data is covered too. The
    difference is then bounded by [L_c - U_b, U_c - L_b] (ratio: [L_c / U_b, U_c / L_b], for positive values).
    Conservative: at 2 standard errors inside the bound its power is about 0.2 where a z test has 0.64.
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


def mover_quantile_change(
    candidate: OrderStatistics, baseline: OrderStatistics, q: float, confidence: float, *, ratio: bool
) -> Bounds:
    """Bounds on q-quantile(candidate) - q-quantile(baseline) (or the ratio) by MOVER: each arm's point
    estimate (nearest rank) and exact order-statistic bounds at `confidence`, recombined by square-and-add
    (Zou & Donner 2008) or, for the ratio, MOVER-R (Donner & Zou 2012). Assumes independent arms; paired arms
    with the usual positive correlation make it conservative. Approximate: it relies on each arm's estimate
    being close to normal, which holds at the n (> BOOTSTRAP_MAX_N) where it is used. A bound that needs an
    infinite (timed-out) order statistic is unbounded."""
    est_c, est_b = candidate.at(nearest_rank(candidate.n, q)), baseline.at(nearest_rank(baseline.n, q))
    lo_c, hi_c = sorted_quantile_bounds(candidate, q, confidence)
    lo_b, hi_b = sorted_quantile_bounds(baseline, q, confidence)
    if est_c is None or est_b is None or not (math.isfinite(est_c) and math.isfinite(est_b)):
        return -math.inf, math.inf
    if ratio:
        return mover_ratio_limits((est_c, lo_c, hi_c), (est_b, lo_b, hi_b))
    lower = est_c - est_b - math.hypot(est_c - lo_c, hi_b - est_b)
    upper = est_c - est_b + math.hypot(hi_c - est_c, est_b - lo_b)
    return (-math.inf if math.isnan(lower) else lower, math.inf if math.isnan(upper) else upper)
