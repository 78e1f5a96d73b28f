"""Confidence-aware decisions in the evaluator: pass needs the interval, fail needs evidence, the rest is
inconclusive (revise) with the evidence needed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats as sp

from gatekit import stats
from gatekit.decide.evaluate import evaluate_gates
from gatekit.decide.verdict import build_verdict
from gatekit.outcomes import GateOutcome
from gatekit.report import RenderOptions, render
from gatekit.results import Measurement, Results, Samples
from tests.factories import results, spec

REFUSAL = {"id": "refusal", "metric": "refusal", "max_increase": 0.01, "on_fail": "stop"}
KINDS = {
    "refusal": {"kind": "proportion"},
    "score": {"kind": "mean"},
    "latency_p95_ms": {"kind": "quantile"},
}


def check(gate: dict[str, Any], candidate: Results, baseline: Results | None = None, **extra: Any) -> GateOutcome:
    outcomes = evaluate_gates(spec(gate, metrics=KINDS, **extra), candidate, baseline)
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


def refusal(value: float, n: int | None) -> Results:
    return results({"refusal": {"all": Measurement(value, n=n)}})


def test_worked_case_is_inconclusive_not_ship() -> None:
    # 58/1000 vs 50/1000 under max_increase 0.01: +0.8pt on the point estimate, but the upper bound of the
    # difference (MOVER on each arm's exact limits) is +2.5pt.
    outcome = check(REFUSAL, refusal(0.058, 1000), refusal(0.050, 1000))
    upper_c, lower_b = sp.beta.ppf(0.95, 59, 942), sp.beta.ppf(0.05, 50, 951)

    assert (outcome.status, outcome.method, outcome.uncertainty) == (
        "inconclusive",
        "MOVER difference of Clopper-Pearson limits (approximate)",
        "interval",
    )
    assert outcome.interval is not None
    assert outcome.interval[1] == pytest.approx(0.058 + math.hypot(upper_c - 0.058, 0.050 - lower_b), rel=1e-9)


def test_worked_case_says_how_much_evidence_would_decide_it() -> None:
    outcome = check(REFUSAL, refusal(0.058, 1000), refusal(0.050, 1000))

    assert outcome.evidence_needed == 158_612
    assert outcome.reason.endswith(
        "about 158,612 examples per arm (now 1,000) would decide it at the observed effect (80% power)"
    )


def test_worked_case_verdict_is_revise_even_on_a_stop_gate() -> None:
    verdict = build_verdict(
        spec(REFUSAL, metrics=KINDS), refusal(0.058, 1000), refusal(0.050, 1000), spec_path="gate.yaml"
    )

    assert (verdict.verdict, verdict.exit_code) == ("revise", 3)


def test_a_clear_regression_fails_with_its_p_value() -> None:
    outcome = check(REFUSAL, refusal(0.120, 1000), refusal(0.040, 1000))

    assert outcome.status == "fail"
    assert outcome.p_value is not None
    assert outcome.p_value < 1e-6
    assert outcome.p_adjusted == outcome.p_value  # a family of one


def test_a_clear_improvement_passes_on_the_interval() -> None:
    outcome = check(REFUSAL, refusal(0.030, 1000), refusal(0.040, 1000))

    assert outcome.status == "pass"
    assert outcome.reason.startswith("0.030 <= 0.05 (baseline 0.04, max_increase: 0.01); at 95% confidence the upper")


def test_gate_confidence_overrides_the_spec() -> None:
    gate = {"id": "acc", "metric": "refusal", "min": 0.9, "confidence": 0.8}

    outcome = check(gate, refusal(0.92, 300), confidence=0.99)

    assert (outcome.status, outcome.confidence) == ("pass", 0.8)


def test_spec_confidence_applies_to_every_gate() -> None:
    gate = {"id": "acc", "metric": "refusal", "min": 0.9}

    outcome = check(gate, refusal(0.92, 300), confidence=0.99)

    assert (outcome.status, outcome.confidence) == ("inconclusive", 0.99)


@pytest.mark.parametrize("confidence", [0.5, 1.0, 0.3])
def test_confidence_outside_half_to_one_is_rejected(confidence: float) -> None:
    with pytest.raises(ValidationError, match="confidence"):
        spec(REFUSAL, confidence=confidence)


def test_unknown_correction_is_rejected() -> None:
    with pytest.raises(ValidationError, match="correction"):
        spec(REFUSAL, correction="bh")


def test_a_slice_below_min_n_is_inconclusive_never_pass() -> None:
    gate = {"id": "acc", "metric": "refusal", "min": 0.5, "min_n": 100}

    outcome = check(gate, refusal(0.98, 50))

    assert (outcome.status, outcome.evidence_needed) == ("inconclusive", 100)
    assert outcome.reason == "insufficient evidence: the candidate has 50 of examples, min_n is 100"


def test_spec_min_n_applies_to_the_baseline_too() -> None:
    outcome = check(REFUSAL, refusal(0.01, 5000), refusal(0.05, 80), min_n=100)

    assert outcome.status == "inconclusive"
    assert outcome.reason.startswith("insufficient evidence: the baseline has 80 of examples, min_n is 100")


def test_no_uncertainty_falls_back_to_the_point_comparison_flagged() -> None:
    outcome = check({"id": "acc", "metric": "refusal", "min": 0.9}, results({"refusal": {"all": 0.95}}))

    assert (outcome.status, outcome.uncertainty, outcome.interval, outcome.method) == ("pass", "point", None, None)


def test_require_uncertainty_makes_a_bare_value_inconclusive() -> None:
    outcome = check(
        {"id": "acc", "metric": "refusal", "min": 0.9}, results({"refusal": {"all": 0.95}}), require_uncertainty=True
    )

    assert (outcome.status, outcome.reason) == (
        "inconclusive",
        "point estimate, no uncertainty known; uncertainty is required (`require_uncertainty: false` gates the point "
        "estimate)",
    )


def test_a_gate_can_waive_the_spec_wide_uncertainty_requirement() -> None:
    gate = {"id": "acc", "metric": "refusal", "min": 0.9, "require_uncertainty": False}

    outcome = check(gate, results({"refusal": {"all": 0.95}}), require_uncertainty=True)

    assert (outcome.status, outcome.uncertainty) == ("pass", "point")


def test_a_proportion_whose_value_is_not_a_count_is_missing() -> None:
    outcome = check({"id": "acc", "metric": "refusal", "min": 0.9}, refusal(0.962, 1200))

    assert outcome.status == "missing"
    assert outcome.reason.startswith("value 0.962 x n 1200 = 1154.4 is not a whole count of examples")


def test_mean_with_stderr_uses_a_t_interval() -> None:
    outcome = check(
        {"id": "s", "metric": "score", "min": 0.80}, results({"score": {"all": Measurement(0.81, n=31, stderr=0.004)}})
    )

    assert (outcome.status, outcome.method) == ("pass", "t interval (30 df)")
    assert outcome.interval == pytest.approx((0.81 - 1.6972608865939 * 0.004, 0.81 + 1.6972608865939 * 0.004))


def test_percent_bound_on_means_uses_the_log_ratio() -> None:
    gate = {"id": "s", "metric": "score", "max_decrease_pct": 1}
    candidate = results({"score": {"all": Measurement(0.806, n=1000, stderr=0.004)}})
    baseline = results({"score": {"all": Measurement(0.800, n=1000, stderr=0.004)}})

    outcome = check(gate, candidate, baseline)

    assert (outcome.status, outcome.method) == ("pass", "log-ratio delta method")


def latencies(values: list[float], ids: list[str] | None = None) -> Results:
    array = np.array(values, dtype=np.float64)
    samples = Samples(array, np.array(ids) if ids is not None else None)
    return results({"latency_p95_ms": {"all": Measurement(float(np.quantile(array, 0.95)), samples=samples)}})


def test_p95_with_fewer_than_59_samples_is_inconclusive() -> None:
    outcome = check({"id": "lat", "metric": "latency_p95_ms", "max": 1000.0}, latencies([100.0] * 40))

    assert (outcome.status, outcome.evidence_needed) == ("inconclusive", 59)
    assert (
        outcome.reason
        == "insufficient evidence: a 95% bound on the p95 needs at least 59 examples, the candidate has 40"
    )


def test_p95_bound_from_order_statistics() -> None:
    outcome = check(
        {"id": "lat", "metric": "latency_p95_ms", "max": 1000.0}, latencies([float(v) for v in range(1, 101)])
    )

    assert (outcome.status, outcome.method, outcome.interval) == (
        "pass",
        "order statistics (distribution-free)",
        (91.0, 99.0),
    )


def test_timeouts_count_as_infinitely_slow() -> None:
    # 100 requests, 6 time out: the 95% upper bound on p95 is a timeout, so the bound cannot pass.
    values = [100.0] * 94 + [math.inf] * 6
    gate = {"id": "lat", "metric": "latency_p95_ms", "max": 1000.0}
    candidate = results(
        {"latency_p95_ms": {"all": Measurement(100.0, samples=Samples(np.array(values, dtype=np.float64)))}}
    )

    outcome = check(gate, candidate)

    assert (outcome.status, outcome.interval) == ("inconclusive", (100.0, None))


def test_relative_p95_bound_of_independent_arms_uses_the_exact_bootstrap() -> None:
    rng = np.random.default_rng(7)
    gate = {"id": "lat", "metric": "latency_p95_ms", "max_increase_pct": 5}
    cand = latencies(list(rng.lognormal(6.5, 0.3, 400)))
    base = latencies(list(rng.lognormal(6.5, 0.3, 400)))

    first, second = check(gate, cand, base), check(gate, cand, base)

    assert first.method == (
        "percentile bootstrap of the ratio, computed exactly (binomial law of each arm's resampled quantile; "
        "approximate)"
    )
    assert first.model_dump_json() == second.model_dump_json()


def test_relative_p95_bound_of_paired_arms_uses_a_seeded_bootstrap() -> None:
    rng = np.random.default_rng(7)
    gate = {"id": "lat", "metric": "latency_p95_ms", "max_increase_pct": 5}
    ids = [f"ex-{i}" for i in range(400)]
    base_values = rng.lognormal(6.5, 0.3, 400)
    cand = latencies(list(base_values * rng.lognormal(0, 0.05, 400)), ids)
    base = latencies(list(base_values), ids)

    first, second = check(gate, cand, base), check(gate, cand, base)

    assert first.method == (
        "paired percentile bootstrap of the ratio (4000 resamples, seed 20241, bounds 2 Monte-Carlo SE out; "
        "approximate)"
    )
    assert first.model_dump_json() == second.model_dump_json()


def test_two_verdicts_with_a_bootstrap_gate_are_byte_identical() -> None:
    rng = np.random.default_rng(8)
    gate_spec = spec({"id": "lat", "metric": "latency_p95_ms", "max_increase": 50.0}, metrics=KINDS)
    cand = latencies(list(rng.lognormal(6.5, 0.3, 300)))
    base = latencies(list(rng.lognormal(6.5, 0.3, 300)))

    runs = [render(build_verdict(gate_spec, cand, base, spec_path="g.yaml"), "json") for _ in range(2)]

    assert runs[0] == runs[1]


def rows(values: list[int], ids: list[str]) -> Results:
    samples = Samples(np.array(values, dtype=np.float64), np.array(ids))
    return results({"refusal": {"all": Measurement(sum(values) / len(values), samples=samples)}})


def test_same_example_ids_use_the_paired_method() -> None:
    ids = [f"ex{i}" for i in range(2000)]
    base_values = [1] * 200 + [0] * 1800
    cand_values = [1] * 201 + [0] * 1799  # one more refusal, the same answers otherwise

    outcome = check(REFUSAL, rows(cand_values, ids), rows(base_values, ids))

    assert (outcome.status, outcome.method) == ("pass", "MOVER on the discordant pairs' exact limits (paired)")


def test_the_same_counts_unpaired_cannot_pass() -> None:
    cand_values = [1] * 201 + [0] * 1799
    base_values = [1] * 200 + [0] * 1800

    outcome = check(
        REFUSAL, rows(cand_values, [f"c{i}" for i in range(2000)]), rows(base_values, [f"c{i}" for i in range(1, 2001)])
    )

    assert (outcome.status, outcome.method) == (
        "inconclusive",
        "MOVER difference of Clopper-Pearson limits (approximate) (unpaired: the example ids differ; "
        "1 candidate ids not in the baseline, 1 baseline ids not in the candidate)",
    )


def test_paired_rows_are_aligned_by_id_not_by_position() -> None:
    ids = [f"ex{i}" for i in range(200)]
    cand_values = [1] * 21 + [0] * 179
    base_values = [1] * 20 + [0] * 180

    aligned = check(REFUSAL, rows(cand_values, ids), rows(base_values, ids))
    shuffled = check(REFUSAL, rows(cand_values, ids), rows(list(reversed(base_values)), list(reversed(ids))))

    assert aligned.interval == shuffled.interval


def test_different_example_ids_say_the_test_is_unpaired() -> None:
    values = [1] * 20 + [0] * 180

    outcome = check(REFUSAL, rows(values, [f"a{i}" for i in range(200)]), rows(values, [f"b{i}" for i in range(200)]))

    assert outcome.method == (
        "MOVER difference of Clopper-Pearson limits (approximate) (unpaired: the example ids differ; "
        "200 candidate ids not in the baseline, 200 baseline ids not in the candidate)"
    )


def many_slices(bad_slice_value: float, slices: int = 200) -> tuple[Results, Results]:
    # Every slice at 5% vs 5%, except one unlucky slice: a breach at raw 95% but not after correcting
    # for 200 checks.
    cand = {f"s{i}": Measurement(0.05, n=1000) for i in range(slices)}
    cand["s0"] = Measurement(bad_slice_value, n=1000)
    base = {f"s{i}": Measurement(0.05, n=1000) for i in range(slices)}
    return results({"refusal": cand}), results({"refusal": base})  # type: ignore[dict-item]


def test_one_unlucky_slice_of_200_does_not_stop_under_holm() -> None:
    cand, base = many_slices(0.085)
    gate = {**REFUSAL, "slices": ["*"]}

    outcomes = evaluate_gates(spec(gate, metrics=KINDS), cand, base)

    assert outcomes[0].status == "inconclusive"
    assert outcomes[0].p_value is not None
    assert outcomes[0].p_value < 0.05
    assert "not enough to stop after the holm correction over 200 checks" in outcomes[0].reason


def test_a_breach_the_correction_undoes_says_how_much_evidence_would_stop_it_after_correcting() -> None:
    cand, base = many_slices(0.085)
    gate = {**REFUSAL, "slices": ["*"]}

    [unlucky, *_] = evaluate_gates(spec(gate, metrics=KINDS), cand, base)

    # Read the standard error off the 95% interval, then decide at 0.05 / 200 (one side), with 80% power.
    lower, upper = unlucky.interval or (math.nan, math.nan)
    gap = abs((unlucky.observed or math.nan) - (unlucky.threshold or math.nan))
    stderr = ((upper or math.nan) - (lower or math.nan)) / (2 * stats.z_value(0.95))
    root = (stats.z_value(1 - 0.05 / 200) + stats.z_value(0.8)) * stderr / gap
    assert unlucky.evidence_needed == math.ceil(1000 * root * root)
    assert unlucky.reason.endswith(
        f"about {unlucky.evidence_needed:,} examples per arm (now 1,000) would decide "
        "it at the observed effect (80% power)"
    )


def test_without_correction_the_unlucky_slice_stops() -> None:
    cand, base = many_slices(0.085)
    gate = {**REFUSAL, "slices": ["*"]}

    outcomes = evaluate_gates(spec(gate, metrics=KINDS, correction="none"), cand, base)

    assert outcomes[0].status == "fail"


def test_a_real_breach_survives_the_correction() -> None:
    cand, base = many_slices(0.15)
    gate = {**REFUSAL, "slices": ["*"]}

    outcomes = evaluate_gates(spec(gate, metrics=KINDS, correction="bonferroni"), cand, base)

    assert outcomes[0].status == "fail"


def test_table_shows_the_interval_and_flags_point_rows() -> None:
    gate_spec = spec(REFUSAL, {"id": "acc", "metric": "acc", "min": 0.5}, metrics=KINDS)
    cand = results({"refusal": {"all": Measurement(0.058, n=1000)}, "acc": {"all": 0.9}})
    verdict = build_verdict(gate_spec, cand, refusal(0.050, 1000), spec_path="g.yaml")

    table = render(verdict, "table", RenderOptions(width=200))

    assert "0.041 to 0.075" in table  # to the precision the interval (0.033 wide) allows
    assert "interval 'point': point estimate, no uncertainty known" in table


@pytest.mark.parametrize(
    ("cand_ids", "base_ids"),
    [
        (["a", "a", "b"], ["a", "b", "c"]),  # a repeated id cannot be paired
        (["a", "b", "c"], ["a", "b", "b"]),
        ([1, 2, "c"], [1, 2, "c"]),  # numbers and text in one id list
    ],
)
def test_ids_pair_only_when_both_sides_hold_the_same_unique_ids(cand_ids: list[object], base_ids: list[object]) -> None:
    values = [1, 0, 1] * 30
    cand = rows(values, [f"{i}-{x}" if isinstance(x, str) else x * 1000 + i for i in range(30) for x in cand_ids])
    base = rows(values, [f"{i}-{x}" if isinstance(x, str) else x * 1000 + i for i in range(30) for x in base_ids])

    outcome = check(REFUSAL, cand, base)

    paired = cand_ids == base_ids
    assert (outcome.method == "MOVER on the discordant pairs' exact limits (paired)") is paired


_id_lists = st.lists(st.one_of(st.integers(0, 6).map(str), st.just("é"), st.just("a\x00")), max_size=12)


@settings(max_examples=300, deadline=None)
@given(cand=_id_lists, base=_id_lists, kind=st.sampled_from(["U", "O", "int"]))
def test_unmatched_id_counts_are_what_isin_counts(cand: list[str], base: list[str], kind: str) -> None:
    from gatekit.decide.pairing import unmatched as _unmatched

    def array(values: list[str]) -> np.ndarray:
        if kind == "int":
            return np.array([ord(v[0]) if v else 0 for v in values], dtype=np.int64)
        return np.array(values, dtype=object if kind == "O" else "U")

    c, b = array(cand), array(base)

    assert _unmatched(c, b) == (int((~np.isin(c, b)).sum()), int((~np.isin(b, c)).sum()))
