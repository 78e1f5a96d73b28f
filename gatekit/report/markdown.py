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

from gatekit.numbers import format_number, interval_width
from gatekit.report.evidence import evidence_lines
from gatekit.report.html import clip
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


def _num(value: float | None, signed: bool = False, uncertainty: float | None = None) -> str:
    if value is None:
        return "—"
    return format_number(value, uncertainty=uncertainty, signed=signed)


def _gate_row(o: GateOutcome) -> str:
    width = interval_width(o.interval)
    cells = [
        code(o.id, in_table=True),
        code(o.slice, in_table=True),
        code(o.bound, in_table=True),
        _num(o.observed, uncertainty=width),
        _num(o.baseline),
        _num(o.threshold),
        _num(o.margin, signed=True, uncertainty=width),
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

    lines += _preregistration(verdict)

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

    lines += _review(verdict)

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


def _preregistration(verdict: Verdict) -> list[str]:
    """The lock state, whether the results name this gate, and the spec's digest (what a lock pins)."""
    lock, provenance = verdict.lock, verdict.results_provenance
    if lock is None and provenance is None:
        return []
    lines = ["### Pre-registration", ""]
    if lock is not None:
        lines.append(f"- lock: **{text(lock.status.replace('_', ' '))}**: {text(lock.message)}")
        if lock.relocked:
            for i, event in enumerate(lock.events, 1):
                when = event.locked_at.strftime("%Y-%m-%d %H:%M:%SZ")
                lines.append(f"  - lock event {i}: {code(event.digest)} at {when}")
    if provenance is not None:
        lines.append(f"- results: **{text(provenance.status.replace('_', ' '))}**: {text(provenance.message)}")
    digest = lock.spec_digest if lock is not None else provenance.spec_digest if provenance is not None else ""
    lines += [f"- spec digest: {code(digest)}", ""]
    return lines


def _review(verdict: Verdict) -> list[str]:
    """Waivers, review counts, disagreements and flaky counts; then the first examples of each queue."""
    evidence = evidence_lines(verdict)
    if not evidence:
        return []
    lines = ["### Waivers, review queue and repeats", "", *(f"- {text(line)}" for line in evidence), ""]
    for r in verdict.review:
        shown = r.examples[: r.show]
        if not shown:
            continue
        columns = list(shown[0].columns)
        lines += [
            f"#### {code(r.id)} on {code(r.slice)}: the {len(shown)} worst of {r.regressed} regressed examples",
            "",
            (
                "| rank | id | baseline | candidate | " + "".join(f"{code(c, in_table=True)} | " for c in columns)
            ).rstrip(),
            "|--:|---|--:|--:|" + "---|" * len(columns),
        ]
        lines += [
            (
                f"| {e.rank} | {code(str(e.id), in_table=True)} | {_num(e.baseline)} | {_num(e.candidate)} | "
                + "".join(f"{_clip(e.columns.get(c))} | " for c in columns)
            ).rstrip()
            for e in shown
        ]
        lines.append("")
    for d in verdict.disagreements:
        shown_d = d.examples[: d.show]
        if not shown_d:
            continue
        columns = list(shown_d[0].columns)
        first, second = d.metrics
        lines += [
            f"#### {code(first)} vs {code(second)} on {code(d.slice)}: {d.disagree} disagreements",
            "",
            (
                f"| rank | id | {code(first, in_table=True)} | {code(second, in_table=True)} | "
                + "".join(f"{code(c, in_table=True)} | " for c in columns)
            ).rstrip(),
            "|--:|---|--:|--:|" + "---|" * len(columns),
        ]
        lines += [
            (
                f"| {x.rank} | {code(str(x.id), in_table=True)} | {_num(x.first)} | {_num(x.second)} | "
                + "".join(f"{_clip(x.columns.get(c))} | " for c in columns)
            ).rstrip()
            for x in shown_d
        ]
        lines.append("")
    return lines


def _clip(value: str | None) -> str:
    if value is None:
        return "—"
    return text(clip(value))


def _uncertainty(o: GateOutcome) -> str:
    """The interval and the evidence needed, unless the reason already says them (an inconclusive one does)."""
    parts = []
    width = interval_width(o.interval)
    if o.interval is not None and " interval [" not in o.reason:
        low, high = (_num(v, uncertainty=width) for v in o.interval)
        parts.append(f"interval \\[{low}, {high}\\]")
    if o.evidence_needed is not None and "examples per arm" not in o.reason:
        parts.append(f"about {o.evidence_needed:,} examples per arm would decide it")
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
