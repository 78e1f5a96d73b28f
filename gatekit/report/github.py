"""The verdict as GitHub Actions workflow commands: annotations on the gate's line in the spec.

Each failed check is an ``::error``, each missing or inconclusive check a ``::warning``, pointing at
``file=<spec path>,line=<the gate's line>``; budget and rollback-manifest problems point at the spec file.
GitHub shows at most 10 annotations of a kind per step, so the 10 worst are written (stop before revise, fail
before missing before inconclusive, the largest breach first) and one ``::notice`` counts the rest. A last
``::notice`` carries the verdict.

Escaping follows the runner's rules (actions/toolkit ``command.ts``): in the message, ``%`` -> ``%25``,
CR -> ``%0D``, LF -> ``%0A``; in properties also ``:`` -> ``%3A`` and ``,`` -> ``%2C``. So a slice named
``x\\n::error::owned`` stays inside its own annotation and cannot start a command of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gatekit.report.evidence import evidence_lines
from gatekit.text import printable

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.report import RenderOptions

MAX_ANNOTATIONS = 10


def escape_data(value: str) -> str:
    """Controls, bidi overrides and invisible characters shown escaped (`gatekit.text`), then the runner's
    own escapes for `%`, CR and LF."""
    value = printable(value, keep="\r\n")
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    level: str
    """error, warning or notice."""
    title: str
    message: str
    file: str
    line: int | None = None
    subject: str = ""
    """What the annotation is about (`gate_id[slice].bound`, a budget item, a manifest entry)."""

    def command(self) -> str:
        props = [f"file={escape_property(self.file)}"]
        if self.line is not None:
            props.append(f"line={self.line}")
        props.append(f"title={escape_property(self.title)}")
        return f"::{self.level} {','.join(props)}::{escape_data(self.message)}"


_STATUS_RANK = {"fail": 0, "missing": 1, "unpinned": 1, "inconclusive": 2}


def collect_annotations(verdict: Verdict) -> list[Annotation]:
    """Every problem as an annotation, worst first. Ties keep the verdict's order (spec order)."""
    spec = verdict.spec.path
    ranked: list[tuple[tuple[int, int, float, int], Annotation]] = []
    waived = {w.subject for w in verdict.waivers}
    for index, o in enumerate(verdict.gates):
        if o.status == "pass" or f"{o.id}[{o.slice}].{o.bound}" in waived:
            continue  # a waived check is in the waivers notice, not a warning
        stops = o.status == "fail" and o.on_fail == "stop"
        level = "error" if o.status == "fail" else "warning"
        note = "" if o.status == "fail" else " (gatekit cannot ship without this check)"
        annotation = Annotation(
            level=level,
            title=f"gatekit {o.status.upper()}: {o.id}[{o.slice}].{o.bound}",
            message=f"{o.metric} on {o.slice!r}: {o.reason}{note}",
            file=spec,
            line=verdict.spec.gate_lines.get(o.id),
            subject=f"{o.id}[{o.slice}].{o.bound}",
        )
        margin = o.margin if o.margin is not None else 0.0
        ranked.append(((0 if stops else 1, _STATUS_RANK[o.status], margin, index), annotation))
    offset = len(verdict.gates)
    for index, r in enumerate(verdict.reasons):
        if r.kind == "gate":
            continue
        annotation = Annotation(
            level="error" if r.leads_to == "stop" else "warning",
            title=f"gatekit {r.kind} {r.status.upper()}: {r.subject}",
            message=r.message,
            file=spec,
            subject=r.subject,
        )
        rank = (0 if r.leads_to == "stop" else 1, _STATUS_RANK.get(r.status, 1), 0.0, offset + index)
        ranked.append((rank, annotation))
    return [annotation for _, annotation in sorted(ranked, key=lambda item: item[0])]


def render(verdict: Verdict, options: RenderOptions) -> str:
    found = collect_annotations(verdict)
    shown = found[:MAX_ANNOTATIONS]
    lines = [a.command() for a in shown]
    rest = found[MAX_ANNOTATIONS:]
    if rest:
        subjects = ", ".join(a.subject for a in rest[:20]) + (", ..." if len(rest) > 20 else "")
        lines.append(
            Annotation(
                level="notice",
                title=f"gatekit: {len(rest)} more problem{'s' if len(rest) > 1 else ''} not annotated",
                message=f"GitHub shows {MAX_ANNOTATIONS} annotations per step; also: {subjects}",
                file=verdict.spec.path,
            ).command()
        )
    if verdict.notes:
        lines.append(
            Annotation(
                level="notice",
                title=f"gatekit: {len(verdict.notes)} note(s) from reading the results",
                message="\n".join(verdict.notes),
                file=verdict.spec.path,
            ).command()
        )
    evidence = evidence_lines(verdict)
    if evidence:
        lines.append(
            Annotation(
                level="notice",
                title="gatekit: waivers, review queue and repeats",
                message="\n".join(evidence),
                file=verdict.spec.path,
            ).command()
        )
    lines.append(
        Annotation(
            level="notice",
            title=f"gatekit verdict: {verdict.verdict.upper()}",
            message=verdict.summary,
            file=verdict.spec.path,
        ).command()
    )
    return "\n".join(lines) + "\n"
