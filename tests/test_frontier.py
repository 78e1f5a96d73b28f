"""The noise-aware frontier on constructed checkpoints: dominance needs confidence on every axis, the gates are
constraints, and the tie-break picks among what the evidence cannot rank."""

from __future__ import annotations

from typing import Any

import numpy as np

from gatekit.decide.compare import Checkpoint, Comparison, compare
from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement, Results, Samples
from gatekit.spec.model import Spec
from tests.factories import spec

N = 2000
IDS = np.array([f"q{i}" for i in range(N)])


def correct(rate: float, *, shift: int = 0) -> Measurement:
    """Per-example 0/1 values with exactly `rate` of them 1, on the shared ids: the first rate x N examples
    (moved by `shift`), so two checkpoints agree on most examples, as real ones do (paired intervals)."""
    values = np.zeros(N)
    k = round(rate * N)
    values[shift : shift + k] = 1.0
    return Measurement(k / N, N, samples=Samples(values, IDS))


FRONTIER = {"axes": [{"metric": "accuracy"}, {"cost": "usd"}]}
METRICS = {"accuracy": {"kind": "proportion", "higher_is_better": True}}


def gate_spec(**extra: Any) -> Spec:
    data: dict[str, Any] = {"metrics": METRICS, "frontier": FRONTIER, **extra}
    return spec({"id": "floor", "metric": "accuracy", "min": 0.5}, baseline=False, **data)


def checkpoint(s: Spec, name: str, accuracy: Measurement, usd: float, order: float) -> Checkpoint:
    results = Results(f"{name}.yaml", name, {"accuracy": {"all": accuracy}}, {"usd": usd})
    return Checkpoint(name, order, results, build_verdict(s, results, None, spec_path="s.yaml"))


def run(s: Spec, *points: tuple[str, Measurement, float]) -> Comparison:
    return compare(
        s,
        [checkpoint(s, name, m, usd, float(i)) for i, (name, m, usd) in enumerate(points)],
        spec_path="s.yaml",
        baseline=None,
    )


def standing(c: Comparison) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {r.id: (r.on_frontier, r.dominated_by) for r in c.checkpoints}


def test_a_clearly_worse_and_dearer_checkpoint_is_dominated() -> None:
    c = run(gate_spec(), ("a", correct(0.80), 10.0), ("b", correct(0.70), 12.0))

    assert standing(c) == {"a": (True, ()), "b": (False, ("a",))}


def test_two_checkpoints_within_noise_are_not_told_apart() -> None:
    c = run(gate_spec(), ("a", correct(0.800), 10.0), ("b", correct(0.801, shift=3), 10.0))

    rows = {r.id: r for r in c.checkpoints}
    assert (standing(c), rows["a"].not_told_apart, rows["b"].not_told_apart) == (
        {"a": (True, ()), "b": (True, ())},
        ("b",),
        ("a",),
    )


def test_better_on_every_axis_but_within_noise_on_one_is_no_dominance() -> None:
    # b is cheaper for sure and more accurate by 0.2 points: within noise. A plain Pareto rule would drop a.
    c = run(gate_spec(), ("a", correct(0.800), 10.0), ("b", correct(0.802, shift=5), 9.0))

    rows = {r.id: r for r in c.checkpoints}
    assert (standing(c), rows["a"].undecided_with) == ({"a": (True, ()), "b": (True, ())}, ("b",))


def test_a_trade_off_leaves_both_on_the_frontier() -> None:
    c = run(gate_spec(), ("a", correct(0.85), 20.0), ("b", correct(0.75), 5.0))

    rows = {r.id: r for r in c.checkpoints}
    assert (standing(c), rows["a"].trade_off_with) == ({"a": (True, ()), "b": (True, ())}, ("b",))


def test_an_ineligible_frontier_checkpoint_is_never_recommended() -> None:
    # b is the best and the cheapest, so nothing dominates it; but it breaks the ceiling gate.
    s = spec(
        {"id": "floor", "metric": "accuracy", "min": 0.5},
        {"id": "ceiling", "metric": "accuracy", "max": 0.9},
        baseline=False,
        metrics=METRICS,
        frontier=FRONTIER,
    )
    c = run(s, ("a", correct(0.80), 10.0), ("b", correct(0.95), 5.0))

    rows = {r.id: r for r in c.checkpoints}
    assert (rows["b"].on_frontier, rows["b"].eligible, c.recommendation, c.exit_code) == (True, False, "a", 0)


def test_an_ineligible_checkpoint_does_not_knock_an_eligible_one_off_the_eligible_frontier() -> None:
    s = spec(
        {"id": "ceiling", "metric": "accuracy", "max": 0.9},
        baseline=False,
        metrics=METRICS,
        frontier=FRONTIER,
    )
    c = run(s, ("a", correct(0.80), 10.0), ("b", correct(0.95), 5.0))

    rows = {r.id: r for r in c.checkpoints}
    assert (rows["a"].dominated_by, c.recommendation) == (("b",), "a")


def test_the_tie_break_picks_the_cheapest_of_those_the_evidence_cannot_rank() -> None:
    c = run(
        gate_spec(frontier={**FRONTIER, "tie_break": {"cost": "usd"}}),
        ("a", correct(0.800), 10.0),
        ("b", correct(0.801, shift=3), 8.0),
        ("c", correct(0.802, shift=6), 9.0),
    )

    assert (c.recommendation, c.frontier.tie_break) == ("b", "lowest usd")


def test_a_metric_tie_break_picks_the_best_point_estimate() -> None:
    c = run(
        gate_spec(frontier={**FRONTIER, "tie_break": {"metric": "accuracy"}}),
        ("a", correct(0.800), 10.0),
        ("b", correct(0.801, shift=3), 10.0),
    )

    assert c.recommendation == "b"


def test_no_eligible_checkpoint_means_no_recommendation_and_exit_3() -> None:
    s = spec({"id": "floor", "metric": "accuracy", "min": 0.9}, baseline=False, metrics=METRICS, frontier=FRONTIER)
    c = run(s, ("a", correct(0.80), 10.0), ("b", correct(0.70), 5.0))

    assert (c.recommendation, c.decision, c.exit_code) == (None, "none_eligible", 3)
    assert c.why == "no checkpoint is eligible (its verdict must be ship): a: revise, b: revise"


def test_every_checkpoint_stopping_is_exit_4() -> None:
    s = spec(
        {"id": "floor", "metric": "accuracy", "min": 0.9, "on_fail": "stop"},
        baseline=False,
        metrics=METRICS,
        frontier=FRONTIER,
    )
    c = run(s, ("a", correct(0.80), 10.0), ("b", correct(0.70), 5.0))

    assert (c.decision, c.exit_code) == ("all_stop", 4)


def test_the_correction_counts_every_ordered_pair() -> None:
    c = run(gate_spec(), ("a", correct(0.80), 10.0), ("b", correct(0.70), 12.0), ("c", correct(0.60), 14.0))

    assert c.frontier.comparisons == 6
    assert all(claim.p_adjusted >= claim.p_value for claim in c.frontier.claims)


def test_bare_numbers_carry_no_evidence_of_dominance() -> None:
    # No n, no stderr, no per-example values: the frontier never claims a difference it cannot bound.
    c = run(gate_spec(), ("a", Measurement(0.9), 10.0), ("b", Measurement(0.5), 12.0))

    assert standing(c) == {"a": (True, ()), "b": (True, ())}


def test_a_tie_break_no_eligible_checkpoint_records_is_undecidable() -> None:
    c = run(
        gate_spec(frontier={**FRONTIER, "tie_break": {"cost": "gpu_hours"}}),
        ("a", correct(0.800), 10.0),
        ("b", correct(0.801, shift=3), 8.0),
    )

    assert (c.recommendation, c.decision, c.exit_code, c.why) == (
        None,
        "undecidable",
        3,
        "no eligible frontier checkpoint records what the tie-break needs (lowest gpu_hours)",
    )
