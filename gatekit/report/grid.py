"""The terminal report's tables and reasons written line by line, as rich lays them out, for thousands of rows.

rich's `Table` measures every cell and renders each through its layout engine: about 2 ms a row, so a check of
6,000 slices x 6 gates spent 90 s printing its terminal report after 10 s of computing it. The layout depends
on each column only through its widest cell and its longest word, so rich lays out a table of those few cells
(the same column widths), and each row is then written directly: a cell that fits its column on one line is
padded; one that does not (a long slice name folded onto a second line) is wrapped by rich at its column's width.
Two departures from rich, both where the numbers alone are wider than the terminal: no column is narrower than
its minimum (rich's last resort narrowed the slice names' to nothing), and nothing is cropped at the terminal's
width (a cropped status or number is a wrong one); the terminal wraps such a line. `grid_lines` returns None
for a table it does not lay out this way (another box, a header that would fold), which the caller prints
through rich. Reasons go through rich's word division (`reason_lines`). tests/test_report_grid.py holds both to
rich's own output, with and without colour, at every width.
"""

from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING

from rich import box
from rich._wrap import divide_line  # private: tests/test_report_grid.py holds the lines to rich's output
from rich.cells import cell_len, set_cell_size
from rich.color import ColorSystem
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console

_BOLD = Style(bold=True)
"""The default theme's table.header."""


Folded = dict[tuple[str, str, int, str, str | None, bool | None], list[str]]
"""Cells already folded, by text, style, width and justification: one report's tables share it (its console's
settings are fixed)."""


def grid_lines(table: Table, console: Console, folded: Folded | None = None) -> str | None:
    """What `console.print(table, crop=False)` writes, for a table of `_table`'s kind (box.SIMPLE_HEAD, no outer edge or
    padding, a header of names, one-line Text cells), or None when it is not of that kind."""
    columns = table.columns
    title = table.title
    if not (_is_plain_kind(table) and isinstance(title, Text) and _is_one_line(title)):
        return None
    cells: list[list[Text]] = []
    for column in columns:
        column_cells = list(column.cells)
        if not isinstance(column.header, str) or not all(_is_one_line(c) for c in column_cells):
            return None
        cells.append(column_cells)  # type: ignore[arg-type]  # each a Text, checked above
    # Each cell's text and length, read once: a Text computes both anew on every access (2 of 12 s of a report
    # of 37,000 rows did).
    plains = [[cell.plain for cell in column_cells] for column_cells in cells]
    lengths = [[cell_len(plain) for plain in column_plains] for column_plains in plains]
    last = len(columns) - 1
    # rich's widths, but never below a column's minimum: where the numbers alone are wider than the terminal,
    # rich's last resort narrows every column, the slice names' to nothing (a table of rows without names).
    widths = _column_widths(table, cells, lengths, console)
    content = [
        max(w - (i > 0) - (i < last), c.min_width or 0)  # less the cell's padding
        for i, (w, c) in enumerate(zip(widths, columns, strict=True))
    ]
    total = sum(content) + 3 * last  # and the padding and blank divider between two columns
    if any(len(str(c.header)) > w for c, w in zip(columns, content, strict=True)):
        return None  # rich would fold a header: left to rich
    system = _color_system(console)
    folded = {} if folded is None else folded
    out = [_title_lines(title, total, console), "\n"] if title else []  # rich leaves out an empty title
    pad = _BOLD.render(" ", color_system=system)
    out.append(
        " ".join(
            (pad if i else "")
            + _padded(str(c.header), len(str(c.header)), _BOLD, content[i], right=c.justify == "right", system=system)
            + (pad if i < last else "")
            for i, c in enumerate(columns)
        )
    )
    out.append("\n" + "─" * total + "\n")
    right = [c.justify == "right" for c in columns]
    for r in range(len(table.rows)):
        lines: list[list[str]] = []
        for i, column in enumerate(columns):
            cell, plain, length, width = cells[i][r], plains[i][r], lengths[i][r], content[i]
            if length <= width and _is_plain(cell, plain):
                lines.append([_padded(plain, length, cell.style, width, right=right[i], system=system)])
            else:
                lines.append(_cell_lines(cell, column, width, console, folded))
        if all(len(cell) == 1 for cell in lines):
            out.append("   ".join(cell[0] for cell in lines))
            out.append("\n")
            continue
        for k in range(max(len(cell) for cell in lines)):
            out.append("   ".join(cell[k] if k < len(cell) else " " * content[i] for i, cell in enumerate(lines)))
            out.append("\n")
    return "".join(out)


def _title_lines(title: Text, width: int, console: Console) -> str:
    """The title across the table's width, wrapped onto more lines when it is longer (as rich wraps it)."""
    system = _color_system(console)
    if title.cell_len <= width and _is_plain(title, title.plain):
        return _padded(title.plain, title.cell_len, title.style, width, right=False, system=system)
    options = console.options.update(width=width, justify="left", height=None)
    return "\n".join(_written(line, system) for line in console.render_lines(title, options, pad=True))


def _color_system(console: Console) -> ColorSystem | None:
    """The console's escape codes: the report's consoles use the standard 16 colours or none."""
    return ColorSystem.STANDARD if console.color_system is not None else None


def _is_plain_kind(table: Table) -> bool:
    return (
        table.box is box.SIMPLE_HEAD
        and not table.show_edge
        and not table.pad_edge
        and table.padding == (0, 1, 0, 1)
        and table.show_header
        and not table.show_footer
        and not table.show_lines
        and not table.expand
        and table.width is None
        and table.min_width is None
        and not table.leading
        and table.caption is None
        and table.title_justify == "left"
        and not table.row_styles
        and table.style in {"", "none"}
        and all(
            not c.style
            and c.vertical == "top"
            and c.justify in {"left", "right"}
            and c.width is None
            and c.max_width is None
            for c in table.columns
        )
        and all(row.style is None and not row.end_section for row in table.rows)
    )


def _is_one_line(cell: object) -> bool:
    """A Text on one line (a column's measure and a row's height are then known from its length and words)."""
    return isinstance(cell, Text) and "\n" not in cell.plain and "\t" not in cell.plain


def _is_plain(cell: Text, plain: str) -> bool:
    """Of one style, with no space at either end (rich strips those as it justifies): written by `_padded`."""
    return (
        not cell.spans
        and cell.justify is None
        and cell.overflow is None
        and cell.no_wrap is None
        and plain == plain.strip()
    )


def _column_widths(table: Table, cells: list[list[Text]], lengths: list[list[int]], console: Console) -> list[int]:
    """rich's column widths (padding included) for `table`: those of a table of each column's longest cell and
    the cell with its longest word, since a column's measure is the largest of its cells' (shortest, longest)."""
    proxy = Table(box=table.box, show_edge=False, pad_edge=False, padding=table.padding)
    longest: list[Text] = []
    widest_word: list[Text] = []
    for column, column_cells, column_lengths in zip(table.columns, cells, lengths, strict=True):
        proxy.add_column(
            column.header, justify=column.justify, overflow=column.overflow, no_wrap=column.no_wrap,
            min_width=column.min_width,
        )  # fmt: skip
        if not column_cells:
            longest.append(Text(""))
            widest_word.append(Text(""))
            continue
        longest.append(column_cells[max(range(len(column_cells)), key=column_lengths.__getitem__)])
        word, widest = -1, column_cells[0]
        for cell, length in zip(column_cells, column_lengths, strict=True):
            if length > word:  # no word of a cell is longer than the cell
                cell_word = _longest_word(cell.plain, length)
                if cell_word > word:
                    word, widest = cell_word, cell
        widest_word.append(widest)
    proxy.add_row(*longest)
    proxy.add_row(*widest_word)
    options = console.options
    dividers = len(table.columns) - 1
    # As Table.__rich_console__ asks, less the dividers' width; private, so the test holds it to rich's output.
    return proxy._calculate_column_widths(console, options.update_width(options.max_width - dividers))


def _longest_word(plain: str, length: int) -> int:
    words = plain.split()  # as Text.__rich_measure__ splits them
    return max(cell_len(word) for word in words) if words else length


def _cell_lines(cell: Text, column: Column, width: int, console: Console, folded: Folded) -> list[str]:
    """The lines of a cell that does not fit its column's content width, or is not of one plain style, as rich
    wraps it (its padding and the divider are added around it)."""
    system = _color_system(console)
    plain = _is_plain(cell, cell.plain)
    key = (cell.plain, str(cell.style), width, column.justify, column.overflow, column.no_wrap)
    if plain and key in folded:  # a slice's name folds alike in each gate's table
        return folded[key]
    if plain:  # rich's own wrap, without the console's rendering around it (three quarters of its cost)
        wrapped = cell.wrap(console, width, justify=column.justify, overflow=column.overflow, no_wrap=column.no_wrap)
        right = column.justify == "right"
        lines = [_padded(t.plain, t.cell_len, cell.style, width, right=right, system=system) for t in wrapped]
        folded[key] = lines
        return lines
    options = console.options.update(
        width=width, justify=column.justify, no_wrap=column.no_wrap, overflow=column.overflow, height=None,
        highlight=column.highlight,
    )  # fmt: skip
    return [_written(line, system) for line in console.render_lines(cell, options, pad=True)]


def _padded(plain: str, length: int, style: str | Style, width: int, *, right: bool, system: ColorSystem | None) -> str:
    """One line padded to its width, in its style (the padding too, as rich styles a Text it pads)."""
    fill = " " * (width - length)
    padded = fill + plain if right else plain + fill
    if system is None or not style:
        return padded
    return _styled(padded, style, system)


@functools.lru_cache(maxsize=4096)
def _styled(text: str, style: str | Style, system: ColorSystem) -> str:
    """Statuses and dashes repeat on every row: each styled once."""
    return (style if isinstance(style, Style) else Style.parse(style)).render(text, color_system=system)


def _written(line: list[Segment], system: ColorSystem | None) -> str:
    """Segments as the console writes them: each styled one wrapped in its escape codes."""
    if system is None:
        return "".join(segment.text for segment in line)
    return "".join(s.style.render(s.text, color_system=system) if s.style else s.text for s in line)


def reason_lines(lead: str, lead_style: str, rest: str, console: Console) -> str:
    """What `console.print(Text.assemble((lead, lead_style), rest))` writes (a reason: a styled verdict, then
    plain words), wrapped by rich's own word division at the console's width but without its Text machinery:
    0.3 ms a reason through console.print, and a check of 6,000 slices has 20,000 reasons."""
    text = lead + rest
    system = _color_system(console)
    if "\n" in text or "\t" in text or strip_control_codes(text) != text or console.width < 1:
        line = Text.assemble((lead, lead_style), rest)
        lines = Segment.split_and_crop_lines(console.render(line, console.options), console.width, pad=False)
        return "".join(_written(segments, system) for segments in lines)  # each ends in its line break
    width = console.width
    out = []
    bounds = [0, *divide_line(text, width, fold=True), len(text)]
    for start, end in itertools.pairwise(bounds):
        piece = text[start:end]
        if len(piece) > width:  # Text.rstrip_end: spaces beyond the width, counted in characters
            spaces = len(piece) - len(piece.rstrip())
            piece = piece[: len(piece) - min(spaces, len(piece) - width)]
        if cell_len(piece) > width:  # Text.truncate, folding
            piece = set_cell_size(piece, width)
        styled = min(max(len(lead) - start, 0), len(piece))
        head = _styled(piece[:styled], lead_style, system) if styled and system is not None and lead_style else ""
        out.append((head or piece[:styled]) + piece[styled:] + "\n")
    return "".join(out)
