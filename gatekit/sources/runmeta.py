"""Where a results file is, and the run metadata a per-example table cannot carry itself.

A harness writes its results into a folder (lm-eval: `<output_path>/<model>/results_<timestamp>.json`), so a
folder given as results is searched for the one results file inside; several candidates are an error that
names them, never a guess.

A sidecar file `<results file>.meta.yaml` (or `.meta.json`) beside any results file gives the run's
metadata: `model`, `created`, `costs` and `gate_digest` (and free-form `metadata`). It fills what the file
itself does not record; a value that contradicts one the file records is an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from gatekit.errors import GatekitError, ResultsError
from gatekit.results import Results

SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml", ".meta.json")
_RESULT_PATTERNS = ("results_*.json", "results.json", "*.eval")
_MAX_DEPTH = 3


class RunMetadata(BaseModel):
    """A sidecar file: the run metadata of the results file it sits beside."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    model: Annotated[str, Field(min_length=1)] | None = None
    """The checkpoint id (a table's default is its file name)."""
    created: Annotated[dt.datetime, Field(strict=False)] | None = None
    """When the results were produced (ISO 8601); the lock is checked against it."""
    costs: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(default_factory=dict)
    """What the run cost, by item; the budget's `limits` name these items."""
    gate_digest: str | None = None
    """The digest of the gate spec the results were produced under (see `gatekit lock`)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Free-form provenance; gatekit does not interpret it."""


def results_file(path: Path) -> Path:
    """`path` itself, or the one results file inside the folder `path`."""
    if not path.is_dir():
        return path
    found: list[Path] = []
    for pattern in _RESULT_PATTERNS:
        found = sorted(p for p in path.rglob(pattern) if p.is_file() and len(p.relative_to(path).parts) <= _MAX_DEPTH)
        if found:
            break
    if len(found) == 1:
        return found[0]
    if not found:
        raise ResultsError.at(
            "is a folder with no results file in it (looked for lm-eval results_*.json and Inspect *.eval); "
            "give the file itself",
            str(path),
        )
    names = ", ".join(str(p.relative_to(path)) for p in found[:10]) + (", ..." if len(found) > 10 else "")
    raise ResultsError.at(f"is a folder with {len(found)} results files; give one of: {names}", str(path))


def sidecar_for(path: Path) -> Path | None:
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def with_sidecar(results: Results, path: Path, *, default_model: bool) -> Results:
    """`results` with the sidecar's metadata filled in. `default_model`: the results' model is only the file
    name (a table), so the sidecar's model replaces it."""
    sidecar = sidecar_for(path)
    if sidecar is None:
        return results
    from gatekit.spec.yamlio import RESULTS_MAX_BYTES, load_document, validate_model

    document = load_document(sidecar, max_bytes=RESULTS_MAX_BYTES, error=ResultsError)
    if not isinstance(document.data, dict):
        raise ResultsError.at("a results sidecar must be a mapping (model, created, costs, gate_digest)", str(sidecar))
    meta = validate_model(RunMetadata, document, error=ResultsError)
    changes: dict[str, Any] = {}
    if meta.model is not None:
        if not default_model and meta.model != results.model:
            raise _conflict(sidecar, "model", meta.model, results.model)
        changes["model"] = meta.model
    for name in ("created", "gate_digest"):
        ours, theirs = getattr(meta, name), getattr(results, name)
        if ours is not None:
            if theirs is not None and ours != theirs:
                raise _conflict(sidecar, name, ours, theirs)
            changes[name] = ours
    costs = dict(results.costs)
    for item, value in meta.costs.items():
        if item in costs and costs[item] != value:
            raise _conflict(sidecar, f"costs.{item}", value, costs[item])
        costs[item] = value
    changes["costs"] = costs
    return replace(results, **changes)


def _conflict(sidecar: Path, field: str, ours: object, theirs: object) -> GatekitError:
    return ResultsError.at(
        f"{field}: the sidecar says {ours!r} but the results file records {theirs!r}", str(sidecar), field=field
    )
