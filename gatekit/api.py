"""The Python API: `check(spec)` loads the spec and results, evaluates and returns the verdict.

The command line is a thin layer over this function.
"""

from __future__ import annotations

from pathlib import Path

from gatekit.errors import UsageError
from gatekit.load import LoadedSpec, load_results, load_spec
from gatekit.results import Results
from gatekit.verdict import Verdict, build_verdict


def check(
    spec: str | Path,
    *,
    candidate: str | Path | None = None,
    baseline: str | Path | None = None,
) -> Verdict:
    """Hold a candidate's results to a gate spec.

    `candidate` and `baseline` override the paths named in the spec (those are relative to the spec file;
    these are relative to the working directory). Raises a `gatekit.errors.GatekitError` for bad input.
    """
    loaded = load_spec(spec)
    candidate_results = load_results(_results_path(loaded, candidate, "candidate"), loaded.spec)
    baseline_results = _load_baseline(loaded, baseline)
    return build_verdict(
        loaded.spec,
        candidate_results,
        baseline_results,
        spec_path=str(loaded.path),
        gate_lines={gate.id: loaded.gate_line(i) for i, gate in enumerate(loaded.spec.gates)},
    )


def _load_baseline(loaded: LoadedSpec, override: str | Path | None) -> Results | None:
    if override is None and loaded.spec.baseline is None:
        return None
    return load_results(_results_path(loaded, override, "baseline"), loaded.spec)


def _results_path(loaded: LoadedSpec, override: str | Path | None, role: str) -> Path:
    if override is not None:
        return Path(override)
    named = getattr(loaded.spec, role)
    if named is None:
        raise UsageError.at(f"no {role} results: give --{role} FILE or set `{role}:` in the spec", str(loaded.path))
    return loaded.resolve(named)
