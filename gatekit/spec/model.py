"""The gate spec: pydantic models that are the single source of truth for validation, defaults and JSON Schema.

A spec is written before the run. It holds the hypothesis, the gates, the cost budget and the rollback
manifest. Every model is frozen, strict (no `"0.9"` for a number, no `true` for 1) and forbids unknown keys.
This module does no I/O; `gatekit.sources.load.load_spec` reads files.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from gatekit.spec.many import CheckpointRef, Frontier

SPEC_VERSION = 1

Stage = Literal["pretraining", "sft", "preference", "quantization", "adapter", "vendor-selection", "serving", "other"]
STAGES: tuple[Stage, ...] = (
    "pretraining",
    "sft",
    "preference",
    "quantization",
    "adapter",
    "vendor-selection",
    "serving",
    "other",
)
OnFail = Literal["revise", "stop"]
MetricKind = Literal["proportion", "mean", "quantile", "count"]
BoundName = Literal["min", "max", "max_increase", "max_decrease", "max_increase_pct", "max_decrease_pct"]
BOUND_NAMES: tuple[BoundName, ...] = (
    "min",
    "max",
    "max_increase",
    "max_decrease",
    "max_increase_pct",
    "max_decrease_pct",
)
RELATIVE_BOUNDS: frozenset[str] = frozenset({"max_increase", "max_decrease", "max_increase_pct", "max_decrease_pct"})
ArtifactName = Literal[
    "checkpoint",
    "tokenizer",
    "adapter",
    "generation_config",
    "serving_image",
    "data_revision",
    "code_revision",
    "eval_record",
]
ARTIFACT_NAMES: tuple[ArtifactName, ...] = (
    "checkpoint",
    "tokenizer",
    "adapter",
    "generation_config",
    "serving_image",
    "data_revision",
    "code_revision",
    "eval_record",
)
_EVERYTHING_BUT_ADAPTER: tuple[ArtifactName, ...] = tuple(a for a in ARTIFACT_NAMES if a != "adapter")
REQUIRED_ARTIFACTS: dict[Stage, tuple[ArtifactName, ...]] = {
    "pretraining": _EVERYTHING_BUT_ADAPTER,
    "sft": _EVERYTHING_BUT_ADAPTER,
    "preference": _EVERYTHING_BUT_ADAPTER,
    "quantization": _EVERYTHING_BUT_ADAPTER,
    "adapter": ARTIFACT_NAMES,
    # A vendor's model is pinned by its version id; its tokenizer, weights and serving stack are not ours.
    "vendor-selection": ("checkpoint", "generation_config", "code_revision", "eval_record"),
    "serving": _EVERYTHING_BUT_ADAPTER,
    "other": _EVERYTHING_BUT_ADAPTER,
}
"""Which rollback entries a stage needs before it can ship; `rollback.require` adds to these."""

Correction = Literal["holm", "bonferroni", "none"]
Confidence = Annotated[float, Field(gt=0.5, lt=1, allow_inf_nan=False)]
MinN = Annotated[int, Field(ge=1)]
MAX_PLANNED_N = 10**9
"""The planner's ceiling per slice: beyond it the exact binomial tail would need more memory than a machine
has (a crash, not a plan), and no eval set is that large."""
PlannedN = Annotated[int, Field(ge=1, le=MAX_PLANNED_N)]

AGGREGATE_SLICE = "all"
EVERY_SLICE = "*"


def _list_to_tuple(value: Any) -> Any:
    # YAML and JSON have lists; the frozen models hold tuples. Elements stay strictly validated.
    return tuple(value) if isinstance(value, list) else value


AsTuple = BeforeValidator(_list_to_tuple)
NonEmptyStr = Annotated[str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        max_length=128,
        description="Letters, digits, '_', '.', '-'; starts with a letter or digit.",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
    )


class Hypothesis(_Model):
    """What the run is meant to improve, written down before it starts."""

    statement: NonEmptyStr
    """One or two sentences: what changes, what should improve, what must not get worse."""
    stage: Stage
    """The kind of run; it decides which rollback artifacts are required."""
    improves: Annotated[
        tuple[NonEmptyStr, ...],
        Field(min_length=1),
        BeforeValidator(lambda v: (v,) if isinstance(v, str) else _list_to_tuple(v)),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                ]
            }
        ),
    ]
    """The metric or metrics the run is meant to improve (a name, or a list of names)."""
    owner: NonEmptyStr
    """Who is accountable for the release decision."""
    written: Annotated[dt.date, Field(strict=False)]
    """The date the hypothesis was written (YYYY-MM-DD); not in the future."""

    @field_validator("written")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        if value > dt.date.today() + dt.timedelta(days=1):  # a day of slack for time zones
            raise PydanticCustomError(
                "date_in_future",
                "the hypothesis cannot be written in the future ({value})",
                {"value": value.isoformat()},
            )
        return value


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


class CostPerPoint(_Model):
    """A limit on cost per point gained: cost spent / (candidate - baseline) on a metric, in units of `point`."""

    cost: NonEmptyStr
    """The cost item in the candidate's `costs` (e.g. train_usd)."""
    metric: NonEmptyStr
    """The metric whose gain the cost bought."""
    slice: NonEmptyStr = AGGREGATE_SLICE
    point: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """The size of one point in the metric's units (0.01 for a percentage point of a 0-1 rate)."""
    limit: NonNegativeFloat
    """Highest acceptable cost per point."""
    higher_is_better: bool = True
    """Whether a gain means the metric going up."""


class Budget(_Model):
    """Cost limits checked against the `costs` recorded in the candidate results. Exceeding one stops a release."""

    limits: dict[NonEmptyStr, NonNegativeFloat] = Field(default_factory=dict)
    """Named cost limits, e.g. {train_gpu_hours: 400, train_usd: 12000, eval_usd: 300}."""
    max_cost_per_point: CostPerPoint | None = None


class ArtifactRef(_Model):
    """Where an artifact lives and what pins it: a sha256 digest or a full git revision."""

    uri: NonEmptyStr
    """A path, URL, hub id or image reference."""
    digest: str | None = None
    """"sha256:" followed by 64 lowercase hex digits."""
    revision: str | None = None
    """A full 40- (or 64-) hex git commit id. Branch names and short ids are not pins."""


class RollbackManifest(_Model):
    """Everything needed to put the previous release back, each entry pinned so that it cannot drift."""

    require: Annotated[tuple[ArtifactName, ...], AsTuple] = ()
    """Entries required in addition to those the stage requires."""
    checkpoint: ArtifactRef | None = None
    tokenizer: ArtifactRef | None = None
    adapter: ArtifactRef | None = None
    generation_config: ArtifactRef | None = None
    serving_image: ArtifactRef | None = None
    data_revision: ArtifactRef | None = None
    code_revision: ArtifactRef | None = None
    eval_record: ArtifactRef | None = None

    def entries(self) -> Iterator[tuple[ArtifactName, ArtifactRef | None]]:
        for name in ARTIFACT_NAMES:
            yield name, getattr(self, name)


def _version_supported(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value != SPEC_VERSION:
        raise PydanticCustomError(
            "unsupported_spec_version",
            "unsupported spec version {version}: this gatekit reads version {supported}",
            {"version": value, "supported": SPEC_VERSION},
        )
    return value


class Spec(_Model):
    """A release gate: hypothesis, gates, budget and rollback manifest, written before the run."""

    version: Annotated[Literal[1], BeforeValidator(_version_supported)]
    """Spec format version. Always 1 for now."""
    name: NonEmptyStr
    """The release this gate decides, e.g. incident-bot-sft-v3."""
    hypothesis: Hypothesis
    candidate: NonEmptyStr | None = None
    """Results file of the checkpoint under test, relative to the spec file (override: --candidate)."""
    baseline: NonEmptyStr | None = None
    """Results file of the checkpoint to compare against (override: --baseline); needed by relative bounds."""
    candidate_model: NonEmptyStr | None = None
    """The model or provider to read from a candidate file that holds several (a promptfoo run of two providers:
    `echo`, `python:provider.py:default`); such a file is never pooled (override: --candidate-model)."""
    baseline_model: NonEmptyStr | None = None
    """The model or provider to read from the baseline file, as `candidate_model` (override: --baseline-model)."""
    metrics: dict[NonEmptyStr, MetricDefinition] = Field(default_factory=dict)
    """Optional facts about metrics: kind and direction."""
    gates: Annotated[tuple[Gate, ...], AsTuple]
    """The release gates; at least one."""
    budget: Budget = Budget()
    rollback: RollbackManifest
    confidence: Confidence = 0.95
    """One-sided confidence of every decision: pass needs the interval's harmful-side bound to clear the
    threshold, fail needs its favourable-side bound beyond it. Gates may override it."""
    min_n: MinN | None = None
    """Fewest examples a slice needs before any gate can pass on it (fewer: inconclusive). Gates may override it."""
    correction: Correction = "holm"
    """Family-wise correction of fail decisions over all checks: holm, bonferroni or none. Pass needs none."""
    require_uncertainty: bool = True
    """A value whose uncertainty is unknown (no per-example values, no stderr, or `{value, n}` of a metric with
    no declared kind) is inconclusive; `false` gates it on the point estimate instead, flagged in the report."""
    require_lock: bool = False
    """Refuse to ship unless the spec is locked (`gatekit lock`): an unlocked spec asks to revise."""
    ledger: NonEmptyStr | None = None
    """Decision ledger (SQLite) that `gatekit check` records into, relative to the spec file."""
    table: TableOptions = TableOptions()
    """Options for per-example results tables and harness outputs: slices, id column, bad-row policy."""
    plan: Plan | None = None
    """The planned evidence: examples per slice and the assumed truth (`gatekit plan`)."""
    sequential: Sequential | None = None
    """A sequential design for every gate (checking results as they arrive); gates may override it."""
    review: ReviewOptions = ReviewOptions()
    """The review queue and the disagreement queue: which columns to show, how many examples."""
    checkpoints: Annotated[tuple[CheckpointRef, ...], AsTuple] = ()
    """`gatekit compare`: the checkpoints to compare when none are given on the command line."""
    frontier: Frontier | None = None
    """`gatekit compare`: the axes of the noise-aware Pareto frontier and the tie-break. Default: the
    hypothesis's `improves` metrics on `all`."""
    stopping: CostPerPoint | None = None
    """`gatekit compare --series`: continue or stop along a run, by the marginal gain's cost per point
    (`cost` is cumulative per checkpoint). Default: `budget.max_cost_per_point`."""

    @field_validator("gates")
    @classmethod
    def _at_least_one_gate(cls, gates: tuple[Gate, ...]) -> tuple[Gate, ...]:
        # Checked after the items, so that one broken gate is not also reported as "no gates".
        if not gates:
            raise PydanticCustomError("no_gates", "a spec needs at least one gate")
        return gates

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Spec:
        # `check --baseline FILE` supplies the baseline the spec does not name (context from `load_spec`).
        baseline_given = self.baseline is not None or bool((info.context or {}).get("baseline_given"))
        first_index: dict[str, int] = {}
        for i, gate in enumerate(self.gates):
            if gate.id in first_index:
                raise located_error(
                    ("gates", i, "id"),
                    f"duplicate gate id {gate.id!r}: gates[{first_index[gate.id]}] already uses it",
                    "duplicate_gate_id",
                )
            first_index[gate.id] = i
            if not baseline_given:
                for bound, _ in gate.bounds():
                    if bound in RELATIVE_BOUNDS:
                        raise located_error(
                            ("gates", i, bound),
                            f"{bound} compares with a baseline, but the spec names no `baseline` results file "
                            "(set `baseline:`, or give --baseline FILE)",
                            "baseline_required",
                        )
            definition = self.metrics.get(gate.metric)
            if definition is not None and definition.kind == "proportion":
                for bound in ("min", "max"):
                    value = getattr(gate, bound)
                    if value is not None and not 0 <= value <= 1:
                        raise located_error(
                            ("gates", i, bound),
                            f"{gate.metric} is a proportion (0 to 1) but {bound} is {value}; for 95% write 0.95",
                            "proportion_out_of_range",
                        )
        if self.table.repeats is not None:
            for name, definition in self.metrics.items():
                source = definition.from_
                if source is not None and source.aggregate == "rate":
                    raise located_error(
                        ("metrics", name, "from", "aggregate"),
                        "with table.repeats, say how an example's repeats combine: pass_all (pass^k: every "
                        "repeat passed), pass_any (pass@k: any repeat passed) or mean",
                        "rate_with_repeats",
                    )
        if self.budget.max_cost_per_point is not None and not baseline_given:
            raise located_error(
                ("budget", "max_cost_per_point"),
                "max_cost_per_point measures gain over a baseline, but the spec names no `baseline` "
                "(set `baseline:`, or give --baseline FILE)",
                "baseline_required",
            )
        return self

    @model_validator(mode="after")
    def _many_checkpoints(self) -> Spec:
        seen: set[str] = set()
        for i, ref in enumerate(self.checkpoints):
            if ref.id in seen:
                raise located_error(("checkpoints", i, "id"), f"duplicate checkpoint id {ref.id!r}", "duplicate_id")
            seen.add(ref.id)
        for i, axis in enumerate(self.frontier.axes if self.frontier else ()):
            if axis.metric is not None and self.metric_direction(axis.metric, axis.higher_is_better) is None:
                raise located_error(
                    ("frontier", "axes", i, "metric"),
                    f"the direction of {axis.metric!r} is unknown: set higher_is_better on the axis or in `metrics:`",
                    "direction_unknown",
                )
        return self

    def metric_direction(self, metric: str, override: bool | None = None) -> bool | None:
        """Whether higher is better for `metric`: the override, else `metrics:`, else unknown (None)."""
        return override if override is not None else self.metric_definition(metric).higher_is_better

    def required_artifacts(self) -> tuple[ArtifactName, ...]:
        stage = REQUIRED_ARTIFACTS[self.hypothesis.stage]
        return tuple(a for a in ARTIFACT_NAMES if a in stage or a in self.rollback.require)

    def metric_definition(self, metric: str) -> MetricDefinition:
        return self.metrics.get(metric, MetricDefinition())

    def sequential_for(self, gate: Gate) -> Sequential | None:
        """The gate's sequential design, else the spec's, else None (a fixed-n design)."""
        return gate.sequential if gate.sequential is not None else self.sequential

    def with_definitions(self, definitions: Mapping[str, MetricDefinition]) -> Spec:
        """This spec plus metric definitions it does not have itself (a harness adapter's built-in metrics)."""
        extra = {name: d for name, d in definitions.items() if name not in self.metrics}
        return self.model_copy(update={"metrics": {**self.metrics, **extra}}) if extra else self


def located_error(path: tuple[str | int, ...], message: str, kind: str) -> PydanticCustomError:
    """An error from a whole-model check that still points at the field it is about.

    pydantic gives model-level errors an empty `loc`; `gatekit.spec.yamlio` reads `gatekit_path` from the context
    to report the line and column of the offending field.
    """
    return PydanticCustomError(kind, "{message}", {"message": message, "gatekit_path": path})


# Patterns shared by the rollback checks.
SHA256_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
FULL_GIT_REVISION = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
IMAGE_PINNED = re.compile(r"@sha256:[0-9a-f]{64}$")
