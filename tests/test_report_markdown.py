"""The Markdown summary: verdict first, only what needs attention, the full table collapsed, under 1024k."""

from __future__ import annotations

import pytest

from gatekit.report import RenderOptions, render
from gatekit.report.markdown import code, text, truncate
from tests.report_support import verdict_of
from tests.test_report_golden import example_verdict


def test_verdict_is_the_first_line(monkeypatch: pytest.MonkeyPatch) -> None:
    out = render(example_verdict("regressed", monkeypatch), "markdown", RenderOptions())

    assert out.splitlines()[0] == "## ⛔ STOP: `incident-bot-sft-v3`"


def test_attention_section_lists_only_problem_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    verdict = example_verdict("regressed", monkeypatch)
    out = render(verdict, "markdown", RenderOptions())

    attention = out.split("### Needs attention")[1].split("###")[0]

    assert [line.split(" | ")[1] for line in attention.splitlines() if line.startswith("| `")] == [
        f"`{o.slice}`" for o in verdict.gates if o.status != "pass"
    ]


def test_full_table_is_collapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    out = render(example_verdict("good", monkeypatch), "markdown", RenderOptions())

    details = out.split("<details>")[1].split("</details>")[0]

    assert (details.count("✅ pass"), "### Needs attention" in out) == (16, False)


def test_text_escapes_markup_and_joins_lines() -> None:
    assert text("a *b* <i>\n[c](d) | @e :x: #1") == r"a \*b\* \<i\> \[c\](d) \| \@e \:x\: \#1"


def test_code_span_outlasts_backticks_and_escapes_pipes_in_tables() -> None:
    assert code("a`b|c", in_table=True) == "``a`b\\|c``"


def test_truncation_keeps_whole_lines_under_the_limit_and_closes_details() -> None:
    lines = ["# head", "<details>", *(f"| row {i} |" for i in range(1000))]

    out = truncate(lines, 2048)

    assert (len(out.encode()) <= 2048, out.splitlines()[-3:]) == (
        True,
        [
            "</details>",
            "",
            "**Truncated:** this summary was cut to stay under 2k; the JSON, JUnit or HTML report has every check.",
        ],
    )


def test_large_verdict_stays_under_the_step_summary_limit() -> None:
    slices = {f"slice-{i:05d}-" + "x" * 60: 0.4 for i in range(8000)}
    verdict = verdict_of(
        {"id": "acc", "metric": "accuracy", "slices": ["*"], "min": 0.5}, candidate={"accuracy": slices}
    )

    out = render(verdict, "markdown", RenderOptions())

    assert (len(out.encode()) <= 1024 * 1024, "**Truncated:**" in out) == (True, True)
