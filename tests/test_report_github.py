"""GitHub workflow-command annotations: escaping, the gate's line, the worst ten and a notice for the rest."""

from __future__ import annotations

from gatekit.report import RenderOptions, render
from gatekit.report.github import escape_data, escape_property
from tests.report_support import verdict_of


def test_data_escapes_percent_cr_and_lf() -> None:
    assert escape_data("50%\r\n::x") == "50%25%0D%0A::x"


def test_property_also_escapes_colon_and_comma() -> None:
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_failed_check_is_an_error_at_the_gate_line() -> None:
    verdict = verdict_of({"id": "acc", "metric": "accuracy", "min": 0.5}, candidate={"accuracy": {"all": 0.4}})

    assert render(verdict, "github", RenderOptions()).splitlines()[0] == (
        "::error file=gates/test.yaml,line=10,title=gatekit FAIL%3A acc[all].min"
        f"::accuracy on 'all': {verdict.gates[0].reason}"
    )


def test_missing_check_is_a_warning() -> None:
    verdict = verdict_of({"id": "acc", "metric": "accuracy", "min": 0.5}, candidate={"other": {"all": 0.4}})

    assert (
        render(verdict, "github", RenderOptions())
        .splitlines()[0]
        .startswith("::warning file=gates/test.yaml,line=10,title=gatekit MISSING%3A acc[all].min::")
    )


def test_ten_worst_are_annotated_and_a_notice_counts_the_rest() -> None:
    slices = {f"s{i:02d}": 0.40 + i / 1000 for i in range(12)}  # s00 is the worst breach, s11 the mildest
    verdict = verdict_of(
        {"id": "acc", "metric": "accuracy", "slices": ["*"], "min": 0.5}, candidate={"accuracy": slices}
    )

    lines = render(verdict, "github", RenderOptions()).splitlines()

    assert [line.split("::")[1].split(",title=")[1] for line in lines] == [
        *(f"gatekit FAIL%3A acc[s{i:02d}].min" for i in range(10)),
        "gatekit%3A 2 more problems not annotated",
        "gatekit verdict%3A REVISE",
    ]


def test_rest_notice_names_the_checks_left_out() -> None:
    slices = {f"s{i:02d}": 0.40 + i / 1000 for i in range(12)}
    verdict = verdict_of(
        {"id": "acc", "metric": "accuracy", "slices": ["*"], "min": 0.5}, candidate={"accuracy": slices}
    )

    notice = render(verdict, "github", RenderOptions()).splitlines()[10]

    assert notice.endswith("::GitHub shows 10 annotations per step; also: acc[s10].min, acc[s11].min")


def test_a_newline_in_a_slice_cannot_start_a_command() -> None:
    gate = {"id": "acc", "metric": "accuracy", "slices": ["*"], "min": 0.5}
    verdict = verdict_of(gate, candidate={"accuracy": {"x\n::error::owned": 0.4}})

    lines = render(verdict, "github", RenderOptions()).splitlines()

    assert [line[:9] for line in lines] == ["::error f", "::notice "]
