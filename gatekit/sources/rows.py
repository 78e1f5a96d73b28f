"""Reading per-example results tables: JSONL, CSV and Parquet rows, limited to the columns a check needs.

Reading is columnar (pyarrow). A file that cannot be read is an error naming the file, and for JSONL and CSV
the line (and column) where it is damaged. `gatekit.sources.columns` then decodes the columns.
pyarrow and numpy are imported inside functions so that `gatekit validate` and `gatekit --version` never
load them.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.sources import jsonl
from gatekit.sources.csv_blocks import CsvLines, read_csv_narrowly
from gatekit.sources.table import NOT_BOOL, NOT_NUMBER, OK, TABLE_SUFFIXES, Table
from gatekit.sources.text_cells import text_classes
from gatekit.spec.characters import LONE_SURROGATE
from gatekit.spec.jsonio import DuplicateJsonKeyError, NumberError, loads_strict

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa


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


def _read_jsonl(path: Path, columns: _Wanted | None) -> Table:
    import pyarrow as pa
    import pyarrow.json as pajson

    if path.stat().st_size == 0:
        raise ResultsError.at("the file is empty", str(path))
    if columns is not None:
        wanted = jsonl.read_columns(path, columns.required, columns.optional, columns.numbers)
        if wanted is not None:
            return Table(str(path), wanted, first_line=1)
    # Every field, as pyarrow infers them: where reading only the wanted ones is not certain to read alike.
    line = jsonl.first_blank_line(path)
    if line is not None:
        # pyarrow skips blank lines; a blank line in a results file is a damaged file, so it is an error.
        raise ResultsError.at(jsonl.BLANK_LINE_MESSAGE, str(path), line)
    try:
        data = pajson.read_json(path)
    except pa.ArrowInvalid:
        # Damaged lines, mixed types in a column, duplicate keys: read again line by line to say where.
        return _read_jsonl_slowly(path, columns)
    wanted_names = check_columns(columns, data.column_names, str(path))
    if wanted_names is not None:
        data = data.select(wanted_names)
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
                raise ResultsError.at(jsonl.BLANK_LINE_MESSAGE, str(path), number)
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
            codes = np.array([OK if c is None or keep(c) else NOT_NUMBER for c in cells], dtype=np.int8)
            if bools >= numbers and texts < bools:
                codes[codes == NOT_NUMBER] = NOT_BOOL
            arrays[name] = pa.array([c if keep(c) else None for c in cells])
            problems[name] = codes
    return Table(source, pa.table(arrays), first_line=first_line, cell_problems=problems)
