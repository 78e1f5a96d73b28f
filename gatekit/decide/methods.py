"""Which interval fits a (metric kind, bound, data), and its bounds at any confidence.

The methods and their guarantees (docs/statistics.md has the measured worst cells):

* proportion, absolute bound: Clopper-Pearson (exact). Per-example values that are all 0 or 1 are a
  proportion whatever the declared kind;
* difference of proportions: on the same examples (same ids), MOVER on the discordant cells' Clopper-Pearson
  limits (approximate, enumerated; never of zero width); unpaired, MOVER on each arm's Clopper-Pearson
  limits (approximate, enumerated);
* percent bound on proportions: MOVER-R on Clopper-Pearson limits (approximate, measured);
* mean from per-example values with a declared `range: [lo, hi]`: the betting interval (Waudby-Smith &
  Ramdas 2023; valid for any distribution on the range), one-sample and paired on the differences (which lie
  in [lo - hi, hi - lo]); unpaired, Welch below;
* mean from per-example values: skewness-corrected t (Hall 1992), paired on the differences when ids match,
  else Welch (approximate, measured); from a reported stderr, the normal/t interval; percent bound: the
  log-ratio delta method (approximate);
* quantile: order statistics (exact for continuous data); change of a quantile, with fewer than BOOTSTRAP_MIN_N
  examples in an arm: each arm's order statistics at 1 - alpha/2, combined (distribution-free); from there up
  to BOOTSTRAP_MAX_N per arm: the percentile bootstrap, computed exactly for independent arms, and for paired
  arms seeded on canonically ordered data and widened by its Monte-Carlo error; MOVER on each arm's order
  statistics above it (approximate, measured).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gatekit import stats
from gatekit.decide.bounds import BoundKind
from gatekit.decide.pairing import paired as _paired
from gatekit.decide.pairing import unpaired_note as _unpaired_note
from gatekit.results import Measurement
from gatekit.spec.model import MetricKind

COUNT_TOLERANCE = 1e-6
"""A proportion's value x n may miss a whole count by this much per example (float rounding), no more."""
POINT_FLAG = "point estimate, no uncertainty known"
UNPAIRED_RATE_METHOD = "MOVER difference of Clopper-Pearson limits (approximate)"
SKEW_MAX_N = 100_000
"""Above this many examples a mean's skewness correction (a = gamma / sqrt(n)) is negligible, and the t interval
is used without reading the per-example values (a large table's slice keeps only its sums)."""


@dataclass(frozen=True)
class Settings:
    """The statistical settings of one gate, with the spec-wide defaults filled in."""

    confidence: float = 0.95
    min_n: int | None = None
    require_uncertainty: bool = True
    kind: MetricKind | None = None
    quantile: float | None = None
    """The quantile level of a quantile metric (0.95 for p95), when it can be told."""
    metric: str = ""
    """The gated metric's name, for messages that say what to declare."""
    value_range: tuple[float, float] | None = None
    """The metric's declared `range: [lo, hi]` of per-example values: means get the betting interval."""


@dataclass(frozen=True)
class Interval:
    """What the data say about the compared quantity, on the observed value's scale.

    For relative bounds the interval of the difference (or ratio) is shifted (or scaled) by the baseline's
    value, so that it is compared with the same threshold as the observed value.
    """

    method: str
    bounds_at: Callable[[float], stats.Bounds]
    n: int
    """Examples per arm, the base of the evidence-needed estimate."""
    events: float | None = None
    """The event count of a single proportion bounded exactly: evidence needed inverts that bound."""
    nominal_at: Callable[[float], stats.Bounds] | None = None
    """For a Monte-Carlo method, its bounds without the Monte-Carlo margin that `bounds_at` includes: a
    decision that only these make flips within the Monte-Carlo error and is reported as such."""
    needed_at: Callable[[float, float, Literal["at_least", "at_most"]], int | None] | None = None
    """For a method that can be recomputed at another size, the examples per arm that decide it with 80% power
    at the observed effect: (deciding confidence, threshold, side) -> n. Evidence needed inverts the method
    itself instead of reading a standard error off its width."""


@dataclass(frozen=True)
class NoInterval:
    """Why no interval can be computed, and what that means for the check."""

    why: str
    status: Literal["point", "inconclusive", "missing"]
    evidence_needed: int | None = None


# --- choosing a method -----------------------------------------------------------------------------------


def sample_size(m: Measurement) -> int | None:
    return m.samples.n if m.samples is not None else m.n


def _counts(m: Measurement) -> tuple[float, int] | str | None:
    """(events, n) of a proportion, a reason why they disagree, or None when n is unknown."""
    if m.samples is not None:
        if m.samples.n == 0:
            return None
        events = m.samples.summary().events
        if events is None and _all_zero_one(m):
            events = float(m.samples.values.sum())
        if events is None:
            return "a proportion's per-example values must be 0 or 1"
        return events, m.samples.n
    if m.n is None:
        return None
    k = round(m.value * m.n)
    if abs(m.value * m.n - k) > COUNT_TOLERANCE * m.n:
        return (
            f"value {m.value:g} x n {m.n} = {m.value * m.n:g} is not a whole count of examples; "
            "give the exact rate (events / n) or the per-example values"
        )
    return float(k), m.n


def _mean_se(m: Measurement) -> tuple[float, float, int | None] | None:
    """(estimate, stderr, n) of a mean from per-example values or a reported stderr."""
    if m.samples is not None:
        summary = m.samples.summary()
        if m.samples.n < 2 or stats.no_spread(summary.stderr, summary.mean):
            # One example, or examples that all agree, estimate no spread: the interval is unbounded, not a
            # point (a t interval of width zero would pass on two identical scores).
            return m.value, math.inf, m.samples.n
        if math.isfinite(summary.stderr):
            return summary.mean, summary.stderr, m.samples.n
    if m.stderr is not None:
        return m.value, m.stderr, m.n
    return None


def choose_interval(
    bound: BoundKind, settings: Settings, cand: Measurement, base: Measurement | None, base_value: float | None
) -> Interval | NoInterval:
    """The interval method that fits the metric kind, the bound and the data at hand."""
    n_c = sample_size(cand)
    if settings.kind == "quantile":
        return _quantile_interval(bound, settings, cand, base, base_value)
    if settings.kind == "proportion" or _binary(cand, base):
        # Per-example values that are all 0 or 1 are a proportion whatever the declared kind: a t interval
        # on them under-covers badly at low rates (1/300 would pass `max: 0.01`).
        counts_c = _counts(cand)
        counts_b = _counts(base) if base is not None else None
        for counts in (counts_c, counts_b):
            if isinstance(counts, str):
                return NoInterval(counts, "missing")
        if base is None and isinstance(counts_c, tuple):
            k, n = counts_c
            return Interval("Clopper-Pearson exact", lambda c: stats.clopper_pearson(k, n, c), n, events=k)
        if base is not None and isinstance(counts_c, tuple) and isinstance(counts_b, tuple):
            return _proportion_relative(bound, cand, base, counts_c, counts_b, base_value)
    if settings.kind is None and cand.n is not None and not _has_uncertainty(cand, base):
        # {value, n} with no kind: n says how many examples, not how uncertain the value is.
        return NoInterval(_undeclared_kind(settings), "point")
    if settings.value_range is not None:
        bounded = _bounded_interval(bound, settings, cand, base, base_value)
        if bounded is not None:
            return bounded
    if base is None:
        estimate = _mean_se(cand)
        if estimate is None:
            return NoInterval(POINT_FLAG, "point")
        _, se, n_mean = estimate
        df = n_mean - 1 if n_mean is not None and n_mean >= 2 else None
        if cand.samples is not None and math.isfinite(se) and df is not None and df < SKEW_MAX_N:
            skew = stats.mean_skew(cand.samples.values, se)
            return Interval(
                f"skewness-corrected t ({df} df, Hall 1992; approximate)",
                lambda c: stats.skew_corrected_bounds(cand.value, se, skew, c, df),
                n_mean or 0,
            )
        name = f"t interval ({df} df)" if df is not None else "normal interval from stderr"
        return Interval(name, lambda c: stats.mean_bounds(cand.value, se, c, df), n_mean or 0)
    return _mean_relative(bound, cand, base, base_value, n_c)


def _bounded_interval(
    bound: BoundKind, settings: Settings, cand: Measurement, base: Measurement | None, base_value: float | None
) -> Interval | NoInterval | None:
    """The betting interval of a mean of values in the declared range (one sample, or paired differences);
    None where it does not apply (no per-example values, unpaired arms, a percent bound, or too many values to
    read: above SKEW_MAX_N a table's slice keeps only its sums, and the t interval is used)."""
    assert settings.value_range is not None
    lo, hi = settings.value_range
    label = f"valid for any distribution on [{lo:g}, {hi:g}]"
    for m in (cand, base):
        if m is not None and m.samples is not None and m.samples.n < SKEW_MAX_N:
            outside = stats.outside_range(m.samples.values, lo, hi)
            if outside:
                return NoInterval(
                    f"{outside} per-example values lie outside the declared range [{lo:g}, {hi:g}]", "missing"
                )
    if cand.samples is None or cand.samples.n == 0 or cand.samples.n >= SKEW_MAX_N:
        return None
    if base is None:
        betting = stats.BettingBounds(cand.samples.values, lo, hi, settings.confidence)
        return Interval(f"betting confidence interval (Waudby-Smith & Ramdas 2023; {label})", betting, cand.samples.n)
    pairs = _paired(cand, base)
    if pairs is None or bound.name.endswith("_pct"):
        return None
    assert base_value is not None
    c_values, b_values = pairs
    width = hi - lo
    paired = stats.BettingBounds(c_values - b_values, -width, width, settings.confidence)
    return Interval(
        f"paired betting confidence interval (Waudby-Smith & Ramdas 2023; {label}, differences in "
        f"[{-width:g}, {width:g}])",
        lambda c: _shift(paired(c), base_value),
        len(c_values),
    )


def _binary(cand: Measurement, base: Measurement | None) -> bool:
    """Every side of the comparison carries per-example values, all of them 0 or 1."""
    return cand.samples is not None and all(_all_zero_one(m) for m in (cand, base) if m is not None)


def _all_zero_one(m: Measurement) -> bool:
    if m.samples is None or m.samples.n == 0:
        return False
    summary = m.samples.summary()
    if summary.events is not None:
        return True
    n = m.samples.n
    if n >= 2 and math.isfinite(summary.stderr):
        # Values in [0, 1] have a variance of at most p(1 - p) (x n / (n - 1) for the sample variance), with
        # equality only when every value is 0 or 1: a table's summary rules most slices out without reading
        # their values.
        binary_variance = summary.mean * (1 - summary.mean) * n / (n - 1)
        variance = summary.stderr**2 * n
        if not 0 <= summary.mean <= 1 or abs(variance - binary_variance) > 1e-9 * max(binary_variance, 1e-12):
            return False
    # A table's mean aggregate does not count events: look at the values.
    values = m.samples.values
    return bool(((values == 0) | (values == 1)).all())


def _has_uncertainty(cand: Measurement, base: Measurement | None) -> bool:
    return all(m.samples is not None or m.stderr is not None for m in (cand, base) if m is not None)


def _undeclared_kind(settings: Settings) -> str:
    return (
        "no declared kind, so n alone says nothing about the uncertainty: declare "
        f"`metrics: {{{settings.metric or '<metric>'}: {{kind: proportion}}}}` for a rate of events of n examples, "
        "or give a stderr or the per-example values (a mean)"
    )


def _proportion_relative(  # noqa: PLR0917
    bound: BoundKind,
    cand: Measurement,
    base: Measurement,
    counts_c: tuple[float, int],
    counts_b: tuple[float, int],
    base_value: float | None,
) -> Interval | NoInterval:
    assert base_value is not None
    (k_c, n_c), (k_b, n_b) = counts_c, counts_b
    pairs = _paired(cand, base)
    unpaired_note = _unpaired_note(cand, base) if pairs is None else ""
    if bound.name.endswith("_pct"):
        # MOVER-R on exact limits, not the delta method: a Wald standard error is 0 at p = 1 (30/30 vs 30/30
        # would pass any percent bound). Paired data are bounded as unpaired: the usual positive correlation
        # of paired examples makes that conservative.
        method = "MOVER-R ratio of Clopper-Pearson limits (approximate)" + (
            " (paired examples bounded as unpaired)" if pairs else unpaired_note
        )

        def ratio_bounds(c: float) -> stats.Bounds:
            lo, hi = stats.mover_ratio(k_c, n_c, k_b, n_b, c)
            return base_value * lo, base_value * hi

        return Interval(method, ratio_bounds, n_c)
    if pairs is not None:
        c_values, b_values = pairs
        only_c = int(((c_values == 1) & (b_values == 0)).sum())
        only_b = int(((c_values == 0) & (b_values == 1)).sum())
        n_pairs = len(c_values)

        def paired_bounds(c: float) -> stats.Bounds:
            lo, hi = stats.paired_mover(only_c, only_b, n_pairs, c)
            return base_value + lo, base_value + hi

        return Interval("MOVER on the discordant pairs' exact limits (paired)", paired_bounds, n_c)

    def unpaired_bounds(c: float) -> stats.Bounds:
        # Exact limits, not Wilson's: Newcombe's hybrid score interval ships 0.052 at a 50% base (n = 100).
        lo, hi = stats.mover_difference(k_c, n_c, k_b, n_b, c)
        return base_value + lo, base_value + hi

    p_c, p_b = k_c / n_c, k_b / n_b

    def needed(confidence: float, threshold: float, side: Literal["at_least", "at_most"]) -> int | None:
        def at_size(m: int) -> stats.Bounds:
            lo, hi = stats.mover_difference(p_c * m, m, p_b * m, m, confidence)
            return base_value + lo, base_value + hi

        variance = p_c * (1 - p_c) + p_b * (1 - p_b)
        return stats.sized_evidence_needed(n_c, base_value + p_c - p_b, threshold, side, at_size, variance)

    return Interval(UNPAIRED_RATE_METHOD + unpaired_note, unpaired_bounds, n_c, needed_at=needed)


def _covariance(c: stats.FloatArray, b: stats.FloatArray) -> float:
    """Covariance of the two means over paired examples: cov(c_i, b_i) / n."""
    n = len(c)
    return float(((c - c.mean()) * (b - b.mean())).sum() / (n - 1) / n) if n > 1 else 0.0


def _mean_relative(
    bound: BoundKind, cand: Measurement, base: Measurement, base_value: float | None, n_c: int | None
) -> Interval | NoInterval:
    assert base_value is not None
    pairs = _paired(cand, base)
    ratio = bound.name.endswith("_pct")
    if pairs is not None and len(pairs[0]) >= 2:
        c_values, b_values = pairs
        n = len(c_values)
        if ratio:
            m_c, se_c = stats.sample_mean_stderr(c_values)
            m_b, se_b = stats.sample_mean_stderr(b_values)
            return _ratio_interval(m_c, se_c, m_b, se_b, base_value, n, "log-ratio delta method (paired)", pairs)
        differences = c_values - b_values
        d, se = stats.sample_mean_stderr(differences)
        if stats.no_spread(se, max(abs(d), abs(cand.value), abs(base_value))):
            # Every pair differs by the same amount (a model compared with itself): no spread is estimated,
            # and a t interval of width zero would pass on the point.
            return Interval(
                f"paired t interval ({n - 1} df): the differences have no spread, unbounded",
                lambda c: (-math.inf, math.inf),
                n,
            )
        skew = stats.mean_skew(differences, se)
        return Interval(
            f"skewness-corrected paired t ({n - 1} df, Hall 1992; approximate)",
            lambda c: _shift(stats.skew_corrected_bounds(d, se, skew, c, n - 1), base_value),
            n,
        )
    estimate_c, estimate_b = _mean_se(cand), _mean_se(base)
    if estimate_c is None or estimate_b is None:
        return NoInterval(POINT_FLAG, "point")
    (m_c, se_c, nc), (m_b, se_b, nb) = estimate_c, estimate_b
    unpaired_note = _unpaired_note(cand, base)
    if ratio:
        return _ratio_interval(m_c, se_c, m_b, se_b, base_value, n_c or 0, "log-ratio delta method" + unpaired_note)
    df = stats.welch_df(se_c, nc, se_b, nb)
    se = math.hypot(se_c, se_b)
    small = max(cand.samples.n if cand.samples else 0, base.samples.n if base.samples else 0) < SKEW_MAX_N
    if cand.samples is not None and base.samples is not None and df is not None and math.isfinite(se) and small:
        skew = stats.welch_skew(cand.samples.values, se_c, base.samples.values, se_b)
        return Interval(
            f"skewness-corrected Welch t ({df} df, Hall 1992; approximate)" + unpaired_note,
            lambda c: _shift(stats.skew_corrected_bounds(m_c - m_b, se, skew, c, df), base_value),
            n_c or 0,
        )
    name = f"Welch t interval ({df} df)" if df is not None else "normal interval from stderr"
    return Interval(
        name + unpaired_note, lambda c: _shift(stats.mean_bounds(m_c - m_b, se, c, df), base_value), n_c or 0
    )


def _ratio_interval(  # noqa: PLR0917
    m_c: float,
    se_c: float,
    m_b: float,
    se_b: float,
    base_value: float,
    n: int,
    method: str,
    pairs: tuple[stats.FloatArray, stats.FloatArray] | None = None,
) -> Interval | NoInterval:
    if m_c <= 0 or m_b <= 0:
        return NoInterval("a percent bound's log-ratio interval needs positive means", "inconclusive")
    cov = _covariance(*pairs) if pairs is not None else 0.0

    def bounds(c: float) -> stats.Bounds:
        lo, hi = stats.log_ratio_bounds(m_c, se_c, m_b, se_b, c, cov)
        return base_value * lo, base_value * hi

    return Interval(method, bounds, n)


def _shift(bounds: stats.Bounds, by: float) -> stats.Bounds:
    return bounds[0] + by, bounds[1] + by


def _small_quantile_change(
    settings: Settings,
    q: float,
    c_ranked: stats.OrderStatistics,
    b_ranked: stats.OrderStatistics,
    base_value: float,
    *,
    ratio: bool,
) -> Interval | NoInterval:
    """A quantile change with fewer than BOOTSTRAP_MIN_N examples in an arm: each arm's order-statistic bounds at
    1 - alpha/2, combined (`stats.quantile_change_bounds`). Valid whatever the distributions, ties, timeouts or
    pairing; it needs enough examples for each arm's bound at that level (72 per arm for a 95% bound on a p95
    change, where one arm alone needs 59)."""
    each = 1 - (1 - settings.confidence) / 2
    needed = stats.min_n_for_quantile(q, each)
    for ranked, role in ((c_ranked, "candidate"), (b_ranked, "baseline")):
        if ranked.n < needed:
            return NoInterval(
                f"insufficient evidence: a {settings.confidence * 100:g}% bound on a change of the p{q * 100:g} "
                f"bounds each arm's at {each * 100:g}% and needs at least {needed} examples per arm, the {role} "
                f"has {ranked.n}",
                "inconclusive",
                needed,
            )

    def small_n_bounds(c: float) -> stats.Bounds:
        lo, hi = stats.quantile_change_bounds(c_ranked, b_ranked, q, c, ratio=ratio)
        # On the baseline's scale, as the observed value and the threshold are.
        return (base_value * lo, base_value * hi) if ratio else (base_value + lo, base_value + hi)

    return Interval(
        f"each arm's order statistics at 1 - alpha/2, combined (distribution-free, n < {stats.BOOTSTRAP_MIN_N})",
        small_n_bounds,
        c_ranked.n,
    )


def _quantile_interval(
    bound: BoundKind, settings: Settings, cand: Measurement, base: Measurement | None, base_value: float | None
) -> Interval | NoInterval:
    q = settings.quantile
    if q is None:
        return NoInterval(f"{POINT_FLAG} (name the quantile, e.g. p95, to get an interval)", "point")
    needed = stats.min_n_for_quantile(q, settings.confidence)
    for m, role in ((cand, "candidate"), (base, "baseline")):
        n = sample_size(m) if m is not None else None
        if n is not None and n < needed:
            return NoInterval(
                f"insufficient evidence: a {settings.confidence * 100:g}% bound on the p{q * 100:g} needs at least "
                f"{needed} examples, the {role} has {n}",
                "inconclusive",
                needed,
            )
    if cand.samples is None or (base is not None and base.samples is None):
        return NoInterval(f"{POINT_FLAG} (a quantile's interval needs the per-example values)", "point")
    # Sorted once per slice: the p-value search asks for bounds at many confidence levels.
    c_ranked = cand.samples.order_statistics()
    n_c = cand.samples.n
    if base is None:
        return Interval(
            "order statistics (distribution-free)",
            lambda c: stats.sorted_quantile_bounds(c_ranked, q, c),
            n_c,
        )
    assert base_value is not None
    assert base.samples is not None
    ratio = bound.name.endswith("_pct")
    if min(n_c, base.samples.n) < stats.BOOTSTRAP_MIN_N:
        return _small_quantile_change(settings, q, c_ranked, base.samples.order_statistics(), base_value, ratio=ratio)
    if max(n_c, base.samples.n) > stats.BOOTSTRAP_MAX_N:
        b_ranked = base.samples.order_statistics()
        # Bounds on the change are expressed on the baseline's scale, like the bootstrap's below.
        b_q = base_value

        def large_n_bounds(c: float) -> stats.Bounds:
            lo, hi = stats.mover_quantile_change(c_ranked, b_ranked, q, c, ratio=ratio)
            return (b_q * lo, b_q * hi) if ratio else (b_q + lo, b_q + hi)

        return Interval(
            f"MOVER on each arm's order statistics (approximate, n > {stats.BOOTSTRAP_MAX_N})",
            large_n_bounds,
            n_c,
        )
    pairs = _paired(cand, base)
    if pairs is None:
        b_ranked = base.samples.order_statistics()
        if len(c_ranked.values) == n_c and len(b_ranked.values) == base.samples.n:  # every value, sorted
            exact = stats.ExactBootstrap(c_ranked.values, b_ranked.values, q, ratio=ratio, is_sorted=True)
        else:
            exact = stats.ExactBootstrap(cand.samples.values, base.samples.values, q, ratio=ratio)

        def exact_bounds(c: float) -> stats.Bounds:
            lo, hi = exact.bounds(c)
            return (base_value * lo, base_value * hi) if ratio else (base_value + lo, base_value + hi)

        return Interval(
            f"percentile bootstrap of the {'ratio' if ratio else 'difference'}, computed exactly "
            "(binomial law of each arm's resampled quantile; approximate)",
            exact_bounds,
            n_c,
        )
    c_arr, b_arr = pairs
    replicates = stats.bootstrap_difference(c_arr, b_arr, q, ratio=ratio, paired=True)
    method = (
        f"paired percentile bootstrap of the {'ratio' if ratio else 'difference'} "
        f"({stats.BOOTSTRAP_RESAMPLES} resamples, seed {stats.BOOTSTRAP_SEED}, "
        f"bounds {stats.MONTE_CARLO_SIGMAS:g} Monte-Carlo SE out; approximate)"
    )

    def at(c: float, sigmas: float) -> stats.Bounds:
        lo, hi = stats.percentile_bounds(replicates, c, sigmas)
        return (base_value * lo, base_value * hi) if ratio else (base_value + lo, base_value + hi)

    return Interval(method, lambda c: at(c, stats.MONTE_CARLO_SIGMAS), n_c, nominal_at=lambda c: at(c, 0.0))
