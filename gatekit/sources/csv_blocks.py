"""Reading a CSV file block by block into dictionary-encoded text columns with the narrowest codes.

`gatekit.sources.rows` reads every CSV cell as text (gatekit decodes numbers by its own rules), dictionary
encoded: a code per row and each block's distinct texts. pyarrow makes int32 codes; this module casts each
block's codes down as the block is read, so the whole column never exists at 4 bytes a row. pyarrow is
imported inside functions, as everywhere in `gatekit.sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

Classify = Callable[[Any], "tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]"]
"""A block dictionary's texts to their values and text classes (`gatekit.sources.text_cells.text_classes`)."""

BLOCK_SIZE = 4 << 20
"""The most bytes of CSV pyarrow parses at a time (see `_block_size`)."""
_ROWS_PER_BLOCK = 16_384
"""Rows a block should hold at least, within 1 MiB (pyarrow's default) and `BLOCK_SIZE`. Each block costs this
module a few Arrow calls per column: a 366 MB eval-log CSV (1M rows of a 300-byte output column) read in
0.72-0.78 s in 1 MiB blocks and 0.62-0.64 s in 4 MiB ones; a narrow file holds 500,000 rows in 1 MiB, where
bigger blocks only cost memory (a 1 GB column of 0/1 cells peaked 60 MiB higher in 4 MiB blocks)."""

_NARROW_UP_TO = (1 << 15) - 1
"""Distinct cells of a CSV column counted, at most, to choose its codes' type; beyond, they stay int32. A
dictionary joined by pyarrow holds at most the code type's largest value in entries (127 for int8)."""


def read_csv_narrowly(
    path: Path,
    convert: Any,
    names: list[str],
    numbers: Collection[str] = (),
    classify: Classify | None = None,
    *,
    plain: Collection[str] = (),
) -> tuple[pa.Table, dict[str, npt.NDArray[np.int8] | None]]:
    """The CSV block by block, each column's codes cast to the narrowest integer that holds every distinct
    cell of the column, as each block is read. pyarrow's int32 codes are 4 bytes a row whatever the column
    holds: a 1 GB file of `0`/`1` cells has 537M rows, 2 GiB of codes, where int8 codes take 512 MiB. The
    distinct cells are counted exactly (up to `_NARROW_UP_TO`), so that joining the blocks' dictionaries
    (`unify_dictionaries`, when slices are grouped) always fits the codes' type.

    A column of `numbers` (read only for its values: no slice, id or filter reads its text) with more
    distinct cells than that is decoded block by block instead, by `classify`, into float64 values and, when
    some cell is not a canonical number, a text class per row (returned by column name): its text, codes
    and dictionaries, about twice the file's size, are never held. `convert` reads such a column as plain
    text, which is dictionary-encoded here while it has few distinct cells (as pyarrow would, in order of
    first appearance) and decoded straight from its text once it has many: no hash of every cell only to
    be undone. `plain` columns (example ids) are plain text in `convert` and stay so."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gatekit.sources.arrow import arrow_call

    chunks: dict[str, list[Any]] = {name: [] for name in names}
    seen: dict[str, set[str] | None] = {name: None if name in plain else set() for name in names}  # None: many
    decoded: dict[str, list[tuple[Any, Any]]] = {}
    # pyarrow cuts the file into blocks at a line break; a break inside a quoted cell (a model's multi-line
    # output) at the cut would end the row there: the file refused, or the rest of the cell read as rows of
    # its own (silently, when the cell quotes CSV rows). Told that cells may hold breaks, it finds the cut by
    # the quotes; with pyarrow 26 that costs nothing measurable on files without any (0.41 s against 0.42 s
    # for a 366 MB file), so it is always on rather than probed for.
    parse = pacsv.ParseOptions(newlines_in_values=True)
    read = pacsv.ReadOptions(block_size=_block_size(path))
    with pacsv.open_csv(path, read_options=read, convert_options=convert, parse_options=parse) as reader:
        for batch in reader:
            for name, cells in zip(batch.schema.names, batch.columns, strict=True):
                if name in plain:
                    chunks[name].append(cells)
                    continue
                distinct = seen[name]
                if distinct is None and name in numbers and classify is not None:
                    decoded[name].append(_decoded(cells, classify))
                    continue
                chunk = cells if pa.types.is_dictionary(cells.type) else arrow_call("dictionary_encode", cells)
                if distinct is not None:
                    if len(chunk.dictionary) > _NARROW_UP_TO:
                        distinct = None
                    else:
                        distinct.update(chunk.dictionary.to_pylist())
                        distinct = distinct if len(distinct) <= _NARROW_UP_TO else None
                    seen[name] = distinct
                if distinct is None and name in numbers and classify is not None:
                    # The blocks kept before the column turned out this varied are decoded too.
                    earlier = chunks[name]
                    chunks[name] = []
                    decoded.setdefault(name, []).extend(_decoded(c, classify) for c in [*earlier, chunk])
                    continue
                chunks[name].append(chunk if distinct is None else _with_codes(chunk, _code_type(len(distinct))))
    columns = []
    classes: dict[str, npt.NDArray[np.int8] | None] = {}
    for name in names:
        if name in decoded:
            columns.append(pa.chunked_array([values for values, _ in decoded[name]], type=pa.float64()))
            classes[name] = _joined_classes(decoded.pop(name))
            continue
        if name in plain:
            columns.append(pa.chunked_array(chunks.pop(name), type=pa.string()))
            continue
        distinct = seen[name]
        kind = pa.dictionary(pa.int32() if distinct is None else _code_type(len(distinct)), pa.string())
        # A block narrowed before later blocks brought more distinct cells is widened to the column's type.
        columns.append(pa.chunked_array([_with_codes(c, kind.index_type) for c in chunks.pop(name)], type=kind))
    return pa.Table.from_arrays(columns, names=names), classes


def _decoded(chunk: Any, classify: Classify) -> tuple[Any, Any]:
    """A block's float64 values (an Arrow array over a numpy buffer) and its text classes (None: numbers),
    from its plain text or from its dictionary's entries taken by its codes (the same values and classes)."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_dictionary(chunk.type):
        values, found = classify(chunk)
        array = pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])
        return array, (found if found.any() else None)
    entry_values, entry_classes = classify(chunk.dictionary)
    width = chunk.indices.type.bit_width // 8  # int8, int16 or int32 codes
    kind = {1: np.int8, 2: np.int16, 4: np.int32}[width]
    codes = np.frombuffer(chunk.indices.buffers()[1], dtype=kind, count=len(chunk), offset=chunk.indices.offset * width)
    values = np.take(entry_values, codes)
    array = pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])
    return array, (np.take(entry_classes, codes) if entry_classes.any() else None)


def _joined_classes(parts: list[tuple[Any, Any]]) -> npt.NDArray[np.int8] | None:
    import numpy as np

    if all(found is None for _, found in parts):
        return None
    return np.concatenate([np.zeros(len(v), dtype=np.int8) if c is None else c for v, c in parts])


def _code_type(distinct: int) -> pa.DataType:
    """The narrowest code type for `distinct` (at most `_NARROW_UP_TO`) dictionary entries."""
    import pyarrow as pa

    return pa.int8() if distinct <= (1 << 7) - 1 else pa.int16()


def _with_codes(chunk: Any, kind: pa.DataType) -> Any:
    import pyarrow as pa

    from gatekit.sources.arrow import arrow_cast  # not Array.cast, which imports pyarrow.compute (0.08 s)

    if chunk.indices.type == kind:
        return chunk
    return pa.DictionaryArray.from_arrays(arrow_cast(chunk.indices, kind), chunk.dictionary)


class CsvLines:
    """The file line each CSV row starts on. A quoted cell may hold line breaks (a model's multi-line output),
    after which row r no longer starts on line r + 2. Found when a message first names a line, by one pass of
    the csv module, and only when the file holds a quote character at all (else row r is on line r + 2)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._shifts: tuple[list[int], list[int]] | None = None

    def line(self, row: int) -> int:
        """The 1-based file line that data row `row` (0-based, under the header) starts on."""
        import bisect

        if self._shifts is None:
            self._shifts = _line_shifts(self._path)
        rows, extra = self._shifts
        i = bisect.bisect_right(rows, row) - 1
        return row + 2 + (extra[i] if i >= 0 else 0)


def _block_size(path: Path) -> int:
    """Bytes per block that hold about `_ROWS_PER_BLOCK` rows of the file's first MiB, within 1 MiB and
    `BLOCK_SIZE`."""
    with path.open("rb") as raw:
        head = raw.read(1 << 20)
    rows = head.count(b"\n")
    wanted = BLOCK_SIZE if rows == 0 else len(head) * _ROWS_PER_BLOCK // rows
    return max(min(wanted, BLOCK_SIZE), min(1 << 20, BLOCK_SIZE))


def holds_quote(path: Path) -> bool:
    """Whether the file holds a `"` anywhere: a cell with a line break in it is quoted, and without one row r
    starts on line r + 2 (`CsvLines`). One memchr over the mapped file, 64 MiB at a time, each window's pages
    given back once looked through: touched pages of a mapping count in the check's peak memory (a whole 1 GB
    CSV), and reading the file into a buffer instead costs a copy (0.23 s against 0.06 s for 366 MB)."""
    import mmap

    window = 64 << 20
    with path.open("rb") as raw:
        size = raw.seek(0, 2)
        if size == 0:
            return False
        with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as view:
            for start in range(0, size, window):
                if view.find(b'"', start, min(start + window, size)) >= 0:
                    return True
                if hasattr(view, "madvise"):  # Linux, macOS: let the kernel take the pages back
                    view.madvise(mmap.MADV_DONTNEED, start, min(window, size - start))
    return False


def _line_shifts(path: Path) -> tuple[list[int], list[int]]:
    """(rows, extra): from rows[i] on, each row starts extra[i] lines further down than r + 2."""
    import csv

    if not holds_quote(path):
        return [], []
    rows: list[int] = []
    extra: list[int] = []
    # pyarrow reads a cell of any size (a long model output); the csv module refuses one over 128 KiB unless told.
    limit = csv.field_size_limit(_CELL_LIMIT)
    try:
        _walk_rows(path, rows, extra)
    finally:
        csv.field_size_limit(limit)
    return rows, extra


_CELL_LIMIT = 2**31 - 1


def _walk_rows(path: Path, rows: list[int], extra: list[int]) -> None:
    import csv

    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        shift = reader.line_num - 1  # a header with a line break in it shifts every row
        if shift:
            rows.append(0)
            extra.append(shift)
        ended = reader.line_num
        for row, _ in enumerate(reader):
            # This row started on the line after the previous one ended.
            start_shift = ended + 1 - (row + 2)
            if start_shift != shift:
                rows.append(row)
                extra.append(start_shift)
                shift = start_shift
            ended = reader.line_num
