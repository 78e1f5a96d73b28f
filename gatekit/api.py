"""The Python API: `check(spec)` loads the spec and results, evaluates and returns the verdict.

The command line is a thin layer over this function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekit import progress
from gatekit.errors import UsageError
from gatekit.results import Results
from gatekit.sources.load import LoadedSpec, load_results, load_spec

if TYPE_CHECKING:
    from concurrent.futures import Future

    from gatekit.decide.verdict import Verdict
    from gatekit.decide.waivers import Waiver


def check(
    spec: str | Path,
    *,
    candidate: str | Path | None = None,
    baseline: str | Path | None = None,
    verify_artifacts: bool = False,
    record: bool | None = False,
    ledger: str | Path | None = None,
    candidate_format: str | None = None,
    baseline_format: str | None = None,
    candidate_model: str | None = None,
    baseline_model: str | None = None,
) -> Verdict:
    """Hold a candidate's results to a gate spec.

    `candidate` and `baseline` override the paths named in the spec (those are relative to the spec file;
    these are relative to the working directory). Raises a `gatekit.errors.GatekitError` for bad input.
    The spec is always held to its lock file and the results' `gate_digest`; `verify_artifacts` also hashes
    the local rollback artifacts. `record` and `ledger` decide whether the decision goes into the ledger
    (see `run_check`); by default the Python API records nothing. `candidate_format` and `baseline_format`
    force a results format (see `gatekit.sources.adapters.FORMATS`) instead of detecting it;
    `candidate_model` and `baseline_model` pick one model or provider from a file that holds several.
    """
    return run_check(
        spec,
        candidate=candidate,
        baseline=baseline,
        verify_artifacts=verify_artifacts,
        record=record,
        ledger=ledger,
        candidate_format=candidate_format,
        baseline_format=baseline_format,
        candidate_model=candidate_model,
        baseline_model=baseline_model,
    ).verdict


@dataclass(frozen=True)
class CheckRun:
    """A verdict and, when it was recorded, where: the ledger file and the decision's id."""

    verdict: Verdict
    ledger: Path | None = None
    decision_id: int | None = None


@progress.cleared_after
def run_check(
    spec: str | Path,
    *,
    candidate: str | Path | None = None,
    baseline: str | Path | None = None,
    verify_artifacts: bool = False,
    record: bool | None = None,
    ledger: str | Path | None = None,
    candidate_format: str | None = None,
    baseline_format: str | None = None,
    candidate_model: str | None = None,
    baseline_model: str | None = None,
) -> CheckRun:
    """`check`, and record the decision: `record=None` records when a ledger is configured (`ledger`, the
    GATEKIT_LEDGER variable or the spec's `ledger:`), True always (default `.gatekit/ledger.db`), False never.
    The progress line (`gatekit.progress`) is erased however the check ends.
    """
    loaded = load_spec(spec, baseline_given=baseline is not None)
    baseline = resolve_baseline_ref(baseline, loaded, ledger)
    loading = _Loading(
        loaded,
        (candidate, candidate_format, candidate_model or loaded.spec.candidate_model),
        (baseline, baseline_format, baseline_model or loaded.spec.baseline_model),
    )
    # Imported while the results are being read: reading a large table runs without the GIL, so the
    # verdict's modules (numpy among them) load for free instead of before the first byte is read.
    from gatekit.decide.verdict import build_verdict
    from gatekit.integrity.lock import assess_lock, assess_provenance, lock_path_for, read_lock, spec_digest

    candidate_results, baseline_results = loading.results()
    digest = spec_digest(loaded.spec)
    lock_path = lock_path_for(loaded.path)
    lock = assess_lock(
        read_lock(lock_path),
        digest,
        lock_path=str(lock_path),
        results_created=candidate_results.created,
        required=loaded.spec.require_lock,
    )
    from gatekit.integrity.ledger import record_decision, resolve_ledger
    from gatekit.integrity.looks import assess_looks, planned_n_notes

    explicit_ledger = Path(ledger) if ledger is not None else None
    ledger_path = resolve_ledger(explicit_ledger, loaded.ledger(), record)
    # Earlier looks are read from a configured ledger even when this check is not recorded (--no-record).
    looks_ledger = ledger_path or resolve_ledger(explicit_ledger, loaded.ledger(), None)
    looks = assess_looks(loaded.spec, candidate_results, looks_ledger, digest, recorded=ledger_path is not None)
    waivers, sha256 = _waivers(loaded, ledger, candidate_results, baseline_results)
    artifacts = None
    if verify_artifacts:
        from gatekit.integrity.artifacts import verify_manifest

        artifacts = verify_manifest(loaded.spec, loaded.path.parent)
    # A harness adapter's built-in metric definitions (promptfoo's pass_rate is a rate) are judged through the
    # same spec models as the user's own; the spec's digest above is the user's spec alone.
    judged_spec = loaded.spec.with_definitions(candidate_results.definitions)
    progress.stage("deciding")
    verdict = build_verdict(
        judged_spec,
        candidate_results,
        baseline_results,
        spec_path=str(loaded.path),
        gate_lines={gate.id: loaded.gate_line(i) for i, gate in enumerate(loaded.spec.gates)},
        lock=lock,
        provenance=assess_provenance(digest, candidate_results.gate_digest),
        artifacts=artifacts,
        confidence_at=looks.confidence_at,
        extra_reasons=looks.reasons,
        extra_notes=(*looks.notes, *planned_n_notes(loaded.spec, candidate_results)),
        waivers=waivers,
        spec_digest=digest,
        results_sha256=sha256,
        today=dt.datetime.now(dt.timezone.utc).date(),
    )
    if ledger_path is None:
        return CheckRun(verdict)
    decision_id = record_decision(
        ledger_path,
        verdict,
        spec_digest=digest,
        rollback_manifest=loaded.spec.rollback.model_dump(mode="json", exclude_defaults=True),
    )
    return CheckRun(verdict, ledger_path, decision_id)


def _waivers(
    loaded: LoadedSpec, ledger: str | Path | None, candidate: Results, baseline: Results | None
) -> tuple[list[Waiver], str | None]:
    """The waivers of this spec in the ledger `check` would record into (or the default one), and the
    results' key they are held to (candidate and baseline; hashed only when there are waivers)."""
    from gatekit.integrity.ledger import read_waivers, resolve_ledger

    path = resolve_ledger(Path(ledger) if ledger is not None else None, loaded.ledger(), True)
    assert path is not None
    waivers = read_waivers(path, loaded.spec.name)
    return waivers, waiver_results_key(
        candidate.source, baseline.source if baseline is not None else None
    ) if waivers else None


def waiver_results_key(candidate_path: str | Path, baseline_path: str | Path | None) -> str | None:
    """The key a waiver binds to (`gatekit.decide.waivers.results_key`) for these results files."""
    from gatekit.decide.waivers import results_key
    from gatekit.integrity.ledger import results_sha256

    return results_key(
        results_sha256(candidate_path),
        results_sha256(baseline_path) if baseline_path is not None else None,
        has_baseline=baseline_path is not None,
    )


LEDGER_PREFIX = "ledger:"


def resolve_baseline_ref(
    baseline: str | Path | None, loaded: LoadedSpec, ledger: str | Path | None = None
) -> str | Path | None:
    """`--baseline ledger:last-ship`: the results of the newest checkpoint that shipped under this gate, from
    the ledger (`--ledger`, GATEKIT_LEDGER, the spec's `ledger:`), verified against their recorded SHA-256.
    Any other value is a path and is returned as it is."""
    if baseline is None or not str(baseline).startswith(LEDGER_PREFIX):
        return baseline
    from gatekit.integrity.ledger import LEDGER_BASELINES, last_shipped_results, ledger_for_reading

    name = str(baseline)[len(LEDGER_PREFIX) :]
    if name not in LEDGER_BASELINES:
        raise UsageError(
            f"unknown ledger baseline {str(baseline)!r}; choose one of: "
            + ", ".join(LEDGER_PREFIX + n for n in LEDGER_BASELINES)
        )
    path = ledger_for_reading(Path(ledger) if ledger is not None else None, loaded.ledger)
    return last_shipped_results(path, loaded.spec.name)


class _Loading:
    """Candidate and baseline results (each a path override and a format), read side by side on threads
    from the moment it is made: a large table spends most of its time in pyarrow and numpy, which release
    the GIL. `results()` waits for both; a candidate error is raised first, as when reading one after the
    other."""

    def __init__(
        self,
        loaded: LoadedSpec,
        candidate: tuple[str | Path | None, str | None, str | None],
        baseline: tuple[str | Path | None, str | None, str | None],
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        candidate_path = _results_path(loaded, candidate[0], "candidate")
        baseline_path = None
        if baseline[0] is not None or loaded.spec.baseline is not None:
            baseline_path = _results_path(loaded, baseline[0], "baseline")
        from gatekit.sources.example_ids import IdSpace

        # Both tables' example ids coded as integers in one space: pairing them is integer work.
        ids = IdSpace(tables=2) if baseline_path is not None else None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gatekit-load")
        self._candidate = self._pool.submit(
            load_results, candidate_path, loaded.spec, candidate[1], candidate[2], id_space=ids
        )
        self._baseline: Future[Results] | None = None
        if baseline_path is not None:
            self._baseline = self._pool.submit(
                load_results, baseline_path, loaded.spec, baseline[1], baseline[2], id_space=ids
            )

    def results(self) -> tuple[Results, Results | None]:
        with self._pool:
            try:
                candidate = self._candidate.result()
            except BaseException:
                if self._baseline is not None:
                    self._baseline.cancel()
                raise
            return candidate, self._baseline.result() if self._baseline is not None else None


def _results_path(loaded: LoadedSpec, override: str | Path | None, role: str) -> Path:
    if override is not None:
        return Path(override)
    named = getattr(loaded.spec, role)
    if named is None:
        raise UsageError.at(f"no {role} results: give --{role} FILE or set `{role}:` in the spec", str(loaded.path))
    return loaded.resolve(named)
