"""Reading the spec and results files from disk into validated models. All file I/O of a check lives here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekit.errors import ResultsError, SpecError, UsageError
from gatekit.results import MAX_COUNT, Results, ResultsRecord
from gatekit.sources.boundary import reading
from gatekit.spec.model import Spec
from gatekit.spec.yamlio import RESULTS_MAX_BYTES, SPEC_MAX_BYTES, Document, load_document, validate_model

if TYPE_CHECKING:
    from gatekit.sources.example_ids import IdSpace


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

    def ledger(self) -> Path | None:
        """The decision ledger the spec names (`ledger:`, relative to the spec's folder), if it names one."""
        return self.resolve(self.spec.ledger) if self.spec.ledger else None


def load_spec(path: Path | str, *, baseline_given: bool = False) -> LoadedSpec:
    """Read and validate a gate spec. `baseline_given`: a baseline results file comes from elsewhere (the
    command line), so relative bounds are valid without the spec's `baseline:`."""
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
    spec = validate_model(Spec, document, error=SpecError, context={"baseline_given": baseline_given})
    return LoadedSpec(spec, path, document)


def load_results(
    path: Path | str,
    spec: Spec | None = None,
    fmt: str | None = None,
    model: str | None = None,
    *,
    id_space: IdSpace | None = None,
) -> Results:
    """Load a results file; `spec` supplies metric kinds for range checks and the derived metrics of tables.

    The format is `fmt` when given (see `gatekit.sources.adapters.FORMATS`), else it is detected: per-example tables
    by suffix (.jsonl, .csv, .parquet), Inspect `.eval` logs by suffix, and JSON by content (lm-eval results,
    Inspect log, promptfoo output, or gatekit's own format). YAML is always gatekit's own format.
    A folder is searched for the one results file inside (`runmeta.results_file`). `model` picks one model or
    provider from a file holding several. A sidecar `<file>.meta.yaml` adds run metadata (`runmeta`).
    `id_space`, shared with the results this one is compared with, codes a table's example ids as integers
    both share (`gatekit.sources.example_ids`), so that pairing them is integer work.
    """
    from gatekit.sources.runmeta import results_file, with_sidecar

    path = results_file(Path(path))
    if fmt is not None:
        from gatekit.sources.adapters import FORMATS

        if fmt not in FORMATS:
            raise UsageError(f"unknown results format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    parsed: list[Document] = []  # a JSON file read to detect its format is not parsed again
    with reading(path, ResultsError):
        fmt = fmt or _detect_format(path, parsed)
    results = _load(path, spec, fmt, model, parsed, id_space)
    from gatekit.sources.table import TABLE_SUFFIXES

    # A table's model is its file name unless its sidecar names one; a harness file names its own.
    tables = (*TABLE_SUFFIXES.values(), "lm-eval-samples")
    return with_sidecar(results, path, default_model=fmt in tables)


def _load(  # noqa: PLR0917 - internal
    path: Path, spec: Spec | None, fmt: str, model: str | None, parsed: list[Document], id_space: IdSpace | None
) -> Results:
    if fmt != "gatekit":
        with reading(path, ResultsError):
            data = parsed[0].data if parsed else None
            return _checked_counts(_load_foreign(path, spec, fmt, model, data, id_space=id_space))
    document = parsed[0] if parsed else load_document(path, max_bytes=RESULTS_MAX_BYTES, error=ResultsError)
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


def _checked_counts(results: Results) -> Results:
    """A harness's count beyond any real eval is bad input (`MAX_COUNT`), whichever adapter read it."""
    for metric, slices in results.metrics.items():
        for name, measurement in slices.items():
            if measurement.n is not None and not 0 <= measurement.n <= MAX_COUNT:
                raise ResultsError.at(
                    f"{metric} on {name!r}: n = {measurement.n} is not a count of examples (0 to 2**53)",
                    results.source,
                )
    return results


def _detect_format(path: Path, parsed: list[Document] | None = None) -> str:
    """The format of a results file; a JSON file read to tell is appended to `parsed`."""
    from gatekit.sources.rows import table_format

    table = table_format(path)
    if table == "jsonl":
        from gatekit.sources.adapters import detect_jsonl

        return (detect_jsonl(path) if path.is_file() else None) or "jsonl"
    if table is not None:
        return table
    suffix = path.suffix.lower()
    if suffix == ".eval":
        return "inspect"
    if suffix == ".json" and path.is_file():
        from gatekit.sources.adapters import detect

        document = load_document(path, max_bytes=RESULTS_MAX_BYTES, error=ResultsError)
        if parsed is not None:
            parsed.append(document)
        return detect(document.data) or "gatekit"
    return "gatekit"


def _load_foreign(
    path: Path, spec: Spec | None, fmt: str, model: str | None, data: object = None, *, id_space: IdSpace | None = None
) -> Results:
    from gatekit.sources.table import TABLE_SUFFIXES

    if fmt == "stats":  # a sufficient-statistics table made elsewhere (docs/stats-contract.md)
        from gatekit.sources.stats_table import load_stats_table

        return load_stats_table(path, spec)
    if fmt in TABLE_SUFFIXES.values():
        from gatekit.sources.measure import table_columns, table_results
        from gatekit.sources.rows import read_table

        if spec is None:
            raise ResultsError.at("a per-example table is read against a spec's derived metrics", str(path))
        # Without `table.id_column`, an `id` column pairs examples when the table has one.
        optional = () if spec.table.id_column else ("id",)
        from gatekit import progress

        progress.stage(f"reading {path.name}")
        table = read_table(
            path, fmt, table_columns(spec), optional=optional, numbers=_number_columns(spec), distinct=_id_only(spec)
        )
        progress.stage(f"aggregating {path.name} ({table.data.num_rows:,} rows)")
        return table_results(table, spec, id_space=id_space)
    from gatekit.sources.adapters import load_with
    from gatekit.sources.adapters.common import read_json

    if fmt == "lm-eval-samples":
        data = None  # read line by line by its adapter
    elif data is None and path.suffix.lower() == ".json":
        data = read_json(path)
    return load_with(fmt, path, data, spec, model)


def _number_columns(spec: Spec) -> list[str]:
    """Columns a check reads only for their values: no slice, id, filter, repeat or review column reads their
    text, so a CSV may decode them while reading (`gatekit.sources.csv_blocks`)."""
    from gatekit.sources.repeats import extra_columns, needs_per_example_step

    if needs_per_example_step(spec):  # the per-example step rebuilds the table from its columns' cells
        return []
    options = spec.table
    sources = [d.from_ for d in spec.metrics.values() if d.from_ is not None]
    text = {*options.slice_by, *(c for pair in options.slice_cross for c in pair), "id", *extra_columns(spec)}
    text |= {s.where.column for s in sources if s.where is not None}
    text |= {options.id_column} if options.id_column else set()
    return [s.column for s in sources if s.column is not None and s.column not in text]


def _id_only(spec: Spec) -> list[str]:
    """The example id column, when the check reads it for nothing but ids (no slice or filter reads its text)."""
    from gatekit.sources.repeats import extra_columns, needs_per_example_step

    if needs_per_example_step(spec):  # repeats: an id on several rows, reduced to one by its own step
        return []
    options = spec.table
    name = options.id_column or "id"
    sources = [d.from_ for d in spec.metrics.values() if d.from_ is not None]
    other = {*options.slice_by, *(c for pair in options.slice_cross for c in pair), *extra_columns(spec)}
    other |= {s.column for s in sources if s.column is not None}
    other |= {s.where.column for s in sources if s.where is not None}
    return [] if name in other else [name]


def table_column_names(path: Path | str, fmt: str | None = None) -> list[str] | None:
    """The columns of a per-example table (JSONL, CSV, Parquet) as `fmt` or detection reads it; None when the
    file is in another format (a harness's output or gatekit's own), whose names come from its adapter."""
    from gatekit.sources.rows import read_table
    from gatekit.sources.table import TABLE_SUFFIXES

    path = Path(path)
    fmt = fmt or _detect_format(path)
    if fmt not in TABLE_SUFFIXES.values():
        return None
    if fmt == "parquet" and path.is_file():
        # The footer names the columns; the rows are not read.
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            with pq.ParquetFile(path) as parquet:
                return list(parquet.schema_arrow.names)
        except (pa.ArrowInvalid, OSError):
            pass  # read_table reports the damage with its own message
    return read_table(path, fmt).columns
