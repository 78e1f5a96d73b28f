"""Property: no results with a missing or non-finite value in a gated (metric, slice) can ever ship."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement, Results
from tests.factories import spec

METRICS = ["acc", "refusal", "latency"]
SLICES = ["all", "a", "b"]
GATE_SPEC = spec(
    {"id": "acc", "metric": "acc", "slices": ["*"], "min": 0.0},
    {"id": "refusal", "metric": "refusal", "slices": ["all", "a"], "max_increase": 1e9, "on_fail": "stop"},
    {"id": "latency", "metric": "latency", "max_increase_pct": 1e6},
)
GATED = [("acc", s) for s in SLICES] + [("refusal", "all"), ("refusal", "a"), ("latency", "all")]
PASSING = st.floats(min_value=0.001, max_value=1.0)
BROKEN = st.sampled_from(["absent", "nan", "inf", "-inf", "empty"])


def _results(values: dict[tuple[str, str], float | str]) -> Results:
    metrics: dict[str, dict[str, Measurement]] = {}
    for (metric, slice_name), value in values.items():
        if value == "absent":
            continue
        if value == "empty":
            measurement = Measurement(0.5, n=0)
        elif isinstance(value, str):
            measurement = Measurement(float(value))
        else:
            measurement = Measurement(value)
        metrics.setdefault(metric, {})[slice_name] = measurement
    return Results(source="r", model="m", metrics=metrics)


@given(
    candidate=st.fixed_dictionaries(dict.fromkeys(GATED, PASSING)),
    baseline=st.fixed_dictionaries(dict.fromkeys(GATED, PASSING)),
    broken_key=st.sampled_from(GATED),
    broken=BROKEN,
    in_baseline=st.booleans(),
)
def test_a_broken_gated_value_never_ships(
    candidate: dict[tuple[str, str], float | str],
    baseline: dict[tuple[str, str], float | str],
    broken_key: tuple[str, str],
    broken: str,
    in_baseline: bool,
) -> None:
    metric, _ = broken_key
    if in_baseline and metric == "acc":  # acc has only absolute bounds: the baseline is not consulted
        in_baseline = False
    (baseline if in_baseline else candidate)[broken_key] = broken

    verdict = build_verdict(GATE_SPEC, _results(candidate), _results(baseline), spec_path="s")

    assert verdict.verdict != "ship"


@given(
    candidate=st.fixed_dictionaries(dict.fromkeys(GATED, PASSING)),
    baseline=st.fixed_dictionaries(dict.fromkeys(GATED, PASSING)),
)
def test_finite_values_inside_generous_bounds_ship(
    candidate: dict[tuple[str, str], float], baseline: dict[tuple[str, str], float]
) -> None:
    verdict = build_verdict(GATE_SPEC, _results(candidate), _results(baseline), spec_path="s")  # type: ignore[arg-type]

    assert verdict.verdict == "ship", [o.reason for o in verdict.gates if o.status != "pass"]
    assert all(math.isfinite(o.observed or 0) for o in verdict.gates)
