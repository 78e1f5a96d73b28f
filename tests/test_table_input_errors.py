"""Per-example tables a check cannot read: exit 2 with the file, line and column, never an internal error.

Each case used to end in a traceback and exit 1: a slice or id column of structs or lists, and bytes that are
not UTF-8 (pyarrow's JSONL reader passes them through; a text reader blamed a bad byte anywhere in the first
block of a CSV file on its header).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import Run


def write_spec(folder: Path, candidate: str, **table: Any) -> Path:
    document = {
        "version": 1,
        "name": "t",
        "hypothesis": {"statement": "s", "stage": "other", "improves": "acc", "owner": "o", "written": "2026-01-01"},
        "candidate": candidate,
        "metrics": {"acc": {"from": {"column": "correct", "aggregate": "rate"}}},
        "table": {"slice_by": ["task"], **table},
        "gates": [{"id": "acc", "metric": "acc", "slices": ["*"], "min": 0.1}],
        "rollback": {},
    }
    path = folder / "gate.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def jsonl_lines(count: int, bad_at: int, bad: bytes) -> bytes:
    return b"".join(b'{"task": "' + (bad if i == bad_at else b"a") + b'", "correct": true}\n' for i in range(count))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        pytest.param(
            "rows.jsonl", jsonl_lines(40, 5, b"\xff\xfe"), "rows.jsonl:6:11: column 'task'", id="jsonl-fast-reader"
        ),
        pytest.param(
            # A damaged line elsewhere sends the file to the line-by-line reader, which meets the bad byte first.
            "rows.jsonl",
            jsonl_lines(40, 5, b"\xff") + b"{not json\n",
            "rows.jsonl:6:11: not valid UTF-8",
            id="jsonl-exact-reader",
        ),
        pytest.param(
            "rows.csv",
            b"task,correct\n" + b"a,true\n" * 50 + b"\xff,true\n",
            "rows.csv:52:1: not valid UTF-8",
            id="csv-body",
        ),
        pytest.param(
            "rows.csv", b"ta\xffsk,correct\na,true\n", "rows.csv:1: cannot read the CSV header", id="csv-header"
        ),
    ],
)
def test_bytes_that_are_not_utf8_are_located(
    tmp_path: Path, gatekit: Callable[..., Run], name: str, content: bytes, expected: str
) -> None:
    (tmp_path / name).write_bytes(content)

    run = gatekit("check", write_spec(tmp_path, name))

    assert run.code == 2
    assert expected in run.err
    assert "internal error" not in run.err


def test_a_parquet_string_that_is_not_utf8_is_named_by_column(tmp_path: Path, gatekit: Callable[..., Run]) -> None:
    offsets, data = pa.py_buffer(pa.array([0, 1, 3], pa.int32()).buffers()[1]), pa.py_buffer(b"a\xff\xfe")
    broken = pa.StringArray.from_buffers(2, offsets, data)  # from_buffers does not check the bytes
    pq.write_table(pa.table({"task": broken, "correct": [True, False]}), tmp_path / "rows.parquet")

    run = gatekit("check", write_spec(tmp_path, "rows.parquet"))

    assert run.code == 2
    assert "rows.parquet: column 'task' holds text that is not valid UTF-8" in run.err


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("task", [{"k": 1}, {"k": 2}], "slice column 'task' holds struct<k: int64> values"),
        ("task", [[1], [2]], "slice column 'task' holds list<element: int64> values"),
        ("id", [{"k": 1}, {"k": 2}], "example id column 'id' holds struct<k: int64> values"),
    ],
)
def test_a_nested_slice_or_id_column_is_bad_input(
    tmp_path: Path, gatekit: Callable[..., Run], column: str, values: list[Any], expected: str
) -> None:
    data = {"task": ["a", "b"], "correct": [True, False], "id": [1, 2]}
    data[column] = values
    pq.write_table(pa.table(data), tmp_path / "rows.parquet")

    run = gatekit("check", write_spec(tmp_path, "rows.parquet"))

    assert run.code == 2
    assert expected in run.err


@pytest.mark.parametrize(
    ("values", "names"),
    [
        pytest.param([dt.date(2026, 1, 1), dt.date(2026, 1, 2)], ["task=2026-01-01", "task=2026-01-02"], id="date"),
        pytest.param([Decimal("1.5"), Decimal("2.5")], ["task=1.5", "task=2.5"], id="decimal"),
    ],
)
def test_a_slice_column_of_dates_or_decimals_is_named_as_text(
    tmp_path: Path, gatekit: Callable[..., Run], values: list[Any], names: list[str]
) -> None:
    pq.write_table(pa.table({"task": values, "correct": [True, False]}), tmp_path / "rows.parquet")

    run = gatekit("check", write_spec(tmp_path, "rows.parquet"), "--format", "json")

    assert run.code in (0, 3, 4)
    slices = {gate["slice"] for gate in json.loads(run.out)["gates"]}
    assert slices == {"all", *names}


def test_a_byte_order_mark_before_the_csv_header_is_not_part_of_a_name(
    tmp_path: Path, gatekit: Callable[..., Run]
) -> None:
    (tmp_path / "rows.csv").write_bytes(b"\xef\xbb\xbftask,correct\na,true\nb,false\n")

    run = gatekit("check", write_spec(tmp_path, "rows.csv"), "--format", "json")

    assert run.code in (0, 3, 4)
    assert {gate["slice"] for gate in json.loads(run.out)["gates"]} == {"all", "task=a", "task=b"}
