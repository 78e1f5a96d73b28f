"""Calibration: how often does gatekit say *pass* when the truth violates the bound, and how often when it
does not?

For every method, the truth is placed on the failing side of the threshold by a hair (the hardest case for a
false ship) over n = 30 ... 10,000, at the corners users reach: near-identical paired models, rare (1%) and
near-certain (99%) rates, skewed and heavy-tailed means. Count-based methods are computed by exact
enumeration of the counts (no simulation error: their rows must be <= 0.05 exactly); the others are simulated
through the method the evaluator chooses (`gatekit.decide.confidence.choose_interval`) and must stay within
0.05 + 2 SE, or are labelled approximate with their measured worst cell.

Beside the false-ship table, the power table: the chance to pass when the truth is 0.5, 1 and 2 standard
errors inside the bound. An ideal one-sided z test at 0.95 has 0.126, 0.260 and 0.639 there. Beside it, the
references each method's power at 2 SE is compared with: for single rates, the best valid non-randomized test
computed by enumeration (Clopper-Pearson equals it: the proof that no valid gate can do better) and the
randomized UMP test (the price of a verdict that is not a coin flip); for every count-based row, the ideal z
test with the SE at the truth (which is what a method estimates from the data); for skewed means, the t-type
bound calibrated to the exact distribution (an oracle); for the betting interval, its width over the z width
against the Ville price sqrt(2 ln(1/alpha)) / z.

Every simulated row checks that the evaluator chose the method the row is named after.

A last table: a good checkpoint over 200 slices, each exactly at its threshold, and how often a fail would
*stop* it, with and without the family-wise correction.

Run: nice -n 10 .venv/bin/python bench/calibration.py [--quick]. Seeded: the same tables every run.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy import stats as sp

from gatekit import stats
from gatekit.decide.bounds import BOUND_KINDS
from gatekit.decide.evaluate import evaluate_gates
from gatekit.decide.methods import Interval, Settings, choose_interval
from gatekit.results import Measurement, Results, Samples
from gatekit.spec.model import Spec

Rng = np.random.Generator
CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(CONFIDENCE)
NS = (30, 100, 300, 1000, 3000, 10000)
INSIDE = (0.5, 1.0, 2.0)
"""Standard errors inside the bound at which power is measured."""
IDEAL = tuple(NormalDist().cdf(d - Z) for d in INSIDE)


@dataclass
class Row:
    method: str
    case: str
    guarantee: str
    """exact (enumerated), proven (enumerated), or approximate (simulated)."""
    false_ship: dict[int, float]
    power: dict[int, tuple[float, ...]]
    sims: int = 0
    references: dict[str, dict[int, float]] = field(default_factory=dict)
    """Reference power at 2 SE inside, by name and n: what the method's own power is compared with."""


# --- exact enumeration: single proportions (Clopper-Pearson) ---------------------------------------------


def largest_passing_count(n: int, threshold: float) -> int:
    """For `max: threshold`: the largest event count whose exact upper bound is at or below the threshold."""
    lo, hi = -1, n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if stats.clopper_pearson(mid, n, CONFIDENCE)[1] <= threshold:
            lo = mid
        else:
            hi = mid
    return lo


def single_rate_rows() -> list[Row]:
    rows = []
    for rate, side in ((0.01, "max"), (0.01, "min"), (0.5, "max"), (0.99, "max"), (0.99, "min")):
        false_ship, power = {}, {}
        references: dict[str, dict[int, float]] = {BEST_TEST: {}, RANDOMIZED_UMP: {}, Z_AT_TRUTH: {}}
        for n in NS:
            # `min: t` on a rate is `max: 1 - t` on its complement: the same enumeration, mirrored.
            t = rate if side == "max" else 1 - rate
            k_star = largest_passing_count(n, t)
            false_ship[n] = float(sp.binom.cdf(k_star, n, t)) if k_star >= 0 else 0.0
            se = math.sqrt(t * (1 - t) / n)
            power[n] = tuple(
                float(sp.binom.cdf(k_star, n, t - d * se)) if k_star >= 0 and t - d * se > 0 else math.nan
                for d in INSIDE
            )
            for name, value in binomial_references(n, t, t - INSIDE[-1] * se).items():
                references[name][n] = value
        rows.append(
            Row("Clopper-Pearson", f"`{side}: {rate}` on a rate of {rate}", "exact", false_ship, power, 0, references)
        )
    return rows


BEST_TEST = "best valid non-randomized test"
RANDOMIZED_UMP = "randomized UMP test"
Z_AT_TRUTH = "ideal z test, SE at the truth"
ORACLE_T = "oracle-calibrated t"


def z_at_truth(gap: float, se_truth: float) -> float:
    """The ideal one-sided z test's power when the truth is `gap` inside the bound, measured in the standard
    error at the truth (which any method must estimate from the data): Phi(gap / se_truth - z)."""
    return NormalDist().cdf(gap / se_truth - Z) if se_truth > 0 else math.nan


def binomial_references(n: int, t: float, p1: float) -> dict[str, float]:
    """For `max: t` on n examples, power at a true rate p1 < t of: the best valid non-randomized test, computed
    here without Clopper-Pearson (pass at X <= c, c the largest count with P(X <= c | t) <= alpha: the most
    powerful non-randomized level-alpha test whose pass region is monotone — more events never help a `max`
    bound — since the likelihood ratio is monotone in X); the randomized UMP test (which also passes X = c + 1
    with the probability that spends alpha exactly: unusable, a verdict cannot be a coin flip, shown as the
    price of discreteness); and the ideal z test with the SE at the truth."""
    if not 0 < p1 < t:
        return {BEST_TEST: math.nan, RANDOMIZED_UMP: math.nan, Z_AT_TRUTH: math.nan}
    alpha = 1 - CONFIDENCE
    counts = np.arange(n + 1)
    at_threshold = sp.binom.cdf(counts, n, t)
    allowed = counts[at_threshold <= alpha]
    c = int(allowed.max()) if len(allowed) else -1
    best = float(sp.binom.cdf(c, n, p1)) if c >= 0 else 0.0
    size = float(sp.binom.cdf(c, n, t)) if c >= 0 else 0.0
    gamma = (alpha - size) / float(sp.binom.pmf(c + 1, n, t))
    randomized = best + gamma * float(sp.binom.pmf(c + 1, n, p1))
    return {BEST_TEST: best, RANDOMIZED_UMP: randomized, Z_AT_TRUTH: z_at_truth(t - p1, math.sqrt(p1 * (1 - p1) / n))}


# --- exact enumeration: two proportions ------------------------------------------------------------------


def window(n: int, p: float, sds: float = 9.0) -> np.ndarray[Any, Any]:
    sd = math.sqrt(n * p * (1 - p))
    return np.arange(max(0, math.floor(n * p - sds * sd - 2)), min(n, math.ceil(n * p + sds * sd + 2)) + 1)


def two_arm_probability(
    passing: np.ndarray[Any, Any], k_c: np.ndarray[Any, Any], k_b: np.ndarray[Any, Any], n: int, p_c: float, p_b: float
) -> float:
    return float(sp.binom.pmf(k_c, n, p_c) @ passing @ sp.binom.pmf(k_b, n, p_b))


def two_arm_row(
    method: str,
    case: str,
    passes: Callable[[int, int, int], bool],
    truth: Callable[[int, float], tuple[float, float]],
    guarantee: str,
    se_at: Callable[[int, float, float], float],
) -> Row:
    """`truth(n, d)`: (p_c, p_b) d standard errors inside the bound (d = 0: on the failing side by a hair);
    `se_at(n, p_c, p_b)`: the standard error of the compared estimate at a truth (the z test's reference)."""
    false_ship, power = {}, {}
    z_truth: dict[int, float] = {}
    for n in NS:
        inside_c, inside_b = truth(n, INSIDE[-1])
        gap = abs(inside_c - truth(n, 0.0)[0])
        z_truth[n] = z_at_truth(gap, se_at(n, inside_c, inside_b)) if 0 < inside_c < 1 else math.nan
        p_c, p_b = truth(n, 0.0)
        k_c, k_b = window(n, p_c), window(n, p_b)
        passing = np.array([[passes(int(c), int(b), n) for b in k_b] for c in k_c], dtype=np.float64)
        false_ship[n] = two_arm_probability(passing, k_c, k_b, n, p_c, p_b)
        cells = []
        for d in INSIDE:
            q_c, q_b = truth(n, d)
            cells.append(two_arm_probability(passing, k_c, k_b, n, q_c, q_b) if 0 < q_c < 1 else math.nan)
        power[n] = tuple(cells)
    return Row(method, case, guarantee, false_ship, power, 0, {Z_AT_TRUTH: z_truth})


DifferenceMethod = Callable[[float, int, float, int, float], tuple[float, float]]
ALLOWED_INCREASE = 0.01
"""max_increase: 0.01 (one point) on a rate."""
KEEP_RATIO = 0.99
"""max_decrease_pct: 1 on a rate."""


def two_proportion_rows() -> list[Row]:
    rows = []
    allowed, keep = ALLOWED_INCREASE, KEEP_RATIO
    # What the evaluator uses for unpaired rate differences, then Newcombe's interval (Wilson limits) that it
    # replaced, as the reference: the same cells, so the power columns compare side by side.
    unpaired = (
        ("MOVER difference (Clopper-Pearson limits)", stats.mover_difference, "approximate (enumerated)"),
        ("Newcombe hybrid score (reference, not used)", stats.newcombe, "approximate (enumerated)"),
    )
    for name, method, guarantee in unpaired:
        for base in (0.01, 0.5, 0.95):

            def increase_passes(c: int, b: int, n: int, method: DifferenceMethod = method) -> bool:
                return method(c, n, b, n, CONFIDENCE)[1] <= allowed

            def increase_truth(n: int, d: float, base: float = base) -> tuple[float, float]:
                p_c = base + allowed + 1e-6
                se = math.sqrt((p_c * (1 - p_c) + base * (1 - base)) / n)
                return p_c - d * se, base

            rows.append(
                two_arm_row(
                    name,
                    f"+1pt allowed, base {base}, unpaired",
                    increase_passes,
                    increase_truth,
                    guarantee,
                    lambda n, p_c, p_b: math.sqrt((p_c * (1 - p_c) + p_b * (1 - p_b)) / n),
                )
            )
    for base in (0.99, 0.5, 0.05):

        def ratio_passes(c: int, b: int, n: int) -> bool:
            return stats.mover_ratio(c, n, b, n, CONFIDENCE)[0] >= keep

        def ratio_truth(n: int, d: float, base: float = base) -> tuple[float, float]:
            p_c = base * keep * (1 - 1e-6)
            se = math.sqrt(p_c * (1 - p_c) / n + keep * keep * base * (1 - base) / n)
            return p_c + d * se, base

        rows.append(
            two_arm_row(
                "MOVER-R (Clopper-Pearson limits)",
                f"-1% allowed, base {base}, unpaired",
                ratio_passes,
                ratio_truth,
                "approximate (enumerated)",
                lambda n, p_c, p_b: math.sqrt((p_c * (1 - p_c) + keep * keep * p_b * (1 - p_b)) / n),
            )
        )
    return rows


PairedMethod = Callable[[int, int, int, float], tuple[float, float]]


def paired_rows() -> list[Row]:
    return [
        *paired_method_rows("MOVER, discordant cells (paired)", stats.paired_mover, "approximate (enumerated)"),
        *paired_method_rows("exact conditional (paired)", stats.paired_difference, "proven (enumerated)"),
    ]


def paired_method_rows(name: str, method: PairedMethod, guarantee: str) -> list[Row]:
    """`max_decrease: 0.01` on n pairs, by exact enumeration of (discordant pairs, those favouring the candidate):
    both paired methods depend on nothing else."""
    allowed = 0.01
    rows = []
    cases = (
        ("discordance one way", 0.0),
        ("reverse discordance 0.005", 0.005),
        ("discordance 0.1", 0.1),
        ("discordance 0.45", 0.45),
    )
    for label, reverse in cases:
        false_ship, power = {}, {}
        z_truth: dict[int, float] = {}
        for n in NS:

            def probability(only_c: float, only_b: float, n: int = n) -> float:
                rate = only_c + only_b
                theta = only_c / rate
                total = 0.0
                for m in window(n, rate):
                    weight = float(sp.binom.pmf(m, n, rate))
                    if m == 0:
                        total += weight * (method(0, 0, n, CONFIDENCE)[0] >= -allowed)
                        continue
                    cs = window(int(m), theta) if 0 < theta < 1 else np.array([round(theta * m)])
                    lows = [method(int(c), int(m - c), n, CONFIDENCE)[0] for c in cs]
                    ok = np.array(lows) >= -allowed
                    total += weight * float(sp.binom.pmf(cs, int(m), theta) @ ok)
                return total

            only_b = reverse + allowed + 1e-6
            false_ship[n] = probability(reverse, only_b)
            cells = []
            se = math.sqrt((reverse + only_b - allowed**2) / n)
            for d in INSIDE:
                shifted = only_b - d * se
                cells.append(probability(reverse, shifted) if shifted > 0 else math.nan)
            power[n] = tuple(cells)
            inside = only_b - INSIDE[-1] * se
            # The variance of one pair's difference at the truth: pi_c + pi_b - (pi_c - pi_b)^2.
            variance = reverse + inside - (inside - reverse) ** 2
            z_truth[n] = z_at_truth(INSIDE[-1] * se, math.sqrt(variance / n)) if inside > 0 else math.nan
        rows.append(Row(name, f"-1pt allowed, {label}", guarantee, false_ship, power, 0, {Z_AT_TRUTH: z_truth}))
    return rows


# --- simulation: means and quantiles, through the evaluator's choice of method ---------------------------


def measured(x: np.ndarray[Any, Any], q: float | None = None, ids: np.ndarray[Any, Any] | None = None) -> Measurement:
    value = float(np.quantile(x, q, method="inverted_cdf")) if q is not None else float(x.mean())
    return Measurement(value, samples=Samples(x.astype(np.float64), ids))


def decided_pass(interval: Interval, side: str, threshold: float) -> bool:
    lower, upper = interval.bounds_at(CONFIDENCE)
    return upper <= threshold if side == "at_most" else lower >= threshold


Draw = Callable[[Rng, int, float], tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]]
"""(rng, n, shift) -> candidate (and baseline) values; shift moves the candidate's truth into the bound."""


@dataclass(frozen=True)
class Simulated:
    method: str
    case: str
    bound: str
    limit: float
    kind: str
    draw: Draw
    se: Callable[[int], float]
    """The estimator's true standard error at n, on the scale `shift` moves."""
    quantile: float | None = None
    ns: Sequence[int] = NS
    value_range: tuple[float, float] | None = None
    """A declared `range:` (the betting interval), or None (the skewness-corrected t)."""
    paired: bool = False
    """Candidate and baseline carry the same example ids, so the evaluator pairs them."""
    expects: str = "skewness-corrected t ("
    """How the name of the method the evaluator must choose begins: a row measures that method or fails loudly
    (an earlier paired row gave no ids, so it measured the unpaired Welch interval under the paired label)."""


def pass_rate(s: Simulated, n: int, inside: float, sims: int, rng: Rng) -> float:
    kind = BOUND_KINDS[s.bound]  # type: ignore[index]
    settings = Settings(CONFIDENCE, None, True, s.kind, s.quantile, value_range=s.value_range)  # type: ignore[arg-type]
    passed = 0
    ids = np.arange(n) if s.paired else None
    for _ in range(sims):
        c_values, b_values = s.draw(rng, n, inside * s.se(n))
        cand = measured(c_values, s.quantile, ids)
        base = measured(b_values, s.quantile, ids) if b_values is not None else None
        base_value = base.value if base is not None else None
        if not math.isfinite(cand.value) or (base_value is not None and not math.isfinite(base_value)):
            # The evaluator reports an infinite observed value (a p95 that is a timeout) as missing, never as a
            # pass; read through the interval alone, a baseline's infinite p95 made the threshold infinite and
            # every such draw a pass (about a tenth of the 3%-timeout draws at n = 60).
            continue
        threshold = kind.threshold(s.limit, base_value).value
        assert threshold is not None
        found = choose_interval(kind, settings, cand, base, base_value)
        if isinstance(found, Interval) and all(map(math.isfinite, found.bounds_at(CONFIDENCE))):
            # Samples with no spread get an unbounded interval under another name, and samples whose values are
            # all 0 or 1 (a two-point score that drew no high value) are bounded as a proportion, as the
            # evaluator does for any such data; any other method must be the row's.
            method = found.method
            assert method.startswith((s.expects, "Clopper-Pearson")), (s.case, n, method)
        passed += isinstance(found, Interval) and decided_pass(found, kind.side, threshold)
    return passed / sims


def lognormal_mean(sigma: float) -> Simulated:
    mean = math.exp(sigma * sigma / 2)
    sd = math.sqrt((math.exp(sigma * sigma) - 1) * math.exp(sigma * sigma))
    return Simulated(
        "skewness-corrected t",
        f"`max` on a lognormal mean, sigma={sigma}",
        "max",
        mean * (1 - 1e-6),
        "mean",
        lambda rng, n, shift: (rng.lognormal(0, sigma, n) - shift, None),
        lambda n: sd / math.sqrt(n),
    )


def pareto_mean(alpha: float) -> Simulated:
    mean = alpha / (alpha - 1)
    sd = math.sqrt(alpha / ((alpha - 1) ** 2 * (alpha - 2)))
    return Simulated(
        "skewness-corrected t",
        f"`max` on a Pareto mean, alpha={alpha}",
        "max",
        mean * (1 - 1e-6),
        "mean",
        lambda rng, n, shift: (rng.pareto(alpha, n) + 1 - shift, None),
        lambda n: sd / math.sqrt(n),
    )


def beta_score() -> Simulated:
    a, b = 0.5, 5.0
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return Simulated(
        "skewness-corrected t",
        "`max` on a skewed score in [0, 1] (beta 0.5, 5)",
        "max",
        mean * (1 - 1e-6),
        "mean",
        # Scaled, not shifted: the scores stay in [0, 1] and the mean moves by exactly `shift`.
        lambda rng, n, shift: (rng.beta(a, b, n) * (1 - shift / mean), None),
        lambda n: sd / math.sqrt(n),
    )


BETTING = "betting CI (Waudby-Smith & Ramdas 2023)"


def bounded(s: Simulated) -> Simulated:
    """The same scenario with `range: [0, 1]` declared: the betting interval instead of the t."""
    return replace(s, method=BETTING, value_range=(0.0, 1.0), expects="betting confidence interval")


def two_point_score(p: float = 0.1, high: float = 0.9) -> Simulated:
    """Scores of 0 or `high` (not 0/1, so not a proportion): a rare partial-credit score near a `max` bound."""
    mean = p * high
    sd = high * math.sqrt(p * (1 - p))
    return Simulated(
        "skewness-corrected t",
        f"`max` on a score of 0 or {high} ({high} with probability {p})",
        "max",
        mean * (1 - 1e-6),
        "mean",
        lambda rng, n, shift: (high * (rng.random(n) < p - shift / high), None),
        lambda n: sd / math.sqrt(n),
    )


def rare_spike_score(q: float = 0.01, spread: float = 0.1) -> Simulated:
    """Scores uniform on [0, spread], but 1 with probability q: small samples often hold no spike at all."""
    mean = q + (1 - q) * spread / 2
    second = q + (1 - q) * spread * spread / 3
    sd = math.sqrt(second - mean * mean)

    def draw(rng: Rng, n: int, shift: float) -> tuple[np.ndarray[Any, Any], None]:
        x = np.where(rng.random(n) < q, 1.0, rng.random(n) * spread)
        return x * (1 - shift / mean), None

    return Simulated(
        "skewness-corrected t",
        f"`max` on a score in [0, {spread:g}], 1 with probability {q:g} (rare spike)",
        "max",
        mean * (1 - 1e-6),
        "mean",
        draw,
        lambda n: sd / math.sqrt(n),
    )


def welch_unequal_skew() -> Simulated:
    sigma = 1.0
    mean_c = math.exp(sigma * sigma / 2)
    var_c = (math.exp(sigma * sigma) - 1) * math.exp(sigma * sigma)
    return Simulated(
        "skewness-corrected Welch t",
        "`max_increase` on means, lognormal vs normal arm",
        "max_increase",
        mean_c - 1.0 - 1e-6,
        "mean",
        lambda rng, n, shift: (rng.lognormal(0, sigma, n) - shift, rng.normal(1.0, 1.0, n)),
        lambda n: math.sqrt((var_c + 1.0) / n),
        expects="skewness-corrected Welch t",
    )


def paired_skewed() -> Simulated:
    sigma = 1.0
    mean = math.exp(sigma * sigma / 2)
    sd = math.sqrt((math.exp(sigma * sigma) - 1) * math.exp(sigma * sigma))

    def draw(rng: Rng, n: int, shift: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        base = rng.normal(5.0, 1.0, n)
        return base + rng.lognormal(0, sigma, n) - shift, base

    return Simulated(
        "skewness-corrected paired t",
        "`max_increase` on paired means, lognormal differences",
        "max_increase",
        mean * (1 - 1e-6),
        "mean",
        draw,
        lambda n: sd / math.sqrt(n),
        paired=True,
        expects="skewness-corrected paired t",
    )


EXACT_BOOTSTRAP = "percentile bootstrap, computed exactly"
PAIRED_BOOTSTRAP = "paired percentile bootstrap (seeded)"
QUANTILE_NS = (300, 1000, 2000)
"""From BOOTSTRAP_MIN_N, below which a change is bounded distribution-free, to BOOTSTRAP_MAX_N, where MOVER takes
over."""
SMALL_QUANTILE = "each arm's order statistics, combined (Bonferroni)"
SMALL_QUANTILE_NS = (75, 100, 200)
"""From about the fewest examples per arm a 95% bound on a p95 change can have (72) to BOOTSTRAP_MIN_N."""
P95_RATIO = 1.05 * (1 + 1e-6)
"""The candidate's true p95 over the baseline's, just beyond `max_increase_pct: 5`."""


def quantile_change(ns: Sequence[int], method: str) -> Simulated:
    sigma, q = 0.4, 0.95
    z_q = NormalDist().inv_cdf(q)
    se_log = math.sqrt(2 * q * (1 - q)) * sigma / NormalDist().pdf(z_q)

    def draw(rng: Rng, n: int, shift: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        return rng.lognormal(6.5, sigma, n) * P95_RATIO * math.exp(-shift), rng.lognormal(6.5, sigma, n)

    return Simulated(
        method,
        "+5% allowed on a p95 (lognormal), unpaired",
        "max_increase_pct",
        5.0,
        "quantile",
        draw,
        lambda n: se_log / math.sqrt(n),
        quantile=q,
        ns=ns,
        expects={
            EXACT_BOOTSTRAP: "percentile bootstrap of the",
            SMALL_QUANTILE: "each arm's order statistics at 1 - alpha/2",
        }.get(method, "MOVER on each arm's order statistics"),
    )


def p95_corner(
    case: str,
    one_arm: Callable[[Rng, int], np.ndarray[Any, Any]],
    candidate_arm: Callable[[Rng, int], np.ndarray[Any, Any]] | None = None,
    *,
    ns: Sequence[int] = QUANTILE_NS,
    method: str = EXACT_BOOTSTRAP,
) -> Simulated:
    """A harder unpaired p95 change: the candidate is `candidate_arm` (default: the baseline's law) scaled so that
    its true p95 is P95_RATIO times the baseline's; the baseline is `one_arm`."""
    base = quantile_change(ns, method)
    cand = candidate_arm or one_arm

    def draw(rng: Rng, n: int, shift: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        return cand(rng, n) * P95_RATIO * math.exp(-shift), one_arm(rng, n)

    return replace(base, case=case, draw=draw)


def _timeouts(share: float) -> Callable[[Rng, int], np.ndarray[Any, Any]]:
    def arm(rng: Rng, n: int) -> np.ndarray[Any, Any]:
        x = rng.lognormal(6.5, 0.4, n)
        x[rng.random(n) < share] = math.inf
        return x

    return arm


def _heavier_tail(rng: Rng, n: int) -> np.ndarray[Any, Any]:
    """Lognormal with sigma 0.8, scaled to the p95 of the sigma-0.4 baseline: the same p95, a longer tail."""
    z = NormalDist().inv_cdf(0.95)
    return np.exp(6.5 + 0.4 * z + 0.8 * (rng.standard_normal(n) - z))  # type: ignore[no-any-return]


def _coarse(rng: Rng, n: int) -> np.ndarray[Any, Any]:
    """Latencies logged to the nearest 100 ms: heavy ties at the quantile."""
    return np.round(rng.lognormal(6.5, 0.4, n) / 100) * 100  # type: ignore[no-any-return]


def p95_corners(ns: Sequence[int] = QUANTILE_NS, method: str = EXACT_BOOTSTRAP) -> list[Simulated]:
    return [
        p95_corner("+5% allowed on a p95, 3% timeouts (+inf) in each arm", _timeouts(0.03), ns=ns, method=method),
        p95_corner(
            "+5% allowed on a p95, candidate's tail twice as long (lognormal 0.8 vs 0.4)",
            lambda rng, n: rng.lognormal(6.5, 0.4, n),
            _heavier_tail,
            ns=ns,
            method=method,
        ),
        p95_corner("+5% allowed on a p95, latencies to the nearest 100 ms (ties)", _coarse, ns=ns, method=method),
        p95_corner(
            "+5% allowed on a p95 (Pareto alpha = 1.5)", lambda rng, n: rng.pareto(1.5, n) + 1, ns=ns, method=method
        ),
    ]


def paired_quantile_change(ns: Sequence[int] = (300, 1000), method: str = PAIRED_BOOTSTRAP) -> Simulated:
    """Paired latencies: the candidate is each example's baseline latency times a lognormal factor (sd 0.2)."""
    base = quantile_change(ns, method)
    factor = 0.2

    def draw(rng: Rng, n: int, shift: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        b = rng.lognormal(6.5, 0.4, n)
        # log(c) = log(b) + N(0, 0.2^2): normal with sd sqrt(0.4^2 + 0.2^2); scaled to P95_RATIO x b's p95.
        z = NormalDist().inv_cdf(0.95)
        spread = math.hypot(0.4, factor)
        c = b * rng.lognormal(0.0, factor, n) * math.exp(z * (0.4 - spread))
        return c * P95_RATIO * math.exp(-shift), b

    return replace(
        base,
        case="+5% allowed on a p95, paired (candidate = baseline x lognormal 0.2)",
        draw=draw,
        paired=True,
        expects="paired percentile bootstrap" if method == PAIRED_BOOTSTRAP else base.expects,
    )


def simulated_rows(quick: bool) -> list[Row]:
    k = 4 if quick else 1
    scenarios = [
        (lognormal_mean(1.0), 1000),
        (lognormal_mean(1.5), 1000),
        (pareto_mean(3.0), 1000),
        (beta_score(), 1000),
        (welch_unequal_skew(), 1000),
        (paired_skewed(), 1000),
        (quantile_change(QUANTILE_NS, EXACT_BOOTSTRAP), 2000),
        (quantile_change((3000, 10000), "MOVER on order statistics"), 1000),
        # Appended, so the seeds of the rows above are unchanged. The betting rows use fewer simulations: each
        # interval reads the values 2 x 3 grids x 65 means (0.1 s at n = 10,000).
        (bounded(beta_score()), 400),
        (two_point_score(), 1000),
        (bounded(two_point_score()), 400),
        (rare_spike_score(), 1000),
        (bounded(rare_spike_score()), 400),
        *((corner, 2000) for corner in p95_corners()),
        (paired_quantile_change(), 400),
        # Below BOOTSTRAP_MIN_N examples per arm a quantile change is bounded distribution-free.
        (quantile_change(SMALL_QUANTILE_NS, SMALL_QUANTILE), 2000),
        *((corner, 2000) for corner in p95_corners(SMALL_QUANTILE_NS, SMALL_QUANTILE)),
        (paired_quantile_change(SMALL_QUANTILE_NS, SMALL_QUANTILE), 2000),
    ]
    unbounded = [s for s, _ in scenarios[:3]] + [s for s, _ in scenarios[4:6]]
    """Lognormal and Pareto means, Welch, paired: where the oracle-calibrated t is the reference."""
    rows = []
    for i, (s, full) in enumerate(scenarios):
        sims = full // k
        rng = np.random.default_rng(500 + i)
        false_ship = {n: pass_rate(s, n, 0.0, sims, rng) for n in s.ns}
        power = {n: tuple(pass_rate(s, n, d, max(sims * 2 // 5, 40), rng) for d in INSIDE) for n in s.ns}
        guarantee = (
            "any distribution on [0, 1] (simulated)"
            if s.value_range
            else "any distributions (simulated)"
            if s.method == SMALL_QUANTILE
            else "approximate (simulated)"
        )
        references: dict[str, dict[int, float]] = {}
        # Their own generators, so that the rows above keep their figures.
        if s in unbounded:
            oracle_rng = np.random.default_rng(900 + i)
            references[ORACLE_T] = {n: oracle_t_power(s, n, 2000 // k, oracle_rng) for n in s.ns}
        if s.value_range is not None:
            width_rng = np.random.default_rng(950 + i)
            references[WIDTH_RATIO] = {n: betting_width_ratio(s, n, 40 // k, width_rng) for n in (300, 1000, 10000)}
        rows.append(Row(s.method, s.case, guarantee, false_ship, power, sims, references))
    return rows


WIDTH_RATIO = "betting bound's distance from the mean over z x SE"
VILLE_PRICE = math.sqrt(2 * math.log(1 / (1 - CONFIDENCE))) / Z
"""The known price of a bound from one test martingale and Ville's (or Markov's) inequality with the bets tuned
to n: its distance from the mean is sqrt(2 ln(1/alpha)) sigma / sqrt(n), against z sigma / sqrt(n) (1.488x)."""


def estimate_and_se(s: Simulated, c: np.ndarray[Any, Any], b: np.ndarray[Any, Any] | None) -> tuple[float, float]:
    """The compared estimate and its standard error, as the evaluator's t-type methods form them."""
    n = len(c)
    if b is None or s.paired:
        x = c if b is None else c - b
        return float(x.mean()), float(x.std(ddof=1) / math.sqrt(n))
    return float(c.mean() - b.mean()), math.hypot(c.std(ddof=1), b.std(ddof=1)) / math.sqrt(n)


def oracle_t_power(s: Simulated, n: int, reps: int, rng: Rng) -> float:
    """Power at 2 SE inside of the t-type bound `estimate + c * SE` whose critical value c is the exact 95%
    point of the studentized statistic under this very distribution (found by simulation at the boundary):
    what a t-type method that knew the distribution's shape could reach. Not a valid method — it needs the
    unknown shape — but the reference for how much a skewness correction leaves on the table."""
    truth = s.limit
    null = [estimate_and_se(s, *s.draw(rng, n, 0.0)) for _ in range(reps)]
    studentized = np.array([(est - truth) / se for est, se in null if se > 0])
    c = -float(np.quantile(studentized, 1 - CONFIDENCE, method="inverted_cdf"))
    shifted = [estimate_and_se(s, *s.draw(rng, n, INSIDE[-1] * s.se(n))) for _ in range(reps)]
    return float(np.mean([est + c * se <= truth for est, se in shifted]))


def betting_width_ratio(s: Simulated, n: int, reps: int, rng: Rng) -> float:
    """The betting upper bound's mean distance above the sample mean, over z times the true SE."""
    assert s.value_range is not None
    lo, hi = s.value_range
    ratios = []
    for _ in range(max(reps, 5)):
        c_values, _ = s.draw(rng, n, 0.0)
        upper = stats.BettingBounds(c_values, lo, hi, CONFIDENCE)(CONFIDENCE)[1]
        ratios.append((upper - float(c_values.mean())) / (Z * s.se(n)))
    return float(np.mean(ratios))


# --- printing --------------------------------------------------------------------------------------------


def fmt(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.3f}"


def tables(rows: list[Row]) -> list[str]:
    # Every size some row measured: the quantile rows start at 60 (the fewest a p95 bound needs) and end at 2,000.
    ns = sorted({n for r in rows for n in r.false_ship} | set(NS))
    head = " | ".join(f"n={n}" for n in ns)
    lines = [
        "False-ship rate at the boundary (truth on the failing side by a hair), confidence 0.95:",
        "",
        f"| method | case | guarantee | {head} | worst |",
        "|---|---|---|" + "---:|" * (len(ns) + 1),
    ]
    for r in rows:
        cells = " | ".join(fmt(r.false_ship[n]) if n in r.false_ship else "" for n in ns)
        worst = max(r.false_ship.values())
        sims = f", {r.sims} sims, 2 SE {2 * math.sqrt(0.05 * 0.95 / r.sims):.3f}" if r.sims else ""
        lines.append(f"| {r.method} | {r.case} | {r.guarantee}{sims} | {cells} | {fmt(worst)} |")
    lines += [
        "",
        "Power: P(pass) with the truth 0.5 / 1 / 2 SE inside the bound (ideal one-sided z test: "
        + " / ".join(f"{p:.3f}" for p in IDEAL)
        + "; — where the truth would leave [0, 1]):",
        "",
        f"| method | case | {head} |",
        "|---|---|" + "---:|" * len(ns),
    ]
    for r in rows:
        cells = " | ".join(" / ".join(fmt(p) for p in r.power[n]) if n in r.power else "" for n in ns)
        lines.append(f"| {r.method} | {r.case} | {cells} |")
    lines += [
        "",
        f"Reference power at {INSIDE[-1]:g} SE inside, beside each method's own (method / reference; the ideal "
        f"one-sided z test with the SE at the bound: {IDEAL[-1]:.3f}):",
        "",
        f"| method | case | reference | {head} |",
        "|---|---|---|" + "---:|" * len(ns),
    ]
    for r in rows:
        for name, by_n in r.references.items():
            if name == WIDTH_RATIO:
                continue
            cells = " | ".join(f"{fmt(r.power[n][-1])} / {fmt(by_n[n])}" if n in by_n else "" for n in ns)
            lines.append(f"| {r.method} | {r.case} | {name} | {cells} |")
    widths = [r for r in rows if WIDTH_RATIO in r.references]
    if widths:
        lines += [
            "",
            f"Betting interval: its upper bound's mean distance above the sample mean over z x the true SE (the "
            f"price of one test martingale with n-tuned one-sided bets and Ville's inequality: sqrt(2 ln 20) / "
            f"z = {VILLE_PRICE:.3f}):",
            "",
        ]
        for r in widths:
            cells = ", ".join(f"n={n}: {v:.2f}" for n, v in r.references[WIDTH_RATIO].items())
            lines.append(f"- {r.case}: {cells}")
    lines += ["", "Worst false-ship cell per method:", ""]
    worst: dict[str, tuple[float, str, int]] = {}
    for r in rows:
        for n, v in r.false_ship.items():
            if r.method not in worst or v > worst[r.method][0]:
                worst[r.method] = (v, r.case, n)
    lines += [f"- {m}: {fmt(v)} ({case}, n={n})" for m, (v, case, n) in worst.items()]
    return lines


# --- the family-wise correction --------------------------------------------------------------------------


def make_spec(gate: dict[str, Any], kind: str, **extra: Any) -> Spec:
    return Spec.model_validate(
        {
            "version": 1,
            "name": "calibration",
            "hypothesis": {"statement": "s", "stage": "other", "improves": "m", "owner": "o", "written": "2026-01-01"},
            "baseline": "b.yaml",
            "metrics": {"m": {"kind": kind}},
            "gates": [{"id": "g", "metric": "m", **gate}],
            "rollback": {},
            **extra,
        },
        strict=False,
    )


def good_slices(rng: Rng, slices: int = 200) -> tuple[Results, Results]:
    # A good checkpoint: 200 slices, each exactly at the threshold (+1pt allowed, +1pt true).
    n = 1000

    def one(p: float) -> Results:
        return Results(
            source="sim",
            model="sim",
            metrics={"m": {f"s{i}": Measurement(int(rng.binomial(n, p)) / n, n=n) for i in range(slices)}},
        )

    return one(0.06), one(0.05)


def false_stop_table(quick: bool) -> list[str]:
    lines = [
        "| correction | case (good checkpoint: 200 slices, every slice exactly at its threshold) | sims | "
        "stopped (any slice fails) |",
        "|---|---|---:|---:|",
    ]
    sims = 100 if quick else 400
    for correction in ("holm", "bonferroni", "none"):
        spec = make_spec(
            {"max_increase": 0.01, "slices": ["*"], "on_fail": "stop"}, "proportion", correction=correction
        )
        rng = np.random.default_rng(7)
        stopped = 0
        for _ in range(sims):
            cand, base = good_slices(rng)
            stopped += any(o.status == "fail" for o in evaluate_gates(spec, cand, base))
        lines.append(
            f"| {correction} | +1pt allowed, +1pt true, n=1000/arm per slice | {sims} | {stopped / sims:.3f} |"
        )
    return lines


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    rows = single_rate_rows() + paired_rows() + two_proportion_rows() + simulated_rows(quick)
    print("\n".join(tables(rows)))
    print()
    print("\n".join(false_stop_table(quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
