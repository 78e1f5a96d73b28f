"""A JSONL table is read for the columns a check needs only, and reads exactly as reading every field would.

The reference is the whole read (`jsonl.read_columns` made to return None: the reader before this change):
each file below, and random files, must give the same results through both, whatever the first lines hold.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekit.errors import ResultsError
from gatekit.sources import jsonl
from gatekit.sources.load import load_results
from tests.test_rows import make_spec

METRICS = {
    "acc": {"from": {"column": "correct", "aggregate": "rate"}},
    "score": {"from": {"column": "score", "aggregate": "mean"}, "kind": "mean"},
    "latency_p95": {"from": {"column": "latency_ms", "aggregate": "p95"}},
}
SAMPLE_ROWS = jsonl.SAMPLE // 40 + 100
"""Enough rows of about 40 bytes that what comes after them lies beyond the lines the types are taken from."""


def write_lines(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def outcome(path: Path, **table: Any) -> Any:
    """Every measurement of every slice, or the error: what a check reads from the file."""
    try:
        results = load_results(path, make_spec(METRICS, **table))
    except ResultsError as e:
        return ("error", str(e))
    # repr: NaN equals NaN, and an integer value differs from a float one.
    return repr(
        {
            metric: {name: (m.value, m.n, m.stderr, m.problem, *_samples(m.samples)) for name, m in slices.items()}
            for metric, slices in results.metrics.items()
        }
    )


def _samples(samples: Any) -> tuple[Any, Any]:
    if samples is None:
        return None, None
    return samples.values.tolist(), None if samples.ids is None else list(samples.ids)


def whole_read(path: Path, monkeypatch: pytest.MonkeyPatch, **table: Any) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(jsonl, "read_columns", lambda *args: None)
        return outcome(path, **table)


def row(i: int, **extra: Any) -> dict[str, Any]:
    return {"correct": i % 3 != 0, "score": (i % 7) / 7, "latency_ms": 100 + i % 50, "task": f"t{i % 4}", **extra}


LATER: dict[str, dict[str, Any]] = {
    "an integer number column holds a decimal": {"latency_ms": 150.5},
    "a number column holds text": {"score": "high"},
    "a number column holds a boolean": {"score": True},
    "a boolean column holds a number": {"correct": 1},
    "a text slice holds a number": {"task": 7},
    "an optional id column appears": {"id": "e-late"},
    "a number column holds null": {"score": None},
    "a number beyond double": {"latency_ms": 10**400},
    "a slice column that was always absent appears": {"region": "eu"},
}


@pytest.mark.parametrize("later", LATER.values(), ids=LATER.keys())
def test_a_cell_after_the_first_lines_reads_as_the_whole_read_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, later: dict[str, Any]
) -> None:
    lines = [row(i, output="x" * 20) for i in range(SAMPLE_ROWS)]
    lines.append({**row(SAMPLE_ROWS), **later})
    if "id" in later:
        lines = [{**line, "id": f"e{i}"} if i else line for i, line in enumerate(lines)][::-1]
    path = write_lines(tmp_path, lines)

    assert outcome(path, slice_by=["task"]) == whole_read(path, monkeypatch, slice_by=["task"])


FIRST: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "a slice column only nulls at first": ([{**row(i), "task": None} for i in range(SAMPLE_ROWS)], {"task": "a"}),
    "a slice column that looks like timestamps": ([{**row(i), "task": "2026-01-01"} for i in range(5)], {}),
    "a required column absent at first": ([{"correct": True, "score": 0.5, "task": "a"}] * SAMPLE_ROWS, row(0)),
    "integer slice values, then a decimal": ([{**row(i), "task": i % 3} for i in range(SAMPLE_ROWS)], {"task": 1.5}),
    "a first line over the sample size": ([row(0, output="y" * (jsonl.SAMPLE + 10))], row(1)),
}


@pytest.mark.parametrize(("first", "later"), FIRST.values(), ids=FIRST.keys())
def test_first_lines_that_cannot_fix_the_types_read_as_the_whole_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: list[dict[str, Any]], later: dict[str, Any]
) -> None:
    path = write_lines(tmp_path, [*first, later] if later else first)

    assert outcome(path, slice_by=["task"]) == whole_read(path, monkeypatch, slice_by=["task"])


DAMAGED = {
    "a line cut short": ('{"correct": true, "score": 0.5, "latency_ms": 1, "task": "a", "output": "cut\n', ""),
    "a key twice in a column a check reads": (
        '{"correct": true, "correct": false, "score": 0.5, "latency_ms": 1, "task": "a"}\n',
        " key 'correct' appears twice",
    ),
}


@pytest.mark.parametrize(("line", "message"), DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_line_after_the_first_lines_is_an_error_at_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_lines(tmp_path, [row(i) for i in range(SAMPLE_ROWS)])
    with path.open("a") as f:
        f.write(line)

    with pytest.raises(ResultsError, match=rf"rows\.jsonl:{SAMPLE_ROWS + 1}:{message}"):
        load_results(path, make_spec(METRICS))


def test_fields_no_check_reads_are_never_built(tmp_path: Path) -> None:
    # 16,000 rows of a 2 KB output field: 33 MB of text the check never reads. Reading every field built it
    # all in Arrow memory beside the blocks read (65 MB at its peak); the columns the check reads take 0.3 MB,
    # and the blocks in flight 16-36 MB (1 MiB each; how many the streaming reader reads ahead varies).
    path = write_lines(tmp_path, [row(i, output="z" * 2_000) for i in range(16_000)])
    probe = (
        "import sys, pyarrow as pa\n"
        "pa.set_cpu_count(2)\n"
        "from gatekit.sources.rows import read_table\n"
        "read_table(__import__('pathlib').Path(sys.argv[1]), 'jsonl', ['correct', 'score'], numbers=['score'])\n"
        "print(pa.default_memory_pool().max_memory())\n"
    )
    peak = int(subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, check=True).stdout)

    assert peak < 1.25 * path.stat().st_size


VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["a", "b", "1", "true", "2026-01-01"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(st.fixed_dictionaries({"correct": VALUE, "score": VALUE, "latency_ms": VALUE, "task": VALUE})),
    later=st.lists(st.fixed_dictionaries({"correct": VALUE, "score": VALUE, "latency_ms": VALUE, "task": VALUE})),
    with_output=st.booleans(),
)
def test_random_files_read_as_the_whole_read_reads_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: list[dict[str, Any]],
    later: list[dict[str, Any]],
    with_output: bool,
) -> None:
    # The first lines are made to fill the sample with one type per column, and the later ones break it.
    monkeypatch.setattr(jsonl, "SAMPLE", max(1, sum(len(json.dumps(line)) + 1 for line in first)))
    lines = [{**line, "output": "o" * 30} if with_output else line for line in [*first, *later]]
    if not lines:
        return
    path = write_lines(tmp_path, lines)

    assert outcome(path, slice_by=["task"]) == whole_read(path, monkeypatch, slice_by=["task"])


def _blank_line(raw: bytes) -> int | None:
    """The first blank line of the whole file's bytes at once (1-based), or None: the reference."""
    if jsonl._first_line_blank(raw):
        return 1
    start = jsonl._BLANK_LINE_START.search(raw)
    match = jsonl._BLANK_LINE.search(raw, start.start()) if start else None
    return raw[: match.start() + 1].count(b"\n") + 1 if match else None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.lists(st.sampled_from([b"\n", b"\r", b" ", b"\t", b'{"a": 1}', b'"id"', b"x"]), max_size=40).map(b"".join),
    block=st.integers(1, 12),
)
def test_a_scan_in_blocks_finds_what_a_scan_of_the_whole_file_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes, block: int
) -> None:
    monkeypatch.setattr(jsonl, "BLOCK", block)
    path = tmp_path / "rows.jsonl"
    path.write_bytes(raw)

    monkeypatch.setattr(jsonl, "SURVEY_BLOCK", block)
    surveyed = jsonl._survey(path, [b'"id"', b"x"])
    lines, found = surveyed.lines, surveyed.found

    assert jsonl.first_blank_line(path) == _blank_line(raw)
    if _blank_line(raw) is not None and not jsonl._first_line_blank(raw):  # read_columns checks those
        assert surveyed.may_blank  # where a blank line is, the survey says one may be
    assert found == {needle for needle in (b'"id"', b"x") if needle in raw}
    assert lines == len(raw.split(b"\n")) - (raw.endswith(b"\n") or not raw)


def test_a_blank_line_is_located_whichever_path_reads_the_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [row(i) for i in range(SAMPLE_ROWS)])
    with path.open("a") as f:
        f.write("\n" + json.dumps(row(0)) + "\n")

    with pytest.raises(ResultsError, match=rf"rows\.jsonl:{SAMPLE_ROWS + 1}: blank line"):
        load_results(path, make_spec(METRICS))


@pytest.mark.parametrize("key", [r"\u0069d", r"i\u0064", r"\u0069\u0064", r"\u0049d"])
def test_an_id_key_spelled_with_escapes_after_the_first_lines_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    # A JSON parser reads "\u0069d" as "id": the key search must too (`\u0049d` is "Id", another column).
    lines = [json.dumps(row(i, output="caf\u00e9")) for i in range(SAMPLE_ROWS)]
    lines += [json.dumps(row(i))[:-1] + f', "{key}": "e{i}"}}' for i in range(SAMPLE_ROWS, SAMPLE_ROWS + 3)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    assert outcome(path, slice_by=["task"]) == whole_read(path, monkeypatch, slice_by=["task"])


def test_a_blank_line_is_an_error_when_another_line_holds_two_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyarrow reads `{..} {..}` on one line as two rows and skips the blank line: the row count equals the
    # line count, so the count alone does not show the blank line the whole read refuses.
    lines = [json.dumps(row(i)) for i in range(20)]
    text = "\n".join(lines[:10]) + "\n" + lines[10] + " " + lines[11] + "\n\n" + "\n".join(lines[12:]) + "\n"
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")

    expected = whole_read(path, monkeypatch, slice_by=["task"])
    assert expected[0] == "error"
    assert outcome(path, slice_by=["task"]) == expected


@pytest.mark.parametrize("first", ["   \n", "\t\r\n", " \r\n"])
def test_a_first_line_of_only_spaces_is_a_blank_line(tmp_path: Path, first: str) -> None:
    # pyarrow skips it: the file was read as if the line were not there.
    path = tmp_path / "rows.jsonl"
    path.write_text(first + "".join(json.dumps(row(i)) + "\n" for i in range(5)), encoding="utf-8")

    with pytest.raises(ResultsError, match=r"rows\.jsonl:1: blank line"):
        load_results(path, make_spec(METRICS))
