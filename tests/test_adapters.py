"""Adapters for lm-evaluation-harness, Inspect and promptfoo files, on small files in each tool's format."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.errors import ResultsError
from gatekit.sources.adapters import detect
from gatekit.sources.adapters.common import minimal_spec, read_json
from gatekit.sources.adapters.lm_eval import split_metric_key
from gatekit.sources.load import load_results
from gatekit.spec.model import Spec

# Hand-written files, kept for corners the real runs of tests/fixtures/harness/ do not produce: lm-eval's
# "N/A" stderr, metrics without a stderr (mc_taco em/f1) and a mmlu-like nested group without sample_count;
# an Inspect .eval of stored members, "P" scores and NaN (unscored) values; promptfoo named scores.
FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
HARNESS = Path(__file__).parent / "fixtures" / "harness"


def spec_with(**extra: object) -> Spec:
    data = minimal_spec().model_dump(mode="python", by_alias=True, exclude_defaults=True)
    data.update(extra)
    return Spec.model_validate({**data, "version": 1})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lm_eval_results.json", "lm-eval"),
        ("inspect_log.json", "inspect"),
        ("promptfoo_results.json", "promptfoo"),
    ],
)
def test_format_is_detected_from_content(name: str, expected: str) -> None:
    assert detect(read_json(FIXTURES / name)) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("acc,none", ("acc", "none")),
        ("exact_match,strict-match", ("exact_match", "strict-match")),
        ("f1,macro,none", ("f1,macro", "none")),
        ("acc", ("acc", None)),
    ],
)
def test_lm_eval_metric_key_splits_on_last_comma(key: str, expected: tuple[str, str | None]) -> None:
    assert split_metric_key(key) == expected


def test_lm_eval_keeps_every_filter_as_its_own_metric() -> None:
    results = load_results(FIXTURES / "lm_eval_results.json")
    assert results.metrics["exact_match,strict-match"]["gsm8k"].value == 0.4
    assert results.metrics["exact_match,flexible-extract"]["gsm8k"].value == 0.45


def test_lm_eval_group_listed_twice_is_one_slice_with_leaf_count() -> None:
    acc = load_results(FIXTURES / "lm_eval_results.json").metrics["acc,none"]
    assert sorted(acc) == ["mmlu", "mmlu_humanities", "mmlu_stem"]
    assert (acc["mmlu"].value, acc["mmlu"].n) == (0.6, 200)


def test_lm_eval_stderr_na_or_absent_is_none() -> None:
    metrics = load_results(FIXTURES / "lm_eval_results.json").metrics
    assert metrics["acc,none"]["mmlu"].stderr is None
    assert metrics["em,none"]["mc_taco"].stderr is None
    assert metrics["acc,none"]["mmlu_stem"].stderr == 0.046


def test_lm_eval_n_and_model() -> None:
    results = load_results(FIXTURES / "lm_eval_results.json")
    assert results.metrics["exact_match,strict-match"]["gsm8k"].n == 1319
    assert results.model == "org/model"


def test_lm_eval_limit_run_accepted_when_spec_allows_partial() -> None:
    # The real `--limit 10` run (tests/fixtures/harness); its refusal by default is in test_harness_real.
    (path,) = (HARNESS / "lm_eval" / "limit").glob("*/results_*.json")
    results = load_results(path, spec_with(table={"allow_partial": True}))
    assert {m.problem for slices in results.metrics.values() for m in slices.values()} == {None}
    assert len(results.notes) == 7  # one per task and metric key: every one of them is partial


SAMPLES = FIXTURES / "samples_gsm8k_2026-01-01T00-00-00.jsonl"
EM = {
    "em": {
        "from": {"column": "exact_match", "aggregate": "rate", "where": {"column": "filter", "equals": "strict-match"}}
    }
}


def test_lm_eval_samples_select_one_filter_and_slice_by_doc_field() -> None:
    spec = spec_with(metrics=EM, table={"slice_by": ["doc.level"]})
    em = load_results(SAMPLES, spec).metrics["em"]
    assert {k: (m.value, m.n) for k, m in em.items()} == {
        "all": (0.5, 4),
        "doc.level=easy": (0.5, 2),
        "doc.level=hard": (0.5, 2),
    }
    assert em["all"].samples is not None
    assert em["all"].samples.ids is not None
    assert em["all"].samples.ids.tolist() == [0, 1, 2, 3]


def test_lm_eval_samples_without_filter_selection_is_duplicate_ids() -> None:
    spec = spec_with(metrics={"em": {"from": {"column": "exact_match", "aggregate": "rate"}}})
    with pytest.raises(ResultsError, match=r"duplicate example id 0 .*once per filter"):
        load_results(SAMPLES, spec)


def test_lm_eval_samples_line_with_a_repeated_key_is_an_error(tmp_path: Path) -> None:
    lines = SAMPLES.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-1] + ', "exact_match": 1.0}'  # json.loads alone would keep this last value silently
    path = tmp_path / SAMPLES.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ResultsError, match=r"\.jsonl:2: key 'exact_match' appears twice in one object"):
        load_results(path, spec_with(metrics=EM))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda line: line[:12] + b"\xff" + line[12:], r"\.jsonl:2:13: not valid UTF-8"),
        (lambda line: b"\n" + line, r"\.jsonl:2: blank line in a JSONL file"),
        (lambda line: line[:-3], r"\.jsonl:2:\d+: not valid JSON"),
    ],
    ids=["bad-utf8", "blank-line", "broken-json"],
)
def test_lm_eval_samples_with_a_damaged_line_is_an_error_at_that_line(
    damage: Callable[[bytes], bytes], expected: str, tmp_path: Path
) -> None:
    lines = SAMPLES.read_bytes().splitlines()
    lines[1] = damage(lines[1])
    path = tmp_path / SAMPLES.name
    path.write_bytes(b"\n".join(lines) + b"\n")

    with pytest.raises(ResultsError, match=expected):
        load_results(path, spec_with(metrics=EM))


def test_inspect_eval_member_with_a_repeated_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.eval"
    with zipfile.ZipFile(FIXTURES / "inspect_log.eval") as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "header.json":
                data = data.rstrip()[:-1] + b', "status": "success"}'
            target.writestr(name, data)

    with pytest.raises(ResultsError, match=r"not a readable Inspect \.eval log: duplicate key 'status'"):
        load_results(path)


def test_promptfoo_pass_rate_and_score_are_recomputed_from_rows() -> None:
    metrics = load_results(FIXTURES / "promptfoo_results.json").metrics
    assert metrics["pass_rate"]["all"].value == pytest.approx(2 / 3)
    assert metrics["score"]["all"].value == pytest.approx(2.5 / 3)  # prompts[].metrics.score is the sum 2.5
    assert metrics["cost_usd"]["all"].value == pytest.approx(0.004)


def test_promptfoo_assertion_failure_error_is_not_infra_error() -> None:
    # Row r1 has `error` set and failureReason 1: an ordinary failure, counted in the pass rate.
    assert load_results(FIXTURES / "promptfoo_results.json").metrics["pass_rate"]["all"].problem is None


def test_promptfoo_vars_are_slices() -> None:
    spec = spec_with(table={"slice_by": ["vars.lang"]})
    pass_rate = load_results(FIXTURES / "promptfoo_results.json", spec).metrics["pass_rate"]
    assert {k: m.value for k, m in pass_rate.items()} == {
        "all": pytest.approx(2 / 3),
        "vars.lang=en": 1.0,
        "vars.lang=de": 0.0,
    }


@pytest.mark.parametrize("name", ["inspect_log.json", "inspect_log.eval"])
def test_inspect_aggregate_metric_with_stderr_and_scored_n(name: str) -> None:
    # The log says 1 of its samples was not scored: the metric is kept, never gated as if complete.
    measurement = load_results(FIXTURES / name).metrics["match/accuracy"]["all"]
    assert (measurement.value, measurement.stderr, measurement.n, measurement.problem) == (
        0.5,
        0.29,
        3,
        "1 samples were not scored by 'match'",
    )


INSPECT_SPEC = {"correct": {"from": {"column": "score.match", "aggregate": "mean"}}}


@pytest.mark.parametrize("name", ["inspect_log.json", "inspect_log.eval"])
def test_inspect_scores_cip_per_sample_with_metadata_slices(name: str) -> None:
    spec = spec_with(metrics=INSPECT_SPEC, table={"slice_by": ["metadata.subject"]})
    correct = load_results(FIXTURES / name, spec).metrics["correct"]
    assert {k: m.value for k, m in correct.items()} == {
        "all": pytest.approx(2.5 / 4),
        "metadata.subject=add": 0.5,
        "metadata.subject=mul": 0.75,
    }


def test_inspect_unscored_sample_is_a_bad_row() -> None:
    spec = spec_with(metrics=INSPECT_SPEC)
    measurement = load_results(FIXTURES / "inspect_unscored.json", spec).metrics["correct"]["all"]
    assert measurement.problem is not None
    assert "1 of 4 rows has a bad 'score.match' value (1 bad row in column 'score.match' (1 NaN" in measurement.problem


def test_inspect_command_lists_metrics_slices_and_n() -> None:
    import contextlib
    import io

    from gatekit.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["inspect", str(FIXTURES / "lm_eval_results.json")])
    assert code == 0
    assert "  exact_match,flexible-extract: 1 slices\n    gsm8k: 0.45, n=1319, stderr=0.0137\n" in out.getvalue()


def test_inspect_rejects_unknown_forced_format() -> None:
    from gatekit.cli import main

    assert main(["inspect", "--format", "nope", str(FIXTURES / "lm_eval_results.json")]) == 2


def test_validate_path_imports_neither_numpy_nor_pyarrow() -> None:
    import subprocess
    import sys

    spec = Path(__file__).parents[1] / "examples" / "incident-bot" / "gate.yaml"
    code = (
        f"import sys; from gatekit.cli import main; main(['validate', {str(spec)!r}]); "
        "print(sorted(m for m in ('numpy', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_promptfoo_result_without_a_cost_makes_the_cost_missing(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "promptfoo_results.json").read_text(encoding="utf-8"))
    for result in document["results"]["results"]:
        result.pop("cost", None)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    cost = load_results(path).metrics["cost_usd"]["all"]

    assert cost.problem is not None  # an unknown cost is not a free request
