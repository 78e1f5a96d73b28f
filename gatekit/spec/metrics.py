"""Metric definitions: a metric's kind and direction, and how it is computed from a per-example table."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from gatekit.spec.base import AsTuple, FiniteFloat, MetricKind, NonEmptyStr, _Model, located_error

Aggregate = Literal["rate", "mean", "sum", "count", "p50", "p90", "p95", "p99", "pass_all", "pass_any"]
AGGREGATE_KINDS: dict[str, MetricKind | None] = {
    "rate": "proportion",
    "pass_all": "proportion",
    "pass_any": "proportion",
    "mean": "mean",
    "sum": None,
    "count": "count",
    "p50": "quantile",
    "p90": "quantile",
    "p95": "quantile",
    "p99": "quantile",
}
"""The metric kind each aggregate produces (a sum has no fixed kind: a sum of costs is not a count)."""


class RowFilter(_Model):
    """Keep only the rows of a per-example table where `column` equals `equals`."""

    column: NonEmptyStr
    """The column to test, e.g. category."""
    equals: str | bool | int | FiniteFloat
    """The value a row must have to be kept (compared exactly; "harmless" does not match "Harmless")."""


class ColumnAggregate(_Model):
    """How a metric is computed from a per-example table, per slice: an aggregate of one column."""

    column: NonEmptyStr | None = None
    """The column aggregated; `count` needs none (it counts rows)."""
    aggregate: Aggregate
    """rate (share of true in a boolean or 0/1 column), mean, sum, count, or a quantile p50/p90/p95/p99.
    With `table.repeats`: pass_all (pass^k: an example passes when every repeat passed), pass_any (pass@k: when
    any repeat passed), or mean/sum/quantile of each example's mean over its repeats."""
    where: RowFilter | None = None
    """Optional: aggregate only the rows that pass this filter."""

    @model_validator(mode="after")
    def _column_given(self) -> ColumnAggregate:
        if self.column is None and self.aggregate != "count":
            raise located_error(("column",), f"aggregate {self.aggregate!r} needs a `column`", "column_required")
        return self


class JudgeValidity(_Model):
    """Whether a metric scored by a judge (an LLM or a model grader) has been checked against human labels."""

    validated: bool
    """true once the judge's agreement with human labels was measured and accepted; false ships nothing alone."""
    agreement: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    """Agreement with the human labels (e.g. 0.87), as measured."""
    labels: Annotated[int, Field(ge=1)] | None = None
    """How many human labels the agreement was measured on."""


class MetricDefinition(_Model):
    """What gatekit should know about a metric to judge it correctly."""

    kind: MetricKind | None = None
    """proportion (a rate in [0, 1]), mean, quantile (e.g. p95 latency) or count."""
    higher_is_better: bool | None = None
    """Direction of improvement; used by the hypothesis check and the cost-per-point budget."""
    description: str | None = None
    from_: ColumnAggregate | None = Field(default=None, alias="from")
    """For per-example tables: the column and aggregate the metric is computed from, per slice."""
    judge: JudgeValidity | None = None
    """The metric is a judge's score: an unvalidated judge's gates can at best give revise, never ship."""
    range_: Annotated[tuple[float, ...], Field(min_length=2, max_length=2), AsTuple] | None = Field(
        default=None, alias="range"
    )
    """`[lo, hi]`: every per-example value lies in this range (a score in [0, 1]). Means of such values get the
    betting interval, valid for any distribution on the range; a value outside it is an error, not data."""

    @model_validator(mode="after")
    def _range_is_ordered(self) -> MetricDefinition:
        if self.range_ is not None and not self.range_[0] < self.range_[1]:
            raise located_error(("range",), f"range {list(self.range_)} needs lo < hi", "range_order")
        return self

    @model_validator(mode="before")
    @classmethod
    def _kind_from_aggregate(cls, data: Any) -> Any:
        # A derived metric's kind follows from its aggregate, so `kind:` need not be repeated.
        if isinstance(data, dict) and "kind" not in data and isinstance(data.get("from"), dict):
            kind = AGGREGATE_KINDS.get(data["from"].get("aggregate"))
            if kind is not None:
                return {**data, "kind": kind}
        return data

    @model_validator(mode="after")
    def _kind_fits_aggregate(self) -> MetricDefinition:
        if self.from_ is None or self.kind is None:
            return self
        implied = AGGREGATE_KINDS[self.from_.aggregate]
        fits = self.kind == implied if implied is not None else self.kind not in ("proportion", "quantile")
        if not fits:
            raise located_error(
                ("kind",),
                f"kind {self.kind!r} does not fit aggregate {self.from_.aggregate!r}"
                + (f" (it gives a {implied})" if implied else ""),
                "kind_mismatch",
            )
        return self
