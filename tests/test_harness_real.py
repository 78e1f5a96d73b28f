"""Real harness outputs (tests/fixtures/harness/, made by regenerate.py with the real tools) read as each tool
itself reports them.

Every expected figure is computed here from the raw records with a few lines of plain Python (json, zipfile,
zstandard, statistics) that never import gatekit: n, events, values and stderr per slice. gatekit must agree.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from gatekit.api import check
from gatekit.errors import ResultsError
from gatekit.results import Results
from gatekit.sources.load import load_results
from tests.conftest import Run

# GATEKIT_HARNESS_FIXTURES points the same checks at a regenerated (or held-out) set of runs.
HARNESS = Path(os.environ.get("GATEKIT_HARNESS_FIXTURES") or Path(__file__).parent / "fixtures" / "harness")
LM = HARNESS / "lm_eval"
INSPECT = HARNESS / "inspect"
PROMPTFOO = HARNESS / "promptfoo"
LOGS = ["basic", "epochs", "flaky"]
FORMATS = ["eval", "json"]


# --- independent figures: plain Python over the raw records ---------------------------------------------------


def mean_and_stderr(values: list[float]) -> tuple[float, int, float]:
    """(mean, n, sample SD / sqrt(n)): the stderr lm-eval and Inspect both report for a mean."""
    n = len(values)
    return statistics.fmean(values), n, statistics.stdev(values) / math.sqrt(n)


def only(pattern: str, folder: Path) -> Path:
    (path,) = folder.glob(pattern)
    return path


def lm_samples(run: str, task: str) -> list[dict[str, Any]]:
    path = only(f"*/samples_{task}_*.jsonl", LM / run)
    return [json.loads(line) for line in path.read_text().splitlines()]


def lm_results(run: str) -> Path:
    return only("*/results_*.json", LM / run)


def inspect_log(name: str, fmt: str) -> dict[str, Any]:
    """The EvalLog, with samples and reductions, read without gatekit (the .eval members are zstd)."""
    path = INSPECT / f"{name}.{fmt}"
    if fmt == "json":
        return dict(json.loads(path.read_text()))
    with zipfile.ZipFile(path) as archive:

        def member(info: zipfile.ZipInfo) -> Any:
            with path.open("rb") as f:
                f.seek(info.header_offset + 26)
                skip = int.from_bytes(f.read(2), "little") + int.from_bytes(f.read(2), "little")
                f.seek(skip, 1)
                raw = f.read(info.compress_size)
            return json.loads(zstandard.ZstdDecompressor().stream_reader(raw).read(info.file_size))

        infos = {i.filename: i for i in archive.infolist()}
        log = member(infos["header.json"])
        log["samples"] = [member(i) for n, i in infos.items() if n.startswith("samples/")]
        if "reductions.json" in infos:
            log["reductions"] = member(infos["reductions.json"])
        return dict(log)


CIP = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def reduced_scores(log: dict[str, Any], scorer: str, key: str | None = None) -> dict[str, float]:
    """sample id -> the log's reduced value for `scorer` (a dict value's `key`)."""
    (entry,) = [r for r in log["reductions"] if r["scorer"] == scorer]
    out = {}
    for sample in entry["samples"]:
        value = sample["value"] if key is None else sample["value"][key]
        out[str(sample["sample_id"])] = CIP.get(value, value) if isinstance(value, str) else float(value)
    return out


def promptfoo_records(name: str) -> list[dict[str, Any]]:
    path = PROMPTFOO / name
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    return list(json.loads(path.read_text())["results"]["results"])


def per_test(records: Iterable[dict[str, Any]], provider: str) -> dict[str, list[dict[str, Any]]]:
    """The records of one provider grouped by test (description + vars): repeats land together."""
    tests: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["provider"]["id"] == provider:
            key = json.dumps([r["testCase"].get("description"), r["vars"]], sort_keys=True)
            tests.setdefault(key, []).append(r)
    return tests


# --- spec helpers ---------------------------------------------------------------------------------------------


def write_spec(folder: Path, gates: list[dict[str, Any]], **extra: Any) -> Path:
    spec = {
        "version": 1,
        "name": "harness",
        "hypothesis": {"statement": "-", "stage": "other", "improves": "-", "owner": "-", "written": "2026-01-01"},
        "gates": gates,
        "rollback": {},
        **extra,
    }
    path = folder / "gate.json"
    path.write_text(json.dumps(spec))
    return path


def loaded_with(path: Path, folder: Path, metrics: dict[str, Any], **extra: Any) -> Results:
    from gatekit.sources.load import load_spec

    spec = write_spec(folder, [{"id": "g", "metric": next(iter(metrics)), "min": 0.0}], metrics=metrics, **extra)
    model = extra.get("candidate_model")
    return load_results(path, load_spec(spec).spec, **({"model": model} if model else {}))


def figures(results: Results, metric: str) -> dict[str, tuple[float, int | None, float | None]]:
    """slice -> (value, n, stderr); stderr from the per-example values when the measurement carries them."""
    out = {}
    for name, m in results.metrics[metric].items():
        stderr = m.stderr
        if stderr is None and m.samples is not None and m.samples.n >= 2:
            stderr = m.samples.summary().stderr
        out[name] = (m.value, m.n, stderr)
    return out


def approx(table: dict[str, tuple[float, int | None, float | None]]) -> Any:
    return {k: (pytest.approx(v), n, pytest.approx(se)) for k, (v, n, se) in table.items()}


# --- lm-evaluation-harness ------------------------------------------------------------------------------------


def test_lm_eval_tasks_and_group_have_the_counts_lm_eval_reports() -> None:
    mc, gen = lm_samples("full", "gk_mc"), lm_samples("full", "gk_gen")
    acc = mean_and_stderr([s["acc"] for s in mc])
    strict = mean_and_stderr([s["exact_match"] for s in gen if s["filter"] == "strict-match"])
    shout = mean_and_stderr([s["exact_match"] for s in gen if s["filter"] == "shout"])
    results = load_results(lm_results("full"))
    # The group's n is its own count per metric: 60 acc docs, 40 exact_match docs; never the 100 of both.
    assert figures(results, "acc,none") == approx({"gk_mc": acc, "gk_group": acc})
    assert figures(results, "exact_match,strict-match") == approx({"gk_gen": strict, "gk_group": strict})
    assert figures(results, "exact_match,shout") == approx({"gk_gen": shout, "gk_group": shout})
    assert (acc[1], strict[1]) == (60, 40)


def test_lm_eval_limit_run_has_the_limited_group_n_and_is_partial() -> None:
    results = load_results(lm_results("limit"))
    group = results.metrics["exact_match,strict-match"]["gk_group"]
    strict = [s["exact_match"] for s in lm_samples("limit", "gk_gen") if s["filter"] == "strict-match"]
    assert (group.value, group.n) == (pytest.approx(statistics.fmean(strict)), len(strict)) == (0.5, 10)
    assert group.problem == "partial run: 10 of 40 samples evaluated (`--limit`); set table.allow_partial to gate on it"


def test_lm_eval_group_exact_match_of_a_quarter_is_judged_on_its_own_40(tmp_path: Path) -> None:
    # shout: 10 of 40. On n=40 a 95% bound cannot clear 0.17; summed to n=100 it would (a false ship).
    spec = write_spec(
        tmp_path,
        [{"id": "em", "metric": "exact_match,shout", "slices": ["gk_group", "gk_gen"], "min": 0.17}],
        metrics={"exact_match,shout": {"kind": "proportion"}},
    )
    verdict = check(spec, candidate=lm_results("full"))
    assert [(g.slice, g.status, g.n) for g in verdict.gates] == [
        ("gk_group", "inconclusive", 40),
        ("gk_gen", "inconclusive", 40),
    ]
    assert verdict.verdict != "ship"


def test_lm_eval_missing_all_slice_lists_the_slices(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, [{"id": "acc", "metric": "acc,none", "min": 0.1}])
    (gate,) = check(spec, candidate=lm_results("full")).gates
    assert gate.status == "missing"
    assert gate.reason == "slice 'all' is not in the candidate results for 'acc,none'; its slices: gk_mc, gk_group"


@pytest.mark.parametrize(
    ("metric", "hint"),
    [
        ("acc", "(did you mean 'acc,none'?)"),
        ("exact_match", "(did you mean 'exact_match,strict-match' or 'exact_match,shout'?)"),
    ],
)
def test_lm_eval_metric_without_filter_suggests_the_metric_filter_keys(tmp_path: Path, metric: str, hint: str) -> None:
    spec = write_spec(tmp_path, [{"id": "m", "metric": metric, "slices": ["gk_group"], "min": 0.1}])
    (gate,) = check(spec, candidate=lm_results("full")).gates
    assert gate.reason.endswith(hint)


def test_lm_eval_results_folder_finds_the_results_file_inside(tmp_path: Path) -> None:
    assert load_results(LM / "full").source == str(lm_results("full"))


def test_lm_eval_folder_with_two_results_files_names_them() -> None:
    with pytest.raises(ResultsError) as caught:
        load_results(LM)
    message = str(caught.value)
    assert "is a folder with 2 results files; give one of:" in message
    assert str(lm_results("full").relative_to(LM)) in message
    assert str(lm_results("limit").relative_to(LM)) in message


def test_lm_eval_samples_slices_by_doc_column_and_filter(tmp_path: Path) -> None:
    gen = lm_samples("full", "gk_gen")
    expected = {"all": mean_and_stderr([s["exact_match"] for s in gen if s["filter"] == "shout"])}
    for category in ("geo", "sci", "art"):
        docs = [s["exact_match"] for s in gen if s["filter"] == "shout" and s["doc"]["category"] == category]
        expected[f"doc.category={category}"] = mean_and_stderr(docs)
    path = only("*/samples_gk_gen_*.jsonl", LM / "full")
    metric = {
        "em": {"from": {"column": "exact_match", "aggregate": "rate", "where": {"column": "filter", "equals": "shout"}}}
    }
    results = loaded_with(path, tmp_path, metric, table={"slice_by": ["doc.category"], "id_column": "doc_id"})
    assert figures(results, "em") == approx(expected)


def test_inspect_command_lists_lm_eval_samples_columns_without_a_spec(gatekit: Callable[..., Run]) -> None:
    result = gatekit("inspect", only("*/samples_gk_gen_*.jsonl", LM / "full"))
    assert result.code == 0
    assert "80 rows" in result.out
    for column in ("  doc.category: ", "  filter: ", "  exact_match: ", "  doc_id: "):
        assert column in result.out


def test_inspect_command_shows_one_provider_and_its_columns(gatekit: Callable[..., Run]) -> None:
    result = gatekit("inspect", PROMPTFOO / "two_providers.json", "--model", "echo")
    assert result.code == 0
    assert "model: echo\n" in result.out
    assert "  vars.topic: text, 6 distinct" in result.out
    assert "  metadata.area: text, 4 distinct" in result.out


def test_inspect_command_lists_an_inspect_logs_sample_columns(gatekit: Callable[..., Run]) -> None:
    result = gatekit("inspect", INSPECT / "basic.eval")
    assert result.code == 0
    for column in ("  score.match: number", "  score.parts.fluency: number", "  metadata.subject: text, 3 distinct"):
        assert column in result.out


# --- Inspect --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", LOGS)
def test_inspect_aggregate_metrics_are_the_logs_own(name: str, fmt: str) -> None:
    log = inspect_log(name, fmt)
    expected = {
        f"{s['name']}/{metric}": (entry["value"], s["scored_samples"], s["metrics"]["stderr"]["value"])
        for s in log["results"]["scores"]
        for metric, entry in s["metrics"].items()
        if metric != "stderr"
    }
    results = load_results(INSPECT / f"{name}.{fmt}")
    assert {m: figures(results, m)["all"] for m in expected} == {m: approx({"x": v})["x"] for m, v in expected.items()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_match_per_subject_slice_from_the_samples(tmp_path: Path, fmt: str) -> None:
    log = inspect_log("basic", fmt)
    match = reduced_scores(log, "match")
    subject = {str(s["id"]): s["metadata"]["subject"] for s in log["samples"]}
    expected = {"all": mean_and_stderr(list(match.values()))}
    for name in sorted(set(subject.values())):
        expected[f"metadata.subject={name}"] = mean_and_stderr([v for k, v in match.items() if subject[k] == name])
    metric = {"correct": {"from": {"column": "score.match", "aggregate": "rate"}}}
    results = loaded_with(INSPECT / f"basic.{fmt}", tmp_path, metric, table={"slice_by": ["metadata.subject"]})
    assert figures(results, "correct") == approx(expected)


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_grouped_metrics_are_slices_with_their_own_n_and_stderr(fmt: str) -> None:
    # grouped(accuracy(), "subject") and grouped(stderr(), "subject"): Inspect's own per-subject figures.
    log = inspect_log("grouped", fmt)
    match = reduced_scores(log, "match")
    subject = {str(s["id"]): s["metadata"]["subject"] for s in log["samples"]}
    expected = {"all": mean_and_stderr(list(match.values()))}
    for name in sorted(set(subject.values())):
        expected[f"metadata.subject={name}"] = mean_and_stderr([v for k, v in match.items() if subject[k] == name])
    results = load_results(INSPECT / f"grouped.{fmt}")
    assert figures(results, "match/accuracy") == approx(expected)


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_dict_valued_score_is_one_column_per_key(tmp_path: Path, fmt: str) -> None:
    log = inspect_log("basic", fmt)
    fluency = mean_and_stderr(list(reduced_scores(log, "parts", "fluency").values()))
    grounded = mean_and_stderr(list(reduced_scores(log, "parts", "grounded").values()))
    metrics = {
        "fluency": {"from": {"column": "score.parts.fluency", "aggregate": "mean"}},
        "grounded": {"from": {"column": "score.parts.grounded", "aggregate": "rate"}},
    }
    results = loaded_with(INSPECT / f"basic.{fmt}", tmp_path, metrics)
    assert figures(results, "fluency") == approx({"all": fluency})
    assert figures(results, "grounded") == approx({"all": grounded})
    # The log's own figures for the same scorer agree.
    assert fluency[2] == pytest.approx(results.metrics["fluency/mean"]["all"].stderr)


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_epochs_are_one_example_per_sample_reduced_by_the_log(tmp_path: Path, fmt: str) -> None:
    log = inspect_log("epochs", fmt)
    reduced = list(reduced_scores(log, "epoch_scorer").values())
    expected = mean_and_stderr(reduced)
    assert (expected[1], len(log["samples"])) == (12, 24)
    assert expected[2] == pytest.approx(log["results"]["scores"][0]["metrics"]["stderr"]["value"])
    metric = {"correct": {"from": {"column": "score.epoch_scorer", "aggregate": "mean"}}}
    results = loaded_with(INSPECT / f"epochs.{fmt}", tmp_path, metric)
    assert figures(results, "correct") == approx({"all": expected})
    assert any("reduced to one example each by Inspect's mean reducer" in note for note in results.notes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_errored_samples_are_counted_never_dropped(tmp_path: Path, fmt: str) -> None:
    log = inspect_log("flaky", fmt)
    errored = sorted(int(s["id"]) for s in log["samples"] if s.get("error"))
    assert errored == [7, 19]
    metric = {"correct": {"from": {"column": "score.match", "aggregate": "rate"}}}
    results = loaded_with(INSPECT / f"flaky.{fmt}", tmp_path, metric)
    assert results.metrics["correct"]["all"].problem == (
        "2 of 30 rows have a bad 'score.match' value (2 bad rows in column 'score.match' (2 NaN; first at row 7)); "
        "set table.drop_invalid to use the rest"
    )
    builtin = results.metrics["match/accuracy"]["all"].problem or ""
    assert builtin.startswith("2 samples errored and were not scored (first: id 7: ValueError('sample 7 failed")


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_errored_samples_dropped_only_when_the_spec_says(tmp_path: Path, fmt: str) -> None:
    log = inspect_log("flaky", fmt)
    scored = list(reduced_scores(log, "match").values())
    metric = {"correct": {"from": {"column": "score.match", "aggregate": "rate"}}}
    results = loaded_with(INSPECT / f"flaky.{fmt}", tmp_path, metric, table={"drop_invalid": True})
    assert figures(results, "correct") == approx({"all": mean_and_stderr(scored)})
    assert results.metrics["match/accuracy"]["all"].problem is None


@pytest.mark.parametrize(
    ("name", "status"), [("broken", "error"), ("interrupted", "started"), ("cancelled", "cancelled")]
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_run_that_did_not_succeed_names_its_status(name: str, status: str, fmt: str) -> None:
    raw = inspect_log(name, fmt) if (fmt, name) != ("eval", "interrupted") else {"status": "started"}
    assert raw.get("status", "started") == status
    expected = f"the Inspect log's status is {status!r}, not 'success'"
    if not (raw.get("results") or {}).get("scores"):
        with pytest.raises(ResultsError, match=f"{re.escape(expected)}.*: the run has no results to gate"):
            load_results(INSPECT / f"{name}.{fmt}")
        return
    results = load_results(INSPECT / f"{name}.{fmt}")
    assert {m.problem for slices in results.metrics.values() for m in slices.values()} == {expected}


def test_inspect_errored_log_in_a_check_is_exit_2_naming_the_status(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, [{"id": "acc", "metric": "match/accuracy", "min": 0.1}])
    result = gatekit("check", spec, "--candidate", INSPECT / "broken.eval")
    assert result.code == 2
    assert "the Inspect log's status is 'error', not 'success' (ValueError('sample 1 failed on purpose'))" in result.err


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_accuracy_interval_stays_within_0_and_1(tmp_path: Path, fmt: str) -> None:
    # grounded/accuracy is 9/12: value + 1.96 stderr is 1.006; a proportion's bounds never leave [0, 1].
    spec = write_spec(tmp_path, [{"id": "g", "metric": "grounded/accuracy", "min": 0.5}])
    (gate,) = check(spec, candidate=INSPECT / f"basic.{fmt}").gates
    assert gate.method == "Clopper-Pearson exact"
    assert gate.interval is not None
    assert all(b is None or 0 <= b <= 1 for b in gate.interval)


def test_inspect_constant_accuracy_gets_a_finite_interval_and_the_right_reason(tmp_path: Path) -> None:
    # A real log whose every sample scored C (mutated from basic.json): stderr 0, no spread.
    log = inspect_log("basic", "json")
    log["results"]["scores"][0]["metrics"]["accuracy"]["value"] = 1.0
    log["results"]["scores"][0]["metrics"]["stderr"]["value"] = 0.0
    path = tmp_path / "constant.json"
    path.write_text(json.dumps(log))
    spec = write_spec(tmp_path, [{"id": "m", "metric": "match/accuracy", "min": 0.5}])
    (gate,) = check(spec, candidate=path).gates
    assert gate.status == "pass"
    assert gate.interval is not None
    assert gate.interval[0] is not None
    assert 0.5 < gate.interval[0] < 1
    assert "sits on the threshold" not in gate.reason


def test_inspect_records_tokens_and_created() -> None:
    log = inspect_log("basic", "json")
    usage = log["stats"]["model_usage"]["mockllm/model"]
    results = load_results(INSPECT / "basic.json")
    assert results.costs == {k: float(usage[k]) for k in ("input_tokens", "output_tokens", "total_tokens")}
    assert results.created is not None
    assert results.created.isoformat() == log["eval"]["created"]


# --- promptfoo ------------------------------------------------------------------------------------------------


LATENCY = {"latency": {"from": {"column": "latency_ms", "aggregate": "mean"}}}


def pass_fractions(tests: dict[str, list[dict[str, Any]]]) -> list[float | None]:
    """Per test: the mean of success over its repeats; None where a repeat hit an infrastructure error."""
    out: list[float | None] = []
    for records in tests.values():
        if any(r.get("failureReason") == 2 for r in records):
            out.append(None)
        else:
            out.append(statistics.fmean(float(r["success"]) for r in records))
    return out


@pytest.mark.parametrize(
    ("name", "provider"),
    [("echo.json", "echo"), ("two_providers.json", "echo"), ("two_providers.jsonl", "echo")],
)
def test_promptfoo_pass_rate_and_slices_of_one_provider(tmp_path: Path, name: str, provider: str) -> None:
    tests = per_test(promptfoo_records(name), provider)
    passed = pass_fractions(tests)
    assert None not in passed
    area = {k: rs[0]["testCase"]["metadata"]["area"] for k, rs in tests.items()}
    expected = {"all": mean_and_stderr([p for p in passed if p is not None])}
    for value in sorted(set(area.values())):
        slice_values = [p for k, p in zip(tests, passed, strict=False) if area[k] == value and p is not None]
        stderr = statistics.stdev(slice_values) / math.sqrt(len(slice_values)) if len(slice_values) > 1 else None
        expected[f"metadata.area={value}"] = (statistics.fmean(slice_values), len(slice_values), stderr)
    results = loaded_with(
        PROMPTFOO / name,
        tmp_path,
        {"x": {"from": {"column": "score", "aggregate": "mean"}}},
        table={"slice_by": ["metadata.area"]},
        candidate_model=provider,
    )
    got = figures(results, "pass_rate")
    assert {k: (v, n) for k, (v, n, _) in got.items()} == {
        k: (pytest.approx(v), n) for k, (v, n, _) in expected.items()
    }
    assert got["all"][2] == pytest.approx(expected["all"][2])
    assert results.model == provider


def test_promptfoo_infrastructure_error_is_a_counted_bad_row() -> None:
    tests = per_test(promptfoo_records("python.json"), "python:provider.py:default")
    assert pass_fractions(tests).count(None) == 1
    measurement = load_results(PROMPTFOO / "python.json").metrics["pass_rate"]["all"]
    assert measurement.problem == (
        "1 of 6 rows has a bad 'success' value (1 bad row in column 'success' (1 null or empty; first at row 6)); "
        "set table.drop_invalid to use the rest"
    )


def test_promptfoo_pass_rate_is_judged_as_a_rate(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, [{"id": "p", "metric": "pass_rate", "min": 0.1}])
    (gate,) = check(spec, candidate=PROMPTFOO / "echo.json").gates
    assert gate.method == "Clopper-Pearson exact"


def test_promptfoo_runs_of_different_providers_pair_by_test(tmp_path: Path) -> None:
    echo = set(per_test(promptfoo_records("echo.json"), "echo"))
    python = set(per_test(promptfoo_records("python.json"), "python:provider.py:default"))
    assert echo == python
    # Latency is recorded on every record, the outage's too: every test is on both sides.
    spec = write_spec(
        tmp_path,
        [{"id": "s", "metric": "latency", "max_increase": 1000}],
        metrics=LATENCY,
        baseline=str(PROMPTFOO / "python.json"),
    )
    (gate,) = check(spec, candidate=PROMPTFOO / "echo.json").gates
    assert gate.method is not None
    assert gate.method.startswith("skewness-corrected paired t")


def test_promptfoo_file_of_two_providers_is_never_pooled(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    spec = write_spec(tmp_path, [{"id": "p", "metric": "pass_rate", "min": 0.1}])
    result = gatekit("check", spec, "--candidate", PROMPTFOO / "two_providers.json")
    assert result.code == 2
    assert "the file holds 2 providers (echo, python:provider.py:default) and gatekit never pools them" in result.err


def test_promptfoo_provider_a_against_provider_b_from_one_file(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    path = PROMPTFOO / "two_providers.json"
    spec = write_spec(
        tmp_path, [{"id": "s", "metric": "latency", "max_increase": 1000}], metrics=LATENCY, baseline=str(path)
    )
    options = ["--candidate-model", "echo", "--baseline-model", "python:provider.py:default", "--format", "json"]
    result = gatekit("check", spec, "--candidate", path, "--baseline", path, *options)
    verdict = json.loads(result.out)
    assert (verdict["candidate"]["model"], verdict["baseline"]["model"]) == ("echo", "python:provider.py:default")
    assert verdict["gates"][0]["method"].startswith("skewness-corrected paired t")


def test_promptfoo_cost_reaches_the_budget(tmp_path: Path) -> None:
    cost = math.fsum(r["cost"] for r in promptfoo_records("python.json"))
    spec = write_spec(tmp_path, [{"id": "p", "metric": "score", "min": 0.0}], budget={"limits": {"cost_usd": 0.001}})
    (budget,) = check(spec, candidate=PROMPTFOO / "python.json").budget
    assert (budget.status, budget.spent) == ("fail", pytest.approx(cost))


def test_promptfoo_jsonl_output_reads_as_the_json_output(tmp_path: Path) -> None:
    metric = {"x": {"from": {"column": "score", "aggregate": "mean"}}}
    table = {"slice_by": ["vars.topic"], "drop_invalid": True}
    as_json = loaded_with(PROMPTFOO / "python.json", tmp_path, metric, table=table)
    as_jsonl = loaded_with(PROMPTFOO / "python.jsonl", tmp_path, metric, table=table)
    assert figures(as_jsonl, "x") == figures(as_json, "x")
    assert len(figures(as_jsonl, "x")) == 7  # all + one slice per topic


def test_promptfoo_repeats_are_one_test_each(tmp_path: Path) -> None:
    tests = per_test(promptfoo_records("repeat.json"), "python:provider.py:default")
    assert sorted(len(records) for records in tests.values()) == [2] * 6
    scored = [p for p in pass_fractions(tests) if p is not None]
    results = loaded_with(
        PROMPTFOO / "repeat.json",
        tmp_path,
        {"x": {"from": {"column": "score", "aggregate": "mean"}}},
        table={"drop_invalid": True},
    )
    value, n, _ = figures(results, "pass_rate")["all"]
    assert (value, n) == (pytest.approx(statistics.fmean(scored)), len(scored)) == (1.0, 5)
    assert results.notes[0].endswith(
        "6 tests run 2 times each (--repeat): one example per test, success and score reduced by the mean over "
        "its repeats"
    )


# --- run metadata of per-example tables ---------------------------------------------------------------------


def test_table_sidecar_gives_model_created_costs_and_digest(tmp_path: Path) -> None:
    table = tmp_path / "candidate.jsonl"
    table.write_text("".join(json.dumps({"id": i, "ok": i % 2 == 0}) + "\n" for i in range(10)))
    (tmp_path / "candidate.jsonl.meta.yaml").write_text(
        "model: bot-v4\ncreated: 2026-05-01T12:00:00+00:00\ncosts: {cost_usd: 1.5}\ngate_digest: sha256:abc\n"
    )
    results = loaded_with(table, tmp_path, {"ok_rate": {"from": {"column": "ok", "aggregate": "rate"}}})
    assert (results.model, results.costs, results.gate_digest) == ("bot-v4", {"cost_usd": 1.5}, "sha256:abc")
    assert results.created is not None
    assert results.created.isoformat() == "2026-05-01T12:00:00+00:00"


def test_sidecar_that_contradicts_the_harness_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "echo.json"
    path.write_bytes((PROMPTFOO / "echo.json").read_bytes())
    (tmp_path / "echo.json.meta.yaml").write_text("model: gpt-x\n")
    with pytest.raises(ResultsError, match="model: the sidecar says 'gpt-x' but the results file records 'echo'"):
        load_results(path)


def test_selecting_a_model_the_file_does_not_hold_is_an_error_listing_it() -> None:
    with pytest.raises(ResultsError, match=r"model 'openai/gpt-x' is not in the file; it holds: mockllm/model"):
        load_results(INSPECT / "basic.json", model="openai/gpt-x")


def test_sidecar_fills_what_a_harness_file_does_not_record(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(lm_results("full").read_bytes())
    (tmp_path / "results.json.meta.yaml").write_text("gate_digest: sha256:abc\ncosts: {train_gpu_hours: 3}\n")
    results = load_results(path)
    assert (results.gate_digest, results.costs) == ("sha256:abc", {"train_gpu_hours": 3.0})
    assert results.model == json.loads(path.read_text())["model_name"]
