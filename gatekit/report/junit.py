"""The verdict as a JUnit XML report, for CI test-report viewers (GitLab, dorny/test-reporter,
mikepenz/action-junit-report, Jenkins).

Layout:

* one ``<testsuite>`` per gate (``name`` = gate id, ``file`` = the spec path), then one for the budget and one
  for the rollback manifest when the spec has them;
* one ``<testcase>`` per (gate, slice, bound), named ``gate_id[slice].bound`` with ``classname`` = gate id;
* **fail** -> ``<failure type="fail">``; **missing** and **inconclusive** -> ``<error type="missing">`` /
  ``<error type="inconclusive">``. Never ``<skipped>``: viewers count a skipped test as not failing and show
  the run green, while a missing or inconclusive check keeps gatekit from shipping.
* a check accepted by a waiver (`gatekit waive`) -> ``<skipped message="waiver #N accepted ... by NAME through
  DATE: REASON">``: viewers show it apart from passes and failures, and it no longer blocks, which is what the
  waiver did; the review counts of a gate's slices are ``review[slice]`` properties of its suite, and flaky
  counts and scorer disagreements are passing cases of a ``repeats-and-review`` suite.
* every testcase carries its numbers (observed, baseline, threshold, margin, n): in the ``<failure>`` or
  ``<error>`` body, or in ``<system-out>`` when it passed.

Deterministic on purpose (golden files, diffs between runs): every ``time`` is ``0`` and there is no timestamp
or hostname. ``file`` sits on the testsuite, not the testcase, because the common JUnit schema (Jenkins xunit
``junit-10``) does not allow it on a testcase. Characters XML 1.0 cannot carry (most C0 controls) are replaced
by U+FFFD so the file is always well-formed, whatever the results contained.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from gatekit.numbers import format_number as fmt
from gatekit.numbers import interval_width
from gatekit.report.evidence import disagreement_line, flaky_line, review_line, waiver_line

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.outcomes import GateOutcome
    from gatekit.report import RenderOptions

# XML 1.0 Char production: tab, LF, CR, U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` with characters XML 1.0 cannot represent replaced by U+FFFD (escaping is ElementTree's job)."""
    return _NOT_XML_CHAR.sub("\ufffd", value)


def _num(value: float | None, uncertainty: float | None = None) -> str:
    return "n/a" if value is None else fmt(value, uncertainty=uncertainty)


class _Suite:
    """Counts kept alongside the element, written as attributes when the suite is complete."""

    def __init__(self, parent: ET.Element, name: str, file: str) -> None:
        self.element = ET.SubElement(parent, "testsuite", {"name": xml_text(name)})
        self.file = file
        self.tests = self.failures = self.errors = self.skipped = 0
        self.properties: ET.Element | None = None

    def property(self, name: str, value: str) -> None:
        if self.properties is None:
            self.properties = ET.SubElement(self.element, "properties")
        ET.SubElement(self.properties, "property", {"name": name, "value": xml_text(value)})

    def case(
        self, name: str, classname: str, *, problem: str | None, message: str, details: str, waived: str | None = None
    ) -> None:
        """Add a testcase. `problem` is None (passed), "fail" (a failure) or another status (an error);
        `waived` (the waiver in words) makes it a skipped testcase: accepted on the record, not passed."""
        case = ET.SubElement(
            self.element, "testcase", {"name": xml_text(name), "classname": xml_text(classname), "time": "0"}
        )
        self.tests += 1
        if waived is not None:
            self.skipped += 1
            element = ET.SubElement(case, "skipped", {"message": xml_text(waived)})
            element.text = xml_text(details)
        elif problem is not None:
            tag = "failure" if problem == "fail" else "error"
            if tag == "failure":
                self.failures += 1
            else:
                self.errors += 1
            element = ET.SubElement(case, tag, {"type": problem, "message": xml_text(message)})
            element.text = xml_text(details)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = xml_text(details)

    def close(self) -> None:
        attrs = {
            "tests": str(self.tests),
            "failures": str(self.failures),
            "errors": str(self.errors),
            "skipped": str(self.skipped),
            "time": "0",
            "file": xml_text(self.file),
        }
        self.element.attrib.update(attrs)


def _gate_details(o: GateOutcome) -> str:
    width = interval_width(o.interval)
    lines = [
        f"metric: {o.metric}",
        f"slice: {o.slice}",
        f"bound: {o.bound} {fmt(o.limit)}",
        f"observed: {_num(o.observed, width)}",
        f"baseline: {_num(o.baseline)}",
        f"threshold: {_num(o.threshold)}",
        f"margin: {_num(o.margin, width)}",
        f"n: {'n/a' if o.n is None else o.n}",
        f"status: {o.status}",
        f"on_fail: {o.on_fail}",
        f"reason: {o.reason}",
    ]
    if o.interval is not None:
        low, high = o.interval
        lines.append(
            f"interval: [{_num(low, width)}, {_num(high, width)}] "
            f"({o.method or 'n/a'}, confidence {_num(o.confidence)})"
        )
    if o.evidence_needed is not None:
        lines.append(f"evidence_needed: about {o.evidence_needed} examples per arm")
    return "\n".join(lines)


def render(verdict: Verdict, options: RenderOptions) -> str:
    spec_path = verdict.spec.path
    root = ET.Element("testsuites", {"name": xml_text(f"gatekit {verdict.spec.name}: {verdict.verdict}")})
    suites: list[_Suite] = []

    waivers = {w.subject: waiver_line(w) for w in verdict.waivers}
    reviews = {(r.id, r.slice): review_line(r) for r in verdict.review}
    by_gate: dict[str, list[GateOutcome]] = {}
    for outcome in verdict.gates:
        by_gate.setdefault(outcome.id, []).append(outcome)
    for gate_id, outcomes in by_gate.items():
        suite = _Suite(root, gate_id, spec_path)
        suite.property("metric", outcomes[0].metric)
        suite.property("on_fail", outcomes[0].on_fail)
        if gate_id in verdict.spec.gate_lines:
            suite.property("spec_line", str(verdict.spec.gate_lines[gate_id]))
        for o in outcomes:
            if (o.id, o.slice) in reviews:
                suite.property(f"review[{o.slice}]", reviews.pop((o.id, o.slice)))
        for o in outcomes:
            subject = f"{o.id}[{o.slice}].{o.bound}"
            suite.case(
                subject,
                o.id,
                problem=None if o.status == "pass" else o.status,
                message=f"{o.status}: {o.metric} on {o.slice!r}: {o.reason}",
                details=_gate_details(o),
                waived=waivers.get(subject),
            )
        suites.append(suite)

    if verdict.budget:
        suite = _Suite(root, "budget", spec_path)
        for b in verdict.budget:
            suite.case(
                f"budget.{b.item}",
                "budget",
                problem=None if b.status == "pass" else b.status,
                message=f"{b.status}: {b.item}: {b.reason}",
                details=f"spent: {_num(b.spent)}\nlimit: {fmt(b.limit)}\nstatus: {b.status}\nreason: {b.reason}",
            )
        suites.append(suite)

    if verdict.rollback:
        suite = _Suite(root, "rollback-manifest", spec_path)
        for a in verdict.rollback:
            gap = a.required and a.status not in ("pinned", "not_required")
            suite.case(
                f"rollback.{a.name}",
                "rollback-manifest",
                problem=a.status if gap else None,
                message=f"{a.status}: rollback manifest: {a.name}: {a.reason}",
                details=(
                    f"uri: {a.uri or 'n/a'}\npin: {a.pin or 'n/a'}\nrequired: {str(a.required).lower()}\n"
                    f"status: {a.status}\nreason: {a.reason}"
                ),
            )
        suites.append(suite)

    looks = [r for r in verdict.reasons if r.kind in ("peeking", "sequential")]
    if looks:
        # A repeated fixed-n look (or a spent sequential design) revises: an error case, never a silent pass.
        suite = _Suite(root, "looks", spec_path)
        for r in looks:
            suite.case(
                f"looks.{r.subject}", "looks", problem=r.status, message=f"{r.status}: {r.message}", details=r.message
            )
        suites.append(suite)

    if verdict.notes:
        # Notes never fail anything: passing cases, so that CI test views still show them.
        suite = _Suite(root, "results-notes", spec_path)
        for index, note in enumerate(verdict.notes, start=1):
            suite.case(f"note.{index}", "results-notes", problem=None, message=note, details=note)
        suites.append(suite)

    evidence = [*(flaky_line(f) for f in verdict.flaky), *(disagreement_line(d) for d in verdict.disagreements)]
    if evidence:
        # Counts, not checks: passing cases, so that CI test views show them next to the gates.
        suite = _Suite(root, "repeats-and-review", spec_path)
        for index, line in enumerate(evidence, start=1):
            suite.case(f"evidence.{index}", "repeats-and-review", problem=None, message=line, details=line)
        suites.append(suite)

    for suite in suites:
        suite.close()
    root.attrib.update(
        {
            "tests": str(sum(s.tests for s in suites)),
            "failures": str(sum(s.failures for s in suites)),
            "errors": str(sum(s.errors for s in suites)),
            "time": "0",
        }
    )
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
