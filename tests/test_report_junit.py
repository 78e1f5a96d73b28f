"""The JUnit report: valid against a JUnit schema, one testcase per (gate, slice, bound), fail-closed outcomes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from gatekit.report import RenderOptions, render
from tests.report_support import verdict_of
from tests.test_report_golden import example_verdict

XSD = xmlschema.XMLSchema(Path(__file__).parent / "junit.xsd")


def junit(verdict: object) -> str:
    return render(verdict, "junit", RenderOptions())  # type: ignore[arg-type]


@pytest.mark.parametrize("candidate", ["good", "regressed"])
def test_example_junit_validates_against_the_schema(candidate: str, monkeypatch: pytest.MonkeyPatch) -> None:
    XSD.validate(junit(example_verdict(candidate, monkeypatch)))


def test_regressed_example_has_one_failure_per_failing_check(monkeypatch: pytest.MonkeyPatch) -> None:
    root = ET.fromstring(junit(example_verdict("regressed", monkeypatch)))

    failing = [case.get("name") for case in root.iter("testcase") if case.find("failure") is not None]

    assert failing == ["harmless-refusal[harmless].max_increase"]


def test_totals_count_every_gate_budget_and_manifest_check(monkeypatch: pytest.MonkeyPatch) -> None:
    verdict = example_verdict("regressed", monkeypatch)
    root = ET.fromstring(junit(verdict))

    suites = {s.get("name"): s.get("tests") for s in root.iter("testsuite")}

    assert (root.get("tests"), root.get("failures"), root.get("errors"), suites) == (
        "28",
        str(verdict.counts["fail"]),
        str(verdict.counts["missing"] + verdict.counts["inconclusive"]),
        {
            "format": "4",
            "critical-actions": "4",
            "harmless-refusal": "3",
            "latency": "1",
            "general-support": "4",
            "budget": "4",
            "rollback-manifest": "8",
        },
    )


def test_missing_check_is_an_error_never_skipped() -> None:
    verdict = verdict_of({"id": "acc", "metric": "accuracy", "min": 0.5}, candidate={"other": {"all": 0.9}})
    case = ET.fromstring(junit(verdict)).find("testsuite/testcase")
    assert case is not None

    assert ([child.tag for child in case], case[0].get("type")) == (["error"], "missing")


def test_failure_message_names_the_check_and_its_numbers() -> None:
    verdict = verdict_of({"id": "acc", "metric": "accuracy", "min": 0.5}, candidate={"accuracy": {"all": 0.4}})
    failure = ET.fromstring(junit(verdict)).find("testsuite/testcase/failure")
    assert failure is not None

    assert failure.get("message") == "fail: accuracy on 'all': 0.4 < 0.5; breached by 0.1"


def test_control_characters_become_replacement_characters() -> None:
    gate = {"id": "acc", "metric": "accuracy", "slices": ["*"], "min": 0.5}
    verdict = verdict_of(gate, candidate={"accuracy": {"a\x00\x1bb": 0.4}})

    names = [c.get("name") for c in ET.fromstring(junit(verdict)).iterfind("testsuite[@name='acc']/testcase")]

    assert names == ["acc[a\ufffd\ufffdb].min"]
