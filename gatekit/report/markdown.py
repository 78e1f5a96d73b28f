"""The verdict as GitHub-flavoured Markdown, for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Verdict first, then only what needs a reader's attention (failed, missing or inconclusive checks, budget and
rollback-manifest problems), the aggregate call-outs, and the full gate table collapsed in ``<details>``.

Every string from the spec or results is untrusted. Names (gate ids, slices, metrics, models, paths) are
written as code spans, which Markdown never interprets (no links, no HTML, no @-mentions); free text
(reasons, the hypothesis) has every Markdown and HTML metacharacter backslash-escaped. Newlines become spaces,
so no untrusted text starts a line: a table row stays one row and no line can start with ``::`` (a GitHub
workflow command) when the Markdown is printed to a CI log.

GitHub drops a step summary over 1024k, so the output is cut at whole lines below `MAX_BYTES`, with a note.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gatekit.decide.evaluate import fmt
from gatekit.text import printable

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.outcomes import GateOutcome
    from gatekit.report import RenderOptions

MAX_BYTES = 1000 * 1024
"""Below GitHub's 1024k step-summary limit, with room for other steps' summaries."""

_ICON = {"ship": "✅", "revise": "⚠️", "stop": "⛔"}
_STATUS = {
    "pass": "✅ pass",
    "fail": "❌ FAIL",
    "missing": "⚠️ MISSING",
    "inconclusive": "⚠️ INCONCLUSIVE",
    "unpinned": "⚠️ UNPINNED",
    "pinned": "✅ pinned",
    "not_required": "not required",
}
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")
# The characters that can start markup in the middle of a line: emphasis, code, links, HTML, entities, table
# cells, strikethrough, emoji shortcodes and `::`, @-mentions, math and #-issue links. (Line-start markup such
# as `-` or `>` cannot occur: untrusted text never starts a line.)
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&:@$#])")


def text(value: str) -> str:
    """Free text, inert: one line, every markup character backslash-escaped."""
    return _MARKUP.sub(r"\\\1", printable(_NEWLINES.sub(" ", value)))


def code(value: str, *, in_table: bool = False) -> str:
    """A name as a code span: literal, one line. In a table, `|` is escaped (GFM splits cells before inlines)."""
    value = printable(_NEWLINES.sub(" ", value))
    if in_table:
        value = value.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return ("+" if signed and value > 0 else "") + fmt(value)


def _gate_row(o: GateOutcome) -> str:
    cells = [
        code(o.id, in_table=True),
        code(o.slice, in_table=True),
        code(o.bound, in_table=True),
        _num(o.observed),
        _num(o.baseline),
        _num(o.threshold),
        _num(o.margin, signed=True),
        _STATUS[o.status],
    ]
    return "| " + " | ".join(cells) + " |"


_GATE_HEADER = [
    "| gate | slice | bound | observed | baseline | threshold | margin | status |",
    "|---|---|---|--:|--:|--:|--:|---|",
]


def render(verdict: Verdict, options: RenderOptions) -> str:
    return truncate(_lines(verdict), MAX_BYTES)


def _lines(verdict: Verdict) -> list[str]:
    spec = verdict.spec
    lines = [
        f"## {_ICON[verdict.verdict]} {verdict.verdict.upper()}: {code(spec.name)}",
        "",
        f"**{text(verdict.summary)}**",
        "",
    ]
    against = f" vs baseline {code(verdict.baseline.model)}" if verdict.baseline else ""
    lines += [
        f"Candidate {code(verdict.candidate.model)}{against}, gate spec {code(spec.path)}.",
        "",
        f"> **Hypothesis** ({text(spec.stage)}, {text(spec.owner)}, written {spec.written.isoformat()}): "
        f"{text(spec.statement)}",
        "",
    ]

    problems = [o for o in verdict.gates if o.status != "pass"]
    if problems:
        lines += ["### Needs attention", "", *_GATE_HEADER, *(_gate_row(o) for o in problems), ""]
        lines += [f"- {code(_subject(o))}: {text(o.reason)}{_uncertainty(o)}" for o in problems]
        lines.append("")

    if verdict.aggregate_callouts:
        lines += ["### Aggregate hides a slice", ""]
        lines += [f"- {code(c.id)}: {text(c.message)}" for c in verdict.aggregate_callouts]
        lines.append("")

    if verdict.notes:
        lines += ["### Notes from reading the results", ""]
        lines += [f"- {text(note)}" for note in verdict.notes]
        lines.append("")

    budget_problems = [b for b in verdict.budget if b.status != "pass"]
    if budget_problems:
        lines += ["### Budget", ""]
        lines += [f"- {code(b.item)}: {_STATUS[b.status]}: {text(b.reason)}" for b in budget_problems]
        lines.append("")

    # Rollback-manifest gaps, and any other kind of reason (lock, provenance, artifacts): all lead to revise.
    others = [r for r in verdict.reasons if r.kind not in ("gate", "budget")]
    if others:
        lines += ["### Other reasons to revise", ""]
        lines += [
            f"- {text(r.kind)} {code(r.subject)}: {_STATUS.get(r.status, text(r.status))}: {text(r.message)}"
            for r in others
        ]
        lines.append("")

    counts = ", ".join(f"{n} {status}" for status, n in verdict.counts.items() if n)
    lines += [
        "<details>",
        f"<summary>All {len(verdict.gates)} gate checks ({text(counts)})</summary>",
        "",
        *_GATE_HEADER,
        *(_gate_row(o) for o in verdict.gates),
        "",
        "</details>",
        "",
        f"<sub>gatekit {text(verdict.gatekit_version)}, verdict schema {verdict.schema_version}</sub>",
    ]
    return lines


def _uncertainty(o: GateOutcome) -> str:
    parts = []
    if o.interval is not None:
        parts.append(f"interval \\[{_num(o.interval[0])}, {_num(o.interval[1])}\\]")
    if o.evidence_needed is not None:
        parts.append(f"about {o.evidence_needed} examples per arm would decide it")
    return "".join(f"; {part}" for part in parts)


def _subject(o: GateOutcome) -> str:
    return f"{o.id}[{o.slice}].{o.bound}"


def truncate(lines: list[str], max_bytes: int) -> str:
    """Join `lines`, cutting whole lines so the result fits `max_bytes` (UTF-8), with a note saying so."""
    full = "\n".join(lines) + "\n"
    if len(full.encode("utf-8")) <= max_bytes:
        return full
    note = [
        "",
        f"**Truncated:** this summary was cut to stay under {max_bytes // 1024}k; "
        "the JSON, JUnit or HTML report has every check.",
    ]
    budget = max_bytes - len("\n".join(["</details>", *note]).encode("utf-8")) - 2
    kept: list[str] = []
    used = 0
    for line in lines:
        size = len(line.encode("utf-8")) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    opened = sum(1 for line in kept if line == "<details>") - sum(1 for line in kept if line == "</details>")
    if opened:
        kept += ["", "</details>"]
    return "\n".join(kept + note) + "\n"
