"""Bisection over a lineage (three-valued: an inconclusive stage is unknown, never good or bad) and
`gatekit check --exit-codes bisect` for `git bisect run`: 0 good, 1 bad, 125 skip, 128 abort."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.decide.lineage import bisect
from gatekit.decide.verdict import Verdict, build_verdict
from gatekit.results import Measurement
from tests.conftest import Run
from tests.factories import results, spec

SPEC = spec(
    {"id": "acc", "metric": "accuracy", "min": 0.80},
    {"id": "tox", "metric": "toxicity", "max": 0.05},
    baseline=False,
    metrics={"accuracy": {"kind": "proportion"}, "toxicity": {"kind": "proportion"}},
)
STAGES = ("pretraining", "sft", "preference", "quantization", "adapter")


def verdict(accuracy: Measurement, toxicity: Measurement) -> Verdict:
    return build_verdict(
        SPEC, results({"accuracy": {"all": accuracy}, "toxicity": {"all": toxicity}}), None, spec_path="s"
    )


CLEAN = Measurement(0.01, 1000)
# accuracy: pass, pass, inconclusive (0.80 on 100 examples straddles the floor), fail, fail.
ACCURACY = (
    Measurement(0.90, 1000),
    Measurement(0.90, 1000),
    Measurement(0.80, 100),
    Measurement(0.60, 1000),
    Measurement(0.60, 1000),
)


def lineage() -> list[tuple[str, Verdict]]:
    return [(stage, verdict(acc, CLEAN)) for stage, acc in zip(STAGES, ACCURACY, strict=True)]


def test_a_five_stage_lineage_names_the_first_bad_and_last_good_stages_around_an_unknown_one() -> None:
    (finding,) = bisect(lineage())

    assert (finding.subject, finding.states, finding.first_bad, finding.last_good, finding.unknown_between) == (
        "acc[all].min",
        ("good", "good", "unknown", "bad", "bad"),
        "quantization",
        "sft",
        ("preference",),
    )
    assert finding.message == (
        "acc[all].min first fails at quantization; last good at sft; unknown at preference, "
        "so it may have come in there; fails again at adapter"
    )


def test_checks_that_pass_at_every_stage_give_no_finding() -> None:
    stages = [(stage, verdict(Measurement(0.9, 1000), CLEAN)) for stage in STAGES]

    assert bisect(stages) == ()


def test_a_check_that_is_only_ever_unknown_blames_no_stage() -> None:
    stages = [
        (s, verdict(Measurement(0.9, 1000) if i < 2 else Measurement(0.8, 100), CLEAN)) for i, s in enumerate(STAGES)
    ]

    (finding,) = bisect(stages)

    assert (finding.first_bad, finding.last_good, finding.message) == (
        None,
        "sft",
        "acc[all].min never fails, but is unknown from preference; last good at sft: no stage can be blamed",
    )


def test_failing_from_the_first_stage_has_no_last_good() -> None:
    stages = [(s, verdict(Measurement(0.6, 1000), CLEAN)) for s in STAGES]

    (finding,) = bisect(stages)

    assert (finding.first_bad, finding.last_good) == ("pretraining", None)


EXAMPLE = Path(__file__).parent.parent / "examples" / "incident-bot"


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["--candidate", str(EXAMPLE / "candidate-good.yaml")], 0),
        (["--candidate", str(EXAMPLE / "candidate-regressed.yaml")], 1),
        (
            [
                "--candidate",
                str(EXAMPLE / "candidate-small.yaml"),
                "--baseline",
                str(EXAMPLE / "baseline-small.yaml"),
            ],
            125,
        ),
        (["--candidate", str(EXAMPLE / "no-such-results.yaml")], 128),
    ],
    ids=["ship-good", "fail-bad", "inconclusive-skip", "invalid-abort"],
)
def test_bisect_exit_codes(gatekit: Callable[..., Run], arguments: list[str], code: int) -> None:
    result = gatekit("check", str(EXAMPLE / "gate.yaml"), *arguments, "--exit-codes", "bisect", "--no-color")

    assert result.code == code


def test_without_bisect_exit_codes_invalid_input_is_still_2(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", str(EXAMPLE / "gate.yaml"), "--candidate", str(EXAMPLE / "no-such-results.yaml"))

    assert result.code == 2


def test_a_usage_error_under_bisect_aborts(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", str(EXAMPLE / "gate.yaml"), "--exit-codes=bisect", "--format", "nope")

    assert result.code == 128
