"""CSV text cells and JSONL lines read faster must read exactly as before: every cell's value and reason, every
slice code, every id, every blank line found at the same line.

The reference implementations below are the readers' code before issue 16 (copied verbatim): each new path is
compared with them over random cells and random files, so a difference in any cell fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekit.errors import ResultsError
from gatekit.sources import arrow, csv_blocks, jsonl, rows, table, text_cells
from gatekit.sources import columns as column_decoding
from gatekit.sources.columns import Decoded, decode_numbers, decode_slices, plain_column
from gatekit.sources.rows import read_table
from gatekit.sources.table import Table

# ------------------------------------------------------------------------------ the reference (old) decoders


def old_decode_text_cells(text: Any, role: str) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow.compute as pc

    to_numpy = arrow.to_numpy
    empty = to_numpy(pc.fill_null(pc.equal(text, ""), True))
    canonical = to_numpy(pc.fill_null(pc.match_substring_regex(text, text_cells.CANONICAL_NUMBER), False))
    is_true = to_numpy(pc.fill_null(pc.is_in(text, pa.array(text_cells.CSV_TRUE)), False))
    is_false = to_numpy(pc.fill_null(pc.is_in(text, pa.array(text_cells.CSV_FALSE)), False))
    numeric = to_numpy(pc.cast(pc.if_else(pa.array(canonical), text, "0"), pa.float64()))
    values = np.where(is_true, 1.0, np.where(is_false, 0.0, numeric))
    reasons = np.zeros(len(values), dtype=np.int8)
    reasons[~(canonical | is_true | is_false)] = table.NOT_BOOL if role == "rate" else table.NOT_NUMBER
    if role != "rate":
        reasons[is_true | is_false] = table.NOT_NUMBER
    values[empty] = np.nan
    reasons[empty] = table.NULL
    return values, reasons


def old_text_classes(text: Any) -> tuple[np.ndarray, np.ndarray]:
    values, reasons = old_decode_text_cells(text, "rate")
    classes = np.where(
        reasons == table.NULL,
        text_cells._TEXT_EMPTY,
        np.where(reasons == table.OK, text_cells._TEXT_NUMBER, text_cells._TEXT_OTHER),
    )
    classes = classes.astype(np.int8)
    booleans = arrow.to_numpy(
        arrow.arrow_call("is_in", text, options=text_cells._set_lookup(text_cells.CSV_TRUE + text_cells.CSV_FALSE))
    )
    classes[booleans] = np.where(values[booleans] == 1.0, text_cells._TEXT_TRUE, text_cells._TEXT_FALSE)
    return values, classes


def old_read_csv_narrowly(
    path: Path, convert: Any, names: list[str], numbers: Any = (), classify: Any = None, **_: Any
) -> Any:
    """`csv_blocks.read_csv_narrowly` before issue 16."""
    import pyarrow.csv as pacsv

    # The old reader read every column dictionary-encoded.
    convert.column_types = dict.fromkeys(names, pa.dictionary(pa.int32(), pa.string()))

    chunks: dict[str, list[Any]] = {name: [] for name in names}
    seen: dict[str, set[str] | None] = {name: set() for name in names}  # None: too many to narrow
    decoded: dict[str, list[tuple[Any, Any]]] = {}
    # Cells with line breaks across a block cut were misread by the old reader as well (test_csv_lines):
    # the reference gets that fix, so that what is compared here is the decoding of cells.
    parse = pacsv.ParseOptions(newlines_in_values=csv_blocks.holds_quote(path))
    with pacsv.open_csv(path, convert_options=convert, parse_options=parse) as reader:
        for batch in reader:
            for name, chunk in zip(batch.schema.names, batch.columns, strict=True):
                distinct = seen[name]
                if distinct is not None:
                    if len(chunk.dictionary) > csv_blocks._NARROW_UP_TO:
                        distinct = None
                    else:
                        distinct.update(chunk.dictionary.to_pylist())
                        distinct = distinct if len(distinct) <= csv_blocks._NARROW_UP_TO else None
                    seen[name] = distinct
                if distinct is None and name in numbers and classify is not None:
                    # The blocks kept before the column turned out this varied are decoded too.
                    earlier = chunks[name]
                    chunks[name] = []
                    decoded.setdefault(name, []).extend(csv_blocks._decoded(c, classify) for c in [*earlier, chunk])
                    continue
                chunks[name].append(
                    chunk if distinct is None else csv_blocks._with_codes(chunk, csv_blocks._code_type(len(distinct)))
                )
    columns = []
    classes: dict[str, Any] = {}
    for name in names:
        if name in decoded:
            columns.append(pa.chunked_array([values for values, _ in decoded[name]], type=pa.float64()))
            classes[name] = csv_blocks._joined_classes(decoded.pop(name))
            continue
        distinct = seen[name]
        kind = pa.dictionary(pa.int32() if distinct is None else csv_blocks._code_type(len(distinct)), pa.string())
        # A block narrowed before later blocks brought more distinct cells is widened to the column's type.
        columns.append(
            pa.chunked_array([csv_blocks._with_codes(c, kind.index_type) for c in chunks.pop(name)], type=kind)
        )
    return pa.Table.from_arrays(columns, names=names), classes


_OLD_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def old_blank_line(raw: bytes) -> int | None:
    """The line the old JSONL reader named for a blank line, or None; and line 1 when the first line is only
    spaces, tabs and carriage returns (which the old reader let pass: `test_jsonl_columns.py`)."""
    if raw[:1] in (b"\n", b"\r") or re.match(rb"[ \t\r]*(?:\n|\Z)", raw):
        return 1
    match = _OLD_BLANK_LINE.search(raw)
    return raw[: match.start() + 1].count(b"\n") + 1 if match else None


# ------------------------------------------------------------------------------------------------- the cells

CANONICAL = st.from_regex(r"\A-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?\Z")
SPELLINGS = st.sampled_from(
    [
        *("nan", "NaN", "NAN", "-nan", "inf", "-inf", "+inf", "Inf", "Infinity", "-Infinity", "1e999", "-1e999"),
        *("1e-999", "4.9e-324", "1.7976931348623157e308", "1.7976931348623159e308", "0.0", "-0", "-0.0", "00"),
        *("01", "+1", " 1", "1 ", "1.", ".5", "1e", "1e+", "0x10", "1_000", "1,5", "٣", "１"),
        *("true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "yes", "no", "T", "F", "0", "1", "2"),
        *("", " ", "\t", "NA", "null", "None", "\n", "1\n", "a\r\nb", '"', "é"),
    ]
)
CELLS = st.one_of(CANONICAL, SPELLINGS, st.text(max_size=6))


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays, NaN equal to NaN bit for bit (a value of a bad cell counts too)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(CELLS, st.none()), max_size=40), st.sampled_from(["plain", "chunked", "dictionary"]))
def test_text_cells_decode_as_before(cells: list[str | None], form: str) -> None:
    array: Any = pa.array(cells, type=pa.string())
    if form == "chunked":
        half = len(cells) // 2
        array = pa.chunked_array([array.slice(0, half), array.slice(half)], type=pa.string())
    elif form == "dictionary":
        array = array.dictionary_encode().dictionary  # a block's distinct texts, as csv_blocks classifies them
    for role in ("rate", "number", "quantile"):
        try:
            expected = old_decode_text_cells(array, role)
        except pa.ArrowInvalid:  # a canonical spelling beyond float64 (the cast refuses it): the same error
            with pytest.raises(pa.ArrowInvalid):
                text_cells.decode_text_cells(array, role)
            return
        found = text_cells.decode_text_cells(array, role)
        assert same(found[0], expected[0]), (role, cells)
        assert same(found[1], expected[1]), (role, cells)
    if form != "chunked" and not any(c is None for c in cells):
        assert all(same(f, e) for f, e in zip(text_cells.text_classes(array), old_text_classes(array), strict=True))


# ------------------------------------------------------------------------------------------------- the files

CSV_CELLS = st.one_of(CANONICAL, SPELLINGS, st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=5))


def _csv_cell(cell: str, quote_all: bool) -> str:
    if quote_all or any(c in cell for c in ',"\r\n') or cell != cell.strip():
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def csv_files(draw: Any) -> tuple[bytes, int]:
    """A CSV of an id, a slice, a rate and two number columns; quoted cells, line breaks in cells, CRLF, a BOM,
    and enough rows that pyarrow reads it in several blocks with their own dictionaries."""
    n = draw(st.integers(1, 60))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    repeat = draw(st.sampled_from([1, 1, 400]))  # 400: many blocks (a small block size is set below)
    lines = ["id,task,correct,score,latency_ms"]
    for i in range(n):
        task = draw(st.sampled_from(["a", "b", "", "NA", "x y", "é,1", "l\nm"]))
        correct = draw(st.one_of(st.sampled_from(["true", "false", "1", "0", "", "yes"]), CSV_CELLS))
        score, latency = draw(CSV_CELLS), draw(CSV_CELLS)
        cells = [f"ex-{i}", task, correct, score, latency]
        lines.append(",".join(_csv_cell(c, quote_all) for c in cells))
    body = lines[:1] + [f"{line[:0]}" + line.replace("ex-", f"ex-{k}-", 1) for k in range(repeat) for line in lines[1:]]
    text = newline.join(body) + draw(st.sampled_from(["", newline]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + text.encode("utf-8"), n * repeat


_OPEN_CSV = __import__("pyarrow.csv").csv.open_csv


def _decoded(table: Table, name: str, role: str) -> tuple[list[bytes], bytes | None]:
    decoded: Decoded = decode_numbers(table, name, role=role, non_negative=name == "latency_ms")
    reasons = None if decoded.reasons is None else decoded.reasons.tobytes()
    return [np.asarray(c).tobytes() for c in decoded.chunks], reasons


def _everything(table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, role in (("correct", "rate"), ("score", "number"), ("latency_ms", "quantile"), ("score", "rate")):
        out[f"{name}/{role}"] = _decoded(table, name, role)
    task = decode_slices(table, "task")
    out["task"] = (task.codes.tobytes(), task.codes.dtype.str, task.labels, task.missing.tobytes())
    out["id"] = plain_column(table, "id").to_pylist()
    out["lines"] = [table.line(r) for r in range(table.data.num_rows)]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_files(), st.sampled_from([3, 40, csv_blocks._NARROW_UP_TO]))
def test_a_csv_file_reads_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drawn: tuple[bytes, int], narrow_up_to: int
) -> None:
    """Old and new readers over the same file; a small `_NARROW_UP_TO` turns number columns to values
    decoded while read after a few blocks (a column of more distinct cells than that)."""
    import pyarrow.csv as pacsv

    monkeypatch.setattr(csv_blocks, "_NARROW_UP_TO", narrow_up_to)
    data, _ = drawn
    path = tmp_path / "rows.csv"
    path.write_bytes(data)
    # Small blocks: a file of a few kB is then read in many blocks, each with its own dictionary.
    monkeypatch.setattr(
        pacsv, "open_csv", lambda p, **kw: _OPEN_CSV(p, **{**kw, "read_options": pacsv.ReadOptions(block_size=1 << 12)})
    )
    columns = ["id", "task", "correct", "score", "latency_ms"]

    def read(numbers: list[str], distinct: list[str]) -> dict[str, Any] | str:
        try:
            return _everything(read_table(path, "csv", columns, numbers=numbers, distinct=distinct))
        except ResultsError as e:
            return str(e)

    new = read(["score", "latency_ms"], ["id"])
    with monkeypatch.context() as old:
        old.setattr(column_decoding, "decode_text_cells", old_decode_text_cells)
        old.setattr(rows, "text_classes", old_text_classes)
        old.setattr(rows, "read_csv_narrowly", old_read_csv_narrowly)
        before = read(["score", "latency_ms"], ["id"])
    assert new == before


# ------------------------------------------------------------------------------------------------------ JSONL

JSONL_BYTES = st.lists(
    st.sampled_from([b'{"a": 1}', b"", b" ", b"\t", b"\r", b" \r", b'{"a":\r1}', b"\t{}", b" {} ", b"{}\r"]),
    max_size=8,
).map(b"\n".join)


@settings(max_examples=400, deadline=None)
@given(JSONL_BYTES, st.sampled_from([b"", b"\n", b"\r\n", b"\n\n"]))
def test_a_blank_jsonl_line_is_found_at_the_same_line(body: bytes, tail: bytes) -> None:
    raw = body + tail
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.jsonl"
        path.write_bytes(raw)
        assert jsonl.first_blank_line(path) == old_blank_line(raw)


# ------------------------------------------------------------------------------------------- what CSV imports


def test_a_csv_check_imports_neither_pandas_nor_pyarrow_compute(tmp_path: Path) -> None:
    """pyarrow.compute builds a wrapper for each of its functions on import (0.08 s of every check)."""
    from tests.test_rows import METRICS, make_spec

    lines = [f"ex-{i},{'ab'[i % 2]},{'true' if i % 3 else 'false'},0.{i:05d},{i}.5" for i in range(40_000)]
    lines[7] = "ex-7,a,,nan,inf"
    path = tmp_path / "rows.csv"
    path.write_text("id,task,correct,score,latency_ms\n" + "\n".join(lines) + "\n", encoding="utf-8")
    metrics = {**METRICS, "score": {"from": {"column": "score", "aggregate": "mean"}}}
    spec = make_spec(metrics, slice_by=["task"], drop_invalid=True).model_dump(mode="json", by_alias=True)
    probe = (
        "import sys; from gatekit.sources.load import load_results; from gatekit.spec.model import Spec; "
        f"r = load_results({str(path)!r}, Spec.model_validate({spec!r})); "
        "print(r.metrics['score']['all'].n, 'pandas' in sys.modules, 'pyarrow.compute' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "39999 False False"


def test_a_csv_id_column_read_for_ids_only_is_plain_text(tmp_path: Path) -> None:
    """Each id is distinct: a dictionary would hash every id only to be undone (`example_ids` codes them)."""
    path = tmp_path / "rows.csv"
    path.write_text("id,task\n" + "".join(f"ex-{i},t{i % 3}\n" for i in range(5000)), encoding="utf-8")
    table = read_table(path, "csv", ["id", "task"], distinct=["id"])
    assert table.data.column("id").type == pa.string()
    assert pa.types.is_dictionary(table.data.column("task").type)
    assert plain_column(table, "id").to_pylist() == [f"ex-{i}" for i in range(5000)]
