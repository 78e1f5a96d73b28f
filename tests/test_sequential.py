"""Repeated looks: the ledger counts every look at a candidate, a repeated fixed-n look revises, and a
sequential design keeps the chance of ever shipping a bad candidate within 1 - confidence."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gatekit import api
from gatekit.decide import plan, sequential
from gatekit.decide.methods import Settings
from gatekit.results import Measurement
from gatekit.spec.model import Sequential
from tests.conftest import Run

SPEC = """\
version: 1
name: looks
hypothesis: {{statement: s, stage: other, improves: [refusal_rate], owner: o, written: 2026-01-01}}
candidate: c.yaml
ledger: ledger.db
metrics:
  refusal_rate: {{kind: proportion, higher_is_better: false}}
gates:
  - id: refusal
    metric: refusal_rate
    max: 0.05
rollback:
  checkpoint: {{uri: s3://m, digest: "sha256:{d1}"}}
  tokenizer: {{uri: s3://t, digest: "sha256:{d2}"}}
  generation_config: {{uri: s3://g, digest: "sha256:{d3}"}}
  serving_image: {{uri: "r/i@sha256:{d4}"}}
  data_revision: {{uri: d, revision: "{r5}"}}
  code_revision: {{uri: c, revision: "{r6}"}}
  eval_record: {{uri: e, digest: "sha256:{d7}"}}
"""


def _spec(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "gate.yaml"
    text = SPEC.format(d1="1" * 64, d2="2" * 64, d3="3" * 64, d4="4" * 64, r5="5" * 40, r6="6" * 40, d7="7" * 64)
    path.write_text(text + extra, encoding="utf-8")
    return path


def _results(tmp_path: Path, events: int, n: int) -> None:
    (tmp_path / "c.yaml").write_text(
        f"model: canary-7\nmetrics:\n  refusal_rate:\n    all: {{value: {events / n}, n: {n}}}\n", encoding="utf-8"
    )


def test_a_second_look_at_grown_results_is_flagged_and_revises(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _results(tmp_path, 5, 500)
    first = api.run_check(spec)
    _results(tmp_path, 10, 1000)

    second = api.run_check(spec)

    assert first.verdict.verdict == "ship"
    assert second.verdict.verdict == "revise"
    assert [(r.kind, r.status, r.message) for r in second.verdict.reasons] == [
        (
            "peeking",
            "repeated_look",
            "look 2 of this candidate (canary-7) under this spec (earlier decisions #1); fixed-n intervals are not "
            "valid under repeated looks: declare `sequential:` in the spec to check results as they arrive",
        )
    ]
    assert second.verdict.summary.startswith("REVISE: the results were looked at before")


def test_checking_the_same_results_again_is_the_same_look(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _results(tmp_path, 5, 500)
    api.run_check(spec)

    again = api.run_check(spec)

    assert again.verdict.verdict == "ship"


def test_a_confidence_sequence_design_may_ship_at_a_later_look(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "sequential: {method: confidence-sequence, max_n: 2000}\n")
    _results(tmp_path, 5, 500)
    api.run_check(spec)
    _results(tmp_path, 10, 1000)

    second = api.run_check(spec)

    assert second.verdict.verdict == "ship"
    assert second.verdict.notes == (
        "sequential look 2 of this candidate: confidence sequence (normal mixture, tuned for n = 2,000)",
    )
    # The look reads its interval at the anytime-valid confidence, not at 0.95.
    assert second.verdict.gates[0].confidence == pytest.approx(
        sequential.look_confidence(Sequential(method="confidence-sequence", max_n=2000), 0.95, n=1000, look=2)
    )


def test_a_spending_design_has_no_alpha_left_after_its_last_look(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "sequential: {method: obrien-fleming, max_looks: 2}\n")
    for n in (500, 1000, 1500):
        _results(tmp_path, n // 100, n)
        last = api.run_check(spec)

    assert last.verdict.verdict == "revise"
    assert [r.status for r in last.verdict.reasons] == ["looks_spent"]


@pytest.mark.parametrize("method", ["obrien-fleming", "pocock"])
def test_spending_spends_exactly_alpha_over_the_planned_looks(method: str) -> None:
    spent = [sequential.look_alpha(method, k, 10, 0.05) for k in range(1, 11)]
    assert sum(spent) == pytest.approx(0.05)
    assert sequential.look_alpha(method, 11, 10, 0.05) == sequential.NO_ALPHA


def test_obrien_fleming_spends_less_than_pocock_at_the_first_look() -> None:
    assert sequential.look_alpha("obrien-fleming", 1, 10, 0.05) < sequential.look_alpha("pocock", 1, 10, 0.05)


def test_the_confidence_sequence_is_narrowest_at_its_max_n() -> None:
    z = {n: sequential.confidence_sequence_z(n, 0.05, 1000) for n in (250, 1000, 4000)}
    assert z[1000] < z[250]
    assert z[1000] < z[4000]


LOOKS, BATCH, RUNS, SEED = 50, 100, 400, 20261201


def _false_ship_rate(confidence_at_look: list[float]) -> float:
    """Share of runs in which a candidate whose refusal rate truly sits on the ceiling (0.05) ships at some
    look, each look adding BATCH examples and reading the check at the given confidence."""
    rng = np.random.default_rng(SEED)
    counts = rng.binomial(BATCH, 0.05, size=(RUNS, LOOKS)).cumsum(axis=1)
    shipped = 0
    for run in counts:
        for look, events in enumerate(run):
            n = BATCH * (look + 1)
            model = plan.CheckModel.of("max", 0.05, Settings(confidence=confidence_at_look[look], kind="proportion"))
            if plan.check_passes(model, Measurement(int(events) / n, n), None):
                shipped += 1
                break
    return shipped / RUNS


def test_over_50_looks_the_fixed_design_ships_a_bad_candidate_too_often_and_the_sequential_ones_do_not() -> None:
    fixed = _false_ship_rate([0.95] * LOOKS)
    cs = Sequential(method="confidence-sequence", max_n=LOOKS * BATCH)
    spending = Sequential(method="obrien-fleming", max_looks=LOOKS)
    sequence = _false_ship_rate(
        [sequential.look_confidence(cs, 0.95, n=BATCH * (k + 1), look=k + 1) for k in range(LOOKS)]
    )
    spent = _false_ship_rate(
        [sequential.look_confidence(spending, 0.95, n=BATCH * (k + 1), look=k + 1) for k in range(LOOKS)]
    )

    se = math.sqrt(0.05 * 0.95 / RUNS)
    assert fixed > 0.05 + 2 * se
    assert sequence <= 0.05
    assert spent <= 0.05


CANARY = Path(__file__).resolve().parents[1] / "examples" / "canary"


def test_the_canary_example_stops_at_the_look_where_the_mobile_slice_regresses(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    codes = []
    for look in (1, 2, 3):
        result = gatekit("check", CANARY / "gate.yaml", "--candidate", CANARY / f"look-{look}.yaml", "--ledger", ledger)
        codes.append(result.code)

    assert codes == [3, 3, 4]
    assert "STOP: 1 gate check failed (errors[mobile].max_increase)" in result.out
    assert "sequential look 3 of this candidate" in result.out


def test_the_canary_without_its_sequential_design_is_flagged_at_the_second_look(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    text = (CANARY / "gate.yaml").read_text(encoding="utf-8")
    fixed = re.sub(r"\nsequential:\n  method: .*\n  max_n: .*\n", "\n", text)
    assert "sequential" not in fixed.split("gates:")[0].replace("sequential design", "")
    for name in ("production.yaml", "look-1.yaml", "look-2.yaml"):
        (tmp_path / name).write_text((CANARY / name).read_text(encoding="utf-8"), encoding="utf-8")
    spec = tmp_path / "gate.yaml"
    spec.write_text(fixed, encoding="utf-8")
    gatekit("check", spec, "--candidate", tmp_path / "look-1.yaml")

    second = gatekit("check", spec, "--candidate", tmp_path / "look-2.yaml", "--format", "json")

    assert second.code == 3
    assert '"kind": "peeking"' in second.out
    assert "look 2 of this candidate (support-bot-v42-canary) under this spec" in second.out


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "markdown", "github", "html"])
def test_a_repeated_look_is_named_in_every_report_format(tmp_path: Path, fmt: str) -> None:
    from gatekit.report import RenderOptions, get_renderer

    spec = _spec(tmp_path)
    _results(tmp_path, 5, 500)
    api.run_check(spec)
    _results(tmp_path, 10, 1000)
    verdict = api.run_check(spec).verdict

    report = get_renderer(fmt)(verdict, RenderOptions(width=400, color=False))  # type: ignore[arg-type]

    assert "look 2 of this candidate (canary-7) under this spec" in report


def test_spending_by_information_fraction_spends_alpha_by_max_n_and_nothing_after() -> None:
    sizes = [150, 400, 650, 1000, 1200]
    spent = [
        sequential.fraction_alpha("obrien-fleming", n, prev, 1000, 0.05)
        for prev, n in zip([0, *sizes[:-1]], sizes, strict=True)
    ]
    assert sum(spent[:4]) == pytest.approx(0.05)
    assert spent[4] == sequential.NO_ALPHA


def test_a_look_whose_results_did_not_grow_spends_no_alpha() -> None:
    assert sequential.fraction_alpha("pocock", 400, 400, 1000, 0.05) == sequential.NO_ALPHA


def test_a_fraction_spending_design_reads_the_previous_looks_n_from_the_ledger(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "sequential: {method: pocock, max_n: 2000}\n")
    _results(tmp_path, 5, 500)
    api.run_check(spec)
    _results(tmp_path, 10, 1000)

    second = api.run_check(spec).verdict

    expected = 1 - sequential.fraction_alpha("pocock", 1000, 500, 2000, 0.05)
    assert second.gates[0].confidence == pytest.approx(expected)
    assert second.notes == ("sequential look 2 of this candidate: Pocock-type alpha spending up to n = 2,000",)


def test_a_fraction_spending_design_revises_once_the_previous_look_reached_max_n(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "sequential: {method: obrien-fleming, max_n: 1000}\n")
    for n in (1000, 1500):
        _results(tmp_path, n // 100, n)
        last = api.run_check(spec).verdict

    assert last.verdict == "revise"
    assert [r.message for r in last.reasons] == [
        "gate refusal: no alpha is left to pass on refusal_rate[all] (the previous look already reached max_n 1,000, "
        "or the results did not grow since it)"
    ]


def test_an_unrecorded_check_still_sees_the_earlier_looks(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _results(tmp_path, 5, 500)
    api.run_check(spec)
    _results(tmp_path, 10, 1000)

    unrecorded = api.check(spec)  # the Python API records nothing by default

    assert [r.kind for r in unrecorded.reasons] == ["peeking"]


def test_check_notes_results_whose_n_differs_from_the_planned_n(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "plan: {n: 1000}\n")
    _results(tmp_path, 5, 500)

    verdict = api.check(spec)

    assert verdict.notes == (
        f"{tmp_path / 'c.yaml'}: the results' n differs from the plan: refusal_rate[all] has n = 500, planned 1,000",
    )


def test_under_a_sequential_design_only_an_n_beyond_the_plan_is_noted(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "plan: {n: 1000}\nsequential: {method: confidence-sequence, max_n: 1000}\n")
    _results(tmp_path, 5, 500)
    growing = api.check(spec)
    _results(tmp_path, 15, 1500)
    beyond = api.check(spec)

    assert growing.notes == (
        "sequential look 1 of this candidate: confidence sequence (normal mixture, tuned for n = 1,000)",
    )
    assert beyond.notes[-1].endswith("refusal_rate[all] has n = 1,500, planned 1,000")


def test_a_ledger_still_being_created_by_another_check_has_no_looks(tmp_path: Path) -> None:
    from gatekit.integrity.ledger import earlier_looks

    creating = tmp_path / "ledger.db"
    creating.touch()  # the file exists, its schema is not committed yet

    assert earlier_looks(creating, "sha256:" + "0" * 64, "m") == []
