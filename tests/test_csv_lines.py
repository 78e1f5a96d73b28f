"""CSV rows whose quoted cells hold line breaks (a model's multi-line output): every message names the file line
a row starts on, not its row number plus the header."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gatekit.errors import ResultsError
from gatekit.sources import csv_blocks
from gatekit.sources.csv_blocks import CsvLines
from gatekit.sources.load import load_results
from tests.test_rows import make_spec


def write_rows(tmp_path: Path, header: list[str], rows: list[list[str]], newline: str = "\n") -> Path:
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator=newline).writerows([header, *rows])
    return path


def file_line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_bad_cell_after_multi_line_cells_is_located_at_its_file_line(tmp_path: Path, newline: str) -> None:
    rows = [["true", "1", "first line\nsecond line" if i % 3 == 0 else "ok"] for i in range(20)]
    rows[14][0] = "maybe"
    path = write_rows(tmp_path, ["correct", "latency_ms", "output"], rows, newline)

    problem = load_results(path, make_spec()).metrics["acc"]["all"].problem

    assert problem is not None
    assert f"first at line {file_line_of(path, 'maybe')})" in problem


def test_a_repeated_id_after_multi_line_cells_names_both_file_lines(tmp_path: Path) -> None:
    rows = [[f"e{i}", "true", "1", "a\nb\nc" if i % 2 else "ok"] for i in range(10)]
    rows[7][0] = "e2"
    path = write_rows(tmp_path, ["id", "correct", "latency_ms", "output"], rows)

    with pytest.raises(ResultsError) as raised:
        load_results(path, make_spec(id_column="id"))

    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("e2,")]
    assert f"at line {lines[0]} and line {lines[1]}" in str(raised.value)
    assert raised.value.diagnostics[0].line == lines[1]


def test_rows_of_a_file_without_quotes_start_under_the_header(tmp_path: Path) -> None:
    path = write_rows(tmp_path, ["correct"], [["true"]] * 5)

    assert [CsvLines(path).line(row) for row in range(5)] == [2, 3, 4, 5, 6]


def test_a_header_with_a_line_break_shifts_every_row(tmp_path: Path) -> None:
    path = write_rows(tmp_path, ["correct", "a long\nname"], [["true", "x"], ["maybe", "y"]])

    assert CsvLines(path).line(1) == file_line_of(path, "maybe")


def test_a_bad_cell_after_a_cell_over_128_kib_is_located_not_a_traceback(tmp_path: Path) -> None:
    rows = [["true", "1", "y" * 200_000 + "\nend" if i == 2 else "a\nb"] for i in range(8)]
    rows[6][0] = "maybe"
    path = write_rows(tmp_path, ["correct", "latency_ms", "output"], rows)

    problem = load_results(path, make_spec()).metrics["acc"]["all"].problem

    assert problem is not None
    assert f"first at line {file_line_of(path, 'maybe')})" in problem


def test_a_multi_line_cell_across_a_read_block_boundary_is_one_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyarrow reads a CSV in blocks cut at a line break; a break inside a quoted cell at the cut made the
    # rest of the cell a row of its own (n one too many) or a refused file. Nearly every byte of this file is
    # inside a quoted multi-line cell, so every cut falls inside one.
    monkeypatch.setattr(csv_blocks, "BLOCK_SIZE", 1 << 20)
    output = "\n".join(["word " * 12] * 40)  # ~2.5 KB of cell, a line break every 61 bytes
    rows = [["true" if i % 4 else "false", str(i), output] for i in range(2_000)]  # ~5 MiB: four cuts at least
    path = write_rows(tmp_path, ["correct", "latency_ms", "output"], rows)
    assert path.stat().st_size > 4 * csv_blocks.BLOCK_SIZE

    measured = load_results(path, make_spec()).metrics["acc"]["all"]

    assert measured.problem is None
    assert (measured.n, measured.value) == (2_000, 0.75)


def test_rows_quoted_inside_a_cell_at_a_read_block_boundary_are_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The silent form of the same cut: a model output that quotes CSV rows (`true,1,ok`), cut inside, became
    # extra passing rows (61 rows read as 69), a false ship with no message.
    monkeypatch.setattr(csv_blocks, "BLOCK_SIZE", 1 << 20)
    pad = ["true", "1", "z" * (csv_blocks.BLOCK_SIZE - 5_000)]
    rows = [pad, *[["false", "1", "\n".join(["true,1,ok"] * 9)] for _ in range(60)]]
    path = write_rows(tmp_path, ["correct", "latency_ms", "output"], rows)

    measured = load_results(path, make_spec()).metrics["acc"]["all"]

    assert (measured.n, measured.value) == (61, 1 / 61)
