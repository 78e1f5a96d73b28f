"""`gatekit check --report FORMAT=PATH`: several reports from one run, and `gatekit schema --verdict`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.decide.verdict import Verdict
from gatekit.report import RenderOptions, render
from gatekit.spec.json_schema import json_schema
from tests.conftest import EXAMPLE, Run

SPEC = EXAMPLE / "gate.yaml"
REGRESSED = EXAMPLE / "candidate-regressed.yaml"
FILES = RenderOptions(width=120, color=False)


def test_one_run_writes_every_report_and_keeps_the_exit_code(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = gatekit(
        "check", SPEC, "--candidate", REGRESSED, "--no-color", "--width", "160",
        "--report", f"junit={out / 'gates.xml'}", "--report", f"html={out / 'gate.html'}",
    )  # fmt: skip
    verdict = check(SPEC, candidate=REGRESSED)

    assert (result.code, result.out, result.err, (out / "gates.xml").read_text(), (out / "gate.html").read_text()) == (
        4,
        render(verdict, "table", RenderOptions(width=160, color=False)),
        f"wrote junit report: {out / 'gates.xml'}\nwrote html report: {out / 'gate.html'}\n",
        render(verdict, "junit", FILES),
        render(verdict, "html", FILES),
    )


def test_report_to_stdout_moves_the_table_to_stderr(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", SPEC, "--candidate", REGRESSED, "--no-color", "--width", "160", "--report", "markdown=-")
    verdict = check(SPEC, candidate=REGRESSED)

    assert (result.code, result.out, result.err) == (
        4,
        render(verdict, "markdown", FILES),
        render(verdict, "table", RenderOptions(width=160, color=False)),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("xml=out.xml", "unknown report format 'xml'; choose one of: table, json, junit, markdown, github, html"),
        ("junit", "--report 'junit': expected FORMAT=PATH (PATH '-' for stdout), e.g. junit=gates.xml"),
        ("junit=", "--report 'junit=': expected FORMAT=PATH (PATH '-' for stdout), e.g. junit=gates.xml"),
    ],
)
def test_bad_report_value_is_a_usage_error_before_any_work(
    gatekit: Callable[..., Run], tmp_path: Path, value: str, message: str
) -> None:
    result = gatekit("check", tmp_path / "no-such-spec.yaml", "--report", value)

    assert (result.code, result.out, result.err) == (2, "", f"error: <input>: {message}\n")


def test_two_reports_on_stdout_are_a_usage_error(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    result = gatekit("check", tmp_path / "no-such-spec.yaml", "--report", "junit=-", "--report", "github=-")

    assert (result.code, result.out, result.err) == (
        2,
        "",
        "error: <input>: --report 'github=-': stdout already receives --report junit=-; "
        "give each report its own path\n",
    )


def test_report_into_the_output_file_is_a_usage_error(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    result = gatekit("check", SPEC, "--output", target, "--report", f"junit={target}")

    assert (result.code, result.err, target.exists()) == (
        2,
        f"error: <input>: --report 'junit={target}': {target} already receives --output; "
        "give each report its own path\n",
        False,
    )


def test_schema_verdict_prints_the_verdict_json_schema(gatekit: Callable[..., Run]) -> None:
    result = gatekit("schema", "--verdict")

    assert (result.code, json.loads(result.out), result.err) == (0, json_schema(Verdict), "")


def test_verdict_json_validates_against_its_schema(gatekit: Callable[..., Run]) -> None:
    import jsonschema

    schema = json.loads(gatekit("schema", "--verdict").out)
    document = json.loads(gatekit("check", SPEC, "--candidate", REGRESSED, "--format", "json").out)

    jsonschema.validate(document, schema)
