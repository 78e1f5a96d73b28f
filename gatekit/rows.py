"""Per-example results tables: JSONL, CSV and Parquet rows turned into per-slice measurements.

A table has one row per example. The spec says how metrics are computed from its columns
(`metrics.<name>.from: {column, aggregate, where}`) and which columns are slices (`table.slice_by`,
`table.slice_cross`). Reading is columnar (pyarrow); per-slice aggregates are numpy over contiguous groups,
never a Python loop over rows. pyarrow and numpy are imported inside functions so that `gatekit validate`
and `gatekit --version` never load them.

Bad cells are never skipped silently. A non-boolean in a rate column, a NaN, a null, a non-canonical CSV
number, a negative value in a `non_negative` column or a row without a slice value is counted per column;
a measurement built from such rows carries a `problem` and is reported missing, unless the spec sets
`table.drop_invalid: true`, in which case the valid rows are used and the dropped count becomes a note.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results, Samples
from gatekit.spec import AGGREGATE_SLICE, ColumnAggregate, RowFilter, Spec, TableOptions
from gatekit.yamlio import DuplicateJsonKeyError, loads_strict

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

TABLE_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}

# Why a cell is bad. 0 is a good cell. The codes index _REASONS.
_OK, _NULL, _NOT_NUMBER, _NAN, _INF, _NEGATIVE, _NOT_BOOL, _FILTER_BAD = range(8)
_REASONS = (
    "",
    "null or empty",
    "not a number",
    "NaN",
    "infinite",
    "negative",
    "not a boolean (true/false or 0/1)",
    "bad value in the filter column",
)
# The only number spelling accepted in a CSV cell: no spaces, no '_', no nan/inf, no leading '+' or zeros.
_CANONICAL_NUMBER = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$"
_CSV_TRUE = ("true", "True", "TRUE")
_CSV_FALSE = ("false", "False", "FALSE")


@dataclass(frozen=True)
class Table:
    """Rows read from a file, as pyarrow columns, and how to name a row in a message."""

    source: str
    data: pa.Table
    text_cells: bool = False
    """CSV: every cell is text, and numbers must be written canonically."""
    first_line: int = 1
    """The file line of row 0 (2 for CSV, under the header; 1 for JSONL); 0: rows are not lines (Parquet)."""
    cell_problems: dict[str, npt.NDArray[np.int8]] = field(default_factory=dict)
    """Reason codes for cells a JSONL column could not hold in its type (a string among booleans)."""

    def where(self, row: int) -> str:
        return f"line {row + self.first_line}" if self.first_line else f"row {row + 1}"

    @property
    def columns(self) -> list[str]:
        return list(self.data.column_names)


# --------------------------------------------------------------------------------------------------- reading


def table_format(path: Path) -> str | None:
    """'jsonl', 'csv' or 'parquet' from the file name, else None."""
    return TABLE_SUFFIXES.get(path.suffix.lower())


def read_table(path: Path, fmt: str, columns: Sequence[str] | None = None, *, optional: Sequence[str] = ()) -> Table:
    """Read a per-example table; `columns` limits the read to the columns a check needs, plus the `optional`
    columns the file happens to have."""
    if not path.is_file():
        raise ResultsError.at("file not found" if not path.exists() else "not a file", str(path))
    readers: dict[str, Callable[[Path, _Wanted | None], Table]] = {
        "parquet": _read_parquet,
        "csv": _read_csv,
        "jsonl": _read_jsonl,
    }
    wanted = None if columns is None else _Wanted(tuple(columns), tuple(optional))
    table = readers[fmt](path, wanted)
    if table.data.num_rows == 0:
        raise ResultsError.at("the table has no rows", str(path))
    return table


@dataclass(frozen=True)
class _Wanted:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


def _check_columns(wanted: _Wanted | Sequence[str] | None, present: Sequence[str], source: str) -> list[str] | None:
    if wanted is None:
        return None
    if not isinstance(wanted, _Wanted):
        wanted = _Wanted(tuple(wanted))
    from gatekit.evaluate import did_you_mean

    absent = [c for c in wanted.required if c not in present]
    if absent:
        raise ResultsError.at(
            f"column {absent[0]!r} is not in the table{did_you_mean(absent[0], present)}; "
            f"columns: {', '.join(present)}",
            source,
        )
    return list(dict.fromkeys([*wanted.required, *(c for c in wanted.optional if c in present)]))


def _read_parquet(path: Path, columns: _Wanted | None) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise ResultsError.at(f"not a readable Parquet file: {e}", str(path)) from None
    names = list(schema.names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ResultsError.at(f"column {dup!r} appears twice", str(path))
    wanted = _check_columns(columns, names, str(path))
    # Text columns come back dictionary-encoded: slices group on the codes without hashing strings again.
    text = [n for n in (wanted or names) if pa.types.is_string(schema.field(n).type)]
    try:
        data = pq.read_table(path, columns=wanted, read_dictionary=text)
    except (pa.ArrowInvalid, OSError) as e:
        raise ResultsError.at(f"not a readable Parquet file: {e}", str(path)) from None
    return Table(str(path), data, first_line=0)


def _read_csv(path: Path, columns: _Wanted | None) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open(encoding="utf-8", newline="") as f:
        try:
            header = next(csv.reader(f), None)
        except (UnicodeDecodeError, csv.Error) as e:
            raise ResultsError.at(f"cannot read the CSV header: {e}", str(path), 1) from None
    if not header:
        raise ResultsError.at("the CSV file has no header line", str(path), 1)
    for i, name in enumerate(header):
        if not name.strip():
            raise ResultsError.at(f"column {i + 1} of the header has no name", str(path), 1)
        if name in header[:i]:
            raise ResultsError.at(f"column {name!r} appears twice in the header", str(path), 1)
    wanted = _check_columns(columns, header, str(path)) or header
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        # Every cell is read as text and converted by gatekit's own rules: pyarrow would read `NA`, `null` and
        # `None` as missing (a slice named NA would vanish) and accept `nan`, `inf` and ` 0.9 ` as numbers.
        column_types=dict.fromkeys(wanted, pa.dictionary(pa.int32(), pa.string())),
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        data = pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise _csv_error(path, e) from None
    return Table(str(path), data, text_cells=True, first_line=2)


def _csv_error(path: Path, error: Exception) -> ResultsError:
    """Find the line pyarrow stopped at, by reading the file again with the csv module (error path only)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f)
        width = len(next(reader, []))
        for row in reader:
            if len(row) != width:
                return ResultsError.at(  # type: ignore[return-value]
                    f"expected {width} cells, found {len(row)}", str(path), reader.line_num
                )
    return ResultsError.at(f"cannot parse CSV: {error}", str(path))  # type: ignore[return-value]


_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def _read_jsonl(path: Path, columns: _Wanted | None) -> Table:
    import mmap

    import pyarrow as pa
    import pyarrow.json as pajson

    with path.open("rb") as f:
        if path.stat().st_size == 0:
            raise ResultsError.at("the file is empty", str(path))
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
            # pyarrow skips blank lines; a blank line in a results file is a damaged file, so it is an error.
            match = _BLANK_LINE.search(raw)
            if raw[:1] in (b"\n", b"\r"):
                raise ResultsError.at("blank line in a JSONL file (one JSON object per line)", str(path), 1)
            if match:
                line = raw[: match.start() + 1].count(b"\n") + 1
                raise ResultsError.at("blank line in a JSONL file (one JSON object per line)", str(path), line)
    try:
        data = pajson.read_json(path)
    except pa.ArrowInvalid:
        # Damaged lines, mixed types in a column, duplicate keys: read again line by line to say where.
        return _read_jsonl_slowly(path, columns)
    wanted = _check_columns(columns, data.column_names, str(path))
    if wanted is not None:
        data = data.select(wanted)
    return Table(str(path), data, first_line=1)


def _read_jsonl_slowly(path: Path, columns: _Wanted | None) -> Table:
    """The exact reader: locates damaged lines and keeps ill-typed cells as counted bad cells."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            try:
                row = loads_strict(line)
            except DuplicateJsonKeyError as e:
                raise ResultsError.at(f"key {e.key!r} appears twice in one object", str(path), number) from None
            except json.JSONDecodeError as e:
                truncated = not line.endswith("\n")
                what = "truncated last line" if truncated else "not valid JSON"
                raise ResultsError.at(f"{what}: {e.msg}", str(path), number, e.colno) from None
            if not isinstance(row, dict):
                raise ResultsError.at(f"expected a JSON object, found {type(row).__name__}", str(path), number)
            rows.append(row)
    return rows_to_table(rows, str(path), columns, first_line=1)


def rows_to_table(
    rows: Sequence[dict[str, Any]],
    source: str,
    columns: _Wanted | Sequence[str] | None = None,
    *,
    first_line: int = 0,
) -> Table:
    """A table from Python rows (adapters, and the exact JSONL reader). Ill-typed cells become counted nulls."""
    import numpy as np
    import pyarrow as pa

    present = list(dict.fromkeys(key for row in rows for key in row))
    wanted = _check_columns(columns, present, source) or present
    arrays: dict[str, pa.Array] = {}
    problems: dict[str, npt.NDArray[np.int8]] = {}
    for name in wanted:
        cells = [row.get(name) for row in rows]
        try:
            arrays[name] = pa.array(cells)
            if pa.types.is_null(arrays[name].type):
                arrays[name] = pa.array(cells, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # Mixed types: keep the majority kind, count the others as bad cells of this column.
            texts = sum(isinstance(c, str) for c in cells)
            numbers = sum(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cells)
            bools = sum(isinstance(c, bool) for c in cells)
            if texts >= max(numbers, bools):
                keep: Callable[[Any], bool] = lambda c: isinstance(c, str)  # noqa: E731
            elif bools >= numbers:
                keep = lambda c: isinstance(c, bool)  # noqa: E731
            else:
                keep = lambda c: isinstance(c, (int, float)) and not isinstance(c, bool)  # noqa: E731
            codes = np.array([_OK if c is None or keep(c) else _NOT_NUMBER for c in cells], dtype=np.int8)
            if bools >= numbers and texts < bools:
                codes[codes == _NOT_NUMBER] = _NOT_BOOL
            arrays[name] = pa.array([c if keep(c) else None for c in cells])
            problems[name] = codes
    return Table(source, pa.table(arrays), first_line=first_line, cell_problems=problems)


# ------------------------------------------------------------------------------------------ column decoding


@dataclass(frozen=True)
class Decoded:
    """One column as float64 values and a reason code per row (0 = good)."""

    values: npt.NDArray[np.float64]
    reasons: npt.NDArray[np.int8]


def _chunked(table: Table, name: str) -> pa.ChunkedArray:
    return table.data.column(name)


def _plain(array: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary columns (CSV text, Parquet strings) as plain values."""
    import pyarrow as pa

    if pa.types.is_dictionary(array.type):
        return array.cast(array.type.value_type)
    return array


def decode_numbers(table: Table, name: str, *, role: str, non_negative: bool = False) -> Decoded:
    """A column of numbers (role 'number'), 0/1 or booleans ('rate'), or latencies ('quantile': null is +inf).

    A null latency is a request that never finished: it counts as slowest (+inf), never as dropped.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _chunked(table, name)
    n = len(array)
    reasons = np.zeros(n, dtype=np.int8)
    kind = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _plain(array)
        if table.text_cells:
            empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
            canonical = pc.match_substring_regex(text, _CANONICAL_NUMBER).to_numpy(zero_copy_only=False)
            is_true = pc.is_in(text, pa.array(_CSV_TRUE)).to_numpy(zero_copy_only=False)
            is_false = pc.is_in(text, pa.array(_CSV_FALSE)).to_numpy(zero_copy_only=False)
            numeric = pc.cast(pc.if_else(pa.array(canonical), text, "0"), pa.float64()).to_numpy(zero_copy_only=False)
            values = np.where(is_true, 1.0, np.where(is_false, 0.0, numeric))
            reasons[~(canonical | is_true | is_false)] = _NOT_BOOL if role == "rate" else _NOT_NUMBER
            if role != "rate":
                reasons[is_true | is_false] = _NOT_NUMBER
            values[empty] = np.nan
            reasons[empty] = _NULL
        else:
            values = np.full(n, np.nan)
            reasons[:] = _NOT_BOOL if role == "rate" else _NOT_NUMBER
            reasons[array.is_null().to_numpy(zero_copy_only=False)] = _NULL
    elif pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if pa.types.is_boolean(kind) and role != "rate":
            values = np.full(n, np.nan)
            reasons[:] = _NOT_NUMBER
        else:
            values = np.asarray(array.cast(pa.float64()).to_numpy(), dtype=np.float64)
        if array.null_count:
            reasons[array.is_null().to_numpy(zero_copy_only=False)] = _NULL
    else:
        values = np.full(n, np.nan)
        reasons[:] = _NOT_BOOL if role == "rate" else _NOT_NUMBER
    if name in table.cell_problems:
        extra = table.cell_problems[name]
        reasons = np.where(extra != _OK, extra, reasons).astype(np.int8)
    good = reasons == _OK
    nan = good & np.isnan(values)
    reasons[nan] = _NAN
    if role == "rate":
        reasons[good & ~nan & (values != 0.0) & (values != 1.0)] = _NOT_BOOL
    elif role == "quantile":
        reasons[good & (values == -np.inf)] = _INF
        timed_out = reasons == _NULL
        values = values.copy() if not values.flags.writeable else values
        values[timed_out] = np.inf
        reasons[timed_out] = _OK
    else:
        reasons[good & np.isinf(values)] = _INF
    if non_negative:
        reasons[(reasons == _OK) & (values < 0)] = _NEGATIVE
    return Decoded(values, reasons)


@dataclass(frozen=True)
class SliceColumn:
    """A slice dimension: a group code per row, the group labels, and rows with no value."""

    name: str
    codes: npt.NDArray[np.int64]
    labels: list[str]
    missing: npt.NDArray[np.bool_]


def decode_slices(table: Table, name: str) -> SliceColumn:
    """Group codes for a slice column. Values are text (numbers and booleans are written as text)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _chunked(table, name)
    if not pa.types.is_dictionary(array.type):
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = array.cast(pa.string())
        array = pc.dictionary_encode(array)
    array = array.unify_dictionaries()
    if array.num_chunks == 0:
        return SliceColumn(name, np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=bool))
    dictionary = array.chunk(0).dictionary
    labels = [str(v) for v in dictionary.cast(pa.string()).to_pylist()]
    if array.null_count:
        codes = np.concatenate([np.asarray(pc.fill_null(c.indices, 0).to_numpy()) for c in array.chunks])
        missing = array.is_null().to_numpy(zero_copy_only=False)
    else:
        codes = np.concatenate([c.indices.to_numpy() for c in array.chunks])
        missing = np.zeros(len(codes), dtype=bool)
    codes = codes.astype(np.int64, copy=False)
    if "" in labels:
        missing = missing | (codes == labels.index(""))
    if name in table.cell_problems:
        missing = missing | (table.cell_problems[name] != _OK)
    return SliceColumn(name, codes, labels, missing)


# ------------------------------------------------------------------------------------------------- grouping


@dataclass
class _Grouping:
    """Rows of a slice dimension in group order, so each slice is a contiguous run."""

    names: list[str]
    codes: npt.NDArray[np.int64]
    missing: npt.NDArray[np.bool_] | None
    columns: tuple[str, ...]
    _order: npt.NDArray[np.intp] | None = None
    _counts: npt.NDArray[np.int64] | None = None

    def sorted_order(self) -> npt.NDArray[np.intp] | None:
        """Row indices in group order (stable); None for the single `all` group (rows are already in order)."""
        import numpy as np

        if len(self.names) == 1:
            return None
        if self._order is None:
            # Stable sort of small integer codes: numpy uses a radix sort for 16-bit keys, O(rows).
            small = self.codes.astype(np.uint16) if len(self.names) <= 65535 else self.codes
            self._order = np.argsort(small, kind="stable")
        return self._order

    def counts(self) -> npt.NDArray[np.int64]:
        import numpy as np

        if self._counts is None:
            self._counts = np.bincount(self.codes, minlength=len(self.names))
        return self._counts


def _groupings(table: Table, options: TableOptions) -> list[_Grouping]:
    import numpy as np

    n = table.data.num_rows
    groupings = [_Grouping([AGGREGATE_SLICE], np.zeros(n, dtype=np.int64), None, ())]
    decoded: dict[str, SliceColumn] = {}
    for name in dict.fromkeys([*options.slice_by, *(c for pair in options.slice_cross for c in pair)]):
        decoded[name] = decode_slices(table, name)
    for name in options.slice_by:
        col = decoded[name]
        groupings.append(_Grouping([f"{name}={v}" for v in col.labels], col.codes, _any(col.missing), (name,)))
    for a_name, b_name in options.slice_cross:
        a, b = decoded[a_name], decoded[b_name]
        width = len(b.labels)
        labels = [f"{a_name}={x},{b_name}={y}" for x in a.labels for y in b.labels]
        crossed = a.codes * width + b.codes
        groupings.append(_Grouping(labels, crossed, _any(a.missing | b.missing), (a_name, b_name)))
    return groupings


def _any(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_] | None:
    return mask if mask.any() else None


# ------------------------------------------------------------------------------------------------- metrics


def table_columns(spec: Spec, present: Iterable[str] | None = None) -> list[str]:
    """The columns a check reads from a table: slices, id, and each derived metric's column and filter."""
    options = spec.table
    wanted = [*options.slice_by, *(c for pair in options.slice_cross for c in pair)]
    for definition in spec.metrics.values():
        source = definition.from_
        if source is None:
            continue
        if source.column is not None:
            wanted.append(source.column)
        if source.where is not None:
            wanted.append(source.where.column)
    id_column = options.id_column
    if id_column is None and present is not None and "id" in present:
        id_column = "id"
    if id_column is not None:
        wanted.append(id_column)
    return list(dict.fromkeys(wanted))


def derived_metrics(spec: Spec) -> dict[str, ColumnAggregate]:
    return {name: d.from_ for name, d in spec.metrics.items() if d.from_ is not None}


def table_results(
    table: Table,
    spec: Spec,
    *,
    model: str | None = None,
    extra: dict[str, dict[str, Measurement]] | None = None,
    notes: Sequence[str] = (),
) -> Results:
    """Every derived metric of the spec on every slice of the table."""
    import numpy as np

    definitions = derived_metrics(spec)
    if not definitions and not extra:
        raise ResultsError.at(
            "a per-example table needs metrics computed from its columns: add "
            "`metrics: {name: {from: {column: ..., aggregate: rate|mean|sum|count|p95 ...}}}` to the spec",
            table.source,
        )
    options = spec.table
    id_column = options.id_column or ("id" if "id" in table.columns else None)
    if id_column is not None:
        _check_columns([id_column], table.columns, table.source)
    ids = _ids(table, id_column) if id_column else None
    groupings = _groupings(table, options)
    decode_cache: dict[tuple[str, str], Decoded] = {}
    cache: dict[tuple[int, int], npt.NDArray[np.float64]] = {}
    all_notes = list(notes)
    metrics: dict[str, dict[str, Measurement]] = dict(extra or {})
    for metric, source in definitions.items():
        role = "rate" if source.aggregate == "rate" else "quantile" if source.aggregate in QUANTILES else "number"
        if source.column is not None:
            key = (source.column, role)
            if key not in decode_cache:
                decode_cache[key] = decode_numbers(
                    table, source.column, role=role, non_negative=source.column in options.non_negative
                )
            column = decode_cache[key]
            values, reasons = column.values, column.reasons
        else:
            values = np.ones(table.data.num_rows)
            reasons = np.zeros(table.data.num_rows, dtype=np.int8)
        selected = _filter_mask(table, source.where) if source.where is not None else None
        if selected is not None:
            reasons = np.where(selected.bad & (reasons == _OK), np.int8(_FILTER_BAD), reasons).astype(np.int8)
            rowset: npt.NDArray[np.bool_] | None = selected.keep | selected.bad
        else:
            rowset = None
        if ids is not None:
            _check_unique_ids(table, id_column or "", ids, rowset, metric)
        metrics[metric] = _measure_metric(
            table, metric, source, values, reasons, rowset, ids, groupings, options.drop_invalid, all_notes, cache
        )
    return Results(
        source=table.source,
        model=model or Path(table.source).stem,
        metrics=metrics,
        notes=tuple(all_notes),
    )


@dataclass(frozen=True)
class _Selection:
    keep: npt.NDArray[np.bool_]
    bad: npt.NDArray[np.bool_]


def _filter_mask(table: Table, where: RowFilter) -> _Selection:

    if isinstance(where.equals, str):
        column = decode_slices(table, where.column)
        index = column.labels.index(where.equals) if where.equals in column.labels else -1
        return _Selection((column.codes == index) & ~column.missing, column.missing)
    role = "rate" if isinstance(where.equals, bool) else "number"
    decoded = decode_numbers(table, where.column, role=role)
    bad = decoded.reasons != _OK
    return _Selection((decoded.values == float(where.equals)) & ~bad, bad)


def _ids(table: Table, column: str) -> npt.NDArray[Any]:
    import numpy as np

    array = _plain(_chunked(table, column))
    if array.null_count:
        first = int(np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))[0])
        raise ResultsError.at(f"example id column {column!r} is empty at {table.where(first)}", table.source)
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _check_unique_ids(
    table: Table, column: str, ids: npt.NDArray[Any], rowset: npt.NDArray[np.bool_] | None, metric: str
) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    chosen = ids if rowset is None else ids[rowset]
    counts = pc.value_counts(pa.array(chosen))
    repeated = pc.filter(counts, pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return
    first = repeated[0]["values"].as_py()
    rows = np.flatnonzero(ids == first)
    if rowset is not None:
        rows = rows[rowset[rows]]
    hint = (
        "; a harness samples file repeats each example once per filter: add `where: {column: filter, equals: ...}`"
        if "filter" in table.columns
        else ""
    )
    raise ResultsError.at(
        f"duplicate example id {first!r} in column {column!r} (rows used by {metric!r}) at "
        f"{table.where(int(rows[0]))} and {table.where(int(rows[1]))}{hint}",
        table.source,
        int(rows[1]) + table.first_line if table.first_line else 0,
    )


def _min_n_for_quantile(q: float) -> int:
    # Smallest n for which the sample maximum is a 95% one-sided upper bound of the q-quantile
    # (1 - q**n >= 0.95): with fewer examples no distribution-free bound on p95 exists (p95 needs 59).
    return math.ceil(math.log(0.05) / math.log(q))


def _measure_metric(  # noqa: PLR0917 - internal, called once
    table: Table,
    metric: str,
    source: ColumnAggregate,
    values: npt.NDArray[np.float64],
    reasons: npt.NDArray[np.int8],
    rowset: npt.NDArray[np.bool_] | None,
    ids: npt.NDArray[Any] | None,
    groupings: list[_Grouping],
    drop_invalid: bool,
    notes: list[str],
    cache: dict[tuple[int, int], npt.NDArray[np.float64]],
) -> dict[str, Measurement]:
    import numpy as np

    bad = reasons != _OK
    if rowset is not None:
        bad &= rowset
    any_bad = bool(bad.any())
    column = source.column or "(rows)"
    summary = ""
    if any_bad:
        reason_counts = np.bincount(reasons[bad], minlength=len(_REASONS))
        detail = ", ".join(f"{int(c)} {_REASONS[r]}" for r, c in enumerate(reason_counts) if c)
        first = table.where(int(np.flatnonzero(bad)[0]))
        summary = f"{int(bad.sum())} bad rows in column {column!r} ({detail}; first at {first})"
        if drop_invalid:
            notes.append(f"{table.source}: {metric}: dropped {summary} (drop_invalid)")
    out: dict[str, Measurement] = {}
    for grouping in groupings:
        absent = grouping.missing
        if absent is not None and rowset is not None:
            absent = absent & rowset
        n_absent = int(absent.sum()) if absent is not None else 0
        slice_problem = None
        if n_absent:
            assert absent is not None
            names = " or ".join(repr(c) for c in grouping.columns)
            first_absent = table.where(int(np.flatnonzero(absent)[0]))
            slice_problem = f"{n_absent} rows have no {names} value (first at {first_absent})"
            if drop_invalid:
                notes.append(f"{table.source}: {metric}: {slice_problem}; they are left out of these slices")
                slice_problem = None
        n_groups = len(grouping.names)
        whole = rowset is None and not any_bad and not n_absent
        if whole:
            # The common case: every row counts. Group order and the grouped column are shared by metrics.
            rows_per_group = grouping.counts()
            counts = rows_per_group
            order = grouping.sorted_order()
            key = (id(values), id(grouping))
            if key not in cache:
                cache[key] = values if order is None else values[order]
            grouped_values = cache[key]
            grouped_ids = None if ids is None else (ids if order is None else ids[order])
            bad_per_group = None
        else:
            used = np.ones(len(values), dtype=bool) if rowset is None else rowset
            if n_absent:
                assert absent is not None
                used = used & ~absent
            rows_per_group = np.bincount(grouping.codes[used], minlength=n_groups)
            bad_per_group = np.bincount(grouping.codes[bad & used], minlength=n_groups) if any_bad else None
            valid = used & ~bad if any_bad else used
            order = grouping.sorted_order()
            picked = np.flatnonzero(valid) if order is None else order[valid[order]]
            grouped_values = values[picked]
            grouped_ids = None if ids is None else ids[picked]
            counts = np.bincount(grouping.codes[picked], minlength=n_groups)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        if source.aggregate in QUANTILES or source.aggregate == "count":
            stats = _segment_stats(source, grouped_values, offsets)
        else:
            row_codes = grouping.codes if whole else grouping.codes[picked]
            row_values = values if whole else values[picked]
            stats = _group_sums(source, row_codes, row_values, counts, cache)
        for g, label in enumerate(grouping.names):
            if rows_per_group[g] == 0:
                continue  # no row of this metric in this slice: the slice does not exist for the metric
            lo, hi = int(offsets[g]), int(offsets[g + 1])
            samples = Samples(grouped_values[lo:hi], None if grouped_ids is None else grouped_ids[lo:hi])
            problem = slice_problem
            n_bad = int(bad_per_group[g]) if bad_per_group is not None else 0
            if n_bad and not drop_invalid and problem is None:
                problem = (
                    f"{n_bad} of {int(rows_per_group[g])} rows have a bad {column!r} value "
                    f"({summary}); set table.drop_invalid to use the rest"
                )
            out[label] = _measurement(source, hi - lo, stats[0][g], stats[1][g], samples, problem)
    return out


def _group_sums(
    source: ColumnAggregate,
    codes: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
    cache: dict[tuple[int, int], npt.NDArray[np.float64]],
) -> tuple[list[float], list[float | None]]:
    """Sum, mean and stderr per group with weighted bincounts, in row order (no gather needed)."""
    import numpy as np

    key = (id(values), -1)
    if key not in cache:
        # Centred on the overall mean, so that sums of squares keep their precision; shared by groupings.
        cache[key] = values - (float(values.mean()) if len(values) else 0.0)
    centred = cache[key]
    n_groups = len(counts)
    nonempty = counts > 0
    out = np.full(n_groups, np.nan)
    stderrs: list[float | None] = [None] * n_groups
    # The value from plain sums (a rate's sum of 0/1 is an exact count); the centred sums only for the stderr.
    totals = np.bincount(codes, weights=values, minlength=n_groups)
    if source.aggregate == "sum":
        out[nonempty] = totals[nonempty]
        return out.tolist(), stderrs
    square_key = (id(values), -2)
    if square_key not in cache:
        cache[square_key] = centred * centred
    sums = np.bincount(codes, weights=centred, minlength=n_groups)[nonempty]
    squares = np.bincount(codes, weights=cache[square_key], minlength=n_groups)[nonempty]
    n = counts[nonempty].astype(np.float64)
    out[nonempty] = totals[nonempty] / n
    means = sums / n
    # Sample SD / sqrt(n); for a 0/1 column this is sqrt(p(1-p)/(n-1)), the convention lm-eval uses.
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.maximum(squares - n * means * means, 0.0) / (n - 1)) / np.sqrt(n)
    for g, value in zip(np.flatnonzero(nonempty).tolist(), se.tolist(), strict=True):
        stderrs[g] = value if math.isfinite(value) and counts[g] > 1 else None
    return out.tolist(), stderrs


def _segment_stats(
    source: ColumnAggregate, grouped: npt.NDArray[np.float64], offsets: npt.NDArray[np.int64]
) -> tuple[list[float], list[float | None]]:
    """Value and stderr of each contiguous segment: vectorised sums (reduceat), per-segment partition for
    quantiles. Empty segments give NaN."""
    import numpy as np

    counts = np.diff(offsets)
    n_groups = len(counts)
    aggregate = source.aggregate
    nonempty = counts > 0
    starts = offsets[:-1][nonempty]
    values = np.full(n_groups, np.nan)
    stderrs: list[float | None] = [None] * n_groups
    if aggregate in QUANTILES:
        q = QUANTILES[aggregate]
        for g in np.flatnonzero(nonempty):
            # Inverted CDF (nearest rank): the smallest value with at least q of the examples at or below it.
            values[g] = np.quantile(grouped[offsets[g] : offsets[g + 1]], q, method="inverted_cdf")
        return values.tolist(), stderrs
    if aggregate == "count":
        return counts.astype(np.float64).tolist(), stderrs
    if not len(starts):
        return values.tolist(), stderrs
    # Sums per segment about a common shift (the overall mean), so that sums of squares keep their precision.
    shift = float(grouped.mean()) if len(grouped) else 0.0
    centred = grouped - shift
    sums = np.add.reduceat(centred, starts)
    if aggregate == "sum":
        values[nonempty] = sums + shift * counts[nonempty]
        return values.tolist(), stderrs
    n = counts[nonempty]
    centred *= centred
    squares = np.add.reduceat(centred, starts)
    means = sums / n
    values[nonempty] = means + shift
    # Sample SD / sqrt(n); for a 0/1 column this is sqrt(p(1-p)/(n-1)), the convention lm-eval uses.
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.maximum(squares - n * means * means, 0.0) / (n - 1)) / np.sqrt(n)
    for g, value in zip(np.flatnonzero(nonempty).tolist(), se.tolist(), strict=True):
        stderrs[g] = value if math.isfinite(value) and counts[g] > 1 else None
    return values.tolist(), stderrs


def _measurement(  # noqa: PLR0917 - internal
    source: ColumnAggregate,
    n: int,
    value: float,
    stderr: float | None,
    samples: Samples,
    problem: str | None,
) -> Measurement:
    if n == 0:
        return Measurement(math.nan, 0, None, samples, problem or "every row of this slice is bad")
    if source.aggregate in QUANTILES:
        need = _min_n_for_quantile(QUANTILES[source.aggregate])
        if n < need and problem is None:
            problem = (
                f"{source.aggregate} needs at least {need} examples for a distribution-free bound; this slice has {n}"
            )
    return Measurement(value, n, stderr, samples, problem)


# -------------------------------------------------------------------------------------------------- inspect


@dataclass(frozen=True)
class ColumnSummary:
    """What `gatekit inspect` shows about one column of a table."""

    name: str
    type: str
    nulls: int
    distinct: int | None
    examples: tuple[str, ...]
    problems: dict[str, int]


def summarize_table(table: Table, max_examples: int = 8) -> list[ColumnSummary]:
    """Per column: type, nulls, and for text columns the distinct values (what `slice_by` would produce)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    for name in table.columns:
        array = _plain(_chunked(table, name))
        kind = array.type
        problems: dict[str, int] = {}
        distinct: int | None = None
        examples: tuple[str, ...] = ()
        if table.text_cells or pa.types.is_string(kind) or pa.types.is_large_string(kind):
            unique = pc.unique(array)
            distinct = len(unique)
            examples = tuple(str(v) for v in unique.slice(0, max_examples).to_pylist())
            type_name = "text"
            if table.text_cells:
                decoded = decode_numbers(table, name, role="number")
                good = int((decoded.reasons == _OK).sum())
                if good == len(array):
                    type_name = "number"
                elif all(v in (*_CSV_TRUE, *_CSV_FALSE) for v in unique.to_pylist()):
                    type_name = "boolean"
        elif pa.types.is_floating(kind) or pa.types.is_integer(kind):
            decoded = decode_numbers(table, name, role="number")
            problems = _reason_counts(decoded.reasons)
            type_name = "number"
        elif pa.types.is_boolean(kind):
            type_name = "boolean"
        else:
            type_name = str(kind)
        if name in table.cell_problems:
            for code, count in _reason_counts(table.cell_problems[name]).items():
                problems[code] = problems.get(code, 0) + count
        out.append(ColumnSummary(name, type_name, int(array.null_count), distinct, examples, problems))
    return out


def _reason_counts(reasons: npt.NDArray[np.int8]) -> dict[str, int]:
    import numpy as np

    counts = np.bincount(reasons, minlength=len(_REASONS))
    return {_REASONS[r]: int(c) for r, c in enumerate(counts) if r != _OK and c}
