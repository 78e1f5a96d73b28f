"""The terminal report: every gate x slice with observed, baseline, threshold, margin and status, then the
aggregate call-outs, hypothesis, budget, rollback manifest, reasons and the verdict.

Every string from the spec or results goes into a `rich.text.Text`, never into markup, so a slice named
``[red]`` prints as written.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gatekit.numbers import format_number, interval_width
from gatekit.report import printable
from gatekit.report.evidence import evidence_lines
from gatekit.report.grid import Folded, grid_lines, reason_lines

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.outcomes import GateOutcome
    from gatekit.report import RenderOptions

_STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "missing": "yellow",
    "inconclusive": "yellow",
    "pinned": "green",
    "not_required": "dim",
    "unpinned": "yellow",
    "improved": "green",
    "not_improved": "yellow",
    "unknown": "dim",
    "locked": "green",
    "unlocked": "dim",
    "changed": "yellow",
    "locked_after_results": "yellow",
    "matches": "green",
    "not_named": "dim",
    "mismatch": "yellow",
    "verified": "green",
    "not_verified": "dim",
    "unreadable": "yellow",
}
_VERDICT_STYLE = {"ship": "bold white on green", "revise": "bold black on yellow", "stop": "bold white on red"}


def _text(text: str, style: str = "") -> Text:
    """Every string goes through here: data from spec and results files is shown, never interpreted."""
    return Text(printable(text), style=style)


def _status(status: str) -> Text:
    return _text(status.upper().replace("_", " "), style=_STATUS_STYLE.get(status, ""))


def _num(value: float | None, signed: bool = False, uncertainty: float | None = None) -> Text:
    if value is None:
        return _text("—", style="dim")
    return _text(format_number(value, uncertainty=uncertainty, signed=signed))


def render(verdict: Verdict, options: RenderOptions) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=options.width,
        color_system="standard" if options.color else None,
        force_terminal=options.color,
        no_color=not options.color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )
    _header(console, verdict)
    _gates(console, verdict)
    for callout in verdict.aggregate_callouts:
        console.print(_text(f"! {callout.id}: {callout.message}", style="bold yellow"))
    if verdict.aggregate_callouts:
        console.print()
    for note in verdict.notes:
        console.print(_text(f"note: {note}", style="yellow"))
    if verdict.notes:
        console.print()
    evidence = evidence_lines(verdict)
    for line in evidence:
        console.print(_text(line, style="cyan"))
    if evidence:
        console.print()
    _hypothesis(console, verdict)
    _budget(console, verdict)
    _rollback(console, verdict)
    _artifacts(console, verdict)
    _preregistration(console, verdict)
    _reasons(console, verdict)
    console.print(_text(f" {verdict.verdict.upper()} ", style=_VERDICT_STYLE[verdict.verdict]), _text(verdict.summary))
    return buffer.getvalue()


def _header(console: Console, verdict: Verdict) -> None:
    spec = verdict.spec
    line = Text.assemble(("gatekit ", "bold"), (printable(spec.name), "bold"), printable(f"  ({spec.path})"))
    console.print(line)
    against = f" vs baseline {verdict.baseline.model}" if verdict.baseline else ""
    console.print(_text(f"candidate {verdict.candidate.model}{against}"))
    console.print(
        _text(f"hypothesis ({spec.stage}, {spec.owner}, written {spec.written.isoformat()}): ")
        + _text(spec.statement, style="italic")
    )
    console.print()


_NUMERIC = frozenset({"observed", "interval", "baseline", "threshold", "margin", "n", "spent", "limit", "change"})
_UNCUT = _NUMERIC | {"status", "bound"}
"""Columns whose cells are never cut: a cropped number ("0.05" for 0.058) is a wrong number."""


def _table(title: str, *columns: str) -> Table:
    table = Table(title=_text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        # Names fold onto a second line when space is short; numbers and statuses keep their full width.
        table.add_column(
            column, justify="right" if column in _NUMERIC else "left", overflow="fold", no_wrap=column in _UNCUT
        )
    return table


def _print_table(console: Console, table: Table, folded: Folded | None = None) -> None:
    for column in table.columns:
        header = str(column.header)
        widths = [len(header)] + [_cell_len(c) for c in column.cells]
        if header in _UNCUT:
            column.min_width = max(widths)
        else:  # a name folds only when it is long, not because the numbers took the room
            column.min_width = min(max(widths), 16)
    lines = grid_lines(table, console, folded)
    if lines is None:
        # Not cropped at the terminal's width: when the numbers alone are wider, a cropped status or number
        # would be a wrong one; the terminal wraps the line instead.
        console.print(table, crop=False)
    else:  # what rich would print, written directly (rich took 2 ms a row: minutes for a table of 10,000)
        console.file.write(lines)


def _cell_len(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))


def _gates(console: Console, verdict: Verdict) -> None:
    """One table per gate, titled with its metric: the rows are its slices and bounds."""
    by_gate: dict[str, list[GateOutcome]] = {}
    for o in verdict.gates:
        by_gate.setdefault(o.id, []).append(o)
    console.print(_text("Gates", style="bold"))
    folded: Folded = {}
    for gate_id, outcomes in by_gate.items():
        first = outcomes[0]
        title = f"{gate_id} · {first.metric}" + (" · stops the release on a breach" if first.on_fail == "stop" else "")
        table = _table(
            title, "slice", "bound", "observed", "interval", "baseline", "threshold", "margin", "n", "status"
        )
        for o in outcomes:
            width = interval_width(o.interval)
            table.add_row(
                _text(o.slice),
                _text(o.bound),
                _num(o.observed, uncertainty=width),
                _interval(o),
                _num(o.baseline),
                _num(o.threshold),
                _num(o.margin, signed=True, uncertainty=width),
                _text(f"{o.n:,}" if o.n is not None else "—"),
                _status(o.status),
            )
        _print_table(console, table, folded)
    if any(o.uncertainty == "point" and o.observed is not None for o in verdict.gates):
        console.print(
            _text(
                "interval 'point': point estimate, no uncertainty known (no n, stderr or per-example values)",
                style="dim",
            )
        )
    counts = ", ".join(f"{n} {status}" for status, n in verdict.counts.items() if n)
    console.print(_text(f"{len(verdict.gates)} checks: {counts}", style="dim"))
    console.print()


def _interval(o: GateOutcome) -> Text:
    """The one-sided confidence bounds of the compared quantity (method and level are in the reason)."""
    if o.interval is None:
        return _text("point" if o.uncertainty == "point" and o.observed is not None else "—", style="dim")
    lower, upper = o.interval
    width = interval_width(o.interval)
    low = "-inf" if lower is None else format_number(lower, uncertainty=width)
    high = "+inf" if upper is None else format_number(upper, uncertainty=width)
    return _text(f"{low} to {high}")


def _hypothesis(console: Console, verdict: Verdict) -> None:
    if not verdict.hypothesis:
        return
    table = _table("Hypothesis check (informational)", "metric", "baseline", "observed", "change", "status", "detail")
    for h in verdict.hypothesis:
        table.add_row(
            _text(h.metric),
            _num(h.baseline),
            _num(h.candidate),
            _num(h.change, signed=True),
            _status(h.status),
            _text(h.reason),
        )
    _print_table(console, table)
    console.print()


def _budget(console: Console, verdict: Verdict) -> None:
    if not verdict.budget:
        console.print(_text("Budget: none set", style="dim"))
        console.print()
        return
    table = _table("Budget", "item", "spent", "limit", "status", "detail")
    for b in verdict.budget:
        table.add_row(_text(b.item), _num(b.spent), _num(b.limit), _status(b.status), _text(b.reason))
    _print_table(console, table)
    console.print()


def _rollback(console: Console, verdict: Verdict) -> None:
    title = "Rollback manifest (" + ("complete" if verdict.rollback_complete else "INCOMPLETE") + ")"
    table = _table(title, "entry", "uri", "pin", "status", "detail")
    for a in verdict.rollback:
        if a.status == "not_required" and a.uri is None:
            continue
        table.add_row(
            _text(a.name),
            _text(a.uri or "—"),
            _text(_short_pin(a.pin)),
            _status(a.status),
            _text("" if a.status == "pinned" else a.reason),
        )
    _print_table(console, table)
    console.print()


def _artifacts(console: Console, verdict: Verdict) -> None:
    if verdict.artifacts is None:
        return
    table = _table("Rollback artifacts (verified on disk)", "entry", "uri", "status", "detail")
    for v in verdict.artifacts:
        table.add_row(_text(v.name), _text(v.uri), _status(v.status), _text(v.message))
    _print_table(console, table)
    console.print()


def _preregistration(console: Console, verdict: Verdict) -> None:
    lock, provenance = verdict.lock, verdict.results_provenance
    if lock is None and provenance is None:
        return
    table = _table("Pre-registration", "check", "status", "detail")
    if lock is not None:
        table.add_row(_text("lock"), _status(lock.status), _text(lock.message))
        if lock.relocked:  # every lock event, so a re-lock is never silent
            for i, event in enumerate(lock.events, 1):
                git = f", git {event.git_commit[:12]}" if event.git_commit else ""
                when = event.locked_at.strftime("%Y-%m-%d %H:%M:%SZ")
                table.add_row(
                    _text(f"lock event {i}"),
                    _text(""),
                    _text(f"{_short_pin(event.digest)} at {when} (gatekit {event.gatekit_version}{git})"),
                )
    if provenance is not None:
        table.add_row(_text("results"), _status(provenance.status), _text(provenance.message))
    digest = lock.spec_digest if lock is not None else provenance.spec_digest if provenance is not None else ""
    table.add_row(_text("spec digest"), _text(""), _text(digest))
    _print_table(console, table)
    console.print()


def _short_pin(pin: str | None) -> str:
    if pin is None:
        return "—"
    return pin if len(pin) <= 23 else pin[:19] + "…" + pin[-3:]


def _reasons(console: Console, verdict: Verdict) -> None:
    if not verdict.reasons:
        return
    console.print(_text("Reasons", style="bold"))
    for r in verdict.reasons:
        lead = f"  {r.leads_to.upper():<7}"
        style = _VERDICT_STYLE[r.leads_to].split(" on ")[0]
        console.file.write(reason_lines(lead, style, printable(f"{r.subject}: ") + printable(r.message), console))
    console.print()
