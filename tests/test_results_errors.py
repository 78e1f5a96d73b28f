"""Bad results files: exit 2 with a located diagnostic; non-finite values load and are reported as missing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_SPEC, Run


@pytest.fixture
def spec_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(MINIMAL_SPEC.lstrip("\n"), encoding="utf-8")
    Path("baseline.yaml").write_text("model: b\nmetrics: {accuracy: {all: 0.5}}\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics:\n  accuracy:\n    all: {value: 0.9, n: -1}\n",
            "candidate.yaml:4:26: metrics.accuracy.all.n: Input should be greater than or equal to 0",
            id="negative-n",
        ),
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics:\n  accuracy:\n    all: {value: 0.9, n: 2.5}\n",
            "candidate.yaml:4:26: metrics.accuracy.all.n: Input should be a valid integer (got float)",
            id="fractional-n",
        ),
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics:\n  accuracy:\n    all: {value: 0.9, n: true}\n",
            "candidate.yaml:4:26: metrics.accuracy.all.n: Input should be a valid integer (got bool)",
            id="bool-n",
        ),
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics:\n  accuracy:\n    all: '0.9'\n",
            "candidate.yaml:4:10: metrics.accuracy.all: Input should be a valid dictionary or instance of "
            "MeasurementRecord",
            id="quoted-value",
        ),
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics:\n  accuracy:\n    all: 0.9\n    all: 0.8\n",
            "candidate.yaml:5:5: duplicate key 'all' (first defined at line 4)",
            id="duplicate-slice",
        ),
        pytest.param(
            "candidate.json",
            '{"model": "c", "metrics": {"accuracy": {"all": 0.9, "all": 0.8}}}',
            "candidate.json:1:53: duplicate key 'all' (first defined at line 1)",
            id="duplicate-key-json",
        ),
        pytest.param(
            "candidate.json",
            '{"model": "c", "metrics": {"accuracy": {"all": 0.9}}',
            "candidate.json:1:53: not valid JSON: Expecting ',' delimiter",
            id="truncated-json",
        ),
        pytest.param(
            "candidate.json",
            '{"model": "c",\n "metrics": {"accuracy": {"all": {"value": 0.9, "stderr": -1}}}}',
            "candidate.json:2:59: metrics.accuracy.all.stderr: Input should be greater than or equal to 0",
            id="json-error-located",
        ),
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics:\n  accuracy:\n    all: {value: 0.9, count: 3}\n",
            "candidate.yaml:4:23: metrics.accuracy.all.count: unknown field",
            id="unknown-field",
        ),
        pytest.param(
            "candidate.yaml",
            "metrics: {}\n",
            "candidate.yaml:1:1: model: required field is missing",
            id="no-model",
        ),
        pytest.param(
            "candidate.yaml",
            "model: c\nmetrics: {accuracy: {all: 0.9}}\ncosts: {usd: -5}\n",
            "candidate.yaml:3:14: costs.usd: Input should be greater than or equal to 0",
            id="negative-cost",
        ),
        pytest.param("candidate.yaml", "", "candidate.yaml: the file is empty (no YAML document)", id="empty"),
        pytest.param(
            "candidate.yaml",
            "[1, 2]\n",
            "candidate.yaml:1:1: a results file must be a mapping with `model` and `metrics`, not a list",
            id="not-a-mapping",
        ),
    ],
)
def test_bad_results_are_invalid_input(
    name: str, text: str, expected: str, spec_dir: Path, gatekit: Callable[..., Run]
) -> None:
    Path(name).write_text(text, encoding="utf-8")

    result = gatekit("check", "spec.yaml", "--candidate", name)

    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines()[0].startswith("error: " + expected)


def test_missing_results_file(spec_dir: Path, gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", "spec.yaml")

    assert (result.code, result.err) == (2, "error: candidate.yaml: file not found\n")


def test_rate_outside_zero_one_for_a_proportion(spec_dir: Path, gatekit: Callable[..., Run]) -> None:
    text = Path("spec.yaml").read_text().replace("gates:\n", "metrics:\n  accuracy: {kind: proportion}\ngates:\n")
    Path("spec.yaml").write_text(text)
    Path("candidate.yaml").write_text("model: c\nmetrics:\n  accuracy:\n    all: 1.3\n")

    result = gatekit("check", "spec.yaml")

    assert result.code == 2
    assert result.err == (
        "error: candidate.yaml:4:10: metrics.accuracy.all.value: accuracy is a proportion: 1.3 is outside [0, 1]\n"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("candidate.json", '{"model": "c", "metrics": {"accuracy": {"all": NaN}}}'),
        ("candidate.json", '{"model": "c", "metrics": {"accuracy": {"all": Infinity}}}'),
        ("candidate.yaml", "model: c\nmetrics: {accuracy: {all: .nan}}\n"),
    ],
)
def test_non_finite_values_are_missing_never_ship(
    name: str, text: str, spec_dir: Path, gatekit: Callable[..., Run]
) -> None:
    Path(name).write_text(text, encoding="utf-8")

    result = gatekit("check", "spec.yaml", "--candidate", name, "--format", "json")

    assert result.code == 3
    assert '"verdict": "revise"' in result.out
    assert '"status": "missing"' in result.out
