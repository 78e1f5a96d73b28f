"""A quantile change with fewer than `stats.BOOTSTRAP_MIN_N` examples in an arm is bounded distribution-free.

The percentile bootstrap of a p95 reads the few values above it; with 60-100 examples per arm, where the
candidate's tail is longer than the baseline's, it shipped 0.075-0.091 of checkpoints whose true p95 was just
beyond the allowance. Below 300 examples, each arm's
exact order-statistic bounds at 1 - alpha/2 are combined instead (Bonferroni), which holds for any distributions,
ties, timeouts and pairing.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from gatekit import stats
from gatekit.decide.evaluate import evaluate_gates
from gatekit.results import Measurement, Results, Samples
from tests.factories import results, spec

GATE = {"id": "lat", "metric": "latency_p95_ms", "max_increase_pct": 5}
METRICS = {"latency_p95_ms": {"kind": "quantile", "higher_is_better": False}}
SMALL_N_METHOD = "each arm's order statistics at 1 - alpha/2, combined (distribution-free, n < 300)"


def latencies(values: np.ndarray, ids: list[str] | None = None) -> Results:
    samples = Samples(values, np.array(ids) if ids is not None else None)
    value = float(np.quantile(values, 0.95, method="inverted_cdf"))
    return results({"latency_p95_ms": {"all": Measurement(value, samples=samples)}})


def with_timeouts(rng: np.random.Generator, n: int, scale: float, share: float = 0.03) -> np.ndarray:
    values = rng.lognormal(6.5, 0.4, n) * scale
    values[rng.random(n) < share] = math.inf
    return values


def test_a_p95_slowdown_beyond_the_allowance_on_100_examples_with_timeouts_does_not_ship() -> None:
    # Seed 132: the exact bootstrap passed this checkpoint, whose true p95 is 7.1% slower under a 5% allowance.
    rng = np.random.default_rng(132)
    cand, base = with_timeouts(rng, 100, 1.05 * 1.02), with_timeouts(rng, 100, 1.0)

    (outcome,) = evaluate_gates(spec(GATE, metrics=METRICS), latencies(cand), latencies(base))

    assert (outcome.status, outcome.method) == ("inconclusive", SMALL_N_METHOD)


def longer_tail(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Lognormal with sigma 0.8, at the p95 of a sigma-0.4 lognormal (times `scale`): the same p95, a longer tail."""
    z = NormalDist().inv_cdf(0.95)
    return np.exp(6.5 + 0.4 * z + 0.8 * (rng.standard_normal(n) - z)) * scale


def test_false_ships_at_the_boundary_stay_within_alpha_when_the_candidates_tail_is_longer() -> None:
    # 400 seeded checkpoints whose true p95 is a hair beyond +5%, with a longer tail than the baseline's: the
    # exact bootstrap shipped 0.091 (n = 60) and 0.075 (n = 100) of them over 1,000 draws through the evaluator;
    # a valid method ships at most 0.05.
    rng = np.random.default_rng(20261203)
    gate_spec = spec(GATE, metrics=METRICS)
    shipped = 0
    for _ in range(400):
        cand, base = longer_tail(rng, 100, 1.05 * (1 + 1e-6)), rng.lognormal(6.5, 0.4, 100)
        (outcome,) = evaluate_gates(gate_spec, latencies(cand), latencies(base))
        shipped += outcome.status == "pass"

    assert shipped / 400 <= 0.05


def test_the_interval_is_each_arms_order_statistic_bounds_combined_on_the_baselines_scale() -> None:
    rng = np.random.default_rng(7)
    cand, base = rng.lognormal(6.5, 0.3, 299) * 0.8, rng.lognormal(6.5, 0.3, 250)

    (outcome,) = evaluate_gates(spec(GATE, metrics=METRICS), latencies(cand), latencies(base))

    assert outcome.method == SMALL_N_METHOD
    assert outcome.confidence is not None
    lo, hi = stats.quantile_change_bounds(
        stats.OrderStatistics.of(np.sort(cand)),
        stats.OrderStatistics.of(np.sort(base)),
        0.95,
        outcome.confidence,
        ratio=True,
    )
    p95 = float(np.quantile(base, 0.95, method="inverted_cdf"))
    assert outcome.interval == (p95 * lo, p95 * hi)
    assert outcome.status == "pass"  # 20% faster is decided at n = 250 to 299


def test_an_absolute_change_is_shifted_by_the_baselines_value() -> None:
    rng = np.random.default_rng(8)
    cand, base = rng.lognormal(6.5, 0.3, 200), rng.lognormal(6.5, 0.3, 200)
    gate = {"id": "lat", "metric": "latency_p95_ms", "max_increase": 100.0}

    (outcome,) = evaluate_gates(spec(gate, metrics=METRICS), latencies(cand), latencies(base))

    assert outcome.confidence is not None
    lo, hi = stats.quantile_change_bounds(
        stats.OrderStatistics.of(np.sort(cand)),
        stats.OrderStatistics.of(np.sort(base)),
        0.95,
        outcome.confidence,
        ratio=False,
    )
    p95 = float(np.quantile(base, 0.95, method="inverted_cdf"))
    assert (outcome.method, outcome.interval) == (SMALL_N_METHOD, (p95 + lo, p95 + hi))


def test_paired_arms_below_300_examples_are_bounded_the_same_way() -> None:
    rng = np.random.default_rng(9)
    base = rng.lognormal(6.5, 0.3, 200)
    ids = [f"ex-{i}" for i in range(200)]

    (outcome,) = evaluate_gates(
        spec(GATE, metrics=METRICS), latencies(base * rng.lognormal(0, 0.05, 200), ids), latencies(base, ids)
    )

    assert outcome.method == SMALL_N_METHOD


def test_a_change_needs_72_examples_per_arm_for_a_95_percent_bound_on_a_p95() -> None:
    rng = np.random.default_rng(10)
    cand, base = rng.lognormal(6.5, 0.3, 300), rng.lognormal(6.5, 0.3, 71)

    (outcome,) = evaluate_gates(spec(GATE, metrics=METRICS), latencies(cand), latencies(base))

    assert (outcome.status, outcome.evidence_needed) == ("inconclusive", 72)
    assert "needs at least 72 examples per arm, the baseline has 71" in outcome.reason


def test_from_300_examples_per_arm_the_exact_bootstrap_decides() -> None:
    rng = np.random.default_rng(11)
    cand, base = rng.lognormal(6.5, 0.3, 300), rng.lognormal(6.5, 0.3, 300)

    (outcome,) = evaluate_gates(spec(GATE, metrics=METRICS), latencies(cand), latencies(base))

    assert outcome.method is not None
    assert outcome.method.startswith("percentile bootstrap of the ratio, computed exactly")
