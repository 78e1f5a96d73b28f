"""`gatekit compare` end to end on the bundled run (examples/checkpoints), its exit codes, bad input, and
`--baseline ledger:last-ship` (verified against the SHA-256 the ledger recorded)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

ROOT = Path(__file__).parent.parent
RUN = ROOT / "examples" / "checkpoints"
INCIDENT = ROOT / "examples" / "incident-bot"


@pytest.fixture(scope="module")
def example_json() -> dict[str, object]:
    import contextlib
    import io

    from gatekit.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["compare", str(RUN / "gate.yaml"), "--series", "--bisect", "--format", "json"])
    assert code == 0
    document: dict[str, object] = json.loads(out.getvalue())
    return document


def rows(document: dict[str, object]) -> dict[str, dict[str, object]]:
    checkpoints = document["checkpoints"]
    assert isinstance(checkpoints, list)
    return {r["id"]: r for r in checkpoints}


def test_the_example_recommends_step_3000_not_the_best_headline_score(example_json: dict[str, object]) -> None:
    by_id = rows(example_json)
    best_headline = max(by_id, key=lambda i: by_id[i]["axes"][0]["value"])  # type: ignore[index]

    assert (example_json["recommendation"], best_headline, by_id["step-5000"]["verdict"]) == (
        "step-3000",
        "step-5000",
        "stop",
    )


def test_the_example_marks_dominated_and_ineligible_checkpoints(example_json: dict[str, object]) -> None:
    standing = {i: (r["verdict"], r["eligible"], r["dominated_by"]) for i, r in rows(example_json).items()}

    assert standing == {
        "step-1000": ("revise", False, []),
        "step-2000": ("ship", True, ["step-3000"]),
        "step-3000": ("ship", True, []),
        "step-4000": ("ship", True, ["step-3000"]),
        "step-5000": ("stop", False, []),
        "step-6000": ("revise", False, []),
    }


def test_the_example_series_says_where_to_stop(example_json: dict[str, object]) -> None:
    series = example_json["series"]
    assert isinstance(series, list)

    assert [(s["after"], s["decision"]) for s in series] == [
        ("step-2000", "continue"),
        ("step-3000", "continue"),
        ("step-4000", "stop"),
        ("step-5000", "continue"),
        ("step-6000", "stop"),
    ]


def test_the_example_bisection_finds_the_latency_regression(example_json: dict[str, object]) -> None:
    findings = example_json["bisection"]
    assert isinstance(findings, list)
    latency = next(f for f in findings if f["subject"] == "latency-slo[all].max")

    assert (latency["first_bad"], latency["last_good"]) == ("step-5000", "step-4000")


def test_compare_prints_the_recommendation_last(gatekit: Callable[..., Run]) -> None:
    result = gatekit("compare", RUN / "gate.yaml")

    assert (result.code, result.out.strip().splitlines()[-1].split(":")[0]) == (0, "RECOMMEND step-3000")


def test_the_comparison_schema_is_published(gatekit: Callable[..., Run]) -> None:
    result = gatekit("schema", "--comparison")

    schema = json.loads(result.out)
    assert (result.code, schema["title"], "frontier" in schema["properties"]) == (0, "Comparison", True)


def test_results_files_on_the_command_line_are_compared_in_the_order_given(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    result = gatekit(
        "compare",
        INCIDENT / "gate.yaml",
        INCIDENT / "candidate-good.yaml",
        INCIDENT / "candidate-regressed.yaml",
        "--format",
        "json",
    )

    document = json.loads(result.out)
    assert (result.code, [r["id"] for r in document["checkpoints"]], document["recommendation"]) == (
        0,
        ["candidate-good", "candidate-regressed"],
        "candidate-good",
    )


def test_two_checkpoints_with_one_name_are_bad_input(gatekit: Callable[..., Run]) -> None:
    result = gatekit(
        "compare", INCIDENT / "gate.yaml", INCIDENT / "candidate-regressed.yaml", INCIDENT / "candidate-regressed.yaml"
    )

    # The same file twice is two checkpoints with one name: bad input, before anything is judged.
    assert (result.code, result.err) == (
        2,
        "error: <input>: the command line: two checkpoints are named 'candidate-regressed'; give each a distinct id\n",
    )


def test_none_eligible_exits_3_and_all_stop_exits_4(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    for name in ("a", "b"):
        shutil.copy(INCIDENT / "candidate-regressed.yaml", tmp_path / f"{name}.yaml")
    stop = gatekit("compare", INCIDENT / "gate.yaml", tmp_path / "a.yaml", tmp_path / "b.yaml")
    shutil.copy(INCIDENT / "candidate-small.yaml", tmp_path / "b.yaml")
    mixed = gatekit("compare", INCIDENT / "gate.yaml", tmp_path / "a.yaml", tmp_path / "b.yaml")

    assert (stop.code, mixed.code) == (4, 3)


def test_a_glob_that_matches_nothing_is_bad_input(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    result = gatekit("compare", INCIDENT / "gate.yaml", str(tmp_path / "*.yaml"))

    assert (result.code, result.err) == (2, f"error: <input>: no results file matches {str(tmp_path / '*.yaml')!r}\n")


def test_series_without_a_rule_is_bad_input(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    spec = (RUN / "gate.yaml").read_text(encoding="utf-8")
    spec = spec.replace("stopping: {cost: train_usd, metric: accuracy, point: 0.01, limit: 400}\n", "")
    for path in RUN.glob("*.jsonl"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "gate.yaml").write_text(spec, encoding="utf-8")

    result = gatekit("compare", tmp_path / "gate.yaml", "--series")

    assert result.code == 2
    assert "--series needs a `stopping:` block" in result.err


def test_a_frontier_metric_of_unknown_direction_is_a_located_spec_error(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    spec = (
        (RUN / "gate.yaml")
        .read_text(encoding="utf-8")
        .replace("    - {metric: accuracy}\n", "    - {metric: mystery}\n")
    )
    (tmp_path / "gate.yaml").write_text(spec, encoding="utf-8")

    result = gatekit("validate", tmp_path / "gate.yaml")

    line = spec.splitlines().index("    - {metric: mystery}") + 1
    assert (result.code, result.err) == (
        2,
        f"error: {tmp_path / 'gate.yaml'}:{line}:16: frontier.axes[0].metric: the direction of 'mystery' is unknown: "
        "set higher_is_better on the axis or in `metrics:`\n",
    )


# --- the baseline from the ledger --------------------------------------------------------------------------


@pytest.fixture
def shipped(gatekit: Callable[..., Run], tmp_path: Path) -> tuple[Path, Path]:
    """A ledger in which a copy of the good candidate shipped; returns (ledger, the shipped results)."""
    shipped = tmp_path / "shipped.yaml"
    shutil.copy(INCIDENT / "candidate-good.yaml", shipped)
    ledger = tmp_path / "ledger.db"
    first = gatekit("check", INCIDENT / "gate.yaml", "--candidate", shipped, "--ledger", ledger, "--record")
    assert first.code == 0
    return ledger, shipped


def test_ledger_last_ship_uses_the_results_that_shipped(
    gatekit: Callable[..., Run], shipped: tuple[Path, Path]
) -> None:
    ledger, results = shipped

    check = gatekit(
        "check", INCIDENT / "gate.yaml", "--baseline", "ledger:last-ship", "--ledger", ledger, "--format", "json"
    )

    # The candidate is the very checkpoint that shipped: its relative checks cannot tell a change (revise).
    assert (check.code, json.loads(check.out)["baseline"]["path"]) == (3, str(results))


def test_ledger_last_ship_refuses_results_changed_since(
    gatekit: Callable[..., Run], shipped: tuple[Path, Path]
) -> None:
    ledger, results = shipped
    results.write_text(results.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")

    check = gatekit("check", INCIDENT / "gate.yaml", "--baseline", "ledger:last-ship", "--ledger", ledger)

    assert check.code == 2
    assert "the file changed since it shipped" in check.err


def test_ledger_last_ship_refuses_missing_results(gatekit: Callable[..., Run], shipped: tuple[Path, Path]) -> None:
    ledger, results = shipped
    results.unlink()

    check = gatekit(
        "compare",
        INCIDENT / "gate.yaml",
        INCIDENT / "candidate-good.yaml",
        INCIDENT / "candidate-regressed.yaml",
        "--baseline",
        "ledger:last-ship",
        "--ledger",
        ledger,
    )

    assert check.code == 2
    assert "the file is missing" in check.err


def test_an_unknown_ledger_baseline_is_a_usage_error(gatekit: Callable[..., Run], shipped: tuple[Path, Path]) -> None:
    ledger, _ = shipped

    check = gatekit("check", INCIDENT / "gate.yaml", "--baseline", "ledger:best", "--ledger", ledger)

    assert (check.code, check.err) == (
        2,
        "error: <input>: unknown ledger baseline 'ledger:best'; choose one of: ledger:last-ship\n",
    )


# --- a lineage file and the spec blocks ---------------------------------------------------------------------


def test_a_lineage_file_lists_the_stages_relative_to_itself(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    stages = ["step-3000", "step-4000", "step-5000"]
    for stage in stages:
        shutil.copy(RUN / f"{stage}.jsonl", tmp_path / f"{stage}.jsonl")
    listed = "\n".join(f"  - {{id: {s}, results: {s}.jsonl, order: {i}}}" for i, s in enumerate(stages))
    (tmp_path / "lineage.yaml").write_text(f"checkpoints:\n{listed}\n", encoding="utf-8")

    result = gatekit("compare", RUN / "gate.yaml", "--lineage", tmp_path / "lineage.yaml", "--bisect", "-f", "json")

    document = json.loads(result.out)
    assert ([r["id"] for r in document["checkpoints"]], [b["message"] for b in document["bisection"]]) == (
        stages,
        ["latency-slo[all].max first fails at step-5000; last good at step-4000"],
    )


def test_a_lineage_file_with_an_unknown_key_is_a_located_error(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "lineage.yaml").write_text(
        "checkpoints:\n  - {id: a, results: a.jsonl, step: 1}\n  - {id: b, results: b.jsonl}\n", encoding="utf-8"
    )

    result = gatekit("compare", RUN / "gate.yaml", "--lineage", tmp_path / "lineage.yaml")

    assert result.code == 2
    assert result.err.startswith(f"error: {tmp_path / 'lineage.yaml'}:2:")
    assert "checkpoints[0].step" in result.err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("  - {id: step-2000, results: step-2000.jsonl", "  - {id: step-1000, results: step-2000.jsonl"),
            "duplicate checkpoint id 'step-1000'",
        ),
        (("  tie_break: {cost: train_usd}", "  tie_break: {cost: train_usd, order: first}"), "exactly one of"),
        (("    - {cost: serve_usd_per_1k}", "    - {metric: accuracy}"), "axis accuracy is listed twice"),
    ],
    ids=["duplicate-id", "two-tie-breaks", "repeated-axis"],
)
def test_the_compare_blocks_of_the_spec_are_validated(
    gatekit: Callable[..., Run], tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = (RUN / "gate.yaml").read_text(encoding="utf-8")
    assert edit[0] in text
    (tmp_path / "gate.yaml").write_text(text.replace(edit[0], edit[1]), encoding="utf-8")

    result = gatekit("validate", tmp_path / "gate.yaml")

    assert (result.code, message in result.err) == (2, True)


def test_output_writes_the_report_and_says_so_on_stderr(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    page = tmp_path / "out" / "compare.md"
    page.parent.mkdir()

    result = gatekit("compare", RUN / "gate.yaml", "-f", "markdown", "-o", page)

    assert (result.code, result.out, page.read_text(encoding="utf-8").startswith("## RECOMMEND step-3000")) == (
        0,
        "",
        True,
    )
    assert result.err.endswith(f"(report: {page})\n")
