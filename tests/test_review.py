"""The review queue and the disagreement queue on a paired per-example fixture (tests/fixtures/review)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.api import check
from gatekit.decide.review import review_queue
from gatekit.decide.verdict import Verdict
from gatekit.outcomes import GateOutcome
from gatekit.report import RenderOptions, render
from gatekit.results import Measurement, Results, Samples
from tests import factories
from tests.conftest import ROOT, Run

FIXTURE = ROOT / "tests" / "fixtures" / "review"
SPEC = FIXTURE / "gate.yaml"


@pytest.fixture(scope="module")
def verdict() -> Verdict:
    return check(SPEC)


def _queue(verdict: Verdict, gate: str, slice_name: str) -> list[tuple[str | int, float, float]]:
    entry = next(r for r in verdict.review if r.id == gate and r.slice == slice_name)
    return [(e.id, e.candidate, e.baseline) for e in entry.examples]


def test_a_rate_queue_lists_the_pass_to_fail_examples_in_id_order_up_to_the_limit(verdict: Verdict) -> None:
    assert _queue(verdict, "ok", "all") == [("q1", 0.0, 1.0), ("q3", 0.0, 1.0), ("q5", 0.0, 1.0)]
    assert _queue(verdict, "ok", "task=billing") == [("q1", 0.0, 1.0), ("q3", 0.0, 1.0)]
    assert _queue(verdict, "ok", "task=outage") == [("q5", 0.0, 1.0)]


def test_a_mean_queue_ranks_the_largest_drop_first_and_stops_at_the_limit(verdict: Verdict) -> None:
    assert [e[0] for e in _queue(verdict, "score", "all")] == ["q1", "q5", "q8"]  # q3 (-0.1) is 4th: limit 3


def test_a_latency_queue_ranks_the_largest_rise_first_from_the_bound_direction(verdict: Verdict) -> None:
    assert _queue(verdict, "latency", "all") == [("q2", 400.0, 100.0), ("q7", 250.0, 100.0)]
    assert next(r for r in verdict.review if r.id == "latency").higher_is_better is False


@pytest.mark.parametrize(
    ("gate", "slice_name", "counts"),
    [
        ("ok", "all", (3, 1, 4, 8)),
        ("ok", "task=billing", (2, 1, 1, 4)),
        ("ok", "task=outage", (1, 0, 3, 4)),
        ("score", "all", (4, 1, 3, 8)),
        ("latency", "all", (2, 0, 6, 8)),
    ],
)
def test_counts_per_slice(verdict: Verdict, gate: str, slice_name: str, counts: tuple[int, int, int, int]) -> None:
    r = next(r for r in verdict.review if r.id == gate and r.slice == slice_name)
    assert (r.regressed, r.improved, r.unchanged, r.paired) == counts


def test_each_example_carries_the_named_columns_of_both_sides(verdict: Verdict) -> None:
    first = next(r for r in verdict.review if r.id == "ok").examples[0]
    assert first.columns == {"prompt": "prompt q1", "output": "candidate answer q1"}
    assert first.baseline_columns == {"prompt": "prompt q1", "output": "baseline answer q1"}


def test_the_disagreement_queue_lists_the_examples_two_scorers_score_differently(verdict: Verdict) -> None:
    found = {
        (d.slice, d.disagree, d.compared): [(x.id, x.first, x.second) for x in d.examples]
        for d in verdict.disagreements
    }
    assert found == {
        ("all", 2, 8): [("q2", 1.0, 0.0), ("q5", 0.0, 1.0)],
        ("task=billing", 1, 4): [("q2", 1.0, 0.0)],
        ("task=outage", 1, 4): [("q5", 0.0, 1.0)],
    }


def test_a_passing_slice_has_no_queue(write: Callable[[str, str], Path]) -> None:
    text = SPEC.read_text().replace("max_decrease: 0.0\n  - id: score", "max_decrease: 1.0\n  - id: score")
    spec = write("gate.yaml", text)
    for name in ("candidate.jsonl", "baseline.jsonl"):
        (spec.parent / name).write_bytes((FIXTURE / name).read_bytes())
    assert [r.id for r in check(spec).review] == ["score", "latency"]


def test_the_review_file_is_jsonl_by_suffix(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "queue.jsonl"
    run = gatekit("check", SPEC, "--no-record", "--review", path, "-f", "json")
    assert run.code == 3
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["queue"], r.get("gate"), r["slice"], r["rank"], r["id"]) for r in rows[:3]] == [
        ("regressed", "ok", "all", 1, "q1"),
        ("regressed", "ok", "all", 2, "q3"),
        ("regressed", "ok", "all", 3, "q5"),
    ]
    assert len(rows) == 15
    assert rows[-1] == {
        "queue": "disagreement",
        "metrics": ["judge_ok", "exact_ok"],
        "slice": "task=outage",
        "rank": 1,
        "id": "q5",
        "first": 0.0,
        "second": 1.0,
        "columns": {"prompt": "prompt q5", "output": "candidate answer q5"},
    }
    assert "wrote review queue" in run.err


def test_the_review_file_is_csv_by_suffix(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "queue.csv"
    assert gatekit("check", SPEC, "--no-record", "--review", path).code == 3
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows[0]["id"] == "q1"
    assert rows[0]["output"] == "candidate answer q1"
    assert rows[0]["baseline:output"] == "baseline answer q1"
    assert rows[-1]["first_metric"] == "judge_ok"


def test_a_review_file_of_another_suffix_is_a_usage_error(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    run = gatekit("check", SPEC, "--no-record", "--review", tmp_path / "queue.txt")
    assert run.code == 2
    assert "name a .jsonl or .csv file" in run.err
    assert not (tmp_path / "queue.txt").exists()


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "markdown", "github", "html"])
def test_every_report_format_shows_the_counts(verdict: Verdict, fmt: str) -> None:
    text = render(verdict, fmt, RenderOptions(width=200))
    if fmt == "json":
        assert json.loads(text)["review"][0]["regressed"] == 3
    else:
        assert "3 regressed, 1 improved, 4 unchanged of 8 paired examples" in text.replace("\\", "")


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_markdown_and_html_show_the_queued_examples(verdict: Verdict, fmt: str) -> None:
    text = render(verdict, fmt, RenderOptions())
    assert "candidate answer q5" in text
    assert "q8" in text


# ---------------------------------------------------------------- the identity of a paired rate change


def _rate(values: list[int]) -> Measurement:
    array = np.array(values, dtype=np.float64)
    ids = np.array([f"e{i}" for i in range(len(values))], dtype=object)
    return Measurement(float(array.mean()), len(values), samples=Samples(array, ids))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=60))
def test_a_paired_rate_change_is_improved_minus_regressed_over_n(pairs: list[tuple[int, int]]) -> None:
    cand = [c for c, _ in pairs]
    base = [b for _, b in pairs]
    spec = factories.spec({"id": "g", "metric": "acc", "max_decrease": 0.0})
    candidate = Results("c", "c", {"acc": {"all": _rate(cand)}})
    baseline = Results("b", "b", {"acc": {"all": _rate(base)}})
    check_ = GateOutcome(
        id="g",
        metric="acc",
        slice="all",
        bound="max_decrease",
        limit=0.0,
        on_fail="revise",
        status="inconclusive",
        observed=None,
        baseline=None,
        threshold=None,
        margin=None,
        n=None,
        reason="",
    )
    (entry,) = review_queue(spec, [check_], candidate, baseline)
    change = sum(cand) / len(cand) - sum(base) / len(base)
    assert (entry.improved - entry.regressed) / entry.paired == pytest.approx(change, abs=1e-12)
    assert entry.regressed + entry.improved + entry.unchanged == entry.paired == len(pairs)


def test_the_incident_bot_per_example_candidate_stops_with_its_review_queue() -> None:
    verdict = check(ROOT / "examples" / "incident-bot" / "per-example" / "gate.yaml")
    assert verdict.verdict == "stop"
    entry = next(r for r in verdict.review if r.id == "harmless-refusal" and r.slice == "all")
    assert (entry.regressed, entry.improved, entry.unchanged) == (28, 0, 272)
    assert [e.id for e in entry.examples[:3]] == ["billing-0006", "billing-0042", "billing-0162"]
    assert entry.examples[0].columns["output"] == "I can't help with that request."


def _inconclusive(bound: str = "max_decrease") -> GateOutcome:
    return GateOutcome(
        id="g",
        metric="acc",
        slice="all",
        bound=bound,  # type: ignore[arg-type]
        limit=0.0,
        on_fail="revise",
        status="inconclusive",
        observed=None,
        baseline=None,
        threshold=None,
        margin=None,
        n=None,
        reason="",
    )


def _scores(values: list[float], ids: list[Any]) -> Measurement:
    array = np.array(values, dtype=np.float64)
    return Measurement(float(array.mean()), len(values), samples=Samples(array, np.array(ids, dtype=object)))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=80),
    st.integers(1, 10),
    st.randoms(use_true_random=False),
)
def test_the_ranking_is_a_plain_sort_by_harm_then_id(pairs: list[tuple[int, int]], limit: int, rng: Any) -> None:
    ids = [f"e{i:03d}" for i in range(len(pairs))]
    shuffled = ids[:]
    rng.shuffle(shuffled)
    spec = factories.spec({"id": "g", "metric": "acc", "max_decrease": 0.0}, review={"limit": limit})
    cand = {k: float(c) for k, (c, _) in zip(ids, pairs, strict=True)}
    base = {k: float(b) for k, (_, b) in zip(ids, pairs, strict=True)}
    candidate = Results("c", "c", {"acc": {"all": _scores([cand[k] for k in shuffled], shuffled)}})
    baseline = Results("b", "b", {"acc": {"all": _scores([base[k] for k in ids], ids)}})
    (entry,) = review_queue(spec, [_inconclusive()], candidate, baseline)
    expected = sorted((k for k in ids if base[k] > cand[k]), key=lambda k: (-(base[k] - cand[k]), k))[:limit]
    assert [e.id for e in entry.examples] == expected
    assert [e.rank for e in entry.examples] == list(range(1, len(expected) + 1))


def test_ids_of_different_types_pair_by_value() -> None:
    spec = factories.spec({"id": "g", "metric": "acc", "max_decrease": 0.0})
    candidate = Results("c", "c", {"acc": {"all": _scores([0.0, 1.0, 0.0], [1, 2, 3])}})
    baseline = Results("b", "b", {"acc": {"all": _scores([1.0, 1.0, 1.0], [1.0, 2.0, 4.0])}})
    (entry,) = review_queue(spec, [_inconclusive()], candidate, baseline)
    assert (entry.paired, entry.unpaired, [e.id for e in entry.examples]) == (2, 2, [1])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.5, 1.0, 250.0, np.inf]), st.sampled_from([0.0, 1.0, 100.0, np.inf])),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_each_queued_example_is_what_validating_its_fields_gives(pairs: list[tuple[float, float]], text: bool) -> None:
    # A numpy float64 passes a float field's validation as itself: the queue must hand over Python values.
    ids: list[Any] = [f"e{i}" if text else i for i in range(len(pairs))]
    spec = factories.spec({"id": "g", "metric": "acc", "max_increase": 0.0}, review={"limit": 50})
    candidate = Results("c", "c", {"acc": {"all": _scores([c for c, _ in pairs], ids)}})
    baseline = Results("b", "b", {"acc": {"all": _scores([b for _, b in pairs], ids)}})
    (entry,) = review_queue(spec, [_inconclusive("max_increase")], candidate, baseline)
    assert len(entry.examples) == entry.regressed
    for example in entry.examples:
        validated = type(example).model_validate(example.model_dump())
        assert example.model_dump_json() == validated.model_dump_json()
        assert [type(v) for v in (example.candidate, example.baseline, example.change)] == [float, float, float]
        assert type(example.rank) is int
        assert type(example.id) is (str if text else int)
