"""The planned evidence and the sequential designs a gate's decisions may follow."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gatekit.spec.base import FiniteFloat, MinN, NonEmptyStr, _Model, located_error

MAX_PLANNED_N = 10**9
"""The planner's ceiling per slice: beyond it the exact binomial tail would need more memory than a machine
has (a crash, not a plan), and no eval set is that large."""
PlannedN = Annotated[int, Field(ge=1, le=MAX_PLANNED_N)]

SequentialMethod = Literal["confidence-sequence", "obrien-fleming", "pocock"]
SPENDING_METHODS: frozenset[str] = frozenset({"obrien-fleming", "pocock"})


class Sequential(_Model):
    """A sequential design: decisions that stay valid when results are checked again as they arrive.

    `confidence-sequence` uses an anytime-valid bound (any number of looks) tuned to be tightest at `max_n`;
    `obrien-fleming` and `pocock` spend the gate's alpha (Lan-DeMets) over `max_looks` pre-registered looks,
    or by information fraction n / `max_n`. Every look recorded in the ledger counts. See docs/planning.md."""

    method: SequentialMethod
    """confidence-sequence (needs max_n), obrien-fleming or pocock (need max_looks or max_n)."""
    max_looks: Annotated[int, Field(ge=1, le=10_000)] | None = None
    """The number of looks the alpha is spent over; a look past it cannot pass."""
    max_n: MinN | None = None
    """Examples per slice the design is planned for: the confidence sequence is tightest there; alpha spending
    with `max_n` spends by information fraction n / max_n (and `max_looks`, if also given, caps the looks)."""

    @model_validator(mode="after")
    def _horizon_given(self) -> Sequential:
        if self.method in SPENDING_METHODS and self.max_looks is None and self.max_n is None:
            raise located_error(
                ("max_looks",),
                f"{self.method} spends alpha over `max_looks` looks or up to `max_n` examples",
                "missing",
            )
        if self.method == "confidence-sequence" and self.max_n is None:
            raise located_error(("max_n",), "a confidence sequence is tuned for `max_n` examples: give it", "missing")
        return self


PlanValues = dict[NonEmptyStr, dict[NonEmptyStr, FiniteFloat]]


class Plan(_Model):
    """The evidence planned before the run: examples per slice and the truth assumed when sizing them.

    `gatekit validate` flags a check that cannot pass at the planned n; `gatekit plan` prints each check's
    chance to pass and the whole gate's chance to ship. Locking the spec pre-registers the planned n, and
    `gatekit check` notes results whose n differs from it."""

    n: PlannedN | None = None
    """Planned examples per slice (and per arm), unless `n_by_slice` names the slice."""
    n_by_slice: dict[NonEmptyStr, PlannedN] = Field(default_factory=dict)
    """Planned examples of named slices, e.g. {harmless: 400}."""
    ship_probability: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 0.8
    """The chance the whole gate should ship a candidate whose truth is as assumed."""
    truth: PlanValues = Field(default_factory=dict)
    """Assumed true candidate values, {metric: {slice: value}}; slice "*" stands for every slice."""
    baseline: PlanValues = Field(default_factory=dict)
    """Assumed true baseline values, as `truth`; default: the baseline results file's values."""
    effect: dict[NonEmptyStr, FiniteFloat] = Field(default_factory=dict)
    """Assumed true change of the candidate over the baseline, per metric, where `truth` gives no value."""
    sd: dict[NonEmptyStr, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(default_factory=dict)
    """Per-example standard deviation of a mean metric; default: read from the baseline's stderr and n."""

    def planned_n(self, slice_name: str) -> int | None:
        return self.n_by_slice.get(slice_name, self.n)
