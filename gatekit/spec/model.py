"""The gate spec: pydantic models that are the single source of truth for validation, defaults and JSON Schema.

A spec is written before the run. It holds the hypothesis, the gates, the cost budget and the rollback
manifest. Every model is frozen, strict (no `"0.9"` for a number, no `true` for 1) and forbids unknown keys.
This module does no I/O; `gatekit.sources.load.load_spec` reads files.

This module holds the top-level `Spec` and its `Hypothesis`; the parts live beside it (`base`: names, value
types and the strict base model; `metrics`; `tables`: table and review options; `planning`: plan and
sequential designs; `gate`; `budget`; `rollback`; `many`: compare), and every public name is re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gatekit.spec.base import (
    AGGREGATE_SLICE,
    ARTIFACT_NAMES,
    BOUND_NAMES,
    EVERY_SLICE,
    FULL_GIT_REVISION,
    IMAGE_PINNED,
    RELATIVE_BOUNDS,
    REQUIRED_ARTIFACTS,
    SHA256_DIGEST,
    STAGES,
    ArtifactName,
    AsTuple,
    BoundName,
    Confidence,
    Correction,
    FiniteFloat,
    Identifier,
    MetricKind,
    MinN,
    NonEmptyStr,
    NonNegativeFloat,
    OnFail,
    Stage,
    _list_to_tuple,
    _Model,
    located_error,
)
from gatekit.spec.budget import Budget, CostPerPoint
from gatekit.spec.gate import Gate
from gatekit.spec.many import CheckpointRef, Frontier
from gatekit.spec.metrics import AGGREGATE_KINDS, Aggregate, ColumnAggregate, JudgeValidity, MetricDefinition, RowFilter
from gatekit.spec.planning import SPENDING_METHODS, Plan, PlanValues, Sequential, SequentialMethod
from gatekit.spec.rollback import ArtifactRef, RollbackManifest
from gatekit.spec.tables import FlakyPolicy, ReviewOptions, TableOptions

SPEC_VERSION = 1
_NO_DEFINITION = MetricDefinition()
"""What `Spec.metric_definition` says of a metric the spec does not define: nothing."""

# The names importers read from here; each is defined in the module imported above.
__all__ = [
    "AGGREGATE_KINDS",
    "AGGREGATE_SLICE",
    "ARTIFACT_NAMES",
    "BOUND_NAMES",
    "EVERY_SLICE",
    "FULL_GIT_REVISION",
    "IMAGE_PINNED",
    "RELATIVE_BOUNDS",
    "REQUIRED_ARTIFACTS",
    "SHA256_DIGEST",
    "SPEC_VERSION",
    "SPENDING_METHODS",
    "STAGES",
    "Aggregate",
    "ArtifactName",
    "ArtifactRef",
    "AsTuple",
    "BoundName",
    "Budget",
    "ColumnAggregate",
    "Confidence",
    "Correction",
    "CostPerPoint",
    "FiniteFloat",
    "FlakyPolicy",
    "Gate",
    "Hypothesis",
    "Identifier",
    "JudgeValidity",
    "MetricDefinition",
    "MetricKind",
    "MinN",
    "NonEmptyStr",
    "NonNegativeFloat",
    "OnFail",
    "Plan",
    "PlanValues",
    "ReviewOptions",
    "RollbackManifest",
    "RowFilter",
    "Sequential",
    "SequentialMethod",
    "Spec",
    "Stage",
    "TableOptions",
    "located_error",
]


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
        # Asked once per (gate, slice) check: a definition built for every undeclared metric's call was 12,000
        # validated pydantic models in a check of 1,500 slices. The models are frozen, so one is shared.
        definition = self.metrics.get(metric)
        return definition if definition is not None else _NO_DEFINITION

    def sequential_for(self, gate: Gate) -> Sequential | None:
        """The gate's sequential design, else the spec's, else None (a fixed-n design)."""
        return gate.sequential if gate.sequential is not None else self.sequential

    def with_definitions(self, definitions: Mapping[str, MetricDefinition]) -> Spec:
        """This spec plus metric definitions it does not have itself (a harness adapter's built-in metrics)."""
        extra = {name: d for name, d in definitions.items() if name not in self.metrics}
        return self.model_copy(update={"metrics": {**self.metrics, **extra}}) if extra else self
