"""Decoding a table's columns: numbers into float64 values and a reason code per bad cell, slice columns into
small integer group codes, and the summary `gatekit inspect` shows.

Values are views of the file's own buffers where they can be. Bad cells are never skipped silently: a
non-boolean in a rate column, a NaN, a null, a non-canonical CSV number, a negative value in a
`non_negative` column or a row without a slice value is counted per column; a measurement built from such
rows carries a `problem` and is reported missing, unless the spec sets `table.drop_invalid: true`, in which
case the valid rows are used and the dropped count becomes a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.sources.arrow import arrow_call, arrow_cast, is_null, to_numpy
from gatekit.sources.table import INFINITE, IS_NAN, NEGATIVE, NOT_BOOL, NOT_NUMBER, NULL, OK, REASONS, Table
from gatekit.sources.text_cells import CSV_FALSE, CSV_TRUE, decode_text_cells, reasons_of_classes

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa


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
            values, reasons = decode_text_cells(_plain(array), role)
        else:
            values = np.full(n, np.nan)
            reasons[:] = NOT_BOOL if role == "rate" else NOT_NUMBER
            reasons[is_null(array)] = NULL
    elif pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if pa.types.is_boolean(kind) and role != "rate":
            values = np.full(n, np.nan)
            reasons[:] = NOT_NUMBER
        else:
            values = to_numpy(array).astype(np.float64, copy=False)
        if array.null_count:
            nulls = is_null(array)
            reasons[nulls] = NULL
            values = np.where(nulls, np.nan, values)
    else:
        values = np.full(n, np.nan)
        reasons[:] = NOT_BOOL if role == "rate" else NOT_NUMBER
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
    reasons[nan] = IS_NAN
    if role == "rate":
        reasons[good & ~nan & (values != 0.0) & (values != 1.0)] = NOT_BOOL
    elif role == "quantile":
        reasons[good & (values == -np.inf)] = INFINITE
        timed_out = reasons == NULL
        values = values.copy() if not values.flags.writeable else values
        values[timed_out] = np.inf
        reasons[timed_out] = OK
    else:
        reasons[good & np.isinf(values)] = INFINITE
    if non_negative:
        reasons[(reasons == OK) & (values < 0)] = NEGATIVE
    return values, reasons


def _decode_classified(array: Any, classes: npt.NDArray[np.int8] | None, role: str, non_negative: bool) -> Decoded:
    """`decode_numbers` of a CSV column decoded while read: the values are float64 already; the reasons
    follow from each cell's text class and the role, as for text cells (`decode_text_cells`)."""
    import numpy as np

    chunks = [to_numpy(chunk) for chunk in array.chunks]
    if classes is None and all(_clean_numbers(c, role=role, non_negative=non_negative) for c in chunks):
        return Decoded(chunks, None)
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    if classes is None:
        classes = np.zeros(len(values), dtype=np.int8)
    reasons = reasons_of_classes(classes, role)
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
        entry_values, entry_reasons = _judged(*decode_text_cells(chunk.dictionary, role), role, non_negative)
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
                elif all(v in (*CSV_TRUE, *CSV_FALSE) for v in unique.to_pylist()):
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
