"""The comparison as Markdown (a pull-request comment): the headline, the table, the frontier, the series."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gatekit.report.comparison import headline, num, standing
from gatekit.report.markdown import code, text

if TYPE_CHECKING:
    from gatekit.decide.compare import Comparison
    from gatekit.report import RenderOptions


def render(comparison: Comparison, options: RenderOptions) -> str:
    del options
    c = comparison
    lines = [f"## {text(headline(c))}", "", f"Gate {code(c.spec_name)}; baseline {code(c.baseline or 'none')}.", ""]
    gates = [g.gate for g in c.checkpoints[0].gates] if c.checkpoints else []
    axes = [a.label for a in c.frontier.axes]
    header = ["checkpoint", "verdict", "standing", *(code(g, in_table=True) for g in gates), *axes]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in c.checkpoints:
        cells = [
            f"{g.status} {num(g.all_value)}"
            + (f" (worst {code(g.worst_slice, in_table=True)} {num(g.worst_value)})" if g.worst_slice else "")
            for g in row.gates
        ]
        points = [num(p.value) for p in row.axes]
        name = f"**{code(row.id, in_table=True)}**" if row.recommended else code(row.id, in_table=True)
        lines.append("| " + " | ".join([name, row.verdict, standing(row), *cells, *points]) + " |")
    f = c.frontier
    lines += [
        "",
        f"Frontier at {f.confidence * 100:g}% confidence ({f.correction} over {f.comparisons} comparisons); "
        f"tie-break: {text(f.tie_break)}.",
        "",
    ]
    lines += [f"- {code(x.dominant)} dominates {code(x.dominated)} (adjusted p = {x.p_adjusted:.2g})" for x in f.claims]
    lines += [
        f"- {code(r.id)} is not told apart from " + ", ".join(code(o) for o in r.not_told_apart)
        for r in c.checkpoints
        if r.on_frontier and r.not_told_apart
    ]
    lines += [
        f"- {code(r.id)}: no dominance either way with "
        + ", ".join(code(o) for o in r.undecided_with)
        + " (better on some axis, within noise on another)"
        for r in c.checkpoints
        if r.on_frontier and r.undecided_with
    ]
    if c.series is not None:
        lines += ["", f"### Series: {text(c.series_rule or '')}", "", "| step | gain (points) | cost | decision |"]
        lines.append("|---|---|---|---|")
        lines += [
            f"| {code(s.before, in_table=True)} → {code(s.after, in_table=True)} | {num(s.gain_points)} "
            f"[{num(s.gain_lower)}, {num(s.gain_upper)}] | {num(s.marginal_cost)} | {s.decision} |"
            for s in c.series
        ]
    if c.bisection is not None:
        lines += ["", "### Bisection", ""]
        lines += [f"- {text(b.message)}" for b in c.bisection] or ["- every check passes at every stage"]
    return "\n".join(lines) + "\n"
