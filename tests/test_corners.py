"""The promise at the corners (issue 13): a checkpoint that truly violates a bound ships with probability at
most 1 - confidence where users actually are — near-identical models, 0/1 scores gated as means, rates near
0 or 1, `{value, n}` with no kind, any row order.

Every test here goes through the evaluator that `gatekit check` uses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sp

from gatekit.decide.evaluate import evaluate_gates
from gatekit.outcomes import GateOutcome
from gatekit.results import Measurement, Results, Samples
from gatekit.spec.model import Spec
from tests.factories import results, spec

KINDS = {
    "acc": {"kind": "proportion"},
    "refusal_mean": {"kind": "mean"},
    "score": {"kind": "mean"},
    "latency_p95_ms": {"kind": "quantile"},
}


def check(gate: dict[str, Any], candidate: Results, baseline: Results | None = None, **extra: Any) -> GateOutcome:
    outcomes = evaluate_gates(spec(gate, metrics=KINDS, **extra), candidate, baseline)
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


def per_example(metric: str, values: list[float], ids: list[str] | None = None, q: float | None = None) -> Results:
    x = np.array(values, dtype=np.float64)
    value = float(np.quantile(x, q, method="inverted_cdf")) if q is not None else float(x.mean())
    ids_array = np.array(ids) if ids is not None else None
    return results({metric: {"all": Measurement(value, samples=Samples(x, ids_array))}})


def test_identical_models_on_15_15_pairs_cannot_pass_a_decrease_bound() -> None:
    # 15 examples right and 15 wrong for both: every pair agrees. The raw-phi Newcombe interval had zero
    # width here, so `max_decrease: 0.01` passed on 30 examples.
    ids = [f"e{i}" for i in range(30)]
    values = [1.0] * 15 + [0.0] * 15

    outcome = check(
        {"id": "g", "metric": "acc", "max_decrease": 0.01},
        per_example("acc", values, ids),
        per_example("acc", values, ids),
    )

    assert outcome.status == "inconclusive"
    assert outcome.interval is not None
    low, high = outcome.interval
    assert low is not None
    assert high is not None
    assert high - low > 0.18  # each discordant cell's exact bound at 0 of 30: +-0.095


def test_two_perfect_scores_of_30_cannot_pass_a_percent_bound() -> None:
    # 30/30 vs 30/30: a Wald standard error is 0 at p = 1, so the log-ratio interval had no width.
    outcome = check(
        {"id": "g", "metric": "acc", "max_decrease_pct": 1.0},
        results({"acc": {"all": Measurement(1.0, n=30)}}),
        results({"acc": {"all": Measurement(1.0, n=30)}}),
    )

    assert outcome.status == "inconclusive"
    assert outcome.interval is not None
    assert outcome.interval[0] == pytest.approx(0.905, abs=5e-4)


def test_zero_one_values_declared_a_mean_are_bounded_as_a_proportion() -> None:
    # 1 refusal in 300 against `max: 0.01`: the exact upper bound is 0.0157; a t interval said 0.0088.
    values = [1.0] + [0.0] * 299

    outcome = check({"id": "g", "metric": "refusal_mean", "max": 0.01}, per_example("refusal_mean", values))

    assert outcome.status == "inconclusive"
    assert outcome.interval is not None
    assert outcome.interval[1] == pytest.approx(sp.beta.ppf(0.95, 2, 299), rel=1e-9)


def test_value_and_n_of_a_metric_with_no_kind_is_inconclusive_and_says_what_to_declare() -> None:
    outcome = evaluate_gates(
        spec({"id": "g", "metric": "win", "min": 0.5}, require_uncertainty=True),
        results({"win": {"all": Measurement(0.6, n=200)}}),
        None,
    )[0]

    assert outcome.status == "inconclusive"
    assert "declare `metrics: {win: {kind: proportion}}`" in outcome.reason


def test_value_and_n_of_a_metric_with_no_kind_is_inconclusive_by_default() -> None:
    document = {
        "version": 1,
        "name": "t",
        "hypothesis": {"statement": "s", "stage": "other", "improves": "win", "owner": "o", "written": "2026-01-01"},
        "gates": [{"id": "g", "metric": "win", "min": 0.5}],
        "rollback": {},
    }
    outcome = evaluate_gates(
        Spec.model_validate(document, strict=False), results({"win": {"all": Measurement(0.6, n=200)}}), None
    )[0]

    assert outcome.status == "inconclusive"


def test_evidence_needed_at_zero_events_is_where_a_pass_first_becomes_possible() -> None:
    # 0 of 200 against `max: 0.01`: an exact bound at 0 events is 1 - 0.05^(1/n), below 0.01 from n = 299.
    outcome = check({"id": "g", "metric": "acc", "max": 0.01}, results({"acc": {"all": Measurement(0.0, n=200)}}))

    assert (outcome.status, outcome.evidence_needed) == ("inconclusive", 299)


def pass_probability(gate: dict[str, Any], n: int, p: float) -> float:
    """P(pass) of a single proportion with true rate p on n examples, by exact enumeration of the count."""
    spec_ = spec(gate, metrics=KINDS)
    k = np.arange(n + 1)
    passing = [
        evaluate_gates(spec_, results({"acc": {"all": Measurement(int(i) / n, n=n)}}), None)[0].status == "pass"
        for i in k
    ]
    return float(sp.binom.pmf(k[passing], n, p).sum())


@pytest.mark.parametrize(
    ("bound", "n", "threshold"),
    [
        ({"min": 0.03}, 100, 0.03),  # `min` on a low rate: few events on the tail side
        ({"max": 0.97}, 100, 0.97),  # `max` on a high rate
        ({"min": 0.01}, 300, 0.01),
        ({"max": 0.02}, 30, 0.02),
        ({"min": 0.9}, 1000, 0.9),
    ],
)
def test_a_single_rate_just_beyond_its_bound_ships_at_most_five_percent_of_the_time(
    bound: dict[str, float], n: int, threshold: float
) -> None:
    # The truth on the threshold itself is the supremum over every truth that violates it (the pass region
    # shrinks as the truth moves away), so this is the worst case, exactly.
    assert pass_probability({"id": "g", "metric": "acc", **bound}, n, threshold) <= 0.05


def paired_pass_probability(n: int, only_c: float, only_b: float, limit: float) -> float:
    """P(pass) of `max_decrease: limit` on n pairs whose discordant cells have these probabilities, by exact
    enumeration of the trinomial (only_c, only_b, concordant)."""
    spec_ = spec({"id": "g", "metric": "acc", "max_decrease": limit}, metrics=KINDS)
    ids = [f"e{i}" for i in range(n)]
    total = 0.0
    for c in range(n + 1):
        for b in range(n + 1 - c):
            prob = sp.multinomial.pmf([c, b, n - c - b], n, [only_c, only_b, 1 - only_c - only_b])
            if prob < 1e-12:
                continue
            rest = n - c - b
            half = rest // 2
            cand = [1.0] * c + [0.0] * b + [1.0] * half + [0.0] * (rest - half)
            base = [0.0] * c + [1.0] * b + [1.0] * half + [0.0] * (rest - half)
            outcome = evaluate_gates(spec_, per_example("acc", cand, ids), per_example("acc", base, ids))[0]
            total += prob * (outcome.status == "pass")
    return total


@pytest.mark.parametrize(
    ("only_c", "only_b"),
    [
        (0.0, 0.0101),  # discordance one way: the candidate only loses examples, 1.01 points in all
        (0.005, 0.0151),  # some reverse discordance
    ],
)
def test_near_identical_paired_models_just_beyond_the_bound_ship_at_most_five_percent(
    only_c: float, only_b: float
) -> None:
    assert paired_pass_probability(40, only_c, only_b, 0.01) <= 0.05


def shuffled(m: Measurement, order: np.ndarray[Any, Any]) -> Measurement:
    assert m.samples is not None
    ids = m.samples.ids
    return Measurement(m.value, samples=Samples(m.samples.values[order], ids[order] if ids is not None else None))


GATES = [
    ({"id": "g", "metric": "acc", "max_decrease": 0.02}, "acc", None),
    ({"id": "g", "metric": "score", "max_decrease": 0.02}, "score", None),
    ({"id": "g", "metric": "latency_p95_ms", "max_increase_pct": 5.0}, "latency_p95_ms", 0.95),
]


@settings(max_examples=25, deadline=None)
@given(
    which=st.sampled_from(range(len(GATES))),
    paired=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(72, 400),  # a 95% bound on a p95 change bounds each arm's at 97.5%: 72 examples per arm
)
def test_permuting_rows_never_changes_a_verdict(which: int, paired: bool, seed: int, n: int) -> None:
    gate, metric, q = GATES[which]
    rng = np.random.default_rng(seed)
    ids = [f"e{i}" for i in range(n)] if paired else None
    if metric == "acc":
        cand, base = list(rng.random(n) < 0.8), list(rng.random(n) < 0.8)
    elif metric == "score":
        cand, base = list(rng.beta(4, 1, n)), list(rng.beta(4, 1, n))
    else:
        cand, base = list(rng.lognormal(6.5, 0.4, n) * 1.03), list(rng.lognormal(6.5, 0.4, n))
    c = per_example(metric, [float(v) for v in cand], ids, q)
    b = per_example(metric, [float(v) for v in base], ids, q)
    first = check(gate, c, b)

    order_c, order_b = rng.permutation(n), rng.permutation(n)
    again = check(
        gate,
        results({metric: {"all": shuffled(c.metrics[metric]["all"], order_c)}}),
        results({metric: {"all": shuffled(b.metrics[metric]["all"], order_b)}}),
    )

    assert again.status == first.status
    assert first.interval is not None
    assert again.interval is not None
    assert again.interval == pytest.approx(first.interval, rel=1e-9, abs=1e-12)


def unpaired_pass_probability(gate: dict[str, Any], n: int, p_c: float, p_b: float) -> float:
    """P(pass) of a difference bound on two independent rates of n examples each, by exact enumeration of both
    counts through the evaluator."""
    spec_ = spec(gate, metrics=KINDS)
    k = np.arange(n + 1)

    def arm(i: int) -> Results:
        return results({"acc": {"all": Measurement(i / n, n=n)}})

    passing = np.array(
        [[evaluate_gates(spec_, arm(c), arm(b))[0].status == "pass" for b in k] for c in k], dtype=np.float64
    )
    return float(sp.binom.pmf(k, n, p_c) @ passing @ sp.binom.pmf(k, n, p_b))


def test_an_unpaired_rate_increase_just_beyond_its_allowance_ships_at_most_five_percent_of_the_time() -> None:
    # +1 point allowed on a 50% base, 100 examples per arm: the truth on the boundary (0.51 vs 0.50) is the
    # supremum over violating truths with that baseline. Newcombe's hybrid score interval ships 0.052 here.
    chance = unpaired_pass_probability({"id": "g", "metric": "acc", "max_increase": 0.01}, 100, 0.51, 0.50)

    assert chance <= 0.05


def test_evidence_needed_at_zero_events_in_both_arms_is_where_an_unpaired_pass_first_becomes_possible() -> None:
    # 0 of 200 in both arms under `max_increase: 0.01`: the upper bound of the difference is each arm's exact
    # bound at 0 events, 1 - 0.05^(1/n), below 0.01 from n = 299. The normal formula on the width said 1,011.
    arm = results({"acc": {"all": Measurement(0.0, n=200)}})

    outcome = check({"id": "g", "metric": "acc", "max_increase": 0.01}, arm, arm)

    assert (outcome.status, outcome.evidence_needed) == ("inconclusive", 299)
