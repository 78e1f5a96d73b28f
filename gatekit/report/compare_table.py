"""The comparison in the terminal: one row per checkpoint, then the frontier, the series and the bisection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gatekit.report import printable
from gatekit.report.comparison import headline, num, standing

if TYPE_CHECKING:
    from gatekit.decide.compare import Comparison
    from gatekit.report import RenderOptions


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    # Every cell can hold a name from a results file: control characters shown as escapes, never obeyed.
    header = [printable(h) for h in header]
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 3)] + "..."


def render(comparison: Comparison, options: RenderOptions) -> str:
    c = comparison
    out = [printable(f"gatekit compare {c.spec_name}  ({c.spec_path})"), f"baseline  {printable(c.baseline or 'none')}"]
    out.append(f"sorted by {printable(c.sorted_by)}")
    out.append("")
    gates = [g.gate for g in c.checkpoints[0].gates] if c.checkpoints else []
    axes = [a.label for a in c.frontier.axes]
    header = ["checkpoint", "order", "verdict", "standing", *gates, *axes]
    rows = []
    for row in c.checkpoints:
        cells = [
            f"{g.status} {num(g.all_value)}" + (f" ({g.worst_slice} {num(g.worst_value)})" if g.worst_slice else "")
            for g in row.gates
        ]
        points = [num(p.value) + (f" [{num(p.lower)}, {num(p.upper)}]" if p.lower != p.upper else "") for p in row.axes]
        order = num(row.order)
        rows.append([printable(row.id), order, row.verdict, standing(row), *cells, *points])
    out += _grid(header, rows)
    out += ["", "Reasons"]
    out += [printable(_cut(f"  {row.id}: {row.summary}", options.width)) for row in c.checkpoints]
    f = c.frontier
    out += [
        "",
        f"Frontier over {', '.join(axes)} at {f.confidence * 100:g}% confidence, {f.correction} over "
        f"{f.comparisons} comparisons; tie-break: {f.tie_break}",
    ]
    for claim in f.claims:
        out.append(
            printable(
                f"  {claim.dominant} dominates {claim.dominated} "
                f"(p = {claim.p_value:.2g}, adjusted {claim.p_adjusted:.2g})"
            )
        )
    for row in c.checkpoints:
        if row.on_frontier and row.not_told_apart:
            out.append(printable(f"  {row.id} is not told apart from {', '.join(row.not_told_apart)}"))
        if row.on_frontier and row.undecided_with:
            out.append(
                printable(
                    f"  {row.id} neither dominates nor is dominated by {', '.join(row.undecided_with)} "
                    "(better on some axis, within noise on another)"
                )
            )
    if c.series is not None:
        out += ["", f"Series: {printable(c.series_rule or '')}"]
        out += _grid(
            ["step", "gain (points)", "interval", "cost", "decision"],
            [
                [
                    printable(f"{s.before} -> {s.after}"),
                    num(s.gain_points),
                    f"[{num(s.gain_lower)}, {num(s.gain_upper)}]",
                    num(s.marginal_cost),
                    s.decision.upper(),
                ]
                for s in c.series
            ],
        )
    if c.bisection is not None:
        out += ["", "Bisection"]
        out += [printable(f"  {b.message}") for b in c.bisection] or ["  every check passes at every stage"]
    out += ["", printable(headline(c)), ""]
    return "\n".join(out)
