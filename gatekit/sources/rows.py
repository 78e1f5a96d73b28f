"""Per-example results tables: reading JSONL, CSV and Parquet rows, and decoding their columns.

A table has one row per example. Reading is columnar (pyarrow), limited to the columns a check needs;
decoding turns a column into float64 values (views of the file's own buffers where it can) and a reason code
for every bad cell, and a slice column into small integer codes. `gatekit.sources.aggregate` computes the per-slice
measurements from them. pyarrow and numpy are imported inside functions so that `gatekit validate` and
`gatekit --version` never load them.

Bad cells are never skipped silently. A non-boolean in a rate column, a NaN, a null, a non-canonical CSV
number, a negative value in a `non_negative` column or a row without a slice value is counted per column;
a measurement built from such rows carries a `problem` and is reported missing, unless the spec sets
`table.drop_invalid: true`, in which case the valid rows are used and the dropped count becomes a note.
"""

from __future__ import annotations

import codecs
import csv
import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.sources.csv_blocks import CsvLines, read_csv_narrowly
from gatekit.spec.characters import LONE_SURROGATE
from gatekit.spec.jsonio import DuplicateJsonKeyError, NumberError, loads_strict

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

TABLE_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}

# Why a cell is bad. 0 is a good cell. The codes index REASONS.
OK, _NULL, _NOT_NUMBER, _NAN, _INF, _NEGATIVE, _NOT_BOOL, FILTER_BAD = range(8)
REASONS = (
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
    text_classes: dict[str, npt.NDArray[np.int8] | None] = field(default_factory=dict)
    """CSV number columns decoded while read (`csv_blocks`): float64 values, and each cell's `TEXT_CLASSES`
    code (None: every cell is a canonical number)."""

    csv_lines: CsvLines | None = field(default=None, compare=False, repr=False)
    """CSV: the line each row starts on, where quoted cells hold line breaks."""

    def line(self, row: int) -> int:
        """The file line of `row` (0-based), or 0 where rows are not lines."""
        if self.csv_lines is not None:
            return self.csv_lines.line(row)
        return row + self.first_line if self.first_line else 0

    def where(self, row: int) -> str:
        return f"line {self.line(row)}" if self.first_line else f"row {row + 1}"

    @property
    def columns(self) -> list[str]:
        return list(self.data.column_names)


# --------------------------------------------------------------------------------------------------- reading


def table_format(path: Path) -> str | None:
    """'jsonl', 'csv' or 'parquet' from the file name, else None."""
    return TABLE_SUFFIXES.get(path.suffix.lower())


def read_table(
    path: Path,
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    optional: Sequence[str] = (),
    numbers: Sequence[str] = (),
    distinct: Sequence[str] = (),
) -> Table:
    """Read a per-example table; `columns` limits the read to the columns a check needs, plus the `optional`
    columns the file happens to have. `numbers` are columns read only for their values (a CSV may decode
    them while reading); `distinct` text columns whose values are mostly distinct (example ids), which a
    Parquet file hands over as plain text instead of dictionary-encoded."""
    if not path.is_file():
        raise ResultsError.at("file not found" if not path.exists() else "not a file", str(path))
    readers: dict[str, Callable[[Path, _Wanted | None], Table]] = {
        "parquet": _read_parquet,
        "csv": _read_csv,
        "jsonl": _read_jsonl,
    }
    wanted = None if columns is None else _Wanted(tuple(columns), tuple(optional), tuple(numbers), tuple(distinct))
    table = readers[fmt](path, wanted)
    if table.data.num_rows == 0:
        raise ResultsError.at("the table has no rows", str(path))
    _check_text(table, path)
    return table


def _check_text(table: Table, path: Path) -> None:
    """Text cells must be valid UTF-8. pyarrow's JSONL reader and a Parquet file's writer can hand over
    bytes that are not, which would otherwise fail in the middle of a check as an internal error."""
    import pyarrow as pa

    for name in table.columns:
        column = table.data.column(name)
        kind = column.type
        if pa.types.is_dictionary(kind):
            # The values live in the dictionaries; the reader made the indices.
            parts = [chunk.dictionary for chunk in column.chunks]
            kind = kind.value_type
        else:
            parts = list(column.chunks)
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        for part in parts:
            try:
                part.validate(full=True)
            except pa.ArrowInvalid:
                line, col = _first_undecodable_line(path) if table.first_line else (0, 0)
                raise ResultsError.at(
                    f"column {name!r} holds text that is not valid UTF-8", str(path), line, col
                ) from None


def _first_undecodable_line(path: Path) -> tuple[int, int]:
    """The line and column (1-based, in bytes) of the first byte that is not UTF-8; (0, 0) if none."""
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                return number, e.start + 1
    return 0, 0


@dataclass(frozen=True)
class _Wanted:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    distinct: tuple[str, ...] = ()


def check_columns(wanted: _Wanted | Sequence[str] | None, present: Sequence[str], source: str) -> list[str] | None:
    if wanted is None:
        return None
    if not isinstance(wanted, _Wanted):
        wanted = _Wanted(tuple(wanted))
    from gatekit.names import did_you_mean

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

    # ParquetFile, not read_table: read_table goes through pyarrow.dataset, whose import pulls in pandas
    # when it is installed (0.2 s of a check's start-up).
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except (pa.ArrowInvalid, OSError) as e:
        raise ResultsError.at(f"not a readable Parquet file: {e}", str(path)) from None
    names = list(schema.names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ResultsError.at(f"column {dup!r} appears twice", str(path))
    wanted = check_columns(columns, names, str(path))
    # Text columns come back dictionary-encoded: slices group on the codes without hashing strings again.
    # Not the example ids: each is distinct, so the dictionary would be a hash of every id (2.5 s of a
    # 5M-row table) only to be undone; they are coded once, for both tables, by `example_ids`.
    plain = columns.distinct if columns is not None else ()
    text = [n for n in (wanted or names) if pa.types.is_string(schema.field(n).type) and n not in plain]
    try:
        # Reopened only to set read_dictionary, which ParquetFile takes when it opens; the footer is reused.
        with pq.ParquetFile(path, metadata=parquet.metadata, read_dictionary=text) as reader:
            data = reader.read(columns=wanted)
    except (pa.ArrowInvalid, OSError) as e:
        raise ResultsError.at(f"not a readable Parquet file: {e}", str(path)) from None
    finally:
        parquet.close()
    return Table(str(path), data, first_line=0)


def _read_csv(path: Path, columns: _Wanted | None) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open("rb") as f:
        # Decoded line by line: a text reader decodes a whole block, and would blame a bad byte further down
        # on the header. utf-8-sig drops a byte-order mark, as pyarrow's reader does.
        reader = csv.reader(codecs.iterdecode(f, "utf-8-sig"))
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as e:
            raise ResultsError.at(f"cannot read the CSV header: {e}", str(path), max(reader.line_num, 1)) from None
    if not header:
        raise ResultsError.at("the CSV file has no header line", str(path), 1)
    for i, name in enumerate(header):
        if not name.strip():
            raise ResultsError.at(f"column {i + 1} of the header has no name", str(path), 1)
        if name in header[:i]:
            raise ResultsError.at(f"column {name!r} appears twice in the header", str(path), 1)
    wanted = check_columns(columns, header, str(path)) or header
    numbers = [n for n in (columns.numbers if columns is not None else ()) if n in wanted]
    # Example ids read for nothing else stay plain text: each is distinct, and `example_ids` codes them once.
    plain = [n for n in (columns.distinct if columns is not None else ()) if n in wanted and n not in numbers]
    # Number columns come as plain text too: `read_csv_narrowly` codes a block's cells itself while the
    # column has few distinct cells, and decodes its text straight to values once it has many.
    kinds = {n: pa.string() if n in numbers or n in plain else pa.dictionary(pa.int32(), pa.string()) for n in wanted}
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        # Every cell is read as text and converted by gatekit's own rules: pyarrow would read `NA`, `null` and
        # `None` as missing (a slice named NA would vanish) and accept `nan`, `inf` and ` 0.9 ` as numbers.
        column_types=kinds,
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        data, classes = read_csv_narrowly(path, convert, wanted, numbers, text_classes, plain=plain)
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise _csv_error(path, e) from None
    return Table(str(path), data, text_cells=True, first_line=2, text_classes=classes, csv_lines=CsvLines(path))


def _csv_error(path: Path, error: Exception) -> ResultsError:
    """Find the line pyarrow stopped at, by reading the file again with the csv module (error path only)."""
    line, col = _first_undecodable_line(path)
    if line:
        return ResultsError.at("not valid UTF-8", str(path), line, col)  # type: ignore[return-value]
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
_BLANK_LINE_START = re.compile(rb"\n[\n \t\r]")
"""Where a blank line can start: a line break and then another, a space, a tab or a carriage return. Found
four times as fast as `_BLANK_LINE` itself (0.04 s against 0.17 s in a 120 MB file), which then runs from there."""
_BLANK_LINE_MESSAGE = "blank line in a JSONL file (one JSON object per line)"


def _blank_line(raw: Any) -> int | None:
    """The line of the first blank line of a JSONL file's bytes (1-based), or None."""
    if raw[:1] in (b"\n", b"\r"):
        return 1
    start = _BLANK_LINE_START.search(raw)
    match = _BLANK_LINE.search(raw, start.start()) if start else None
    return raw[: match.start() + 1].count(b"\n") + 1 if match else None


def _read_jsonl(path: Path, columns: _Wanted | None) -> Table:
    import mmap

    import pyarrow as pa
    import pyarrow.json as pajson

    with path.open("rb") as f:
        if path.stat().st_size == 0:
            raise ResultsError.at("the file is empty", str(path))
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
            # pyarrow skips blank lines; a blank line in a results file is a damaged file, so it is an error.
            line = _blank_line(raw)
            if line is not None:
                raise ResultsError.at(_BLANK_LINE_MESSAGE, str(path), line)
    try:
        data = pajson.read_json(path)
    except pa.ArrowInvalid:
        # Damaged lines, mixed types in a column, duplicate keys: read again line by line to say where.
        return _read_jsonl_slowly(path, columns)
    wanted = check_columns(columns, data.column_names, str(path))
    if wanted is not None:
        data = data.select(wanted)
    return Table(str(path), data, first_line=1)


def _read_jsonl_slowly(path: Path, columns: _Wanted | None) -> Table:
    """The exact reader: locates damaged lines and keeps ill-typed cells as counted bad cells."""
    rows: list[dict[str, Any]] = []
    for number, row in json_lines(path):
        if not isinstance(row, dict):
            raise ResultsError.at(f"expected a JSON object, found {type(row).__name__}", str(path), number)
        rows.append(row)
    return rows_to_table(rows, str(path), columns, first_line=1)


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Each line of a JSONL file as (line number, its JSON value), in a Python loop: for the files no
    columnar reader takes whole, and to say where a damaged one is damaged. A line that is not UTF-8, a blank
    line, a key twice in one object and a line that is not JSON (a truncated last line among them) are each
    an error at their line."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ResultsError.at("not valid UTF-8", str(path), number, e.start + 1) from None
            if not line.strip():
                raise ResultsError.at(_BLANK_LINE_MESSAGE, str(path), number)
            surrogate = LONE_SURROGATE.search(line)
            if surrogate is not None:
                raise ResultsError.at(
                    f"{surrogate.group()} is half of a UTF-16 surrogate pair, not a character",
                    str(path),
                    number,
                    surrogate.start() + 1,
                )
            try:
                value = loads_strict(line)
            except NumberError as e:
                raise ResultsError.at(str(e), str(path), number) from None
            except DuplicateJsonKeyError as e:
                raise ResultsError.at(f"key {e.key!r} appears twice in one object", str(path), number) from None
            except json.JSONDecodeError as e:
                truncated = not line.endswith("\n")
                what = "truncated last line" if truncated else "not valid JSON"
                raise ResultsError.at(f"{what}: {e.msg}", str(path), number, e.colno) from None
            yield number, value


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
    wanted = check_columns(columns, present, source) or present
    arrays: dict[str, pa.Array] = {}
    problems: dict[str, npt.NDArray[np.int8]] = {}
    for name in wanted:
        # An integer beyond int64 (JSON has no limit) is read as the float it is close to: pyarrow would
        # refuse the whole column.
        cells = [
            float(c) if type(c) is int and not -(2**63) <= c < 2**63 else c for c in (row.get(name) for row in rows)
        ]
        try:
            if any(isinstance(c, bool) for c in cells) and any(type(c) in (int, float) for c in cells):
                # pyarrow would quietly turn false into 0.0 in a column of numbers: mixed kinds are bad cells.
                raise pa.ArrowInvalid("booleans mixed with numbers")
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
            codes = np.array([OK if c is None or keep(c) else _NOT_NUMBER for c in cells], dtype=np.int8)
            if bools >= numbers and texts < bools:
                codes[codes == _NOT_NUMBER] = _NOT_BOOL
            arrays[name] = pa.array([c if keep(c) else None for c in cells])
            problems[name] = codes
    return Table(source, pa.table(arrays), first_line=first_line, cell_problems=problems)


# ------------------------------------------------------------------------------------------ column decoding


class Decoded:
    """One column as float64 values and a reason code per row (0 = good); `reasons` is None when every row
    is good (the common case, told without a per-row pass over reason codes).

    The values may come in `chunks`, in row order: views of the file's own column buffers where they are
    float64 already, so that sums never copy the column, or `CodedChunks` made one at a time from a CSV
    block's codes. `values` joins them on first use.
    """

    __slots__ = ("_length", "_values", "chunks", "reasons")

    def __init__(
        self,
        values: npt.NDArray[np.float64] | Sequence[npt.NDArray[np.float64]],
        reasons: npt.NDArray[np.int8] | None,
    ) -> None:
        import numpy as np

        self.chunks: Sequence[npt.NDArray[np.float64]]
        if isinstance(values, np.ndarray):
            self.chunks = (values,)
            self._values: npt.NDArray[np.float64] | None = values
        elif isinstance(values, CodedChunks):
            self.chunks = values
            self._values = None
        else:
            self.chunks = tuple(values) or (np.zeros(0),)
            self._values = self.chunks[0] if len(self.chunks) == 1 else None
        self._length = values.rows if isinstance(values, CodedChunks) else sum(len(c) for c in self.chunks)
        self.reasons = reasons

    @property
    def values(self) -> npt.NDArray[np.float64]:
        if self._values is None:
            import numpy as np

            self._values = np.concatenate(list(self.chunks)) if self._length else np.zeros(0)
            self.chunks = (self._values,)
        return self._values

    def __len__(self) -> int:
        return self._length

    def bad(self) -> npt.NDArray[np.bool_] | None:
        """Rows with a bad cell, or None when there are none."""
        if self.reasons is None:
            return None
        mask = self.reasons != OK
        return mask if mask.any() else None


class CodedChunks(Sequence["npt.NDArray[np.float64]"]):
    """The values of a dictionary-encoded column, one chunk at a time: chunk i is its dictionary entries'
    values taken by its codes, made when it is read and dropped after. A 1 GB one-column CSV then holds only
    its 4-byte codes, not 8 bytes of float64 a row besides (1.2 GB for 150M rows)."""

    __slots__ = ("_parts", "rows")

    def __init__(self, parts: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[Any]]]) -> None:
        self._parts = tuple(parts)
        self.rows = sum(len(codes) for _, codes in self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __getitem__(self, index: int) -> npt.NDArray[np.float64]:  # type: ignore[override]
        import numpy as np

        entry_values, codes = self._parts[index]
        return np.take(entry_values, codes)


def to_numpy(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    """A numpy array of an Arrow array's values: for booleans and fixed-width numbers read straight from the
    Arrow buffers (a view where the layout allows), else through pyarrow's `to_numpy`. pyarrow's conversion
    runs its pandas machinery, which imports pandas when it is installed: 0.2 s of every check that reads a
    table. A null slot holds whatever its buffer holds: callers mask nulls themselves."""
    import numpy as np
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        parts = [to_numpy(chunk) for chunk in array.chunks]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=_numpy_type(array.type) or object)
    kind = _numpy_type(array.type)
    if kind is None:
        return np.asarray(array.to_numpy(zero_copy_only=False))
    data = array.buffers()[1]
    if data is None:
        return np.zeros(len(array), dtype=kind)
    if kind == np.bool_:
        bits = np.frombuffer(data, dtype=np.uint8)
        return np.unpackbits(bits, count=array.offset + len(array), bitorder="little")[array.offset :].view(np.bool_)
    width = np.dtype(kind).itemsize
    return np.frombuffer(data, dtype=kind, count=len(array), offset=array.offset * width)


def arrow_call(name: str, *args: Any, options: Any = None) -> Any:
    """pyarrow's compute function `name`, called through `pyarrow._compute`, which reading a table has
    loaded already. Importing `pyarrow.compute` builds a Python wrapper for each of its hundreds of
    functions: 0.08 s of every check, for the five a check calls."""
    try:
        from pyarrow._compute import call_function
    except ImportError:  # a pyarrow that moved it: the public name is the same function
        from pyarrow.compute import call_function
    return call_function(name, list(args), options)


def arrow_cast(array: Any, kind: pa.DataType) -> Any:
    """`array.cast(kind)` (a safe cast) without importing `pyarrow.compute` (see `arrow_call`)."""
    try:
        from pyarrow._compute import CastOptions
    except ImportError:
        from pyarrow.compute import CastOptions
    return arrow_call("cast", array, options=CastOptions.safe(kind))


def from_numpy(values: npt.NDArray[Any]) -> pa.Array:
    """An Arrow array of a numpy array: integers and floats wrap its buffer (`pa.array` would import pandas,
    see `to_numpy`); anything else goes through `pa.array`."""
    import numpy as np
    import pyarrow as pa

    if values.dtype.kind in "iuf":
        contiguous = np.ascontiguousarray(values)
        return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(contiguous)])
    return pa.array(values)


def is_null(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """Per slot, whether it is null."""
    return to_numpy(arrow_call("is_null", array))


def _numpy_type(kind: pa.DataType) -> type[np.generic] | None:
    import numpy as np
    import pyarrow as pa

    types: dict[pa.DataType, type[np.generic]] = {
        pa.bool_(): np.bool_,
        pa.int8(): np.int8,
        pa.int16(): np.int16,
        pa.int32(): np.int32,
        pa.int64(): np.int64,
        pa.uint8(): np.uint8,
        pa.uint16(): np.uint16,
        pa.uint32(): np.uint32,
        pa.uint64(): np.uint64,
        pa.float32(): np.float32,
        pa.float64(): np.float64,
    }
    return types.get(kind)


def plain_column(table: Table, name: str) -> pa.ChunkedArray:
    """A column with dictionary encoding undone."""
    return _plain(_chunked(table, name))


def _chunked(table: Table, name: str) -> pa.ChunkedArray:
    return table.data.column(name)


def _plain(array: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary columns (CSV text, Parquet strings) as plain values."""
    import pyarrow as pa

    if pa.types.is_dictionary(array.type):
        cast: pa.ChunkedArray = arrow_cast(array, array.type.value_type)
        return cast
    return array


def decode_numbers(table: Table, name: str, *, role: str, non_negative: bool = False) -> Decoded:
    """A column of numbers (role 'number'), 0/1 or booleans ('rate'), or latencies ('quantile': null is +inf).

    A null latency is a request that never finished: it counts as slowest (+inf), never as dropped.
    """
    import numpy as np
    import pyarrow as pa

    array = _chunked(table, name)
    if name in table.text_classes:
        return _decode_classified(array, table.text_classes[name], role, non_negative)
    n = len(array)
    kind = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
    clean = _decode_clean(table, name, array, kind, role=role, non_negative=non_negative)
    if clean is not None:
        return Decoded(clean, None)
    reasons = np.zeros(n, dtype=np.int8)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if (
            table.text_cells
            and pa.types.is_dictionary(array.type)
            and not array.null_count
            and name not in table.cell_problems
        ):
            # CSV cells: each distinct text is decoded once and the rows take their dictionary entry's value,
            # so no plain copy of millions of strings is made (a 1 GB CSV would need gigabytes for it).
            return _decode_text_codes(array, role, non_negative)
        if table.text_cells:
            values, reasons = _decode_text_cells(_plain(array), role)
        else:
            values = np.full(n, np.nan)
            reasons[:] = _NOT_BOOL if role == "rate" else _NOT_NUMBER
            reasons[is_null(array)] = _NULL
    elif pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if pa.types.is_boolean(kind) and role != "rate":
            values = np.full(n, np.nan)
            reasons[:] = _NOT_NUMBER
        else:
            values = to_numpy(array).astype(np.float64, copy=False)
        if array.null_count:
            nulls = is_null(array)
            reasons[nulls] = _NULL
            values = np.where(nulls, np.nan, values)
    else:
        values = np.full(n, np.nan)
        reasons[:] = _NOT_BOOL if role == "rate" else _NOT_NUMBER
    if name in table.cell_problems:
        extra = table.cell_problems[name]
        reasons = np.where(extra != OK, extra, reasons).astype(np.int8)
    return Decoded(*_judged(values, reasons, role, non_negative))


def _judged(
    values: npt.NDArray[np.float64], reasons: npt.NDArray[np.int8], role: str, non_negative: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """The reasons of values that decoded but cannot be used: NaN, infinities, non-0/1 rates, negatives (a
    null latency becomes +inf: a request that never finished)."""
    import numpy as np

    good = reasons == OK
    nan = good & np.isnan(values)
    reasons[nan] = _NAN
    if role == "rate":
        reasons[good & ~nan & (values != 0.0) & (values != 1.0)] = _NOT_BOOL
    elif role == "quantile":
        reasons[good & (values == -np.inf)] = _INF
        timed_out = reasons == _NULL
        values = values.copy() if not values.flags.writeable else values
        values[timed_out] = np.inf
        reasons[timed_out] = OK
    else:
        reasons[good & np.isinf(values)] = _INF
    if non_negative:
        reasons[(reasons == OK) & (values < 0)] = _NEGATIVE
    return values, reasons


def _decode_text_cells(text: Any, role: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Values and reasons of CSV text cells by gatekit's own rules (canonical numbers, true/false, empty)."""
    import numpy as np

    values, classes = _classified(text)
    boolean = OK if role == "rate" else _NOT_NUMBER
    other = _NOT_BOOL if role == "rate" else _NOT_NUMBER
    return values, np.array([OK, boolean, boolean, _NULL, other], dtype=np.int8)[classes]


# What a CSV cell's text is, for a column decoded while read: its reason code then depends on the role.
_TEXT_NUMBER, _TEXT_TRUE, _TEXT_FALSE, _TEXT_EMPTY, _TEXT_OTHER = range(5)


def text_classes(text: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Values and `_TEXT_*` classes of CSV texts (a block's dictionary), by the rules of `_decode_text_cells`."""
    return _classified(text)


def _classified(text: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Each text cell's value and `_TEXT_*` class: a canonical number its float64 (pyarrow's cast), true and
    false 1.0 and 0.0, an empty cell (or a null) NaN, any other text 0.0.

    Three calls over every cell (a regex match, a choice and a cast); only the cells that are not canonical
    numbers, usually few, are looked up among the booleans and the empty text. Through `arrow_call`, so that
    a CSV check never imports `pyarrow.compute` (0.08 s)."""
    import numpy as np
    import pyarrow as pa

    try:
        from pyarrow._compute import MatchSubstringOptions
    except ImportError:  # a pyarrow that moved it: the public name is the same class
        from pyarrow.compute import MatchSubstringOptions
    text = _combined(text)
    matched = arrow_call("match_substring_regex", text, options=MatchSubstringOptions(_CANONICAL_NUMBER))
    canonical = to_numpy(matched)
    if matched.null_count:  # a null cell is not a number (its slot holds anything): it is empty, below
        canonical = canonical & ~is_null(matched)
    # Not canonical: cast as "0", as before, so that the cast never fails on them (and they are 0.0). A null
    # cell's value is null here; it is set below.
    chosen = arrow_call("if_else", matched, text, _texts(("0",))[0])
    values = np.array(to_numpy(arrow_call("cast", chosen, options=_cast_options(pa.float64()))), dtype=np.float64)
    classes = np.zeros(len(values), dtype=np.int8)
    odd = np.flatnonzero(~canonical)
    if len(odd):
        cells = arrow_call("take", text, from_numpy(odd))
        empty = to_numpy(arrow_call("equal", cells, _texts(("",))[0]))
        if cells.null_count:
            empty = empty | is_null(cells)
        kinds = np.full(len(odd), _TEXT_OTHER, dtype=np.int8)
        kinds[to_numpy(arrow_call("is_in", cells, options=_set_lookup(_CSV_TRUE)))] = _TEXT_TRUE
        kinds[to_numpy(arrow_call("is_in", cells, options=_set_lookup(_CSV_FALSE)))] = _TEXT_FALSE
        kinds[empty] = _TEXT_EMPTY
        classes[odd] = kinds
        values[odd] = np.array([0.0, 1.0, 0.0, np.nan, 0.0])[kinds]
    return values, classes


def _combined(array: Any) -> Any:
    """One Arrow array of a chunked one: the cells' positions are the column's rows."""
    import pyarrow as pa

    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _cast_options(kind: pa.DataType) -> Any:
    try:
        from pyarrow._compute import CastOptions
    except ImportError:
        from pyarrow.compute import CastOptions
    return CastOptions.safe(kind)


def _set_lookup(texts: tuple[str, ...]) -> Any:
    try:
        from pyarrow._compute import SetLookupOptions
    except ImportError:
        from pyarrow.compute import SetLookupOptions
    return SetLookupOptions(_texts(texts))


@functools.cache
def _texts(texts: tuple[str, ...]) -> Any:
    """An Arrow text array of `texts`, made from its buffers: `pa.array` and `pa.scalar` import pandas when it
    is installed (0.2 s, see `to_numpy`)."""
    import numpy as np
    import pyarrow as pa

    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.cumsum([0, *map(len, encoded)], dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(texts), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded) or b"\0")]
    )


def _decode_classified(array: Any, classes: npt.NDArray[np.int8] | None, role: str, non_negative: bool) -> Decoded:
    """`decode_numbers` of a CSV column decoded while read: the values are float64 already; the reasons
    follow from each cell's text class and the role, as for text cells (`_decode_text_cells`)."""
    import numpy as np

    chunks = [to_numpy(chunk) for chunk in array.chunks]
    if classes is None and all(_clean_numbers(c, role=role, non_negative=non_negative) for c in chunks):
        return Decoded(chunks, None)
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    if classes is None:
        classes = np.zeros(len(values), dtype=np.int8)
    boolean = OK if role == "rate" else _NOT_NUMBER
    other = _NOT_BOOL if role == "rate" else _NOT_NUMBER
    reasons = np.array([OK, boolean, boolean, _NULL, other], dtype=np.int8)[classes]
    return Decoded(*_judged(values, reasons, role, non_negative))


def _decode_text_codes(array: Any, role: str, non_negative: bool) -> Decoded:
    """`decode_numbers` of a dictionary-encoded CSV column without nulls: each chunk's dictionary entries are
    decoded and judged once, then the chunk's rows take their entry's value by code (no unified dictionary:
    unifying would copy every code). When every entry is good the values come chunk by chunk with no
    reasons, so that sums and squares run per chunk instead of over whole-column temporaries."""
    import numpy as np

    parts: list[tuple[npt.NDArray[np.float64], npt.NDArray[Any]]] = []
    reason_chunks: list[npt.NDArray[np.int8] | None] = []
    for chunk in array.chunks:
        entry_values, entry_reasons = _judged(*_decode_text_cells(chunk.dictionary, role), role, non_negative)
        codes = to_numpy(chunk.indices)
        parts.append((entry_values, codes))
        # A chunk whose entries are all good needs no reasons; they are filled below only if another has one.
        reason_chunks.append(None if (entry_reasons == OK).all() else np.take(entry_reasons, codes))
    if not parts:
        return Decoded(np.empty(0), None)
    values = CodedChunks(parts)
    if all(r is None for r in reason_chunks):
        return Decoded(values, None)
    reasons = np.concatenate(
        [
            r if r is not None else np.zeros(len(codes), dtype=np.int8)
            for r, (_, codes) in zip(reason_chunks, parts, strict=True)
        ]
    )
    return Decoded(values, reasons)


_MIN_CHUNK_ROWS = 1 << 16
"""Chunks shorter than this on average are joined: a bincount per tiny chunk costs more than the copy."""


def _decode_clean(
    table: Table, name: str, array: pa.ChunkedArray, kind: pa.DataType, *, role: str, non_negative: bool
) -> list[npt.NDArray[np.float64]] | None:
    """The values of a typed column without a single bad cell, chunk by chunk (float64 chunks are views,
    not copies), checked in a few vectorised passes; None when some cell may be bad (the caller then finds
    which, and why)."""
    import numpy as np
    import pyarrow as pa

    if table.text_cells or name in table.cell_problems or array.null_count:
        return None
    boolean = pa.types.is_boolean(kind)
    if (boolean and role != "rate") or not (boolean or pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return None
    if array.num_chunks > 1 and len(array) < _MIN_CHUNK_ROWS * array.num_chunks:
        array = pa.chunked_array([array.combine_chunks()])
    chunks = []
    for chunk in array.chunks:
        values = to_numpy(chunk).astype(np.float64, copy=False)
        if not boolean and not _clean_numbers(values, role=role, non_negative=non_negative):
            return None
        chunks.append(values)
    return chunks


def _clean_numbers(values: npt.NDArray[np.float64], *, role: str, non_negative: bool) -> bool:
    import numpy as np

    if not np.isfinite(values).all():
        return False  # NaN, or an infinity (a timed-out latency is +inf, and that too is decided row by row)
    if role == "rate" and not ((values == 0.0) | (values == 1.0)).all():
        return False
    return not (non_negative and len(values) and values.min() < 0)


def _slice_text(array: Any, table: Table, name: str) -> Any:
    """A slice column's values as text: numbers, booleans, dates and the like are named as Arrow writes
    them; a column Arrow cannot write as text (structs, lists) is bad input, not an internal error."""
    import pyarrow as pa

    try:
        return arrow_cast(array, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise ResultsError.at(
            f"slice column {name!r} holds {array.type} values, which have no text form; "
            "a slice column holds text, numbers, booleans or dates",
            table.source,
        ) from None


@dataclass(frozen=True)
class SliceColumn:
    """A slice dimension: a group code per row, the group labels, and rows with no value.

    `codes` index `labels`; a row with no value has the code len(labels). They come in the narrowest
    unsigned type that holds that code (uint8 for up to 254 labels), so grouping sorts are radix sorts."""

    name: str
    codes: npt.NDArray[np.unsignedinteger[Any]] | npt.NDArray[np.int64]
    labels: list[str]
    missing: npt.NDArray[np.bool_]


def decode_slices(table: Table, name: str) -> SliceColumn:
    """Group codes for a slice column. Values are text (numbers and booleans are written as text)."""
    import numpy as np
    import pyarrow as pa

    array = _chunked(table, name)
    if not pa.types.is_dictionary(array.type):
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = _slice_text(array, table, name)
        array = arrow_call("dictionary_encode", array)
    array = array.unify_dictionaries()
    if array.num_chunks == 0:
        return SliceColumn(name, np.zeros(0, dtype=np.uint8), [], np.zeros(0, dtype=bool))
    dictionary = array.chunk(0).dictionary
    labels = [str(v) for v in _slice_text(dictionary, table, name).to_pylist()]
    no_value = len(labels)
    dtype = next((t for t in (np.uint8, np.uint16, np.uint32) if no_value <= np.iinfo(t).max), np.int64)
    codes = np.empty(len(array), dtype=dtype)
    start = 0
    for chunk in array.chunks:
        # A null's index slot holds anything: `missing` overwrites it below.
        codes[start : start + len(chunk)] = to_numpy(chunk.indices)
        start += len(chunk)
    missing = is_null(array) if array.null_count else np.zeros(len(codes), dtype=bool)
    if "" in labels:
        missing |= codes == labels.index("")
    if name in table.cell_problems:
        missing |= table.cell_problems[name] != OK
    if missing.any():
        codes[missing] = no_value
    return SliceColumn(name, codes, labels, missing)


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

    out = []
    for name in table.columns:
        array = _plain(_chunked(table, name))
        kind = array.type
        problems: dict[str, int] = {}
        distinct: int | None = None
        examples: tuple[str, ...] = ()
        if table.text_cells or pa.types.is_string(kind) or pa.types.is_large_string(kind):
            unique = arrow_call("unique", array)
            distinct = len(unique)
            examples = tuple(str(v) for v in unique.slice(0, max_examples).to_pylist())
            type_name = "text"
            if table.text_cells:
                decoded = decode_numbers(table, name, role="number")
                if decoded.bad() is None:
                    type_name = "number"
                elif all(v in (*_CSV_TRUE, *_CSV_FALSE) for v in unique.to_pylist()):
                    type_name = "boolean"
        elif pa.types.is_floating(kind) or pa.types.is_integer(kind):
            decoded = decode_numbers(table, name, role="number")
            problems = _reason_counts(decoded.reasons) if decoded.reasons is not None else {}
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

    counts = np.bincount(reasons, minlength=len(REASONS))
    return {REASONS[r]: int(c) for r, c in enumerate(counts) if r != OK and c}
