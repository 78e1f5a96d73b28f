"""Spec blocks for decisions across many checkpoints: `checkpoints:`, `frontier:` (see `gatekit compare`).

Kept apart from `gatekit.spec.model` (which imports these) so that the one-checkpoint spec stays short. The
models follow the same rules: frozen, strict, unknown keys refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_Name = Annotated[str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)]
_CheckpointId = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=128),
]


class CheckpointRef(_Model):
    """One checkpoint to compare: its results file and where it sits in the run."""

    id: _CheckpointId
    """The checkpoint's name in every report (e.g. step-4000)."""
    results: _Name
    """Its results file, relative to the file that lists it."""
    order: Annotated[float, Field(allow_inf_nan=False, strict=False)] | None = None
    """Its place in the run (the training step, the stage's position); the table and the series follow it."""
    costs: dict[_Name, Annotated[float, Field(ge=0, allow_inf_nan=False, strict=False)]] = Field(default_factory=dict)
    """Costs to add to (or override in) the results' own `costs`, e.g. {eval_usd: 12.5}."""


def _one_of(data: _Model, names: tuple[str, ...], what: str) -> None:
    given = [n for n in names if getattr(data, n) is not None]
    if len(given) != 1:
        raise PydanticCustomError(
            "one_key", "{what} names exactly one of {names}", {"what": what, "names": ", ".join(names)}
        )


class FrontierAxis(_Model):
    """One axis of the frontier: a metric (its value on one slice) or a cost item."""

    metric: _Name | None = None
    """A metric; its direction comes from `higher_is_better` here or in the spec's `metrics:`."""
    cost: _Name | None = None
    """A cost item of the checkpoints' `costs` (lower is better; costs are exact, they carry no noise)."""
    slice: _Name = "all"
    """The metric's slice."""
    higher_is_better: bool | None = None
    """The metric's direction, when the spec's `metrics:` does not give it."""

    @model_validator(mode="after")
    def _exactly_one(self) -> FrontierAxis:
        _one_of(self, ("metric", "cost"), "a frontier axis")
        if self.cost is not None and self.higher_is_better:
            raise PydanticCustomError("cost_direction", "a cost axis is always lower-is-better")
        return self

    @property
    def label(self) -> str:
        if self.cost is not None:
            return self.cost
        return str(self.metric) if self.slice == "all" else f"{self.metric}[{self.slice}]"


class TieBreak(_Model):
    """How the recommendation is picked among the eligible frontier checkpoints that evidence cannot rank."""

    cost: _Name | None = None
    """The lowest value of this cost item."""
    metric: _Name | None = None
    """The best point estimate of this metric on `all` (a preference, not evidence: say so in the review)."""
    order: Literal["first", "last"] | None = None
    """The earliest or latest checkpoint by its order key."""

    @model_validator(mode="after")
    def _exactly_one(self) -> TieBreak:
        _one_of(self, ("cost", "metric", "order"), "a tie_break")
        return self

    def describe(self) -> str:
        if self.cost is not None:
            return f"lowest {self.cost}"
        if self.metric is not None:
            return f"best point estimate of {self.metric}"
        return f"{self.order} by order"


class Frontier(_Model):
    """The axes of the noise-aware Pareto frontier, and the tie-break among its eligible checkpoints."""

    axes: Annotated[tuple[FrontierAxis, ...], Field(min_length=1), BeforeValidator(_tuple)]
    """e.g. [{metric: accuracy}, {cost: eval_usd}, {metric: latency_p95_ms}]."""
    tie_break: TieBreak | None = None
    """Default: the lowest value of the first cost axis, else the first checkpoint by order."""

    @model_validator(mode="after")
    def _no_repeats(self) -> Frontier:
        labels = [a.label for a in self.axes]
        for label in labels:
            if labels.count(label) > 1:
                raise PydanticCustomError("duplicate_axis", "axis {label} is listed twice", {"label": label})
        return self

    def default_tie_break(self) -> TieBreak:
        if self.tie_break is not None:
            return self.tie_break
        for axis in self.axes:
            if axis.cost is not None:
                return TieBreak(cost=axis.cost)
        return TieBreak(order="first")


class CheckpointList(_Model):
    """A lineage file: the checkpoints of one run (or the stages of one lineage), in order."""

    checkpoints: Annotated[tuple[CheckpointRef, ...], Field(min_length=1), BeforeValidator(_tuple)]
