"""Bounds on proportions, their differences and their ratios.

Every interval is a pair of one-sided bounds, each holding with probability `confidence` on its own.

Which guarantee each method carries (docs/statistics.md has the measured figures):

* `clopper_pearson` — exact: for every n and true p, P(bound on the wrong side of p) <= 1 - confidence
  (Clopper & Pearson 1934; it inverts the binomial tail, so the guarantee holds by construction, and
  tests/test_exact_coverage.py enumerates it).
* `paired_mover` — approximate, enumerated (<= 0.049): MOVER on the two discordant cells' exact limits, with
  their multinomial correlation. What gatekit uses for paired rates. Never of zero width.
* `paired_difference` — proven: an exact conditional bound on the share of discordant pairs that favour the
  candidate, combined (Bonferroni) with an exact bound on the discordant rate. Never of zero width, but the
  Bonferroni split costs power (0.25-0.39 at 2 SE where a z test has 0.64 when the models rarely disagree);
  bench/calibration.py prints it beside `paired_mover` as the price of a proof.
* `mover_difference` — approximate, enumerated (<= 0.049): MOVER (Zou & Donner 2008; Newcombe's method 10
  structure) on each arm's Clopper-Pearson limits. What gatekit uses for unpaired rate differences.
* `newcombe` — approximate (Newcombe 1998, method 10; square-and-add of Wilson limits), enumerated worst
  0.052 (base 0.5, +1 point, n = 100 per arm): kept as a reference, no longer used for decisions.
* `mover_ratio` — approximate (MOVER-R, Donner & Zou 2012) with Clopper-Pearson limits, measured.
* `wilson` — kept for reference (Newcombe's interval); its one-sided tail under-covers where the count
  on the tail side is small, so single proportions are bounded by Clopper-Pearson.
"""

from __future__ import annotations

import functools
import math

from scipy import special

from gatekit.stats._base import Bounds, mover_ratio_limits, z_value

PAIRED_CONDITIONAL_SHARE = 0.8
"""Of the error rate alpha of a paired difference, the part spent on the split of the discordant pairs (the
rest bounds how many pairs are discordant). The difference q (2 theta - 1) is usually decided by the split
theta, and the discordant rate q moves it only in proportion: with 10% discordance the power at 2 SE is
0.57-0.63 at n >= 300 (a z test: 0.64). When nearly every discordant pair goes one way, q decides instead and
the power is 0.28-0.39 at n = 1,000-10,000: the price of the guarantee (bench/calibration.py)."""


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


def clopper_pearson(k: float, n: int, confidence: float) -> Bounds:
    """Exact one-sided bounds for a proportion k/n (Clopper & Pearson 1934): the lower bound is the p at which
    P(X >= k) = 1 - confidence, the upper the p at which P(X <= k) = 1 - confidence, X ~ Binomial(n, p).
    Through the beta quantiles: lower = Beta(k, n - k + 1).ppf(alpha), upper = Beta(k + 1, n - k).ppf(1 - alpha).

    0 events of 200 give an upper bound of 1 - 0.05^(1/200) = 0.0149 at 0.95; 299 examples are the fewest
    whose upper bound at 0 events is below 0.01.

    Cached: a slice's counts are bounded by its floor, by its delta (each arm) and by their p-value searches
    at the same few confidence levels, four inverse beta functions each time (1,500 slices: 20,000 calls).
    """
    # The key as Python numbers: np.float32(500) equals 500.0 and would share its entry at float32's precision.
    return _clopper_pearson(float(k), int(n), float(confidence))


@functools.lru_cache(maxsize=1 << 16)
def _clopper_pearson(k: float, n: int, confidence: float) -> Bounds:
    if n <= 0:
        raise ValueError("n must be positive")
    k = min(max(k, 0.0), float(n))
    alpha = 1 - confidence
    lower = 0.0 if k <= 0 else float(special.betaincinv(k, n - k + 1, alpha))
    upper = 1.0 if k >= n else float(special.betaincinv(k + 1, n - k, 1 - alpha))
    return lower, upper


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


def mover_difference(k_c: float, n_c: int, k_b: float, n_b: int, confidence: float) -> Bounds:
    """Bounds on p_c - p_b for independent samples by MOVER (Zou & Donner 2008, "Construction of confidence
    limits about effect measures: a general approach", Stat Med 27:1693), the square-and-add structure of
    Newcombe's (1998) method 10 with each proportion's Clopper-Pearson limits l, u in place of Wilson's:

        L = d - sqrt((p_c - l_c)^2 + (u_b - p_b)^2),  U = d + sqrt((u_c - p_c)^2 + (p_b - l_b)^2).

    Wilson's one-sided tail under-covers where the count on the tail side is small, and Newcombe's interval
    inherits it (exact enumeration: 0.052 false ship at base 0.5, +1 point, n = 100 per arm). Exact limits
    keep every enumerated cell of bench/calibration.py (bases 0.01 / 0.5 / 0.95, n = 30..10,000) at or below
    0.05, at the power of a z test from n = 300 on a 50% base. Approximate, enumerated. Never of zero width:
    0 of n in both arms still gives each arm's exact bound at 0 events.
    """
    if n_c <= 0 or n_b <= 0:
        raise ValueError("n must be positive")
    p_c, p_b = k_c / n_c, k_b / n_b
    l_c, u_c = clopper_pearson(k_c, n_c, confidence)
    l_b, u_b = clopper_pearson(k_b, n_b, confidence)
    d = p_c - p_b
    return d - math.hypot(p_c - l_c, u_b - p_b), d + math.hypot(u_c - p_c, p_b - l_b)


def newcombe_paired(both: int, only_c: int, only_b: int, neither: int, confidence: float) -> Bounds:
    """Newcombe's score bounds (method 10, Newcombe 1998b) for p_c - p_b on the same examples, with the
    continuity-corrected phi of his paper (as Fagerland, Lydersen & Laake 2013 implement it): with the raw phi
    a table in full agreement (15/0/0/15) has an interval of zero width.

    phi* = max(AD - BC - n/2, 0) / sqrt(margins) when AD > BC, min(AD - BC + n/2, 0) / sqrt(...) when
    AD < BC; 0 when a margin is empty. Approximate; kept as a reference for `paired_difference`.
    """
    n = both + only_c + only_b + neither
    p_c, p_b = (both + only_c) / n, (both + only_b) / n
    l_c, u_c = wilson(both + only_c, n, confidence)
    l_b, u_b = wilson(both + only_b, n, confidence)
    margins = (both + only_c) * (only_b + neither) * (both + only_b) * (only_c + neither)
    cross = both * neither - only_c * only_b
    corrected = max(cross - n / 2, 0.0) if cross > 0 else min(cross + n / 2, 0.0)
    phi = corrected / math.sqrt(margins) if margins > 0 else 0.0
    d = p_c - p_b
    lower_sq = (p_c - l_c) ** 2 - 2 * phi * (p_c - l_c) * (u_b - p_b) + (u_b - p_b) ** 2
    upper_sq = (u_c - p_c) ** 2 - 2 * phi * (u_c - p_c) * (p_b - l_b) + (p_b - l_b) ** 2
    return d - math.sqrt(max(lower_sq, 0.0)), d + math.sqrt(max(upper_sq, 0.0))


def paired_difference(only_c: int, only_b: int, n: int, confidence: float) -> Bounds:
    """Bounds on p_c - p_b over n paired examples from the discordant pairs alone: `only_c` examples are 1
    for the candidate only, `only_b` for the baseline only.

    p_c - p_b = q (2 theta - 1), q the discordant rate, theta the share of discordant pairs that favour the
    candidate. Given m = only_c + only_b discordant pairs, only_c ~ Binomial(m, theta) exactly, so the
    Clopper-Pearson bound on theta at alpha_theta holds conditionally on m and hence unconditionally (the
    exact conditional method of the McNemar setting, e.g. Fagerland, Lydersen & Laake 2013, section 4); q gets
    a Clopper-Pearson bound at alpha_q. With alpha_theta + alpha_q = alpha, both hold together with
    probability >= 1 - alpha (Bonferroni), and the bound is the extreme of q (2 theta - 1) over the box.
    Each side on its own is one-sided at `confidence`: proven, not measured. With no discordant pair the
    interval is [-q_U, q_U], never a point: 15/0/0/15 at 0.95 gives +-0.142.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    alpha = 1 - confidence
    conditional = 1 - PAIRED_CONDITIONAL_SHARE * alpha
    marginal = 1 - (1 - PAIRED_CONDITIONAL_SHARE) * alpha
    m = only_c + only_b
    q_lo, q_hi = clopper_pearson(m, n, marginal)
    t_lo, t_hi = clopper_pearson(only_c, m, conditional) if m > 0 else (0.0, 1.0)
    hi_effect, lo_effect = 2 * t_hi - 1, 2 * t_lo - 1
    upper = q_hi * hi_effect if hi_effect >= 0 else q_lo * hi_effect
    lower = q_hi * lo_effect if lo_effect <= 0 else q_lo * lo_effect
    return lower, upper


def mover_ratio(k_c: float, n_c: int, k_b: float, n_b: int, confidence: float) -> Bounds:
    """Bounds on p_c / p_b by MOVER-R (Donner & Zou 2012), from each proportion's Clopper-Pearson limits
    (the formula in `mover_ratio_limits`). Unlike the delta method on the log ratio, its width does not vanish
    at p = 1 (30/30 vs 30/30 gives a lower bound of 0.905 at 0.95) nor need a made-up event at p = 0; with
    no baseline event the upper side is unbounded. Approximate, measured in bench/calibration.py.
    """
    p_c, p_b = k_c / n_c, k_b / n_b
    l_c, u_c = clopper_pearson(k_c, n_c, confidence)
    l_b, u_b = clopper_pearson(k_b, n_b, confidence)
    if p_b <= 0:
        return 0.0, math.inf
    return mover_ratio_limits((p_c, l_c, u_c), (p_b, l_b, u_b))


def paired_mover(only_c: int, only_b: int, n: int, confidence: float) -> Bounds:
    """Bounds on p_c - p_b over n paired examples by MOVER for correlated estimates (Zou & Donner 2008), on the
    two discordant cells: p_c - p_b = pi_c - pi_b, pi_c the rate of pairs where only the
    candidate is 1 and pi_b where only the baseline is. Each cell's count is exactly Binomial(n, pi), so each
    gets its Clopper-Pearson limits; they are recombined by square-and-add with the cells' multinomial
    correlation r = -sqrt(pi_c pi_b / ((1 - pi_c)(1 - pi_b))):

        L = d - sqrt(w_c^2 + w_b^2 - 2 r w_c w_b), w_c = p_c - l_c, w_b = u_b - p_b (and mirrored for U).

    Approximate, enumerated: exact enumeration of the trinomial over n = 30..10,000 and discordance 0..0.9
    (bench/calibration.py, tests/test_stats_exact.py) finds at most 0.049 one-sided error at 0.95, with the power
    of a z test from n = 300. Never of zero width: with no discordant pair of 30 it is +-0.095 at 0.95 (each
    cell's exact bound at 0 events). When one cell is empty the bound on that side is that of the other cell
    alone, which is exact.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    p_c, p_b = only_c / n, only_b / n
    l_c, u_c = clopper_pearson(only_c, n, confidence)
    l_b, u_b = clopper_pearson(only_b, n, confidence)
    r = -math.sqrt(p_c * p_b / ((1 - p_c) * (1 - p_b))) if 0 < p_c < 1 and 0 < p_b < 1 else 0.0
    d = p_c - p_b
    lower_c, upper_b = p_c - l_c, u_b - p_b
    upper_c, lower_b = u_c - p_c, p_b - l_b
    lower = d - math.sqrt(max(lower_c**2 + upper_b**2 - 2 * r * lower_c * upper_b, 0.0))
    upper = d + math.sqrt(max(upper_c**2 + lower_b**2 - 2 * r * upper_c * lower_b, 0.0))
    return lower, upper
