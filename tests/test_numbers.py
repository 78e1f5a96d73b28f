"""One number formatter for every report: precision from the interval, no exponent for ordinary magnitudes."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekit.decide.verdict import build_verdict
from gatekit.numbers import format_number, interval_width
from gatekit.outcomes import GateOutcome
from gatekit.report import RenderOptions, render
from gatekit.results import Measurement
from tests.conftest import EXAMPLE, Run
from tests.factories import results, spec

CASES = [
    # value, interval width, signed, shown
    (0.0464833, None, True, "+0.0464833"),
    (0.0464833, 0.023, True, "+0.046"),
    (1590.4, None, False, "1,590.4"),
    (1750.2, 160.0, False, "1,750"),
    (12000.0, None, False, "12,000"),
    (0.30000000000000004, None, False, "0.3"),
    (0.97, 0.012, False, "0.970"),
    (-0.0001, 0.02, True, "0.000"),
    (0.0, None, True, "0"),
    (2.5e-7, None, False, "2.5e-07"),
    (3.0e16, None, False, "3e+16"),
    (float("nan"), None, False, "NaN"),
    (float("inf"), None, False, "+inf"),
    (None, None, False, "n/a"),
]


@pytest.mark.parametrize(("value", "width", "signed", "shown"), CASES)
def test_format_number(value: float | None, width: float | None, signed: bool, shown: str) -> None:
    assert format_number(value, uncertainty=width, signed=signed) == shown


@given(st.floats(min_value=1e-4, max_value=1e14) | st.floats(min_value=-1e14, max_value=-1e-4))
def test_ordinary_magnitudes_have_no_exponent_and_read_back_to_six_digits(value: float) -> None:
    shown = format_number(value)

    assert "e" not in shown
    assert math.isclose(float(shown.replace(",", "")), value, rel_tol=5e-6)


@given(st.floats(min_value=-1e6, max_value=1e6), st.floats(min_value=1e-6, max_value=1e3))
def test_a_value_is_shown_within_a_tenth_of_its_interval(value: float, width: float) -> None:
    shown = format_number(value, uncertainty=width)

    assert abs(float(shown.replace(",", "")) - value) <= width / 10 + 1e-12 * max(1.0, abs(value))


def test_interval_width_needs_both_sides() -> None:
    assert (interval_width((0.1, 0.3)), interval_width((None, 0.3)), interval_width(None)) == (
        pytest.approx(0.2),
        None,
        None,
    )


def test_a_ship_without_a_budget_does_not_say_the_budget_held() -> None:
    verdict = build_verdict(
        spec({"id": "acc", "metric": "accuracy", "min": 0.5}, baseline=False),
        results({"accuracy": {"all": 0.9}}),
        None,
        spec_path="g.yaml",
    )

    assert verdict.summary == "SHIP: all 1 gate checks passed and the rollback manifest is complete"


def test_markdown_bullet_says_the_interval_once() -> None:
    verdict = build_verdict(
        spec({"id": "r", "metric": "refusal", "max": 0.06}, metrics={"refusal": {"kind": "proportion"}}),
        results({"refusal": {"all": Measurement(0.058, n=1000)}}),
        None,
        spec_path="g.yaml",
    )
    (outcome,) = verdict.gates
    assert isinstance(outcome, GateOutcome)
    assert outcome.status == "inconclusive"

    markdown = render(verdict, "markdown", RenderOptions())
    (bullet,) = [line for line in markdown.splitlines() if line.startswith("- `r[all].max`")]

    assert (bullet.count("interval"), bullet.count("examples per arm")) == (1, 1)


@pytest.mark.parametrize("width", ["0", "59"])
def test_a_table_narrower_than_60_columns_is_a_usage_error(width: str, gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", EXAMPLE / "gate.yaml", "--width", width)

    assert (result.code, result.out) == (2, "")
    assert "Invalid value for '--width'" in result.err
