"""Property: with intervals, minimum evidence and corrections in play, nothing inconclusive, missing or
non-finite in a gated value ever ships."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement, Results, Samples
from tests.factories import spec

VALUES = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, 0.05, 0.95]),
)
NS = st.one_of(st.none(), st.integers(min_value=0, max_value=5000))
STDERRS = st.one_of(st.none(), st.floats(min_value=0.0, max_value=0.5))
BOUNDS = st.sampled_from(
    [
        {"min": 0.5},
        {"max": 0.5},
        {"max_increase": 0.01},
        {"max_decrease": 0.01},
        {"max_increase_pct": 5.0},
        {"max_decrease_pct": 5.0},
    ]
)


@st.composite
def measurements(draw: st.DrawFn) -> Measurement:
    value = draw(VALUES)
    if draw(st.booleans()):
        flags = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=0, max_size=300))
        return Measurement(value, samples=Samples(np.array(flags, dtype=np.float64)))
    n = draw(NS)
    if n and draw(st.booleans()):
        value = draw(st.integers(min_value=0, max_value=n)) / n  # a consistent count, to reach the intervals
    return Measurement(value, n=n, stderr=draw(STDERRS))


@given(
    bound=BOUNDS,
    kind=st.sampled_from(["proportion", "mean", None]),
    candidate=measurements(),
    baseline=measurements(),
    min_n=st.one_of(st.none(), st.integers(min_value=1, max_value=2000)),
    require=st.booleans(),
    on_fail=st.sampled_from(["stop", "revise"]),
)
@settings(max_examples=300, deadline=None)
def test_only_all_passing_finite_checks_ship(
    bound: dict[str, float],
    kind: str | None,
    candidate: Measurement,
    baseline: Measurement,
    min_n: int | None,
    require: bool,
    on_fail: str,
) -> None:
    metrics: dict[str, Any] = {"m": {"kind": kind}} if kind else {}
    extra: dict[str, Any] = {"require_uncertainty": require, "metrics": metrics}
    if min_n is not None:
        extra["min_n"] = min_n
    gate_spec = spec({"id": "g", "metric": "m", "on_fail": on_fail, **bound}, **extra)
    cand = Results(source="c", model="c", metrics={"m": {"all": candidate}})
    base = Results(source="b", model="b", metrics={"m": {"all": baseline}})

    verdict = build_verdict(gate_spec, cand, base, spec_path="s")

    gated_values = [candidate.value] + ([baseline.value] if gate_spec.gates[0].needs_baseline() else [])
    if verdict.verdict == "ship":
        assert all(o.status == "pass" for o in verdict.gates)
        assert all(math.isfinite(v) for v in gated_values)
    if any(o.status in ("inconclusive", "missing") for o in verdict.gates):
        assert verdict.verdict != "ship"
    if not all(math.isfinite(v) for v in gated_values):
        assert verdict.verdict != "ship"
    if min_n is not None and (candidate.n or 0) < min_n and candidate.samples is None:
        assert verdict.verdict != "ship"
