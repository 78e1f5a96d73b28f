"""The terminal report writes its tables directly where rich's layout is known in advance: what it writes is
what rich prints, character for character, with and without colour."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gatekit.report import grid
from gatekit.report import table as table_report
from gatekit.report.grid import grid_lines

_STYLES = ["", "dim", "green", "bold red", "yellow", "italic", "bold white on green"]
# Wide characters, and zero-width ones (a combining accent, a variation selector: names from macOS paths are
# decomposed), whose count of characters and of cells differ.
_WORDS = st.text(
    alphabet=st.sampled_from([*"abc xyz-=.,0123456789", "—", "·", "é", "漢", "字", "\u0301", "\ufe0f"]), max_size=14
)


def _console(width: int, color: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )
    return console, buffer


def _by_rich(table: object, width: int, color: bool) -> str:
    console, buffer = _console(width, color)
    console.print(table, crop=False)
    return buffer.getvalue()


_NAMES = st.lists(st.sampled_from(["s0=s0_0012", "×", "s1=long_slice_name_7", "漢字", "a", "—"]), max_size=5).map(
    " ".join
)


@st.composite
def _tables(draw: st.DrawFn) -> object:
    """Tables of the report's kind: names that fold (words and one long word), numbers and statuses that
    never do, in every style the report uses."""
    headers = draw(st.lists(st.sampled_from(["slice", "bound", "observed", "n", "status", "detail"]), min_size=1))
    table = table_report._table(draw(_WORDS), *headers)
    for _ in range(draw(st.integers(0, 6))):
        table.add_row(*(Text(draw(_WORDS | _NAMES), style=draw(st.sampled_from(_STYLES))) for _ in headers))
    return table


@settings(max_examples=600, deadline=None)
@given(table=_tables(), width=st.integers(10, 120), color=st.booleans())
def test_a_table_written_directly_is_what_rich_prints(table: object, width: int, color: bool) -> None:
    console, buffer = _console(width, color)
    table_report._print_table(console, table)  # type: ignore[arg-type]  # sets each column's minimum width
    lines = grid_lines(table, console)  # type: ignore[arg-type]

    if lines is None:
        assert buffer.getvalue() == _by_rich(table, width, color)
    elif _narrowed_below_a_minimum(table, console):
        assert _visible(lines) == _visible_content(table, lines)  # every character kept, none cropped
    else:
        assert lines == buffer.getvalue() == _by_rich(table, width, color)


def _narrowed_below_a_minimum(table: Table, console: Console) -> bool:
    """rich's last resort where even the numbers are wider than the terminal: every column narrowed, names
    (and their minimum) to as little as nothing; the report keeps each column's minimum instead."""
    cells = [list(c.cells) for c in table.columns]
    lengths = [[cell.cell_len for cell in column_cells] for column_cells in cells]  # type: ignore[union-attr]
    widths = grid._column_widths(table, cells, lengths, console)  # type: ignore[arg-type]
    last = len(widths) - 1
    columns = enumerate(zip(widths, table.columns, strict=True))
    return any(w - (i > 0) - (i < last) < (c.min_width or 0) for i, (w, c) in columns)


def _visible(text: str) -> str:
    return "".join(sorted(re.sub(r"\x1b\[[0-9;]*m|\s", "", text)))


def _visible_content(table: Table, lines: str) -> str:
    """The characters of the title, headers and cells, and of the rule under the header (as long as a line)."""
    parts = [str(table.title or ""), *(str(c.header) for c in table.columns)]
    parts += [cell.plain for c in table.columns for cell in c.cells]  # type: ignore[union-attr]
    rule = next(line for line in lines.splitlines() if line.startswith("─"))
    return _visible("".join(parts) + rule)


def test_a_gate_table_that_fits_is_written_directly() -> None:
    table = table_report._table("accuracy-delta · accuracy", "slice", "bound", "observed", "n", "status")
    for i in range(3):
        table.add_row(Text(f"s{i}"), Text("min"), Text("0.81"), Text("1,000"), table_report._status("pass"))
    console, _ = _console(100, color=True)
    table_report._print_table(console, table)

    assert grid_lines(table, console) is not None


def test_a_title_wider_than_its_table_wraps_as_rich_wraps_it() -> None:
    table = table_report._table("a title longer than the table", "slice", "n")
    table.add_row(Text("all"), Text("3"))
    console, _ = _console(100, color=False)
    table_report._print_table(console, table)

    assert grid_lines(table, console) == _by_rich(table, 100, color=False)


@pytest.mark.parametrize("color", [False, True])
def test_a_gate_table_whose_crossed_names_fold_is_written_as_rich_folds_them(color: bool) -> None:
    columns = ("slice", "bound", "observed", "interval", "threshold", "n", "status")
    table = table_report._table("latency-delta · latency_p95_ms", *columns)
    for i in range(4):
        name = f"region=region_{i:04d} × language=language_with_a_long_name_{i}" if i else "all"
        table.add_row(
            Text(name), Text("max_increase_pct"), Text("851"), Text("-inf to 900"), Text("861"), Text("4,000"),
            table_report._status("inconclusive" if i % 2 else "pass"),
        )  # fmt: skip
    console, buffer = _console(100, color)

    table_report._print_table(console, table)

    lines = grid_lines(table, console)
    assert lines is not None
    assert len(lines.splitlines()) > 3 + 4  # the crossed names took more than a line each
    assert lines == buffer.getvalue() == _by_rich(table, 100, color)


@pytest.mark.parametrize("width", [40, 60, 80])
def test_a_table_whose_numbers_are_wider_than_the_terminal_keeps_every_status_whole(width: int) -> None:
    table = table_report._table("score-delta · score", "slice", "bound", "observed", "interval", "n", "status")
    table.add_row(
        Text("s0=s0_0024 × s1=s1_0045"), Text("max_decrease_pct"), Text("0.69857"), Text("0.69822 to 0.69891"),
        Text("998,064"), table_report._status("inconclusive"),
    )  # fmt: skip
    console, buffer = _console(width, color=False)

    table_report._print_table(console, table)

    assert "INCONCLUSIVE" in buffer.getvalue()  # cropped at the width, it read "INCONC" or nothing
    assert "0.69822 to 0.69891" in buffer.getvalue()
    assert "s0=s0_0024" in buffer.getvalue()  # rich narrowed the names' column to nothing


_REASON_WORDS = st.text(
    alphabet=st.sampled_from([*"ab z-=:.,'()01  ", "漢", "—", "\u0301", "\ufe0f", "\n", "\t"]), max_size=90
)


@settings(max_examples=500, deadline=None)
@given(
    verdict=st.sampled_from(["ship", "revise", "stop"]),
    subject=_WORDS,
    message=_REASON_WORDS,
    width=st.integers(0, 120),
    color=st.booleans(),
)
def test_a_reason_written_directly_is_what_rich_prints(
    verdict: str, subject: str, message: str, width: int, color: bool
) -> None:
    lead, style = f"  {verdict.upper():<7}", table_report._VERDICT_STYLE[verdict].split(" on ")[0]
    console, buffer = _console(width, color)
    console.print(Text.assemble((lead, style), Text(f"{subject}: "), Text(message)))

    assert grid.reason_lines(lead, style, f"{subject}: {message}", _console(width, color)[0]) == buffer.getvalue()


def test_a_reason_whose_decomposed_accents_make_it_longer_in_characters_than_cells_wraps_as_rich_wraps_it() -> None:
    lead, rest = "  REVISE ", "slice=cafe\u0301: " + "e\u0301" * 8 + " tail"
    console, buffer = _console(21, color=False)
    console.print(Text.assemble((lead, "bold black"), Text(rest)))

    # rich strips the space the first line ends in (it counts characters there); it was kept
    assert grid.reason_lines(lead, "bold black", rest, _console(21, color=False)[0]) == buffer.getvalue()
