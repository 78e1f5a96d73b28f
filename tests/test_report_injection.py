"""Hostile strings in the spec and results (HTML, Markdown, workflow commands, CDATA ends, newlines, `%`)
render inert in every format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.decide.verdict import Verdict
from gatekit.report import RenderOptions, render
from tests.test_report_html import parse
from tests.test_report_junit import XSD

SLICE_HTML = "<script>alert(1)</script>"
SLICE_COMMAND = "a|b\n::error file=x,line=1::owned %0A ]]>"

SPEC = """
version: 1
require_uncertainty: false
name: "evil <script>alert(1)</script> | ]]> %0A"
hypothesis:
  statement: "Improves <b>x</b> | y\\n::error::injected %25 ]]> [link](http://evil.example) @octocat"
  stage: other
  improves: accuracy
  owner: "<img src=x onerror=alert(1)>"
  written: 2026-01-01
candidate: candidate.yaml
gates:
  - id: acc
    metric: accuracy
    slices: ["*"]
    min: 0.5
rollback:
  checkpoint: {uri: "s3://m<script>", digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
"""

CANDIDATE = """
model: "m <script>alert(1)</script>\\n::warning::x"
metrics:
  accuracy:
    "<script>alert(1)</script>": {value: 0.4, n: 10}
    "a|b\\n::error file=x,line=1::owned %0A ]]>": {value: 0.3, n: 10}
    "all": {value: 0.9, n: 10}
"""


@pytest.fixture
def hostile(write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch) -> Verdict:
    spec = write("gate.yaml", SPEC)
    write("candidate.yaml", CANDIDATE)
    monkeypatch.chdir(spec.parent)
    return check("gate.yaml")


def out(verdict: Verdict, fmt: str) -> str:
    return render(verdict, fmt, RenderOptions(width=160, color=False))


def test_the_hostile_names_reach_the_verdict(hostile: Verdict) -> None:
    assert [o.slice for o in hostile.gates] == ["all", SLICE_HTML, SLICE_COMMAND]


def test_junit_is_valid_xml_and_keeps_the_names(hostile: Verdict) -> None:
    xml = out(hostile, "junit")
    XSD.validate(xml)

    names = [c.get("name") for c in ET.fromstring(xml).iterfind("testsuite[@name='acc']/testcase")]

    assert names == ["acc[all].min", f"acc[{SLICE_HTML}].min", f"acc[{SLICE_COMMAND}].min"]


def test_html_contains_no_injected_element(hostile: Verdict) -> None:
    tags = set(parse(out(hostile, "html")).tags)

    assert tags & {"script", "img", "b", "a"} == set()


def test_markdown_has_no_raw_html_or_command_lines(hostile: Verdict) -> None:
    md = out(hostile, "markdown")

    outside_code = re.sub(r"(`+).+?\1", "", md)  # code spans are literal text in Markdown
    raw = re.findall(r"(?<!\\)<(?!/?(?:details|summary|sub)>)", outside_code)  # gatekit's own tags only

    assert (raw, [line for line in md.splitlines() if line.lstrip().startswith("::")]) == ([], [])


def test_markdown_table_rows_keep_their_eight_cells(hostile: Verdict) -> None:
    rows = [line for line in out(hostile, "markdown").splitlines() if line.startswith("| `")]

    assert [len(re.findall(r"(?<!\\)\|", row)) for row in rows] == [9] * len(rows)


def test_github_each_annotation_stays_on_its_line(hostile: Verdict) -> None:
    lines = out(hostile, "github").splitlines()

    assert [line.split(" ", 1)[0] for line in lines] == [
        "::error",
        "::error",
        *["::warning"] * sum(r.kind == "rollback" for r in hostile.reasons),
        "::notice",
    ]


def test_github_percent_in_a_name_is_not_decoded(hostile: Verdict) -> None:
    first = out(hostile, "github").splitlines()[0]

    assert "title=gatekit FAIL%3A acc[a|b%0A%3A%3Aerror file=x%2Cline=1%3A%3Aowned %250A ]]>].min::" in first


def test_json_round_trips_the_names(hostile: Verdict) -> None:
    data = json.loads(out(hostile, "json"))

    assert [g["slice"] for g in data["gates"]] == ["all", SLICE_HTML, SLICE_COMMAND]


def test_table_has_no_line_starting_a_workflow_command(hostile: Verdict) -> None:
    assert [line for line in out(hostile, "table").splitlines() if line.lstrip().startswith("::")] == []


# ------------------------------------------------ hostile prompts and outputs in the review queue

PROMPT = "<img src=x onerror=alert(1)>\n::error file=x,line=1::owned | `tick` %0A"
OUTPUT = '=HYPERLINK("http://evil.example") ]]> [link](http://evil.example) @octocat <script>alert(2)</script>'
EXAMPLE_ID = "<b>q1</b>|\n::warning::x"

QUEUE_SPEC = """
version: 1
name: queue
hypothesis: {statement: s, stage: other, improves: ok, owner: o, written: 2026-01-01}
candidate: candidate.jsonl
baseline: baseline.jsonl
metrics:
  ok: {from: {column: ok, aggregate: rate}}
review: {columns: [prompt, output]}
gates:
  - {id: acc, metric: ok, max_decrease: 0.0}
rollback:
  checkpoint: {uri: s3://m, digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
"""


@pytest.fixture
def hostile_queue(write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch) -> Verdict:
    spec = write("gate.yaml", QUEUE_SPEC)
    for name, first in (("candidate.jsonl", False), ("baseline.jsonl", True)):
        rows = [{"id": EXAMPLE_ID, "ok": first, "prompt": PROMPT, "output": OUTPUT}]
        rows += [{"id": f"q{i}", "ok": True, "prompt": "p", "output": "o"} for i in range(2, 6)]
        (spec.parent / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.chdir(spec.parent)
    return check("gate.yaml")


def test_the_hostile_example_reaches_the_queue(hostile_queue: Verdict) -> None:
    (entry,) = hostile_queue.review
    assert [(e.id, e.columns) for e in entry.examples] == [(EXAMPLE_ID, {"prompt": PROMPT, "output": OUTPUT})]


def test_html_queue_contains_no_injected_element(hostile_queue: Verdict) -> None:
    html = out(hostile_queue, "html")
    assert "onerror=alert(1)&gt;" in html  # shown, as text
    assert set(parse(html).tags) & {"script", "img", "b", "a"} == set()


def test_markdown_queue_has_no_raw_html_or_command_lines_and_keeps_its_cells(hostile_queue: Verdict) -> None:
    md = out(hostile_queue, "markdown")
    outside_code = re.sub(r"(`+).+?\1", "", md)
    raw = re.findall(r"(?<!\\)<(?!/?(?:details|summary|sub)>)", outside_code)
    assert (raw, [line for line in md.splitlines() if line.lstrip().startswith("::")]) == ([], [])
    (row,) = [line for line in md.splitlines() if line.startswith("| 1 | ")]
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # rank, id, baseline, candidate, prompt, output


def test_github_and_table_queue_lines_start_no_command(hostile_queue: Verdict) -> None:
    assert all(line.startswith("::") for line in out(hostile_queue, "github").splitlines())
    assert [line for line in out(hostile_queue, "table").splitlines() if line.lstrip().startswith("::")] == []


def test_junit_with_a_queue_is_valid_xml(hostile_queue: Verdict) -> None:
    XSD.validate(out(hostile_queue, "junit"))


def test_the_csv_review_file_defuses_spreadsheet_formulas(hostile_queue: Verdict) -> None:
    import csv
    import io

    from gatekit.report.review_file import render_review

    (row,) = csv.DictReader(io.StringIO(render_review(hostile_queue, "csv")))
    assert row["output"] == "'" + OUTPUT
    assert row["id"] == EXAMPLE_ID
