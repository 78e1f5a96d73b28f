"""Reading the spec and results files from disk into validated models. All file I/O of a check lives here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatekit.errors import ResultsError, SpecError
from gatekit.results import Results, ResultsRecord
from gatekit.spec import Spec
from gatekit.yamlio import RESULTS_MAX_BYTES, SPEC_MAX_BYTES, Document, load_document, validate_model


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec and where it came from (for locating gates in reports)."""

    spec: Spec
    path: Path
    document: Document

    def gate_line(self, gate_index: int) -> int:
        """The 1-based line where `gates[gate_index]` starts in the spec file (0 if unknown)."""
        return self.document.locator().mark(("gates", gate_index))[0]

    def resolve(self, relative: str) -> Path:
        """A results path from the spec, relative to the spec's folder."""
        return (self.path.parent / relative) if not Path(relative).is_absolute() else Path(relative)


def load_spec(path: Path | str) -> LoadedSpec:
    path = Path(path)
    document = load_document(path, max_bytes=SPEC_MAX_BYTES, error=SpecError)
    if not isinstance(document.data, dict):
        raise SpecError.at(
            f"a gate spec must be a mapping of keys (version, name, hypothesis, gates, ...), "
            f"not a {type(document.data).__name__}",
            str(path),
            1,
            1,
        )
    spec = validate_model(Spec, document, error=SpecError)
    return LoadedSpec(spec, path, document)


def load_results(path: Path | str, spec: Spec | None = None) -> Results:
    """Load a results file in gatekit's own format; `spec` supplies metric kinds for range checks."""
    path = Path(path)
    document = load_document(path, max_bytes=RESULTS_MAX_BYTES, error=ResultsError)
    if not isinstance(document.data, dict):
        raise ResultsError.at(
            f"a results file must be a mapping with `model` and `metrics`, not a {type(document.data).__name__}",
            str(path),
            1,
            1,
        )
    kinds = {name: d.kind for name, d in spec.metrics.items()} if spec else {}
    record = validate_model(ResultsRecord, document, error=ResultsError, context={"metric_kinds": kinds})
    return record.to_results(str(path))
