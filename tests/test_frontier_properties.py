"""Properties of the comparison over any checkpoints: only a checkpoint that ships is recommended, nothing
eligible dominates the recommendation, dominance never runs both ways, and a missing value claims nothing."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.decide.compare import Checkpoint, compare
from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement, Results
from tests.factories import spec

SPEC = spec(
    {"id": "floor", "metric": "accuracy", "min": 0.6},
    {"id": "ceiling", "metric": "refusal", "max": 0.2},
    baseline=False,
    metrics={
        "accuracy": {"kind": "proportion", "higher_is_better": True},
        "refusal": {"kind": "proportion", "higher_is_better": False},
    },
    frontier={"axes": [{"metric": "accuracy"}, {"metric": "refusal"}, {"cost": "usd"}]},
)


@st.composite
def rate(draw: st.DrawFn) -> Measurement:
    n = draw(st.integers(min_value=0, max_value=400))
    if n == 0 or (draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())):
        return Measurement(draw(st.sampled_from([math.nan, 0.5])), n or None)
    return Measurement(draw(st.integers(min_value=0, max_value=n)) / n, n)


@st.composite
def checkpoints(draw: st.DrawFn) -> list[Checkpoint]:
    out = []
    for i in range(draw(st.integers(min_value=2, max_value=5))):
        costs = {} if draw(st.integers(0, 5)) == 0 else {"usd": float(draw(st.integers(0, 4)))}
        results = Results(
            f"c{i}", f"c{i}", {"accuracy": {"all": draw(rate())}, "refusal": {"all": draw(rate())}}, costs
        )
        out.append(Checkpoint(f"c{i}", float(i), results, build_verdict(SPEC, results, None, spec_path="s")))
    return out


@settings(max_examples=150, deadline=None)
@given(checkpoints())
def test_the_recommendation_ships_and_nothing_eligible_dominates_it(points: list[Checkpoint]) -> None:
    c = compare(SPEC, points, spec_path="s", baseline=None)
    rows = {r.id: r for r in c.checkpoints}

    if c.recommendation is None:
        assert (c.exit_code, c.decision != "recommend") == (3 if c.decision != "all_stop" else 4, True)
        return
    chosen = rows[c.recommendation]
    assert (chosen.verdict, c.exit_code) == ("ship", 0)
    assert not [d for d in chosen.dominated_by if rows[d].eligible]


@settings(max_examples=150, deadline=None)
@given(checkpoints())
def test_dominance_never_runs_both_ways_and_a_missing_value_claims_nothing(points: list[Checkpoint]) -> None:
    c = compare(SPEC, points, spec_path="s", baseline=None)
    claimed = {(x.dominant, x.dominated) for x in c.frontier.claims}
    missing = {r.id for r in c.checkpoints if any(p.value is None for p in r.axes)}

    assert not {(b, a) for a, b in claimed} & claimed
    assert not [pair for pair in claimed if set(pair) & missing]
