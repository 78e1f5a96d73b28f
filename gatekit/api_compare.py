"""The Python API of `gatekit compare`: load every checkpoint, judge each with the one evaluator, compare.

Each checkpoint gets exactly the verdict `gatekit check` would give it against the same spec and baseline
(`gatekit.decide.verdict.build_verdict`, with the spec's lock and the results' provenance assessed the same
way); `gatekit.decide.compare` then builds the frontier and the recommendation from those verdicts.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gatekit.errors import UsageError
from gatekit.results import Results
from gatekit.sources.load import LoadedSpec, load_results, load_spec
from gatekit.spec.many import CheckpointList, CheckpointRef

if TYPE_CHECKING:
    from gatekit.decide.compare import Comparison


def run_compare(
    spec: str | Path,
    results: Sequence[str | Path] = (),
    *,
    lineage: str | Path | None = None,
    baseline: str | Path | None = None,
    ledger: str | Path | None = None,
    sort_by: str | None = None,
    series: bool = False,
    bisect: bool = False,
) -> Comparison:
    """Compare the checkpoints given as results files or globs (`results`), or listed in a lineage file
    (`lineage`), or in the spec's `checkpoints:` — the first of these that is given. `baseline` is a path or
    `ledger:last-ship`; default the spec's `baseline:`. `series` adds continue-or-stop per step (the spec's
    `stopping:`, else `budget.max_cost_per_point`); `bisect` adds the first failing stage of each check."""
    from gatekit.api import resolve_baseline_ref
    from gatekit.decide.compare import Checkpoint, compare
    from gatekit.decide.verdict import build_verdict
    from gatekit.integrity.lock import assess_lock, assess_provenance, lock_path_for, read_lock, spec_digest

    loaded = load_spec(spec)
    refs, base_dir = _checkpoint_refs(loaded, results, lineage)
    baseline = resolve_baseline_ref(baseline, loaded, ledger)
    baseline_path = Path(baseline) if baseline is not None else None
    if baseline_path is None and loaded.spec.baseline is not None:
        baseline_path = loaded.resolve(loaded.spec.baseline)
    baseline_results = load_results(baseline_path, loaded.spec) if baseline_path is not None else None
    rule = loaded.spec.stopping or loaded.spec.budget.max_cost_per_point
    if series and rule is None:
        raise UsageError.at(
            "--series needs a `stopping:` block (or `budget.max_cost_per_point`) in the spec", str(loaded.path)
        )
    digest = spec_digest(loaded.spec)
    lock_path = lock_path_for(loaded.path)
    lock_file = read_lock(lock_path)
    gate_lines = {gate.id: loaded.gate_line(i) for i, gate in enumerate(loaded.spec.gates)}
    from gatekit.integrity.ledger import resolve_ledger
    from gatekit.integrity.looks import assess_looks

    # As `check` reads looks: from a configured ledger; compare records nothing, so a new look under an
    # alpha-spending design cannot be eligible, and without a ledger its looks cannot be counted.
    looks_ledger = resolve_ledger(Path(ledger) if ledger is not None else None, loaded.ledger(), None)
    checkpoints = []
    for ref, path in ((r, _resolve(base_dir, r.results)) for r in refs):
        loaded_results = _with_costs(load_results(path, loaded.spec), ref)
        lock = assess_lock(
            lock_file,
            digest,
            lock_path=str(lock_path),
            results_created=loaded_results.created,
            required=loaded.spec.require_lock,
        )
        looks = assess_looks(loaded.spec, loaded_results, looks_ledger, digest, recorded=False)
        verdict = build_verdict(
            loaded.spec.with_definitions(loaded_results.definitions),
            loaded_results,
            baseline_results,
            spec_path=str(loaded.path),
            gate_lines=gate_lines,
            lock=lock,
            provenance=assess_provenance(digest, loaded_results.gate_digest),
            confidence_at=looks.confidence_at,
            extra_reasons=looks.reasons,
            extra_notes=looks.notes,
        )
        checkpoints.append(Checkpoint(ref.id, ref.order, loaded_results, verdict))
    return compare(
        loaded.spec,
        checkpoints,
        spec_path=str(loaded.path),
        baseline=baseline_results.source if baseline_results is not None else None,
        sort_by=sort_by,
        series=rule if series else None,
        with_bisection=bisect,
    )


def _checkpoint_refs(
    loaded: LoadedSpec, results: Sequence[str | Path], lineage: str | Path | None
) -> tuple[tuple[CheckpointRef, ...], Path]:
    if results and lineage is not None:
        raise UsageError("give results files or --lineage, not both")
    if results:
        return _refs_from_files(results), Path.cwd()
    if lineage is not None:
        from gatekit.errors import SpecError
        from gatekit.spec.yamlio import SPEC_MAX_BYTES, load_document, validate_model

        path = Path(lineage)
        document = load_document(path, max_bytes=SPEC_MAX_BYTES, error=SpecError)
        listed = validate_model(CheckpointList, document, error=SpecError)
        _no_duplicate_ids(listed.checkpoints, str(path))
        return listed.checkpoints, path.parent
    if loaded.spec.checkpoints:
        _no_duplicate_ids(loaded.spec.checkpoints, str(loaded.path))
        return loaded.spec.checkpoints, loaded.path.parent
    raise UsageError.at(
        "no checkpoints to compare: give results files (or a glob), --lineage FILE, or `checkpoints:` in the spec",
        str(loaded.path),
    )


def _natural(text: str) -> list[object]:
    # step-900 before step-1000: digits compare as numbers.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _refs_from_files(results: Sequence[str | Path]) -> tuple[CheckpointRef, ...]:
    paths: list[Path] = []
    for given in results:
        text = str(given)
        if glob.has_magic(text):
            matched = sorted(glob.glob(text), key=_natural)
            if not matched:
                raise UsageError(f"no results file matches {text!r}")
            paths.extend(Path(m) for m in matched)
        else:
            paths.append(Path(text))
    refs = []
    for position, path in enumerate(paths, start=1):
        checkpoint_id = re.sub(r"[^A-Za-z0-9_.\-]", "-", path.stem).lstrip("-._") or f"checkpoint-{position}"
        refs.append(CheckpointRef(id=checkpoint_id, results=str(path), order=float(position)))
    _no_duplicate_ids(tuple(refs), "the command line")
    return tuple(refs)


def _no_duplicate_ids(refs: tuple[CheckpointRef, ...], where: str) -> None:
    seen: set[str] = set()
    for ref in refs:
        if ref.id in seen:
            raise UsageError(f"{where}: two checkpoints are named {ref.id!r}; give each a distinct id")
        seen.add(ref.id)
    if len(refs) < 2:
        raise UsageError(f"{where}: comparing needs at least two checkpoints, got {len(refs)}")


def _resolve(base: Path, relative: str) -> Path:
    return Path(relative) if Path(relative).is_absolute() else base / relative


def _with_costs(results: Results, ref: CheckpointRef) -> Results:
    if not ref.costs:
        return results
    from dataclasses import replace

    return replace(results, costs={**results.costs, **ref.costs})
