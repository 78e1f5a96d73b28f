"""The exact and proven methods of gatekit.stats against independent references (scipy), and their exact
coverage by enumeration at a few (n, p) cells."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sp

from gatekit import stats


@pytest.mark.parametrize(("k", "n"), [(0, 30), (1, 30), (15, 30), (30, 30), (7, 1000), (9990, 10000)])
def test_clopper_pearson_is_the_beta_quantile_pair(k: int, n: int) -> None:
    lower = sp.beta.ppf(0.05, k, n - k + 1) if k > 0 else 0.0
    upper = sp.beta.ppf(0.95, k + 1, n - k) if k < n else 1.0

    assert stats.clopper_pearson(k, n, 0.95) == pytest.approx((lower, upper), abs=1e-12)


@pytest.mark.parametrize(("n", "p"), [(30, 0.01), (30, 0.5), (100, 0.97), (300, 0.01), (1000, 0.2)])
def test_clopper_pearson_each_side_errs_at_most_alpha_by_enumeration(n: int, p: float) -> None:
    k = np.arange(n + 1)
    pmf = sp.binom.pmf(k, n, p)
    bounds = np.array([stats.clopper_pearson(int(i), n, 0.95) for i in k])

    assert float(pmf[bounds[:, 1] < p].sum()) <= 0.05
    assert float(pmf[bounds[:, 0] > p].sum()) <= 0.05


def paired_error(
    n: int, only_c: float, only_b: float, method: Callable[[int, int, int, float], tuple[float, float]]
) -> tuple[float, float]:
    """P(lower bound above the truth), P(upper bound below it), by exact enumeration of the trinomial."""
    truth = only_c - only_b
    low_err = high_err = 0.0
    for c in range(n + 1):
        for b in range(n + 1 - c):
            prob = float(sp.multinomial.pmf([c, b, n - c - b], n, [only_c, only_b, 1 - only_c - only_b]))
            lower, upper = method(c, b, n, 0.95)
            low_err += prob * (lower > truth)
            high_err += prob * (upper < truth)
    return low_err, high_err


@pytest.mark.parametrize(("only_c", "only_b"), [(0.0, 0.02), (0.01, 0.03), (0.2, 0.2), (0.3, 0.1)])
@pytest.mark.parametrize("method", [stats.paired_difference, stats.paired_mover], ids=["exact", "mover"])
def test_paired_bounds_each_side_err_at_most_alpha_by_enumeration(
    only_c: float, only_b: float, method: Callable[[int, int, int, float], tuple[float, float]]
) -> None:
    low_err, high_err = paired_error(25, only_c, only_b, method)

    assert (low_err <= 0.05, high_err <= 0.05) == (True, True)


def test_paired_difference_with_every_pair_in_agreement_is_the_discordant_rate_bound() -> None:
    # No discordant pair of 30: the split is unknown, the discordant rate is at most 1 - 0.01^(1/30).
    q_upper = 1 - 0.01 ** (1 / 30)

    assert stats.paired_difference(0, 0, 30, 0.95) == pytest.approx((-q_upper, q_upper), rel=1e-9)


def test_paired_mover_with_every_pair_in_agreement_is_each_cells_exact_bound() -> None:
    cell_upper = 1 - 0.05 ** (1 / 30)

    assert stats.paired_mover(0, 0, 30, 0.95) == pytest.approx((-cell_upper, cell_upper), rel=1e-9)


def test_mover_ratio_at_two_perfect_scores_has_width() -> None:
    lower, upper = stats.mover_ratio(30, 30, 30, 30, 0.95)

    assert (round(lower, 4), round(upper, 4)) == (0.905, 1.105)


def test_mover_ratio_without_a_baseline_event_is_unbounded_above() -> None:
    assert stats.mover_ratio(3, 100, 0, 100, 0.95) == (0.0, math.inf)


def test_skew_corrected_bounds_without_skew_are_the_t_interval() -> None:
    assert stats.skew_corrected_bounds(1.0, 0.1, 0.0, 0.95, 29) == pytest.approx(
        stats.mean_bounds(1.0, 0.1, 0.95, 29), abs=1e-12
    )


def test_skew_corrected_bounds_move_up_for_right_skew() -> None:
    plain = stats.mean_bounds(1.0, 0.1, 0.95, 29)
    skewed = stats.skew_corrected_bounds(1.0, 0.1, 0.5, 0.95, 29)

    assert (skewed[0] > plain[0], skewed[1] > plain[1]) == (True, True)


def test_third_cumulant_is_the_unbiased_k3() -> None:
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])

    assert stats.third_cumulant(x) == pytest.approx(float(sp.kstat(x, 3)), rel=1e-12)


def test_evidence_needed_at_zero_events_is_the_first_n_that_can_pass() -> None:
    bounds = stats.clopper_pearson(0, 200, 0.95)

    assert stats.evidence_needed(200, bounds, 0.0, 0.01, 0.95, events=0) == 299
    assert 1 - 0.05 ** (1 / 298) > 0.01 >= 1 - 0.05 ** (1 / 299)


def test_evidence_needed_of_a_count_reaches_the_target_power_exactly() -> None:
    needed = stats.evidence_needed(200, stats.clopper_pearson(2, 200, 0.95), 0.01, 0.03, 0.95, events=2)
    assert needed is not None

    def power(size: int) -> float:
        passing = [k for k in range(size + 1) if stats.clopper_pearson(k, size, 0.95)[1] <= 0.03]
        return float(sp.binom.cdf(max(passing), size, 0.01)) if passing else 0.0

    assert (power(needed) >= 0.8, power(needed - 1) < 0.8) == (True, True)


def test_canonical_order_does_not_depend_on_the_row_order() -> None:
    rng = np.random.default_rng(3)
    c, b = rng.normal(size=50), rng.normal(size=50)
    order = rng.permutation(50)

    first = stats.canonical_order(c, b, paired=True)
    again = stats.canonical_order(c[order], b[order], paired=True)

    assert (np.array_equal(first[0], again[0]), np.array_equal(first[1], again[1])) == (True, True)


def test_percentile_bounds_widen_by_their_monte_carlo_error() -> None:
    replicates = np.arange(4000, dtype=np.float64)
    # alpha = 0.05 of 4000: rank 200, moved out by ceil(2 sqrt(4000 * 0.05 * 0.95)) = 28 ranks.
    assert stats.percentile_bounds(replicates, 0.95, 2.0) == (172.0, 3827.0)


@pytest.mark.parametrize(("k_c", "n_c", "k_b", "n_b"), [(56, 70, 48, 80), (0, 30, 0, 30), (58, 1000, 50, 1000)])
def test_mover_difference_adds_each_arms_exact_distances_in_quadrature(k_c: int, n_c: int, k_b: int, n_b: int) -> None:
    def limits(k: int, n: int) -> tuple[float, float]:
        return (sp.beta.ppf(0.05, k, n - k + 1) if k > 0 else 0.0, sp.beta.ppf(0.95, k + 1, n - k) if k < n else 1.0)

    (l_c, u_c), (l_b, u_b) = limits(k_c, n_c), limits(k_b, n_b)
    p_c, p_b = k_c / n_c, k_b / n_b
    expected = (
        p_c - p_b - math.hypot(p_c - l_c, u_b - p_b),
        p_c - p_b + math.hypot(u_c - p_c, p_b - l_b),
    )

    assert stats.mover_difference(k_c, n_c, k_b, n_b, 0.95) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("n", "p_c", "p_b"),
    [(30, 0.51, 0.5), (100, 0.51, 0.5), (100, 0.96, 0.95), (300, 0.02, 0.01)],
)
def test_mover_difference_each_side_errs_at_most_alpha_by_enumeration(n: int, p_c: float, p_b: float) -> None:
    # Newcombe's hybrid score interval errs 0.0518 on the upper side at (100, 0.51, 0.5).
    k = np.arange(n + 1)
    bounds = np.array([[stats.mover_difference(int(c), n, int(b), n, 0.95) for b in k] for c in k])
    lower, upper = bounds[..., 0], bounds[..., 1]
    joint = np.outer(sp.binom.pmf(k, n, p_c), sp.binom.pmf(k, n, p_b))
    truth = p_c - p_b

    assert float(joint[upper < truth].sum()) <= 0.05
    assert float(joint[lower > truth].sum()) <= 0.05
