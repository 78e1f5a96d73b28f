"""The spec's shared vocabulary: names, value types, the strict base model and located errors.

Used by every spec model module (`gatekit.spec.model` re-exports it)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

Stage = Literal["pretraining", "sft", "preference", "quantization", "adapter", "vendor-selection", "serving", "other"]
STAGES: tuple[Stage, ...] = get_args(Stage)
OnFail = Literal["revise", "stop"]
MetricKind = Literal["proportion", "mean", "quantile", "count"]
BoundName = Literal["min", "max", "max_increase", "max_decrease", "max_increase_pct", "max_decrease_pct"]
BOUND_NAMES: tuple[BoundName, ...] = get_args(BoundName)
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
ARTIFACT_NAMES: tuple[ArtifactName, ...] = get_args(ArtifactName)
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
