"""The percentile bootstrap of a quantile change between independent arms, computed exactly.

A resample's (k+1)-th smallest value is at most v exactly when at least k+1 of its n draws are at most v, a
binomial count; so the law of each arm's resampled quantile, and of their difference or ratio, is known without
resampling. These tests hold it to brute-force enumeration of every resample, to the Monte-Carlo bootstrap it
replaces, and to the evaluator's promises (no seed, no Monte-Carlo margin, no dependence on row order).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit import stats
from gatekit.decide.evaluate import evaluate_gates
from gatekit.results import Measurement, Results, Samples
from tests.factories import results, spec

SMALL_SAMPLES = [
    ([3.0, 1.0, 2.0], 0.5),
    ([1.0, 1.0, 2.0, 5.0], 0.95),  # ties
    ([0.5, math.inf, 2.0, 2.0], 0.9),  # a timeout
    ([-0.0, 0.0, 1.0], 0.5),  # the two zeros are one value
    ([7.0, 7.0, 7.0], 0.95),  # no spread
    ([4.0, 1.0, 3.0, 2.0, 0.0], 0.5),
]


def enumerated_law(values: list[float], q: float) -> dict[float, float]:
    """P(the resample's q-quantile = v), summed over all n^n equally likely resamples."""
    arr = np.array(values)
    n = len(arr)
    law: dict[float, float] = {}
    for picks in itertools.product(range(n), repeat=n):
        v = float(np.quantile(arr[list(picks)], q, method="inverted_cdf")) + 0.0
        law[v] = law.get(v, 0.0) + n**-n
    return law


@pytest.mark.parametrize(("values", "q"), SMALL_SAMPLES)
def test_the_law_of_a_resampled_quantile_is_that_of_every_resample_enumerated(values: list[float], q: float) -> None:
    support, mass = stats.resampled_quantile_law(np.array(values), q)

    expected = enumerated_law(values, q)
    assert [float(v) for v in support] == sorted(expected)
    assert mass == pytest.approx([expected[float(v)] for v in support], abs=1e-14)


def test_the_law_of_a_difference_is_that_of_every_pair_of_resamples_enumerated() -> None:
    c, b = [3.0, 1.0, 2.0, 6.0], [2.0, 2.0, 5.0]
    law_c, law_b = enumerated_law(c, 0.75), enumerated_law(b, 0.75)
    exact = stats.ExactBootstrap(np.array(c), np.array(b), 0.75, ratio=False)

    changes = sorted({u - v for u in law_c for v in law_b})
    cdf = [sum(pc * pb for u, pc in law_c.items() for v, pb in law_b.items() if u - v <= d) for d in changes]
    for confidence in (0.6, 0.8, 0.9, 0.95):
        lower = next(d for d, f in zip(changes, cdf, strict=True) if f > 1 - confidence)
        upper = next(d for d, f in zip(changes, cdf, strict=True) if f >= confidence)
        assert exact.bounds(confidence) == (lower, upper)


@pytest.mark.parametrize("ratio", [False, True])
def test_the_exact_bounds_are_where_a_long_monte_carlo_bootstrap_tends(ratio: bool) -> None:
    rng = np.random.default_rng(3)
    c, b = rng.lognormal(6.5, 0.4, 300) * 1.05, rng.lognormal(6.5, 0.4, 300)
    resamples = 100_000
    replicates = stats.bootstrap_difference(c, b, 0.95, ratio=ratio, paired=False, resamples=resamples)

    lower, upper = stats.ExactBootstrap(c, b, 0.95, ratio=ratio).bounds(0.95)

    # Each exact bound lies among the replicates within 4 Monte-Carlo standard errors of its nominal rank (the
    # replicates tie in runs: the law is discrete).
    slack = math.ceil(4 * math.sqrt(resamples * 0.05 * 0.95))
    low_rank, high_rank = math.floor(0.05 * resamples), math.ceil(0.95 * resamples) - 1
    assert replicates[low_rank - slack] <= lower <= replicates[low_rank + slack]
    assert replicates[high_rank - slack] <= upper <= replicates[high_rank + slack]


def test_a_nan_in_either_arm_gives_no_bound() -> None:
    exact = stats.ExactBootstrap(np.array([1.0, 2.0, math.nan]), np.array([1.0, 2.0]), 0.5, ratio=False)

    assert exact.bounds(0.95) == (-math.inf, math.inf)


def test_a_ratio_over_a_zero_baseline_is_unbounded_above_whatever_the_zeros_sign() -> None:
    exact = stats.ExactBootstrap(np.array([1.0] * 5), np.array([-0.0] * 5), 0.5, ratio=True)

    assert exact.bounds(0.95)[1] == math.inf


def test_a_timed_out_arm_makes_the_upper_bound_infinite_when_its_quantile_can_be_a_timeout() -> None:
    exact = stats.ExactBootstrap(np.array([1.0, 2.0, math.inf, math.inf]), np.array([1.0, 2.0, 3.0]), 0.5, ratio=False)

    assert exact.bounds(0.95)[1] == math.inf


def latencies(values: np.ndarray, ids: list[str] | None = None) -> Results:
    samples = Samples(values, np.array(ids) if ids is not None else None)
    value = float(np.quantile(values, 0.95, method="inverted_cdf"))
    return results({"latency_p95_ms": {"all": Measurement(value, samples=samples)}})


GATE = {"id": "lat", "metric": "latency_p95_ms", "max_increase_pct": 20}
METRICS = {"latency_p95_ms": {"kind": "quantile", "higher_is_better": False}}


def test_an_unpaired_quantile_change_is_read_without_a_monte_carlo_margin() -> None:
    # The seeded bootstrap read its bounds 2 Monte-Carlo SE out (and called a decision that only its nominal
    # bounds made a flip within that error); the exact law has no such error: its bounds are the interval.
    rng = np.random.default_rng(20261202)
    cand, base = rng.lognormal(6.5, 0.5, 300) * 0.88, rng.lognormal(6.5, 0.5, 300)

    (outcome,) = evaluate_gates(spec(GATE, metrics=METRICS), latencies(cand), latencies(base))

    assert "Monte-Carlo" not in outcome.reason
    assert outcome.confidence is not None
    ratio_bounds = stats.ExactBootstrap(cand, base, 0.95, ratio=True).bounds(outcome.confidence)
    baseline_p95 = float(np.quantile(base, 0.95, method="inverted_cdf"))
    assert outcome.interval == (baseline_p95 * ratio_bounds[0], baseline_p95 * ratio_bounds[1])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(60, 400))
def test_an_unpaired_quantile_change_does_not_depend_on_row_order(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    cand, base = np.round(rng.lognormal(6.5, 0.5, n)), np.round(rng.lognormal(6.5, 0.5, n))
    gate_spec = spec(GATE, metrics=METRICS)

    (as_read,) = evaluate_gates(gate_spec, latencies(cand), latencies(base))
    (shuffled,) = evaluate_gates(gate_spec, latencies(rng.permutation(cand)), latencies(rng.permutation(base)))

    assert as_read.model_dump_json() == shuffled.model_dump_json()
