"""A per-example results table as read (pyarrow columns), and why a cell of it is bad.

A table has one row per example. `gatekit.sources.rows` reads one from JSONL, CSV or Parquet;
`gatekit.sources.columns` decodes its columns; `gatekit.sources.aggregate` measures its slices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from gatekit.sources.csv_blocks import CsvLines

TABLE_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}

# Why a cell is bad. 0 is a good cell. The codes index REASONS.
OK, NULL, NOT_NUMBER, IS_NAN, INFINITE, NEGATIVE, NOT_BOOL, FILTER_BAD = range(8)
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
