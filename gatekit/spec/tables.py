"""Options for per-example tables (slicing, bad rows, repeats) and the review queue shown from them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gatekit.spec.base import AsTuple, NonEmptyStr, _Model, located_error

FlakyPolicy = Literal["count", "exclude", "fail"]


class TableOptions(_Model):
    """How per-example tables (JSONL, CSV, Parquet, harness sample files) are sliced and checked."""

    slice_by: Annotated[tuple[NonEmptyStr, ...], AsTuple] = ()
    """Columns whose values become slices, named `column=value` (e.g. task=billing). `all` is always there."""
    slice_cross: Annotated[tuple[Annotated[tuple[NonEmptyStr, NonEmptyStr], AsTuple], ...], AsTuple] = ()
    """Pairs of columns crossed into slices named `a=x,b=y`, e.g. [[task, language]]."""
    id_column: NonEmptyStr | None = None
    """The example id column that pairs candidate and baseline rows. Default: `id` when the table has one."""
    non_negative: Annotated[tuple[NonEmptyStr, ...], AsTuple] = ()
    """Columns where a negative value is a bad row, e.g. [latency_ms, cost_usd]."""
    drop_invalid: bool = False
    """Compute metrics on the valid rows when some rows are bad (the count is still reported). Default: a
    metric built from bad rows is missing."""
    allow_partial: bool = False
    """Accept partial harness runs (lm-eval `--limit`: fewer effective than original samples) for gating."""
    repeats: NonEmptyStr | None = None
    """The column that numbers an example's repeated samples (epochs, --repeat): rows are reduced to one per
    example (see `aggregate: pass_all | pass_any | mean`) before any metric is computed; n counts examples."""
    flaky: FlakyPolicy = "count"
    """An example whose repeats disagree (pass and fail) is flaky: count (report it), exclude (leave it out of
    every metric, and say so) or fail (a gate check on a slice with a flaky example fails)."""

    @model_validator(mode="after")
    def _no_repeats(self) -> TableOptions:
        for i, column in enumerate(self.slice_by):
            if column in self.slice_by[:i]:
                raise located_error(("slice_by", i), f"column {column!r} is listed twice", "duplicate_column")
        for i, (a, b) in enumerate(self.slice_cross):
            if a == b:
                raise located_error(("slice_cross", i), f"cannot cross {a!r} with itself", "self_cross")
        return self


class ReviewOptions(_Model):
    """What the review queue shows: the examples behind a failing or inconclusive slice (`check --review`)."""

    columns: Annotated[tuple[NonEmptyStr, ...], AsTuple] = ()
    """Columns of the per-example table shown with each example, e.g. [prompt, output]."""
    limit: Annotated[int, Field(ge=1)] = 50
    """Most examples listed per (gate, slice) and per disagreement slice."""
    show: Annotated[int, Field(ge=0)] = 10
    """Most examples per slice the Markdown and HTML reports show (the --review file has `limit`)."""
    disagree: Annotated[tuple[Annotated[tuple[NonEmptyStr, NonEmptyStr], AsTuple], ...], AsTuple] = ()
    """Pairs of metrics that score the same examples (two scorers, two filters), e.g. [[judge_ok, exact_ok]]:
    the examples on which they disagree are listed per slice."""
