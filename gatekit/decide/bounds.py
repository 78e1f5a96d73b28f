"""The bound kinds a gate can set. Each is a small pure function, registered by name.

A bound turns the spec's number (the *limit*) and, for relative bounds, the baseline's value into a
*threshold*, and says on which side of it the observed value must lie. The docstrings are the reference
documentation (`gatekit bounds` prints them), so each says what passes and what fails, with an example.

Comparisons are inclusive: a value exactly at its threshold passes. Differences smaller than
`FLOAT_TOLERANCE` times the threshold's magnitude are float rounding, not evidence, and count as "at the
threshold", so that 0.1 + 0.2 against a threshold of 0.3 gives the same answer on every machine (see
`passes` for the exact rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gatekit.spec.model import BoundName

FLOAT_TOLERANCE = 1e-9

Side = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class Threshold:
    """Where the line is, or why it cannot be drawn (then the bound is *missing*, never passed)."""

    value: float | None
    problem: str | None = None


ThresholdRule = Callable[[float, float | None], Threshold]


@dataclass(frozen=True)
class BoundKind:
    name: BoundName
    side: Side
    needs_baseline: bool
    rule: ThresholdRule
    doc: str
    symbol: str

    def threshold(self, limit: float, baseline: float | None) -> Threshold:
        return self.rule(limit, baseline)


BOUND_KINDS: dict[str, BoundKind] = {}


BREACH_SYMBOL = {">=": "<", "<=": ">"}
"""How a report writes a breach of each bound's symbol (0.4 < 0.5)."""


def _bound(
    name: BoundName, side: Side, *, needs_baseline: bool, symbol: str
) -> Callable[[ThresholdRule], ThresholdRule]:
    def register(rule: ThresholdRule) -> ThresholdRule:
        BOUND_KINDS[name] = BoundKind(name, side, needs_baseline, rule, (rule.__doc__ or "").strip(), symbol)
        return rule

    return register


@_bound("min", "at_least", needs_baseline=False, symbol=">=")
def _min(limit: float, baseline: float | None) -> Threshold:
    """Absolute floor. Passes when observed >= min.

    `min: 0.95` passes 0.95 and 0.962, fails 0.949.
    """
    return Threshold(limit)


@_bound("max", "at_most", needs_baseline=False, symbol="<=")
def _max(limit: float, baseline: float | None) -> Threshold:
    """Absolute ceiling. Passes when observed <= max.

    `max: 0.02` passes 0.02 and 0.015, fails 0.021.
    """
    return Threshold(limit)


@_bound("max_increase", "at_most", needs_baseline=True, symbol="<=")
def _max_increase(limit: float, baseline: float | None) -> Threshold:
    """No more than `max_increase` above the baseline, in the metric's units. Passes when observed <= baseline + limit.

    `max_increase: 0.01` with baseline 0.030 passes 0.040, fails 0.041.
    """
    assert baseline is not None
    return Threshold(baseline + limit)


@_bound("max_decrease", "at_least", needs_baseline=True, symbol=">=")
def _max_decrease(limit: float, baseline: float | None) -> Threshold:
    """No more than `max_decrease` below the baseline, in the metric's units. Passes when observed >= baseline - limit.

    `max_decrease: 0.02` with baseline 0.80 passes 0.78, fails 0.779.
    """
    assert baseline is not None
    return Threshold(baseline - limit)


@_bound("max_increase_pct", "at_most", needs_baseline=True, symbol="<=")
def _max_increase_pct(limit: float, baseline: float | None) -> Threshold:
    """No more than `max_increase_pct` percent above the baseline. Passes when observed <= baseline * (1 + pct/100).

    `max_increase_pct: 5` with baseline p95 latency 800 ms passes 840 ms, fails 841 ms.
    A baseline of zero or below makes the bound undefined: missing, never pass.
    """
    assert baseline is not None
    if baseline <= 0:
        return Threshold(None, f"a percent bound needs a positive baseline, and the baseline is {baseline:g}")
    return Threshold(baseline * (1 + limit / 100))


@_bound("max_decrease_pct", "at_least", needs_baseline=True, symbol=">=")
def _max_decrease_pct(limit: float, baseline: float | None) -> Threshold:
    """No more than `max_decrease_pct` percent below the baseline. Passes when observed >= baseline * (1 - pct/100).

    `max_decrease_pct: 1` with baseline 0.800 passes 0.792, fails 0.791.
    A baseline of zero or below makes the bound undefined: missing, never pass.
    """
    assert baseline is not None
    if baseline <= 0:
        return Threshold(None, f"a percent bound needs a positive baseline, and the baseline is {baseline:g}")
    return Threshold(baseline * (1 - limit / 100))


def headroom(side: Side, observed: float, threshold: float) -> float:
    """How far the observed value is on the passing side of the threshold (negative: by how much it breaches)."""
    return threshold - observed if side == "at_most" else observed - threshold


ABSOLUTE_TOLERANCE_FLOOR = 0.0
"""The tolerance never drops below this, and it is zero on purpose: any positive floor is a breach someone
could have meant (a gate of `max: 1.0e-12` on a catastrophic-failure rate, `max: 0` on leaked secrets)."""


def passes(side: Side, observed: float, threshold: float) -> bool:
    """Inclusive comparison with a relative float tolerance; NaN never passes.

    The exact rule: with ``tolerance = max(1e-9 * |threshold|, 0.0)``, an `at_most` bound passes when
    ``observed - threshold <= tolerance`` and an `at_least` bound when ``threshold - observed <= tolerance``.
    So `max: 1.0e-10` fails 9e-10 and passes 1.0000000001e-10 * (1 - 1e-12); `max: 0` passes only values
    <= 0 (even 5e-324 fails); `max: 1000000` passes 1000000.0001 (within 1e-9 of the threshold) and fails
    1000000.01.
    """
    tolerance = max(FLOAT_TOLERANCE * abs(threshold), ABSOLUTE_TOLERANCE_FLOOR)
    return headroom(side, observed, threshold) >= -tolerance
