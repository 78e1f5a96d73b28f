"""Harness accuracies are shares of n scored items: with no declared kind, lm-eval's `acc`, `acc_norm`,
`exact_match` and `mc1` get the exact Clopper-Pearson bound, not a normal interval from the reported stderr,
which under-covers near 0 and 1 (a perfect 30/30 has stderr 0).

The files are the real lm-eval fixture (tests/fixtures/harness/lm_eval/full) with its figures edited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekit.api import check
from gatekit.sources.load import load_results
from tests.test_harness_real import lm_results, write_spec


def edited_lm_eval(folder: Path, task: str, figures: dict[str, float], n: int) -> Path:
    """The real results file with task `task` reduced to the given metric figures on n documents."""
    data: dict[str, Any] = json.loads(lm_results("full").read_text())
    data["results"] = {task: {"alias": task, **figures}}
    data["groups"] = {}
    data["group_subtasks"] = {}
    data["n-samples"] = {task: {"original": n, "effective": n}}
    path = folder / "results_2026-12-01T00-00-00.json"
    path.write_text(json.dumps(data))
    return path


def test_a_perfect_30_of_30_accuracy_cannot_pass_min_0_95(tmp_path: Path) -> None:
    # lm-eval reports stderr 0 for 30/30: the normal interval is the point 1.0 and passed `min: 0.95`. The
    # exact lower bound is 0.05^(1/30) = 0.905.
    results = edited_lm_eval(tmp_path, "gk_mc", {"acc,none": 1.0, "acc_stderr,none": 0.0}, 30)
    spec = write_spec(tmp_path, [{"id": "acc", "metric": "acc,none", "slices": ["gk_mc"], "min": 0.95}])

    (gate,) = check(spec, candidate=results).gates

    assert (gate.status, gate.method) == ("inconclusive", "Clopper-Pearson exact")
    assert gate.interval is not None
    assert gate.interval[0] == pytest.approx(0.05 ** (1 / 30))


@pytest.mark.parametrize("metric", ["acc,none", "acc_norm,none", "exact_match,strict-match", "mc1,none"])
def test_an_accuracy_that_is_a_whole_count_is_declared_a_proportion(tmp_path: Path, metric: str) -> None:
    name, filter_name = metric.split(",")
    stderr_key = f"{name}_stderr,{filter_name}"
    results = load_results(edited_lm_eval(tmp_path, "t", {metric: 27 / 30, stderr_key: 0.0557}, 30), None)

    definition = results.definitions[metric]

    assert (definition.kind, definition.higher_is_better) == ("proportion", True)


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("acc,none", 0.9012345),  # not a whole count of 30: an average of unequal subtasks, say
        ("f1,none", 0.9),  # not a share of items
        ("mc2,none", 0.9),  # truthfulqa's mc2 is a mean probability, not a 0/1 score
    ],
)
def test_a_metric_that_is_not_a_whole_share_keeps_no_kind(tmp_path: Path, metric: str, value: float) -> None:
    results = load_results(edited_lm_eval(tmp_path, "t", {metric: value}, 30), None)

    assert metric not in results.definitions


def test_a_spec_that_declares_the_metric_keeps_its_own_kind(tmp_path: Path) -> None:
    results = edited_lm_eval(tmp_path, "gk_mc", {"acc,none": 0.9, "acc_stderr,none": 0.0557}, 30)
    spec = write_spec(
        tmp_path,
        [{"id": "acc", "metric": "acc,none", "slices": ["gk_mc"], "min": 0.5}],
        metrics={"acc,none": {"kind": "mean"}},
    )

    (gate,) = check(spec, candidate=results).gates

    assert gate.method == "t interval (29 df)"
