"""gatekit.stats against values computed independently: scipy (in the tests only) and published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sp  # type: ignore[import-untyped]

from gatekit import stats


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (58, 1000), (961, 1000), (1000, 1000), (7, 59)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    # Each gatekit bound is one-sided at 95%: the pair is scipy's two-sided 90% Wilson interval.
    expected = sp.binomtest(k, n).proportion_ci(confidence_level=0.90, method="wilson")

    assert stats.wilson(k, n, 0.95) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Stat Med 17:873, Table II example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339.
    lower, upper = stats.newcombe(56, 70, 48, 80, 0.975)

    assert (round(lower, 4), round(upper, 4)) == (0.0524, 0.3339)


@pytest.mark.parametrize(
    ("counts", "upper"),
    [((58, 1000, 50, 1000), 0.0248), ((290, 5000, 250, 5000), 0.0155)],
)
def test_newcombe_upper_bound_of_the_reference_cases(counts: tuple[int, int, int, int], upper: float) -> None:
    assert stats.newcombe(*counts, 0.95)[1] == pytest.approx(upper, abs=5e-5)


def test_newcombe_paired_matches_wilson_limits_combined_with_the_corrected_phi() -> None:
    both, only_c, only_b, neither = 40, 9, 3, 48
    n = both + only_c + only_b + neither
    p_c, p_b = (both + only_c) / n, (both + only_b) / n
    ci_c = sp.binomtest(both + only_c, n).proportion_ci(confidence_level=0.90, method="wilson")
    ci_b = sp.binomtest(both + only_b, n).proportion_ci(confidence_level=0.90, method="wilson")
    # Newcombe's continuity-corrected phi (AD - BC - n/2 when AD > BC), as Fagerland et al. implement it.
    phi = (both * neither - only_c * only_b - n / 2) / math.sqrt(
        (both + only_c) * (only_b + neither) * (both + only_b) * (only_c + neither)
    )
    dl_c, du_c, dl_b, du_b = p_c - ci_c.low, ci_c.high - p_c, p_b - ci_b.low, ci_b.high - p_b
    expected = (
        (p_c - p_b) - math.sqrt(dl_c**2 - 2 * phi * dl_c * du_b + du_b**2),
        (p_c - p_b) + math.sqrt(du_c**2 - 2 * phi * du_c * dl_b + dl_b**2),
    )

    assert stats.newcombe_paired(both, only_c, only_b, neither, 0.95) == pytest.approx(expected, abs=1e-12)


def test_newcombe_paired_has_width_when_every_pair_agrees() -> None:
    # 15/0/0/15: with the raw phi (= 1) the interval was the point 0.
    assert stats.newcombe_paired(15, 0, 0, 15, 0.95) == pytest.approx((-0.0525117, 0.0525117), abs=1e-6)


def test_newcombe_paired_is_narrower_than_unpaired_when_pairs_agree() -> None:
    paired = stats.newcombe_paired(40, 9, 3, 48, 0.95)
    unpaired = stats.newcombe(49, 100, 43, 100, 0.95)

    assert paired[1] - paired[0] < unpaired[1] - unpaired[0]


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 30, 299, 301, 4999])
@pytest.mark.parametrize("p", [0.9, 0.95, 0.99, 0.05])
def test_t_quantile_matches_scipy(df: int, p: float) -> None:
    assert stats.t_quantile(p, df) == pytest.approx(sp.t.ppf(p, df), rel=1e-9)


def test_paired_t_interval_matches_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(3)
    c = rng.normal(0.8, 0.1, 40)
    b = c - rng.normal(0.01, 0.05, 40)
    mean, se = stats.sample_mean_stderr(c - b)
    expected = sp.ttest_rel(c, b).confidence_interval(confidence_level=0.90)

    assert stats.mean_bounds(mean, se, 0.95, 39) == pytest.approx((expected.low, expected.high), rel=1e-9)


def test_quantile_ranks_of_the_reference_case() -> None:
    # n = 1000, p95, 95% one-sided: X(938) and X(962) (reliability reference, section 4).
    assert stats.quantile_ranks(1000, 0.95, 0.95) == (938, 962)


# Above 20,000 examples the binomial CDF is tabulated only near its mean; the ranks must not change.
_RANK_CASES = [
    (n, q, c)
    for n in (59, 100, 1000, 4000, 20_001, 250_000, 5_000_000)
    for q, c in ((0.95, 0.95), (0.99, 0.95), (0.5, 0.999), (0.9, 1 - 1e-12))
    if n * (1 - q) > 40
]


@pytest.mark.parametrize(("n", "q", "confidence"), _RANK_CASES)
def test_quantile_upper_rank_is_the_smallest_with_enough_coverage(n: int, q: float, confidence: float) -> None:
    _, upper = stats.quantile_ranks(n, q, confidence)
    assert upper is not None

    assert sp.binom.cdf(upper - 1, n, q) >= confidence - 1e-12
    assert sp.binom.cdf(upper - 2, n, q) < confidence - 1e-12


@pytest.mark.parametrize(("n", "q", "confidence"), _RANK_CASES)
def test_quantile_lower_rank_is_the_largest_with_enough_coverage(n: int, q: float, confidence: float) -> None:
    lower, _ = stats.quantile_ranks(n, q, confidence)
    assert lower is not None

    assert sp.binom.sf(lower - 1, n, q) >= confidence - 1e-12
    assert sp.binom.sf(lower, n, q) < confidence - 1e-12


def test_a_p95_upper_bound_needs_59_samples() -> None:
    assert (stats.min_n_for_quantile(0.95, 0.95), stats.quantile_ranks(58, 0.95, 0.95)[1]) == (59, None)


def test_timeouts_rank_last_in_a_quantile_bound() -> None:
    values = np.concatenate([np.arange(1.0, 96.0), np.full(5, math.inf)])  # 100 requests, 5 timed out
    # n = 100: X(91) is the lower bound (P(B <= 90) = 0.0282 <= 0.05 < P(B <= 91)); X(99) is a timeout.

    assert stats.quantile_bounds(values, 0.95, 0.95) == (91.0, math.inf)


def test_bootstrap_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    c, b = rng.exponential(800, 300), rng.exponential(780, 300)

    first = stats.bootstrap_difference(c, b, 0.95, ratio=True, paired=False, resamples=500)
    second = stats.bootstrap_difference(c, b, 0.95, ratio=True, paired=False, resamples=500)

    assert first.tobytes() == second.tobytes()


def test_bootstrap_treats_undefined_replicates_as_worst() -> None:
    c = np.full(60, math.inf)
    b = np.full(60, math.inf)

    replicates = stats.bootstrap_difference(c, b, 0.95, ratio=False, paired=True, resamples=10)

    assert replicates.tolist() == [math.inf] * 10


def test_holm_adjusted_p_values_by_hand() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, max(2*0.03, .), max(1*0.04, 0.06)
    adjusted = stats.adjust_p_values([0.01, 0.04, 0.03, 0.005], "holm")

    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_bonferroni_adjusted_p_values_are_capped_at_one() -> None:
    assert stats.adjust_p_values([0.01, 0.4], "bonferroni") == pytest.approx([0.02, 0.8])
    assert stats.adjust_p_values([0.6], "none") == [0.6]
    assert stats.adjust_p_values([0.6, 0.7], "bonferroni") == [1.0, 1.0]


def test_breach_p_value_of_a_normal_interval_is_the_normal_tail() -> None:
    p = stats.breach_p_value(lambda c: stats.mean_bounds(0.13, 0.01, c), "at_most", 0.11)

    assert p == pytest.approx(sp.norm.sf(2.0), rel=1e-6)


def test_breach_p_value_is_one_when_the_estimate_is_on_the_passing_side() -> None:
    assert stats.breach_p_value(lambda c: stats.mean_bounds(0.10, 0.01, c), "at_most", 0.11) == 1.0


def test_log_ratio_bounds_by_hand() -> None:
    se_log = math.sqrt((0.0023 / 0.8167) ** 2 + (0.0023 / 0.812) ** 2)
    z = sp.norm.ppf(0.95)
    expected = (math.exp(math.log(0.8167 / 0.812) - z * se_log), math.exp(math.log(0.8167 / 0.812) + z * se_log))

    assert stats.log_ratio_bounds(0.8167, 0.0023, 0.812, 0.0023, 0.95) == pytest.approx(expected, rel=1e-9)


def test_evidence_needed_matches_the_sample_size_formula() -> None:
    # 5.8% vs 5%, margin 1pt: n/arm = (z_.95 + z_.8)^2 (p_c q_c + p_b q_b) / (margin - d)^2, with the
    # standard error read off the interval's width instead of the Wald formula.
    bounds = stats.mean_bounds(0.008, math.sqrt((0.058 * 0.942 + 0.05 * 0.95) / 1000), 0.95)
    expected = (sp.norm.ppf(0.95) + sp.norm.ppf(0.8)) ** 2 * (0.058 * 0.942 + 0.05 * 0.95) / 0.002**2

    assert stats.evidence_needed(1000, bounds, 0.008, 0.01, 0.95) == math.ceil(expected)


def test_quantile_change_bounds_combine_each_arm_at_half_alpha() -> None:
    candidate = stats.OrderStatistics.of(np.sort(np.arange(1.0, 3001.0) * 1.1))
    baseline = stats.OrderStatistics.of(np.arange(1.0, 3001.0))
    lo_c, hi_c = stats.sorted_quantile_bounds(candidate, 0.95, 0.975)
    lo_b, hi_b = stats.sorted_quantile_bounds(baseline, 0.95, 0.975)

    assert stats.quantile_change_bounds(candidate, baseline, 0.95, 0.95, ratio=False) == (lo_c - hi_b, hi_c - lo_b)
    assert stats.quantile_change_bounds(candidate, baseline, 0.95, 0.95, ratio=True) == (lo_c / hi_b, hi_c / lo_b)
    lower, upper = stats.quantile_change_bounds(candidate, baseline, 0.95, 0.95, ratio=True)
    assert lower < 1.1 < upper


def test_quantile_change_bounds_with_timeouts_cannot_pass_a_ceiling() -> None:
    candidate = stats.OrderStatistics.of(np.sort(np.concatenate([np.arange(1.0, 2901.0), np.full(100, np.inf)])))
    baseline = stats.OrderStatistics.of(np.arange(1.0, 3001.0))

    _, upper = stats.quantile_change_bounds(candidate, baseline, 0.99, 0.95, ratio=False)

    assert upper == math.inf


@pytest.mark.parametrize("scale", [1.0, 1e-146, 1e150])
def test_welch_df_does_not_depend_on_the_scale_of_the_standard_errors(scale: float) -> None:
    # 1e-146 squared is representable, its fourth power is not (the formula squares the variances).
    # (a + b)^2 / (a^2 / 9 + b^2 / 19) with a = 0.04, b = 0.01: 0.0025 / (0.0016 / 9 + 0.0001 / 19) = 13.6...
    assert stats.welch_df(0.2 * scale, 10, 0.1 * scale, 20) == 13


@pytest.mark.parametrize(("se_c", "se_b"), [(0.0, 0.0), (math.inf, 0.1), (0.1, math.inf)])
def test_welch_df_is_unknown_without_finite_spread(se_c: float, se_b: float) -> None:
    assert stats.welch_df(se_c, 10, se_b, 20) is None
