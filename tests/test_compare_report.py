"""The comparison's renderers: names from results files stay inert in every format, and rows sort as asked."""

from __future__ import annotations

import json

import pytest

from gatekit.decide.compare import Checkpoint, Comparison, compare
from gatekit.decide.verdict import build_verdict
from gatekit.report import RenderOptions
from gatekit.report.comparison import get_comparison_renderer
from gatekit.results import Measurement, Results
from tests.factories import spec

HOSTILE = "<img src=x onerror=alert(1)>|**bold**\n::error::x"
SPEC = spec(
    {"id": "floor", "metric": "accuracy", "slices": ["*"], "min": 0.5},
    baseline=False,
    metrics={"accuracy": {"kind": "proportion", "higher_is_better": True}},
    frontier={"axes": [{"metric": "accuracy"}, {"cost": "usd"}]},
)


def comparison(*values: tuple[str, float, float], sort_by: str | None = None) -> Comparison:
    points = []
    for i, (name, accuracy, usd) in enumerate(values):
        slices = {"all": Measurement(accuracy, 1000), HOSTILE: Measurement(0.4, 1000)}
        results = Results(f"{name}.yaml", name, {"accuracy": slices}, {"usd": usd})
        points.append(Checkpoint(name, float(i), results, build_verdict(SPEC, results, None, spec_path="s")))
    return compare(SPEC, points, spec_path="s", baseline=None, sort_by=sort_by)


@pytest.mark.parametrize(
    ("fmt", "inert"),
    [
        # A terminal or CI log: the newline is shown as an escape, so `::error::` cannot start a line.
        ("table", "<img src=x onerror=alert(1)>|**bold**\\n::error::x"),
        # A code span: literal text in GFM; the pipe is escaped so that it cannot split the table cell.
        ("markdown", "`<img src=x onerror=alert(1)>\\|**bold** ::error::x`"),
        ("html", "&lt;img src=x onerror=alert(1)&gt;|**bold**"),
    ],
)
def test_a_hostile_slice_name_is_inert(fmt: str, inert: str) -> None:
    text = get_comparison_renderer(fmt)(comparison(("a", 0.8, 1.0), ("b", 0.7, 2.0)), RenderOptions(width=200))

    assert (inert in text, "\n::error::" in text and fmt != "html", "<img" in text.replace(inert, "")) == (
        True,
        False,
        False,
    )


def test_json_round_trips_the_record() -> None:
    c = comparison(("a", 0.8, 1.0), ("b", 0.7, 2.0))

    text = get_comparison_renderer("json")(c, RenderOptions())

    assert Comparison.model_validate(json.loads(text)) == c


def test_rows_sort_by_a_metric_best_first() -> None:
    c = comparison(("a", 0.7, 1.0), ("b", 0.9, 2.0), ("c", 0.8, 3.0), sort_by="accuracy")

    assert ([r.id for r in c.checkpoints], c.sorted_by) == (["b", "c", "a"], "accuracy")


def test_the_worst_slice_is_the_failing_one() -> None:
    c = comparison(("a", 0.8, 1.0), ("b", 0.7, 2.0))

    cell = c.checkpoints[0].gates[0]
    assert (cell.status, cell.all_value, cell.worst_slice, cell.worst_value) == ("fail", 0.8, HOSTILE, 0.4)


def test_an_unknown_format_is_a_usage_error() -> None:
    from gatekit.errors import UsageError

    with pytest.raises(UsageError, match="unknown compare format 'pdf'; choose one of: table, json, markdown, html"):
        get_comparison_renderer("pdf")
