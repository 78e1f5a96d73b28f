"""A gate: a threshold on one metric, per slice, with its bounds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gatekit.spec.base import (
    AGGREGATE_SLICE,
    BOUND_NAMES,
    EVERY_SLICE,
    RELATIVE_BOUNDS,
    AsTuple,
    BoundName,
    Confidence,
    FiniteFloat,
    Identifier,
    MinN,
    NonEmptyStr,
    NonNegativeFloat,
    OnFail,
    _Model,
)
from gatekit.spec.planning import Sequential


class Gate(_Model):
    """A threshold on one metric, applied to each listed slice independently; each bound is its own check."""

    id: Identifier
    """Unique name of the gate; it names the gate in every report."""
    metric: NonEmptyStr
    """The metric name as it appears in the results."""
    slices: Annotated[tuple[NonEmptyStr, ...], Field(min_length=1), AsTuple] = (AGGREGATE_SLICE,)
    """Slice names to check; "*" means every slice present in the candidate results. Default: ["all"]."""
    description: str | None = None
    on_fail: OnFail = "revise"
    """What a breach of this gate means: revise (fix and retry) or stop (do not release)."""
    min: FiniteFloat | None = None
    """Absolute floor: passes when observed >= min."""
    max: FiniteFloat | None = None
    """Absolute ceiling: passes when observed <= max."""
    max_increase: NonNegativeFloat | None = None
    """Passes when observed <= baseline + max_increase (metric units)."""
    max_decrease: NonNegativeFloat | None = None
    """Passes when observed >= baseline - max_decrease (metric units)."""
    max_increase_pct: NonNegativeFloat | None = None
    """Passes when observed <= baseline * (1 + pct/100); needs a positive baseline."""
    max_decrease_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    """Passes when observed >= baseline * (1 - pct/100); needs a positive baseline."""
    confidence: Confidence | None = None
    """One-sided confidence of this gate's decisions; default: the spec's `confidence`."""
    min_n: MinN | None = None
    """Fewest examples a slice needs before this gate can pass; default: the spec's `min_n`."""
    require_uncertainty: bool | None = None
    """Make a value whose uncertainty is unknown inconclusive (true) or gate it on the point estimate (false);
    default: the spec's setting (true)."""
    sequential: Sequential | None = None
    """This gate's sequential design; default: the spec's `sequential`."""

    @field_validator("slices")
    @classmethod
    def _slices_well_formed(cls, slices: tuple[str, ...]) -> tuple[str, ...]:
        if EVERY_SLICE in slices and len(slices) > 1:
            raise PydanticCustomError("star_with_names", '"*" already means every slice: list it alone')
        duplicates = sorted({s for s in slices if slices.count(s) > 1})
        if duplicates:
            raise PydanticCustomError("duplicate_slice", "slice '{slice}' is listed twice", {"slice": duplicates[0]})
        return slices

    @model_validator(mode="after")
    def _bounds_make_sense(self) -> Gate:
        if not self.bounds():
            raise PydanticCustomError(
                "gate_without_bound",
                "gate '{id}' has no bound: give at least one of " + ", ".join(BOUND_NAMES),
                {"id": self.id},
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError(
                "unsatisfiable_gate",
                "gate '{id}' can never pass: min {min} is above max {max}",
                {"id": self.id, "min": self.min, "max": self.max},
            )
        return self

    def bounds(self) -> tuple[tuple[BoundName, float], ...]:
        """The bounds this gate sets, in a fixed order."""
        return tuple((name, value) for name in BOUND_NAMES if (value := getattr(self, name)) is not None)

    def needs_baseline(self) -> bool:
        return any(name in RELATIVE_BOUNDS for name, _ in self.bounds())
