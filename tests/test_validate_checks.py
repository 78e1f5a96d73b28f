"""`gatekit validate` catches what it can know without results, each at the line of the spec it is about."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

HEAD = """\
version: 1
name: tiny
hypothesis:
  statement: The change improves accuracy.
  stage: other
  improves: {improves}
  owner: me
  written: 2026-01-01
baseline: baseline.yaml
"""
"""Lines 1-9 of every spec below; what follows starts on line 10."""
ROLLBACK = """\
rollback:
  require: []
"""


def spec(body: str, improves: str = "accuracy") -> str:
    return HEAD.format(improves=improves) + body + ROLLBACK


METRICS = """\
metrics:
  accuracy: {kind: proportion, higher_is_better: true}
  refusal_rate: {kind: proportion, higher_is_better: false}
  tokens: {kind: count}
"""
"""Lines 10-13."""

CASES = {
    "gate metric not declared": (
        METRICS + "gates:\n  - {id: r, metric: refusl_rate, max: 0.1}\n",
        "accuracy",
        "15:21: gates[0].metric: metric 'refusl_rate' is not declared in `metrics:` (did you mean 'refusal_rate'?); "
        "declared: accuracy, refusal_rate, tokens",
    ),
    "improves a metric nothing names": (
        METRICS + "gates:\n  - {id: a, metric: accuracy, min: 0.5}\n",
        "acuracy",
        "6:13: hypothesis.improves: the hypothesis improves 'acuracy', which no gate or metric definition names "
        "(did you mean 'accuracy'?); known metrics: accuracy, refusal_rate, tokens",
    ),
    "improves, one item of a list": (
        "gates:\n  - {id: a, metric: accuracy, min: 0.5}\n",
        "[accuracy, sped]",
        "6:24: hypothesis.improves[1]: the hypothesis improves 'sped', which no gate or metric definition names; "
        "known metrics: accuracy",
    ),
    "slice key not a slice_by column": (
        "table:\n  slice_by: [task, language]\n  slice_cross: [[task, language]]\n"
        "gates:\n  - id: a\n    metric: accuracy\n    slices: [all, lang=ja]\n    min: 0.5\n",
        "accuracy",
        "16:19: gates[0].slices[1]: slice 'lang=ja': 'lang' is not a `table.slice_by` column; "
        "slices are named task=…, language=…, task=…,language=…",
    ),
    "max_increase of 1 on a rate": (
        METRICS + "gates:\n  - {id: r, metric: refusal_rate, max_increase: 2}\n",
        "accuracy",
        "15:49: gates[0].max_increase: max_increase 2 on 'refusal_rate' can never fail: a proportion moves by at "
        "most 1 (it lies in 0 to 1); for 5 percentage points write 0.05",
    ),
    "max_decrease of 1 on a rate": (
        METRICS + "gates:\n  - {id: a, metric: accuracy, max_decrease: 1}\n",
        "accuracy",
        "15:45: gates[0].max_decrease: max_decrease 1 on 'accuracy' can never fail: a proportion moves by at "
        "most 1 (it lies in 0 to 1); for 5 percentage points write 0.05",
    ),
    "min 0 on a rate": (
        METRICS + "gates:\n  - {id: a, metric: accuracy, min: 0}\n",
        "accuracy",
        "15:36: gates[0].min: min 0 on 'accuracy' can never fail: a proportion is never below 0",
    ),
    "max 1 on a rate": (
        METRICS + "gates:\n  - {id: r, metric: refusal_rate, max: 1}\n",
        "accuracy",
        "15:40: gates[0].max: max 1 on 'refusal_rate' can never fail: a proportion is never above 1",
    ),
    "max_decrease_pct 100 on a count": (
        METRICS + "gates:\n  - {id: t, metric: tokens, max_decrease_pct: 100}\n",
        "accuracy",
        "15:47: gates[0].max_decrease_pct: max_decrease_pct 100 on 'tokens' can never fail: a count is never "
        "negative, so it cannot fall by more than 100%",
    ),
}


@pytest.mark.parametrize(("body", "improves", "expected"), CASES.values(), ids=CASES.keys())
def test_validate_reports_the_check_at_its_line(
    body: str, improves: str, expected: str, gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", spec(body, improves))

    result = gatekit("validate", path)

    assert (result.code, result.out, result.err) == (2, "", f"error: {path}:{expected}\n")


SOUND = {
    "no metrics section: any metric name": "gates:\n  - {id: a, metric: accuracy, min: 0.5}\n",
    "margins that can fail": METRICS + "gates:\n  - {id: r, metric: refusal_rate, max_increase: 0.99}\n"
    "  - {id: t, metric: tokens, max_decrease_pct: 99.5, min: 1}\n  - {id: a, metric: accuracy, min: 0.01}\n",
    "a mean may fall by 100%": "metrics:\n  accuracy: {kind: mean}\n"
    "gates:\n  - {id: a, metric: accuracy, max_decrease_pct: 100, max_increase: 5, min: -1}\n",
    "slices of a column and of a cross, values holding = and ,": "table:\n  slice_by: [task]\n"
    "  slice_cross: [[task, lang]]\n"
    "gates:\n  - id: a\n    metric: accuracy\n    slices: ['task=a=b', 'task=x,y,lang=ja', all, sub]\n    min: 0.5\n",
    "slice names are free without slice_by": "gates:\n  - {id: a, metric: accuracy, slices: [lang=ja], min: 0.5}\n",
}


@pytest.mark.parametrize("body", SOUND.values(), ids=SOUND.keys())
def test_validate_accepts_a_sound_spec(
    body: str, gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", spec(body))

    result = gatekit("validate", path)

    assert result.code == 0
    assert "error" not in result.err  # the stage's unpinned rollback entries are warnings
    assert result.out.startswith(f"{path}: valid (")


TABLE_SPEC = """\
metrics:
  accuracy: {from: {column: correct, aggregate: rate, where: {column: categry, equals: x}}}
table:
  slice_by: [task]
gates:
  - {id: a, metric: accuracy, min: 0.5}
"""


def test_validate_with_a_candidate_names_each_missing_column_at_its_spec_line(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", spec(TABLE_SPEC))
    table = write("rows.csv", "id,correct,category,tsk\n1,true,x,a\n")

    result = gatekit("validate", path, "--candidate", table)

    assert result.code == 2
    assert result.err == (
        f"error: {path}:11:71: metrics.accuracy.from.where.column: column 'categry' is not in {table} "
        "(did you mean 'category'?); its columns: id, correct, category, tsk\n"
        f"error: {path}:13:14: table.slice_by[0]: column 'task' is not in {table} (did you mean 'tsk'?); "
        "its columns: id, correct, category, tsk\n"
    )


def test_validate_with_a_candidate_that_has_the_columns_is_valid(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", spec(TABLE_SPEC.replace("categry", "category")))
    table = write("rows.jsonl", '{"id": 1, "correct": true, "category": "x", "task": "a"}\n')

    result = gatekit("validate", path, "--candidate", table)

    assert result.code == 0
    assert "error" not in result.err
    assert result.out == f"{path}: valid (1 gate, 1 bound)\n"


def test_validate_with_a_candidate_in_gatekit_format_reads_it(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", spec("gates:\n  - {id: a, metric: accuracy, min: 0.5}\n"))
    results = write("candidate.yaml", "model: m\nmetrics: [1]\n")

    result = gatekit("validate", path, "--candidate", results)

    assert result.code == 2
    assert result.err.startswith(f"error: {results}:2:10: metrics:")


def test_validate_with_a_parquet_candidate_reads_its_columns(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = write("gate.yaml", spec(TABLE_SPEC))
    table = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"id": [1], "correct": [True], "category": ["x"], "task": ["a"]}), table)

    result = gatekit("validate", path, "--candidate", table)

    assert result.code == 2
    assert result.err == (
        f"error: {path}:11:71: metrics.accuracy.from.where.column: column 'categry' is not in {table} "
        "(did you mean 'category'?); its columns: id, correct, category, task\n"
    )
