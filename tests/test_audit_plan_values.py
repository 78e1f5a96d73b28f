"""Audit: absurd `plan:` values are bad input at validate time (exit 2 at the value), never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_SPEC, Run

SPEC = MINIMAL_SPEC.replace("baseline: baseline.yaml\n", "metrics:\n  accuracy: {kind: proportion}\n")


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("{n: 100000000000000000000, truth: {accuracy: {all: 0.6}}}", "plan.n: Input should be less than or equal to"),
        ("{n: 100, n_by_slice: {all: 100000000000000}, truth: {accuracy: {all: 0.6}}}", "plan.n_by_slice.all: Input"),
    ],
    ids=["huge-n", "huge-n-by-slice"],
)
def test_a_huge_planned_n_is_bad_input_at_its_line(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path], plan: str, message: str
) -> None:
    spec = write("gate.yaml", SPEC + f"plan: {plan}\n")
    run = gatekit("validate", spec)
    assert run.code == 2
    assert f"{spec}:" in run.err
    assert message in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize("field", ["truth", "baseline"])
@pytest.mark.parametrize("value", ["2", "-1", "1.0e+308"])
def test_a_proportions_assumed_value_outside_0_and_1_is_bad_input_at_its_line(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path], field: str, value: str
) -> None:
    spec = write("gate.yaml", SPEC + f"plan:\n  n: 100\n  {field}:\n    accuracy: {{all: {value}}}\n")
    run = gatekit("validate", spec)
    assert run.code == 2
    assert (
        f"{spec}:28:21: plan.{field}.accuracy.all: accuracy is a proportion: an assumed value must be within "
        f"[0, 1], not {float(value):g}"
    ) in run.err
