"""Large inputs: what a reader keeps in memory, and the fast YAML path that must read exactly as the strict one."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from gatekit.sources.rows import decode_numbers, read_table

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
