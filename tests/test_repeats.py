"""Repeated samples: one row per example before aggregation, pass^k / pass@k / mean, flaky examples and policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gatekit.api import check
from gatekit.errors import ResultsError, SpecError
from gatekit.report import RenderOptions, render
from gatekit.results import Results
from gatekit.sources.load import load_results, load_spec
from gatekit.spec.model import Spec
from tests import factories

# Five examples, three repeats each. By hand:
#   e1 a [1,1,1]  e2 a [1,0,1]  e3 a [0,0,0]  e4 b [0,1,0]  e5 b [1,1,1]
#   pass_all (pass^3): 1,0,0,0,1 -> all 2/5, a 1/3, b 1/2
#   pass_any (pass@3): 1,1,0,1,1 -> all 4/5, a 2/3, b 2/2
#   mean over repeats: 1, 2/3, 0, 1/3, 1 -> all 3/5
#   flaky (repeats disagree): e2, e4 -> all 2 of 5, a 1 of 3, b 1 of 2
REPEATS = {
    "e1": ("a", [1, 1, 1]),
    "e2": ("a", [1, 0, 1]),
    "e3": ("a", [0, 0, 0]),
    "e4": ("b", [0, 1, 0]),
    "e5": ("b", [1, 1, 1]),
}

METRICS = {
    "pass_k": {"from": {"column": "ok", "aggregate": "pass_all"}},
    "pass_at_k": {"from": {"column": "ok", "aggregate": "pass_any"}},
    "mean_ok": {"from": {"column": "ok", "aggregate": "mean"}},
}


def _rows(repeats: dict[str, tuple[str, list[Any]]] = REPEATS) -> list[dict[str, Any]]:
    # Interleaved by epoch, as Inspect writes them: repeats of an example are not adjacent.
    rows = []
    for epoch in range(3):
        for example, (task, values) in repeats.items():
            rows.append({"id": example, "epoch": epoch + 1, "task": task, "ok": values[epoch]})
    return rows


def _table(tmp_path: Path, rows: list[dict[str, Any]], name: str = "samples.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _spec(flaky: str = "count", metrics: dict[str, Any] | None = None, **table: Any) -> Spec:
    return factories.spec(
        {"id": "g", "metric": "pass_k", "slices": ["*"], "min": 0.1},
        baseline=False,
        metrics=metrics or METRICS,
        table={"slice_by": ["task"], "repeats": "epoch", "flaky": flaky, **table},
    )


def _load(tmp_path: Path, spec: Spec, rows: list[dict[str, Any]] | None = None) -> Results:
    return load_results(_table(tmp_path, rows or _rows()), spec)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("pass_k", {"all": 2 / 5, "task=a": 1 / 3, "task=b": 1 / 2}),
        ("pass_at_k", {"all": 4 / 5, "task=a": 2 / 3, "task=b": 1.0}),
        ("mean_ok", {"all": 3 / 5, "task=a": 5 / 9, "task=b": 2 / 3}),
    ],
)
def test_repeats_combine_per_example_then_over_examples(
    tmp_path: Path, metric: str, expected: dict[str, float]
) -> None:
    results = _load(tmp_path, _spec())
    assert {s: m.value for s, m in results.metrics[metric].items()} == pytest.approx(expected, abs=1e-12)


def test_n_is_the_number_of_examples_and_the_samples_are_per_example(tmp_path: Path) -> None:
    results = _load(tmp_path, _spec())
    measured = results.metrics["pass_k"]["all"]
    assert measured.n == 5
    assert measured.samples is not None
    assert sorted(measured.samples.values.tolist()) == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert results.metrics["mean_ok"]["task=b"].n == 2


def test_flaky_examples_are_counted_per_slice(tmp_path: Path) -> None:
    assert _load(tmp_path, _spec()).flaky == {"all": (2, 5), "task=a": (1, 3), "task=b": (1, 2)}


def test_flaky_exclude_leaves_the_flaky_examples_out_of_every_metric(tmp_path: Path) -> None:
    results = _load(tmp_path, _spec("exclude"))
    assert results.metrics["pass_k"]["all"].value == pytest.approx(2 / 3)  # e1, e3, e5
    assert results.metrics["pass_k"]["all"].n == 3
    assert results.metrics["pass_at_k"]["task=a"].value == pytest.approx(1 / 2)  # e1, e3
    assert results.flaky == {"all": (2, 5), "task=a": (1, 3), "task=b": (1, 2)}  # counted before leaving out
    assert any("2 flaky example(s) left out" in note for note in results.notes)


def test_pass_all_without_repeats_is_a_rate(tmp_path: Path) -> None:
    spec = factories.spec(
        {"id": "g", "metric": "pass_k", "min": 0.1}, baseline=False, metrics={"pass_k": METRICS["pass_k"]}
    )
    rows = [{"id": f"x{i}", "ok": v} for i, v in enumerate([1, 0, 1, 1])]
    assert load_results(_table(tmp_path, rows), spec).metrics["pass_k"]["all"].value == 0.75


def test_a_rate_with_repeats_must_say_how_repeats_combine() -> None:
    with pytest.raises(ValueError, match="say how an example's repeats combine: pass_all"):
        _spec(metrics={"r": {"from": {"column": "ok", "aggregate": "rate"}}})


def test_the_same_repeat_twice_is_bad_input(tmp_path: Path) -> None:
    rows = [*_rows(), {"id": "e1", "epoch": 2, "task": "a", "ok": 1}]
    with pytest.raises(ResultsError, match="example 'e1' has repeat 2 twice"):
        _load(tmp_path, _spec(), rows)


def test_a_slice_column_that_changes_between_repeats_is_bad_input(tmp_path: Path) -> None:
    rows = _rows()
    rows[-1] = {**rows[-1], "task": "a"}  # e5's third repeat claims another slice
    with pytest.raises(ResultsError, match="column 'task' differs between the repeats of example 'e5'"):
        _load(tmp_path, _spec(), rows)


def test_a_bad_cell_in_one_repeat_makes_the_metric_missing_not_better(tmp_path: Path) -> None:
    rows = _rows()
    rows[0] = {**rows[0], "ok": None}  # e1, epoch 1
    results = _load(tmp_path, _spec(), rows)
    assert results.metrics["pass_k"]["all"].problem is not None
    assert any("bad 'ok' cell in one of their repeats" in note for note in results.notes)


def test_unequal_numbers_of_repeats_are_noted(tmp_path: Path) -> None:
    rows = [r for r in _rows() if not (r["id"] == "e3" and r["epoch"] == 3)]
    assert any("between 2 and 3 repeats" in note for note in _load(tmp_path, _spec(), rows).notes)


def test_ids_that_differ_between_repeats_are_noted(tmp_path: Path) -> None:
    rows = [{**r, "id": f"{r['id']}#{r['epoch']}"} for r in _rows()]
    results = _load(tmp_path, _spec(), rows)
    assert results.metrics["pass_k"]["all"].n == 15
    assert any(
        "every example has one row although 'epoch' holds 3 different repeat numbers" in n for n in results.notes
    )


def test_repeats_need_an_id_column(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "id"} for r in _rows()]
    with pytest.raises(ResultsError, match=r"table\.repeats needs an example id column"):
        _load(tmp_path, _spec(), rows)


# ---------------------------------------------------------------- through check: policies and reports

SPEC_YAML = """
version: 1
name: repeats
hypothesis: {statement: s, stage: other, improves: pass_k, owner: o, written: 2026-01-01}
candidate: samples.jsonl
metrics:
  pass_k: {from: {column: ok, aggregate: pass_all}}
table: {slice_by: [task], repeats: epoch, flaky: POLICY}
gates:
  - {id: g, metric: pass_k, slices: ["*"], min: 0.0}
rollback:
  checkpoint: {uri: s3://m, digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
  tokenizer: {uri: s3://t, digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
  generation_config: {uri: s3://g, digest: "sha256:3333333333333333333333333333333333333333333333333333333333333333"}
  serving_image: {uri: "r/i@sha256:4444444444444444444444444444444444444444444444444444444444444444"}
  data_revision: {uri: d, revision: "5555555555555555555555555555555555555555"}
  code_revision: {uri: c, revision: "6666666666666666666666666666666666666666"}
  eval_record: {uri: e, digest: "sha256:7777777777777777777777777777777777777777777777777777777777777777"}
"""


def _check(write: Callable[[str, str], Path], policy: str, repeats: dict[str, tuple[str, list[Any]]] = REPEATS) -> Any:
    spec = write("gate.yaml", SPEC_YAML.replace("POLICY", policy))
    _table(spec.parent, _rows(repeats))
    return check(spec)


def test_flaky_count_reports_and_still_ships(write: Callable[[str, str], Path]) -> None:
    verdict = _check(write, "count")
    assert verdict.verdict == "ship"
    assert [(f.slice, f.flaky, f.examples) for f in verdict.flaky] == [
        ("all", 2, 5),
        ("task=a", 1, 3),
        ("task=b", 1, 2),
    ]


def test_flaky_fail_fails_the_checks_of_slices_with_a_flaky_example(write: Callable[[str, str], Path]) -> None:
    verdict = _check(write, "fail")
    assert verdict.verdict == "revise"
    assert {o.slice: o.status for o in verdict.gates} == {"all": "fail", "task=a": "fail", "task=b": "fail"}
    assert "2 flaky example(s) on 'all'" in verdict.gates[0].reason


def test_flaky_fail_passes_slices_without_a_flaky_example(write: Callable[[str, str], Path]) -> None:
    steady = {**REPEATS, "e4": ("b", [0, 0, 0])}
    verdict = _check(write, "fail", steady)
    assert {o.slice: o.status for o in verdict.gates} == {"all": "fail", "task=a": "fail", "task=b": "pass"}


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "markdown", "github", "html"])
def test_every_report_format_shows_the_flaky_counts(write: Callable[[str, str], Path], fmt: str) -> None:
    text = render(_check(write, "count"), fmt, RenderOptions(width=200))
    if fmt == "json":
        assert json.loads(text)["flaky"][0] == {"slice": "all", "examples": 5, "flaky": 2, "policy": "count"}
    else:
        plain = text.replace("&#39;", "'").replace("\\", "")  # HTML and Markdown escapes
        assert "flaky on 'all': 2 of 5 examples have repeats that disagree (flaky: count)" in plain


def test_the_flaky_policy_is_one_of_count_exclude_fail(write: Callable[[str, str], Path]) -> None:
    assert load_spec(write("good.yaml", SPEC_YAML.replace("POLICY", "exclude"))).spec.table.flaky == "exclude"
    with pytest.raises(SpecError, match="'count', 'exclude' or 'fail'"):
        load_spec(write("bad.yaml", SPEC_YAML.replace("POLICY", "sometimes")))
