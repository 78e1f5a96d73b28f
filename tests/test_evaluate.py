"""The evaluator: every (gate, slice, bound) on its own; anything it cannot evaluate is missing, never pass."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gatekit.decide.evaluate import evaluate_gates, find_aggregate_callouts
from gatekit.outcomes import GateOutcome
from gatekit.results import Measurement
from tests.factories import results, spec


def one(gate: dict[str, Any], candidate: dict[str, Any], baseline: dict[str, Any] | None = None) -> GateOutcome:
    outcomes = evaluate_gates(spec(gate), results(candidate), results(baseline) if baseline is not None else None)
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


BOUND_CASES = [
    # bound, limit, observed, baseline, expected status, expected threshold
    ("min", 0.95, 0.95, None, "pass", 0.95),
    ("min", 0.95, 0.9499, None, "fail", 0.95),
    ("max", 0.02, 0.02, None, "pass", 0.02),
    ("max", 0.02, 0.021, None, "fail", 0.02),
    ("max_increase", 0.01, 0.040, 0.030, "pass", 0.040),
    ("max_increase", 0.01, 0.041, 0.030, "fail", 0.040),
    ("max_decrease", 0.02, 0.78, 0.80, "pass", 0.78),
    ("max_decrease", 0.02, 0.779, 0.80, "fail", 0.78),
    ("max_increase_pct", 5, 840.0, 800.0, "pass", 840.0),
    ("max_increase_pct", 5, 841.0, 800.0, "fail", 840.0),
    ("max_decrease_pct", 1, 0.792, 0.800, "pass", 0.792),
    ("max_decrease_pct", 1, 0.791, 0.800, "fail", 0.792),
    # float rounding is not evidence: 0.1 + 0.2 against 0.3 is "at the threshold", and passes
    ("max", 0.3, 0.1 + 0.2, None, "pass", 0.3),
    ("max_increase", 0.2, 0.3, 0.1, "pass", 0.1 + 0.2),
]


@pytest.mark.parametrize(("bound", "limit", "observed", "base", "status", "threshold"), BOUND_CASES)
def test_bound_kinds_are_inclusive_thresholds(
    bound: str, limit: float, observed: float, base: float | None, status: str, threshold: float
) -> None:
    baseline = {"m": {"all": base}} if base is not None else None

    outcome = one({"id": "g", "metric": "m", bound: limit}, {"m": {"all": observed}}, baseline)

    assert outcome.status == status
    assert outcome.threshold == pytest.approx(threshold)
    assert (outcome.margin or 0) >= -1e-9 if status == "pass" else (outcome.margin or 0) < 0


MISSING_CASES = [
    pytest.param({"m": {"all": math.nan}}, None, "the candidate value of 'm' on 'all' is NaN", id="nan"),
    pytest.param({"m": {"all": math.inf}}, None, "the candidate value of 'm' on 'all' is infinite", id="inf"),
    pytest.param(
        {"m": {"all": Measurement(0.9, n=0)}},
        None,
        "slice 'all' is empty in the candidate results (n = 0)",
        id="empty-slice",
    ),
    pytest.param({"other": {"all": 0.9}}, None, "metric 'm' is not in the candidate results (r.yaml)", id="no-metric"),
    pytest.param(
        {"M": {"all": 0.9}},
        None,
        "metric 'm' is not in the candidate results (r.yaml) (did you mean 'M'?)",
        id="metric-case-differs",
    ),
    pytest.param(
        {"m": {"All": 0.9}},
        None,
        "slice 'all' is not in the candidate results for 'm' (did you mean 'All'?)",
        id="slice-case-differs",
    ),
    pytest.param(
        {"m": {"all": 0.9}}, {}, "metric 'm' is not in the baseline results (r.yaml)", id="no-baseline-metric"
    ),
    pytest.param(
        {"m": {"all": 0.9}}, {"m": {"all": math.nan}}, "the baseline value of 'm' on 'all' is NaN", id="nan-baseline"
    ),
    pytest.param(
        {"m": {"all": 0.9}},
        {"m": {"all": 0.0}},
        "a percent bound needs a positive baseline, and the baseline is 0",
        id="zero-baseline-pct",
    ),
    pytest.param(
        {"m": {"all": 0.9}},
        {"m": {"all": -2.0}},
        "a percent bound needs a positive baseline, and the baseline is -2",
        id="negative-baseline-pct",
    ),
]


@pytest.mark.parametrize(("candidate", "baseline", "reason"), MISSING_CASES)
def test_unevaluable_checks_are_missing_with_a_reason(
    candidate: dict[str, Any], baseline: dict[str, Any] | None, reason: str
) -> None:
    bound = {"max_decrease_pct": 1.0} if baseline is not None else {"min": 0.5}

    outcome = one({"id": "g", "metric": "m", **bound}, candidate, baseline)

    assert (outcome.status, outcome.reason) == ("missing", reason)


def test_nfc_and_nfd_slice_names_do_not_match_silently() -> None:
    nfc, nfd = "caf\u00e9", "cafe\u0301"

    outcome = one({"id": "g", "metric": "m", "slices": [nfc], "min": 0.5}, {"m": {nfd: 0.9}})

    assert outcome.status == "missing"
    assert outcome.reason.endswith(f"(did you mean {nfd!r}?)")


def test_every_slice_is_checked_and_one_regression_fails_despite_a_good_aggregate() -> None:
    candidate = {"m": {"all": 0.96, "a": 0.99, "b": 0.90}}

    outcomes = evaluate_gates(spec({"id": "g", "metric": "m", "slices": ["*"], "min": 0.95}), results(candidate), None)

    assert [(o.slice, o.status) for o in outcomes] == [("all", "pass"), ("a", "pass"), ("b", "fail")]


def test_star_with_no_slices_is_missing_not_a_vacuous_pass() -> None:
    outcomes = evaluate_gates(spec({"id": "g", "metric": "m", "slices": ["*"], "min": 0.5}), results({"m": {}}), None)

    assert [(o.slice, o.status, o.reason) for o in outcomes] == [
        ("*", "missing", "\"*\" matched no slices: the candidate lists no slices for 'm'")
    ]


def test_star_on_an_absent_metric_is_missing() -> None:
    outcomes = evaluate_gates(spec({"id": "g", "metric": "m", "slices": ["*"], "min": 0.5}), results({}), None)

    assert [(o.slice, o.status) for o in outcomes] == [("*", "missing")]


def test_a_slice_that_vanished_from_the_candidate_is_reported_missing() -> None:
    gate = spec({"id": "g", "metric": "m", "slices": ["*"], "max_decrease": 0.01})

    outcomes = evaluate_gates(gate, results({"m": {"all": 0.9}}), results({"m": {"all": 0.9, "gone": 0.8}}))

    assert [(o.slice, o.status) for o in outcomes] == [("all", "pass"), ("gone", "missing")]
    assert outcomes[1].reason.startswith("slice 'gone' is in the baseline but absent from the candidate results")


def test_each_bound_of_a_gate_is_its_own_check() -> None:
    gate = spec({"id": "g", "metric": "m", "min": 0.5, "max": 0.8, "max_increase": 0.01})

    outcomes = evaluate_gates(gate, results({"m": {"all": 0.85}}), results({"m": {"all": 0.80}}))

    assert [(o.bound, o.status) for o in outcomes] == [("min", "pass"), ("max", "fail"), ("max_increase", "fail")]


def test_aggregate_callout_names_the_slice_the_aggregate_hides() -> None:
    gate = spec({"id": "refusal", "metric": "r", "slices": ["harmless"], "max_increase": 0.01})
    candidate = results({"r": {"all": 0.0575, "harmless": 0.11}})
    baseline = results({"r": {"all": 0.0525, "harmless": 0.03}})

    callouts = find_aggregate_callouts(gate, candidate, baseline, evaluate_gates(gate, candidate, baseline))

    assert len(callouts) == 1
    assert callouts[0].failing_slices == ("harmless",)
    assert callouts[0].message == (
        "the aggregate hides a regression: r on 'all' is 0.0575, within max_increase (threshold 0.0625), "
        "but slice 'harmless' at 0.11 breaches it"
    )


def test_no_callout_when_the_aggregate_also_fails() -> None:
    gate = spec({"id": "g", "metric": "m", "slices": ["*"], "min": 0.9})
    candidate = results({"m": {"all": 0.85, "a": 0.8}})

    assert find_aggregate_callouts(gate, candidate, None, evaluate_gates(gate, candidate, None)) == ()
