"""`--baseline FILE` stands in for a spec's missing `baseline:`, as `--candidate FILE` does for `candidate:`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import EXAMPLE, Run


def _spec_without_baseline(write: Callable[[str, str], Path]) -> Path:
    text = (EXAMPLE / "gate.yaml").read_text(encoding="utf-8")
    text = text.replace("baseline: baseline.yaml\n", "").replace(
        "candidate: candidate-good.yaml", f"candidate: {EXAMPLE / 'candidate-good.yaml'}"
    )
    return write("gate.yaml", text)


def test_check_takes_the_baseline_from_the_command_line(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    spec = _spec_without_baseline(write)

    result = gatekit("check", spec, "--baseline", EXAMPLE / "baseline.yaml", "--no-color", "--width", "140")

    assert result.code == 0
    assert "SHIP: all 16 gate checks passed" in result.out


def test_check_without_any_baseline_is_an_error_at_the_relative_bound(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    spec = _spec_without_baseline(write)

    result = gatekit("check", spec)

    assert result.code == 2
    assert result.err == (
        f"error: {spec}:43:19: gates[2].max_increase: max_increase compares with a baseline, but the spec names "
        "no `baseline` results file (set `baseline:`, or give --baseline FILE)\n"
    )


def test_validate_accepts_relative_bounds_when_told_the_baseline(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    spec = _spec_without_baseline(write)

    without = gatekit("validate", spec)
    told = gatekit("validate", spec, "--baseline", EXAMPLE / "baseline.yaml")

    assert without.code == 2
    assert (told.code, told.out) == (0, f"{spec}: valid (5 gates, 5 bounds)\n")


def test_lock_needs_no_baseline(gatekit: Callable[..., Run], write: Callable[[str, str], Path]) -> None:
    spec = _spec_without_baseline(write)

    result = gatekit("lock", spec)

    assert result.code == 0
    assert result.out.startswith("sha256:")
