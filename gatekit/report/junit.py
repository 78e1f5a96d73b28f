"""The verdict as a JUnit XML report, for CI test-report viewers (GitLab, dorny/test-reporter,
mikepenz/action-junit-report, Jenkins).

Layout:

* one ``<testsuite>`` per gate (``name`` = gate id, ``file`` = the spec path), then one for the budget and one
  for the rollback manifest when the spec has them;
* one ``<testcase>`` per (gate, slice, bound), named ``gate_id[slice].bound`` with ``classname`` = gate id;
* **fail** -> ``<failure type="fail">``; **missing** and **inconclusive** -> ``<error type="missing">`` /
  ``<error type="inconclusive">``. Never ``<skipped>``: viewers count a skipped test as not failing and show
  the run green, while a missing or inconclusive check keeps gatekit from shipping.
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

from gatekit.decide.evaluate import fmt

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.outcomes import GateOutcome
    from gatekit.report import RenderOptions

# XML 1.0 Char production: tab, LF, CR, U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` with characters XML 1.0 cannot represent replaced by U+FFFD (escaping is ElementTree's job)."""
    return _NOT_XML_CHAR.sub("\ufffd", value)


def _num(value: float | None) -> str:
    return "n/a" if value is None else fmt(value)


class _Suite:
    """Counts kept alongside the element, written as attributes when the suite is complete."""

    def __init__(self, parent: ET.Element, name: str, file: str) -> None:
        self.element = ET.SubElement(parent, "testsuite", {"name": xml_text(name)})
        self.file = file
        self.tests = self.failures = self.errors = 0
        self.properties: ET.Element | None = None

    def property(self, name: str, value: str) -> None:
        if self.properties is None:
            self.properties = ET.SubElement(self.element, "properties")
        ET.SubElement(self.properties, "property", {"name": name, "value": xml_text(value)})

    def case(self, name: str, classname: str, *, problem: str | None, message: str, details: str) -> None:
        """Add a testcase. `problem` is None (passed), "fail" (a failure) or another status (an error)."""
        case = ET.SubElement(
            self.element, "testcase", {"name": xml_text(name), "classname": xml_text(classname), "time": "0"}
        )
        self.tests += 1
        if problem is not None:
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
            "skipped": "0",
            "time": "0",
            "file": xml_text(self.file),
        }
        self.element.attrib.update(attrs)


def _gate_details(o: GateOutcome) -> str:
    lines = [
        f"metric: {o.metric}",
        f"slice: {o.slice}",
        f"bound: {o.bound} {fmt(o.limit)}",
        f"observed: {_num(o.observed)}",
        f"baseline: {_num(o.baseline)}",
        f"threshold: {_num(o.threshold)}",
        f"margin: {_num(o.margin)}",
        f"n: {'n/a' if o.n is None else o.n}",
        f"status: {o.status}",
        f"on_fail: {o.on_fail}",
        f"reason: {o.reason}",
    ]
    if o.interval is not None:
        low, high = o.interval
        lines.append(f"interval: [{_num(low)}, {_num(high)}] ({o.method or 'n/a'}, confidence {_num(o.confidence)})")
    if o.evidence_needed is not None:
        lines.append(f"evidence_needed: about {o.evidence_needed} examples per arm")
    return "\n".join(lines)


def render(verdict: Verdict, options: RenderOptions) -> str:
    spec_path = verdict.spec.path
    root = ET.Element("testsuites", {"name": xml_text(f"gatekit {verdict.spec.name}: {verdict.verdict}")})
    suites: list[_Suite] = []

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
            suite.case(
                f"{o.id}[{o.slice}].{o.bound}",
                o.id,
                problem=None if o.status == "pass" else o.status,
                message=f"{o.status}: {o.metric} on {o.slice!r}: {o.reason}",
                details=_gate_details(o),
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
