"""Verdicts for report tests, built in memory from tests.factories (no files)."""

from __future__ import annotations

from typing import Any

from gatekit.decide.verdict import Verdict, build_verdict
from tests.factories import results, spec


def verdict_of(*gates: dict[str, Any], candidate: dict[str, dict[str, float]], name: str = "test") -> Verdict:
    """The verdict of `gates` (no baseline) on `candidate` metrics; the spec path is `gates/test.yaml`."""
    return build_verdict(
        spec(*gates, baseline=False, name=name),
        results(candidate),
        None,
        spec_path="gates/test.yaml",
        gate_lines={g["id"]: 10 + 5 * i for i, g in enumerate(gates)},
    )
