"""The release scorecard: one self-contained HTML file (inline CSS, no scripts, no external assets).

Verdict banner with its reasons, the hypothesis as written, a gates x slices grid coloured by status (observed,
threshold, margin in each cell), the aggregate call-outs, budget used against its limit and the rollback
manifest with completeness marks. Prints legibly (``@media print``).

Built with jinja2 with autoescaping on for the whole template: every string from the spec or results is
untrusted, so a slice named ``<script>`` renders as text. A Content-Security-Policy (``default-src 'none'``)
forbids the page any network request, so even a mistake in the template could not load anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gatekit.numbers import format_number, interval_width
from gatekit.report.evidence import evidence_lines

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.outcomes import GateOutcome
    from gatekit.report import RenderOptions

TEMPLATE = "scorecard.html.j2"


@dataclass(frozen=True)
class Cell:
    status: str
    observed: str
    threshold: str
    margin: str
    title: str
    interval: str | None = None
    """The decision's confidence interval, when the check has one."""
    evidence: str | None = None
    """For inconclusive checks: how much more data would decide it."""


@dataclass(frozen=True)
class GridRow:
    gate: str
    metric: str
    bound: str
    limit: str
    on_fail: str
    line: int | None
    cells: tuple[Cell | None, ...]
    """One per slice column; None where the gate has no such slice."""


@dataclass(frozen=True)
class BudgetRow:
    item: str
    spent: str
    limit: str
    percent: float
    """Share of the limit used, capped at 100 for the bar's width."""
    status: str
    reason: str


def num(value: float | None, signed: bool = False, uncertainty: float | None = None) -> str:
    if value is None:
        return "—"
    return format_number(value, uncertainty=uncertainty, signed=signed)


CLIP = 240
"""Characters of a review column (a prompt, an output) a report shows; the --review file has all of it."""


def clip(value: str | None) -> str:
    if value is None:
        return "—"
    return value if len(value) <= CLIP else value[: CLIP - 1] + "…"


def _slices(gates: tuple[GateOutcome, ...]) -> list[str]:
    """Slice columns in order of first appearance, the aggregate `all` first."""
    seen: dict[str, None] = {}
    for o in gates:
        seen.setdefault(o.slice, None)
    names = list(seen)
    return ["all", *[n for n in names if n != "all"]] if "all" in seen else names


def grid(verdict: Verdict) -> tuple[list[str], list[GridRow]]:
    slices = _slices(verdict.gates)
    rows: dict[tuple[str, str], dict[str, GateOutcome]] = {}
    for o in verdict.gates:
        rows.setdefault((o.id, o.bound), {})[o.slice] = o
    result = []
    for (gate, bound), by_slice in rows.items():
        first = next(iter(by_slice.values()))
        cells = tuple(
            None
            if (check := by_slice.get(name)) is None
            else Cell(
                status=check.status,
                observed=num(check.observed, uncertainty=(width := interval_width(check.interval))),
                threshold=num(check.threshold),
                margin=num(check.margin, signed=True, uncertainty=width),
                title=check.reason,
                interval=None
                if check.interval is None
                else f"[{num(check.interval[0], uncertainty=width)}, {num(check.interval[1], uncertainty=width)}]",
                evidence=None if check.evidence_needed is None else f"~{check.evidence_needed:,} per arm to decide",
            )
            for name in slices
        )
        result.append(
            GridRow(
                gate=gate,
                metric=first.metric,
                bound=bound,
                limit=format_number(first.limit),
                on_fail=first.on_fail,
                line=verdict.spec.gate_lines.get(gate),
                cells=cells,
            )
        )
    return slices, result


def _budget(verdict: Verdict) -> list[BudgetRow]:
    rows = []
    for b in verdict.budget:
        percent = 0.0 if b.spent is None or b.limit <= 0 else min(100.0, max(0.0, 100.0 * b.spent / b.limit))
        rows.append(
            BudgetRow(
                item=b.item,
                spent=num(b.spent),
                limit=num(b.limit),
                percent=round(percent, 1),
                status=b.status,
                reason=b.reason,
            )
        )
    return rows


def render(verdict: Verdict, options: RenderOptions) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gatekit.report", "templates"),
        # Autoescape every template regardless of its file extension (`.html.j2` is not in jinja's default list).
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    slices, rows = grid(verdict)
    counts = ", ".join(f"{n} {status}" for status, n in verdict.counts.items() if n)
    return env.get_template(TEMPLATE).render(
        v=verdict,
        slices=slices,
        rows=rows,
        budget=_budget(verdict),
        counts=counts,
        num=num,
        evidence=evidence_lines(verdict),
        clip=clip,
    )
