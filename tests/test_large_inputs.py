"""Large inputs: what a reader keeps in memory, and the fast YAML path that must read exactly as the strict one."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.sources.columns import decode_numbers
from gatekit.sources.rows import read_table

ROWS = 1_200_000  # about 8 MB of text: several of pyarrow's 1 MiB blocks, each with its own dictionary


def _one_column_csv(tmp_path: Path, bad_row: int | None = None) -> Path:
    cells = ["1.2500", "0.7500", "0.0625", "0.5000"] * (ROWS // 4)
    if bad_row is not None:
        cells[bad_row] = "oops"
    path = tmp_path / "rows.csv"
    path.write_text("score\n" + "\n".join(cells) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("bad_row", [None, ROWS - 3])
def test_a_csv_number_column_is_decoded_without_a_float_per_row_held(tmp_path: Path, bad_row: int | None) -> None:
    """The values come chunk by chunk from each block's codes: holding them all would add 8 bytes a row to the
    column's own 4-byte codes (a 1 GB one-column CSV: 1.2 GB more)."""
    table = read_table(_one_column_csv(tmp_path, bad_row), "csv", ["score"])
    assert table.data.column("score").num_chunks > 2
    decode_numbers(table, "score", role="number")  # loads the modules CSV decoding imports on first use
    tracemalloc.start()
    try:
        decoded = decode_numbers(table, "score", role="number")
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < ROWS * 2  # at most the int8 reasons of a column with a bad cell, never 8 bytes a row
    expected = np.array([1.25, 0.75, 0.0625, 0.5] * (ROWS // 4))
    good = np.ones(ROWS, dtype=bool)
    if bad_row is not None:
        good[bad_row] = False  # its value is never read: the reason says why
    assert len(decoded) == ROWS
    joined = np.concatenate(list(decoded.chunks))
    np.testing.assert_array_equal(joined[good], expected[good])
    np.testing.assert_array_equal(decoded.values[good], expected[good])
    if bad_row is None:
        assert decoded.reasons is None
    else:
        assert decoded.reasons is not None
        assert np.flatnonzero(decoded.reasons).tolist() == [bad_row]


# ------------------------------------------------------------------ YAML: libyaml's events read straight to data

# Every YAML shape the strict loader refuses or reads specially, and plain data around them. Each is read by
# the fast reader and by the strict composer and constructor (both over libyaml), and must come out the same.
HOSTILE_YAML = [
    "model: m\nmetrics:\n  accuracy:\n    all: 0.9\n    all: 0.8\n",  # duplicate key
    "a: 1\n1: 2\ntrue: 3\n",  # 1 and true are the same key to Python: refused as duplicates
    "a: 1.0\n1.0: x\n1: y\n",
    "a: &x 0.9\nb: *x\n",  # alias
    "a: &x 0.9\nb: 1\n",  # anchor without an alias
    "a: &x [1, 2]\nb: *x\n",
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",  # merge key
    "a:\n  <<: {x: 1}\n",
    "a: yes\n",
    "a: off\n",
    "a: 010\n",
    "a: 1:30\n",
    "a: 1_000\n",
    "a: 0b101\n",
    "a: !!float nope\n",
    "a: !!int twelve\n",
    "a: !!bool maybe\n",
    "a: !!timestamp soon\n",
    "a: !!str 12\n",
    "a: !!python/object/apply:os.system [ls]\n",
    "!!python/name:os.system\n",
    "a: !custom 1\n",
    "a: ! 1\n",
    "written: 2024-13-45\n",
    "created: 2026-02-30T10:00:00Z\n",
    "created: 2026-01-01T10:00:00+99:99\n",
    "created: 2026-01-01T10:00:00Z\nwritten: 2026-01-01\n",
    "a: " + "[" * 63 + "]" * 63 + "\n",  # the deepest nesting allowed: 64 levels with the document
    "a: " + "[" * 64 + "]" * 64 + "\n",
    "a: " + "[" * 62 + "1" + "]" * 62 + "\n",
    "a: " + "[" * 63 + "1" + "]" * 63 + "\n",
    "[" * 64 + "]" * 64 + "\n",
    "a: 1.0e999\n",
    "a: -1e400\n",
    "a: " + "9" * 500 + "\n",
    "a: 0x" + "f" * 500 + "\n",
    "a: 0x1F\nb: 0o17\nc: -0\nd: +12\ne: .5\nf: 1.\ng: 1e3\nh: -1E-3\n",
    "a: .inf\nb: -.Inf\nc: +.INF\nd: .nan\ne: .NaN\n",
    "a: ~\nb: null\nc: Null\nd:\ne: NULL\nf: ''\n",
    "a: true\nb: True\nc: FALSE\nd: tRue\ne: 'true'\n",
    'a: "\\ud800"\n',
    "a: 'it''s'\nb: \"tab\\there\"\nc: |\n  two\n  lines\nd: >\n  folded\n  text\n",
    "? [a, b]\n: 1\n",  # a complex key
    "? {a: 1}\n: 1\n",
    "a: 1\n---\nb: 2\n",  # two documents
    "--- \na: 1\n...\n",
    "%YAML 1.1\n---\na: 1\n",
    "%YAML 1.2\n---\na: yes\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "",
    "# only a comment\n",
    "---\n",
    "just a scalar\n",
    "- 1\n- two\n- [3, {four: 4}]\n",
    "a: [1, 2\n",  # syntax errors
    "a: b: c\n",
    "a:\n  - 1\n - 2\n",
    "a: 'unterminated\n",
    "{a: 1, a: 2}\n",
    "{a: 1}, 2\n",
    "key with spaces: value with spaces\n'quoted key': 1\n\"double\": 2\n",
    "model: m\nmetrics:\n  score: {slice_1: {value: 0.91, n: 1000}, all: {value: 0.9, n: 100000}}\n",
]


def _outcome(text: str) -> tuple[str, str]:
    from gatekit.errors import GatekitError
    from gatekit.spec.yamlio import load_yaml_text

    try:
        return ("value", repr(load_yaml_text(text, "r.yaml", error=GatekitError).data))
    except GatekitError as e:
        return ("error", str(e))


def _fast_and_strict(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[str, str], tuple[str, str]]:
    """The outcome of the fast reader and of the strict composer and constructor, both over libyaml."""
    from gatekit.spec import yamlio

    with monkeypatch.context() as patch:
        patch.setattr(yamlio, "C_SCANNER_FROM", -1)
        fast = _outcome(text)
        patch.setattr(yamlio, "read_plain_yaml", lambda *_: yamlio.NOT_READ)
        strict = _outcome(text)
    return fast, strict


@pytest.mark.parametrize("text", HOSTILE_YAML)
def test_the_fast_yaml_reader_gives_the_strict_value_or_error(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, strict = _fast_and_strict(text, monkeypatch)
    assert fast == strict


def _nested_lists(levels: int) -> list[Any]:
    inner: list[Any] = []
    for _ in range(levels - 1):
        inner = [inner]
    return inner


def _read_plain(text: str) -> Any:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    from gatekit.spec import yamlio
    from gatekit.spec.yamlfast import read_plain_yaml

    scalar = yamlio.StrictLoader("").construct_object
    return read_plain_yaml(text, CParser, yamlio._StrictResolver.yaml_implicit_resolvers, scalar, yamlio.MAX_DEPTH)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        (
            "model: m\nmetrics: {acc: {all: {value: 0.9, n: 100}}}\n",
            {"model": "m", "metrics": {"acc": {"all": {"value": 0.9, "n": 100}}}},
        ),
        ("a: [1, -2.5, 'x', null, true, FALSE]\n", {"a": [1, -2.5, "x", None, True, False]}),
        ("a: 0x1F\nb: 0o17\nc: ''\nd:\n", {"a": 31, "b": 15, "c": "", "d": None}),
        ("a: " + "[" * 63 + "]" * 63 + "\n", {"a": _nested_lists(63)}),
    ],
)
def test_the_fast_yaml_reader_reads_plain_data_itself(text: str, data: Any) -> None:
    """It reads what is plainly data without handing it back (else it would not be faster)."""
    assert _read_plain(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",
        "a: &x 1\nb: *x\n",
        "a: yes\n",
        "a: !!str 1\n",
        "a: " + "[" * 64 + "]" * 64 + "\n",
        "a: 1e999\n",
        "a: [1\n",
        "a: 1\n---\nb: 2\n",
        "",
    ],
)
def test_the_fast_yaml_reader_hands_everything_else_to_the_strict_loader(text: str) -> None:
    from gatekit.spec.yamlfast import NOT_READ

    assert _read_plain(text) is NOT_READ


PLAIN_SCALARS = [
    *("0.9", "1000", "-3", "+4", "0", "-0", "1.", ".5", "1e3", "1E-3", "1.0e999", "9" * 401, "0x1F", "0o17"),
    *("010", "1_000", "1:30", "0b11", "yes", "No", "on", "OFF", "y", "n", "true", "False", "tRue", "null"),
    *("~", "Null", ".inf", "-.INF", ".nan", "2026-01-01", "2026-02-30", "2026-01-01T10:00:00Z", "<<", "a b"),
    *("slice_1", "acc", "value", "'quoted'", '"dq"', "'yes'", '"\\ud800"', "!!str 1", "!!int x", "&a 1", "*a"),
]


def _yaml_node(draw: Any, depth: int, flow: bool) -> str:
    from hypothesis import strategies as st

    shape = draw(st.sampled_from(["scalar", "scalar", "map", "list"] if depth < 4 else ["scalar"]))
    if shape == "scalar":
        return str(draw(st.sampled_from(PLAIN_SCALARS)))
    items = draw(st.lists(st.tuples(st.sampled_from(PLAIN_SCALARS[:40]), st.just(0)), max_size=4))
    if shape == "list":
        return "[" + ", ".join(_yaml_node(draw, depth + 1, flow) for _ in items) + "]"
    return "{" + ", ".join(f"{key}: {_yaml_node(draw, depth + 1, flow)}" for key, _ in items) + "}"


def _yaml_documents() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def document(draw: Any) -> str:
        keys = draw(st.lists(st.sampled_from(PLAIN_SCALARS[:50]), min_size=1, max_size=5))
        lines = [f"{key}: {_yaml_node(draw, 1, True)}" for key in keys]
        return "\n".join(lines) + "\n"

    return document()


@settings(max_examples=400, deadline=None)
@given(text=_yaml_documents())
def test_generated_yaml_reads_the_same_fast_and_strict(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, strict = _fast_and_strict(text, monkeypatch)
    assert fast == strict


@settings(max_examples=200, deadline=None)
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
        max_leaves=20,
    ),
    flow=st.booleans(),
)
def test_yaml_written_by_pyyaml_reads_the_same_fast_and_strict(data: Any, flow: bool) -> None:
    import yaml

    text = yaml.safe_dump({"data": data}, default_flow_style=flow, allow_unicode=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, strict = _fast_and_strict(text, monkeypatch)
    assert fast == strict


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nname: x\nhypothesis:\n\tstage: sft\n",
        "gates:\n  - id: a\n    metric: x\n  min: 1\n",
        "version: 1\n name: x\n",
        '{"id": 1, "correct": true}\n{"id": 2, "correct": false}\n',
    ],
    ids=["tab", "item indented less", "key indented more", "JSON Lines"],
)
def test_a_syntax_error_in_a_large_yaml_file_has_the_small_files_hint_at_the_same_place(text: str) -> None:
    """libyaml words its errors differently and names no character: the hint must not depend on which."""
    from gatekit.errors import GatekitError
    from gatekit.spec.yamlio import C_SCANNER_FROM, load_yaml_text

    said = []
    for body in (text, text + "# " + "x" * C_SCANNER_FROM + "\n"):
        with pytest.raises(GatekitError) as caught:
            load_yaml_text(body, "r.yaml", error=GatekitError)
        place, _, message = str(caught.value).partition(": ")
        said.append((place, message.partition(" (YAML: ")[0]))
    assert said[0] == said[1]
    assert said[0][1].startswith(("a tab character", "the indentation does not line up", "this looks like JSON"))


# ------------------------------------------------------------------------ CSV codes: the narrowest that hold them


def test_a_csv_column_of_few_distinct_cells_has_one_byte_codes(tmp_path: Path) -> None:
    """pyarrow's codes are int32 (4 bytes a row); a 1 GB CSV of 0/1 cells has 537M rows."""
    import pyarrow as pa

    table = read_table(_one_column_csv(tmp_path), "csv", ["score"])
    column = table.data.column("score")
    assert column.num_chunks > 2
    assert column.type == pa.dictionary(pa.int8(), pa.string())


@pytest.mark.parametrize(("tasks", "codes"), [(127, "int8"), (128, "int16"), (32_767, "int16"), (32_768, "int32")])
def test_csv_codes_fit_every_distinct_cell_of_every_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tasks: int, codes: str
) -> None:
    """The first blocks hold one task and the last ones all of them: blocks narrowed early are widened, and
    the slices, whose grouping joins every block's dictionary, count every row in its own slice."""
    from gatekit.sources import csv_blocks
    from gatekit.sources.load import load_results
    from tests.test_rows import make_spec

    monkeypatch.setattr(csv_blocks, "BLOCK_SIZE", 1 << 20)  # an 8 MB file in eight blocks

    early = ["t0"] * 1_000_000
    late = [f"t{i % tasks}" for i in range(tasks * 3)]
    lines = [f"{task},{i % 2}\n" for i, task in enumerate(early + late)]
    path = tmp_path / "rows.csv"
    path.write_text("task,correct\n" + "".join(lines), encoding="utf-8")
    table = read_table(path, "csv", ["task", "correct"])
    assert table.data.column("task").num_chunks > 2
    assert str(table.data.column("task").type.index_type) == codes
    assert str(table.data.column("correct").type.index_type) == "int8"
    spec = make_spec({"acc": {"from": {"column": "correct", "aggregate": "rate"}}}, slice_by=["task"])
    measured = load_results(path, spec).metrics["acc"]
    assert measured["all"].n == len(lines)
    expected = {f"t{i}": 3 for i in range(tasks)}
    expected["t0"] += len(early)
    assert {name.removeprefix("task="): m.n for name, m in measured.items() if name != "all"} == expected


# ------------------------------------- CSV number columns with many distinct cells: decoded while they are read

VARIED = 40_000  # distinct cells: more than int16 codes hold


@pytest.mark.parametrize("aggregate", ["mean", "rate", "p90", "sum"])
@pytest.mark.parametrize("odd", [[], ["true"], [""], ["oops"], ["-1"], ["1e999"], ["false", "0", "1", " 2"]])
def test_a_varied_csv_number_column_decoded_while_read_measures_as_its_text(
    tmp_path: Path, aggregate: str, odd: list[str]
) -> None:
    """Its text is never held (a 1 GB file of random numbers would need 2.5 GB); what it measures, and every
    bad cell counted with its first line, is what reading the text would give."""
    import pyarrow as pa

    from gatekit.sources.measure import table_columns, table_results
    from tests.test_rows import make_spec

    cells = [f"0.{i:05d}" for i in range(VARIED)]
    cells[VARIED // 2 : VARIED // 2] = odd
    path = tmp_path / "rows.csv"
    path.write_text("task,x\n" + "".join(f"{'ab'[i % 2]},{c}\n" for i, c in enumerate(cells)), encoding="utf-8")
    spec = make_spec({"m": {"from": {"column": "x", "aggregate": aggregate}}}, slice_by=["task"], non_negative=["x"])
    decoded = read_table(path, "csv", table_columns(spec), numbers=["x"])
    as_text = read_table(path, "csv", table_columns(spec))
    assert decoded.data.column("x").type == pa.float64()
    assert pa.types.is_dictionary(as_text.data.column("x").type)

    def measured(table: Any) -> dict[str, tuple[float, int | None, str | None]]:
        return {k: (m.value, m.n, m.problem) for k, m in table_results(table, spec).metrics["m"].items()}

    assert repr(measured(decoded)) == repr(measured(as_text))


def test_a_check_reads_a_varied_csv_number_column_decoded_but_a_slice_column_as_text(tmp_path: Path) -> None:
    import pyarrow as pa

    from gatekit.sources import load
    from tests.test_rows import make_spec

    spec = make_spec({"m": {"from": {"column": "x", "aggregate": "mean"}}}, slice_by=["task"])
    assert load._number_columns(spec) == ["x"]
    assert (
        load._number_columns(make_spec({"m": {"from": {"column": "task", "aggregate": "mean"}}}, slice_by=["task"]))
        == []
    )
    path = tmp_path / "rows.csv"
    path.write_text("task,x\n" + "".join(f"t{i},0.{i:05d}\n" for i in range(VARIED)), encoding="utf-8")
    captured: list[Any] = []
    import gatekit.sources.rows as rows  # load imports read_table where it reads a table

    original = rows.read_table

    def spy(*args: Any, **kwargs: Any) -> Any:
        table = original(*args, **kwargs)
        captured.append(table)
        return table

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rows, "read_table", spy)
        results = load.load_results(path, spec)
    assert captured[0].data.column("x").type == pa.float64()
    assert pa.types.is_dictionary(captured[0].data.column("task").type)
    assert results.metrics["m"]["all"].n == VARIED
    assert len(results.metrics["m"]) == VARIED + 1
