"""Planning on the command line: `validate` and `lock` flag a check that cannot pass at the planned n at the
bound's line; `gatekit plan` prints each check's chance and the gate's chance to ship."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import EXAMPLE, Run

HEAD = """\
version: 1
name: planned
hypothesis:
  statement: s
  stage: other
  improves: [refusal_rate]
  owner: o
  written: 2026-01-01
metrics:
  refusal_rate: {kind: proportion, higher_is_better: false}
  latency_p95_ms: {kind: quantile, higher_is_better: false}
rollback:
  checkpoint: {uri: s3://m, digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
  tokenizer: {uri: s3://t, digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
  generation_config: {uri: s3://g, digest: "sha256:3333333333333333333333333333333333333333333333333333333333333333"}
  serving_image: {uri: "r/i@sha256:4444444444444444444444444444444444444444444444444444444444444444"}
  data_revision: {uri: d, revision: "5555555555555555555555555555555555555555"}
  code_revision: {uri: c, revision: "6666666666666666666666666666666666666666"}
  eval_record: {uri: e, digest: "sha256:7777777777777777777777777777777777777777777777777777777777777777"}
"""
GATES = """\
gates:
  - id: refusal
    metric: refusal_rate
    slices: [all, harmless]
    max: 0.01
  - id: latency
    metric: latency_p95_ms
    max: 900
"""


def _write(tmp_path: Path, plan: str) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(HEAD + GATES + plan, encoding="utf-8")
    return path


def test_validate_flags_a_check_that_cannot_pass_at_its_planned_n_at_the_bounds_line(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    path = _write(tmp_path, "plan:\n  n: 1000\n  n_by_slice: {harmless: 200}\n")

    result = gatekit("validate", path)

    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"error: {path}:24:5: gates[0].max: cannot pass at the planned n on slice 'harmless': 0 events at n=200 cannot "
        "show <= 0.01 at 95% confidence; the best case passes from n = 299\n"
    )


def test_validate_flags_a_quantile_with_too_few_planned_examples(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    path = _write(tmp_path, "plan:\n  n: 40\n")

    result = gatekit("validate", path)

    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        f"error: {path}:27:5: gates[1].max: cannot pass at the planned n on slice 'all': "
        "p95 needs >= 59 examples for a 95% bound, the plan has 40"
    )


def test_validate_prints_the_planned_ship_probability_when_the_plan_assumes_a_truth(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    # Each slice passes when at most 4 of 1,000 refuse (Wilson upper bound <= 0.01): P = 0.9475, squared 0.898.
    path = _write(tmp_path, "plan:\n  n: 1000\n  truth: {refusal_rate: {'*': 0.002}}\n")

    result = gatekit("validate", path)

    assert result.code == 0
    assert result.out.splitlines()[-1] == (
        f"{path}: plan: P(gate ships) = 0.898 at the planned n under the plan's assumed truth (1 check not modelled)"
    )


def test_lock_refuses_to_pre_register_a_gate_that_cannot_pass(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    path = _write(tmp_path, "plan:\n  n: 200\n")

    result = gatekit("lock", path)

    assert result.code == 2
    assert not (tmp_path / "gate.yaml.lock").exists()
    assert "0 events at n=200 cannot show <= 0.01" in result.err


def test_validate_with_a_plan_still_imports_no_numpy_without_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    code = f"import sys; from gatekit.cli import main; main(['validate', {str(path)!r}]); print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_plan_prints_the_gate_ship_probability_for_the_incident_bot(gatekit: Callable[..., Run]) -> None:
    result = gatekit("plan", EXAMPLE / "gate.yaml", "--effect", "0.01", "--simulate", "0")

    assert result.code == 0
    lines = result.out.splitlines()
    assert any(line.startswith("P(gate ships) = 0.077 at the planned n") for line in lines)
    assert lines[-2:] == [
        "examples per slice (per arm) for a 80% chance that the gate ships: all 5,444; billing 1,788; "
        "outage 5,187; security 2,390; harmless 2,531; borderline 6,351",
        "the same, scaled down together until the product is 80%: all 4,679; billing 1,537; outage 4,458; "
        "security 2,054; harmless 2,176; borderline 5,458",
    ]


def test_plan_rejects_an_effect_that_is_not_a_number(gatekit: Callable[..., Run]) -> None:
    result = gatekit("plan", EXAMPLE / "gate.yaml", "--effect", "refusal_rate=lots")

    assert result.code == 2
    assert result.err == "error: <input>: --effect 'refusal_rate=lots': give METRIC=DELTA or DELTA (a number)\n"


def test_plan_simulates_the_ship_probability_where_checks_share_rows(gatekit: Callable[..., Run]) -> None:
    result = gatekit("plan", EXAMPLE / "gate.yaml", "--effect", "0.01", "--simulate", "500")

    assert result.code == 0
    assert result.out.splitlines()[-1].startswith("simulated P(gate ships) = ")
    assert "(2 SE, 500 simulated eval sets; slice all pooled from the other slices of " in result.out


def test_plan_runs_before_the_baseline_exists_and_flags_the_serving_templates_error_ceiling(
    gatekit: Callable[..., Run],
) -> None:
    template = Path(__file__).resolve().parents[1] / "gatekit" / "gates" / "serving.yaml"

    result = gatekit("plan", template, "--n", "1000", "--simulate", "0")

    assert result.code == 2
    assert result.err.splitlines() == [
        f"note: {template.parent / 'results' / 'baseline.yaml'} (the spec's baseline) does not exist yet: "
        "planning without it",
        f"{template}:37:5: gates[2].max: cannot pass at the planned n on slice 'all': 0 events at n=1,000 cannot "
        "show <= 0.001 at 95% confidence; the best case passes from n = 2,995",
    ]
