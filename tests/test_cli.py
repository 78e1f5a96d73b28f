"""The command line: the example's two stories, exit codes, outputs, init, schema, validate."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekit import __version__
from gatekit.spec.yamlio import load_yaml_text
from tests.conftest import EXAMPLE, ROOT, Run

SPEC = EXAMPLE / "gate.yaml"
REGRESSED = EXAMPLE / "candidate-regressed.yaml"
STAGES = ["pretraining", "sft", "preference", "quantization", "adapter", "vendor-selection", "serving", "other"]


def test_good_candidate_ships(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", SPEC, "--no-color", "--width", "140")

    assert result.code == 0
    assert result.err == ""
    assert "SHIP: all 16 gate checks passed" in result.out


def test_regressed_candidate_stops_and_names_the_hidden_slice(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", SPEC, "--candidate", REGRESSED, "--no-color", "--width", "160")

    assert result.code == 4
    assert "STOP: 1 gate check failed (harmless-refusal[harmless].max_increase)" in result.out
    assert (
        "the aggregate hides a regression: refusal_rate on 'all' is 0.07875, within max_increase "
        "(threshold 0.095), but slice 'harmless' at 0.12 breaches it"
    ) in " ".join(result.out.split())


def test_json_verdict_has_the_stable_keys(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", SPEC, "--candidate", REGRESSED, "--format", "json")
    verdict = json.loads(result.out)

    assert result.code == 4
    assert verdict["verdict"] == "stop"
    assert verdict["schema_version"] == 1
    failing = [g for g in verdict["gates"] if g["status"] == "fail"]
    assert [(g["id"], g["metric"], g["slice"], g["bound"]) for g in failing] == [
        ("harmless-refusal", "refusal_rate", "harmless", "max_increase")
    ]
    assert {"id", "metric", "slice", "bound", "status", "observed", "threshold", "reason"} <= set(failing[0])
    assert failing[0]["observed"] == 0.12


def test_output_is_written_atomically_and_summary_goes_to_stderr(gatekit: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "reports" / "verdict.json"

    result = gatekit("check", SPEC, "--format", "json", "--output", out)

    assert result.code == 0
    assert result.out == ""
    assert result.err.startswith("SHIP: ")
    assert json.loads(out.read_text())["verdict"] == "ship"
    assert [p.name for p in out.parent.iterdir()] == ["verdict.json"]


def test_failed_write_leaves_the_previous_report_intact(
    gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "verdict.json"
    out.write_text("previous")

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", disk_full)
    result = gatekit("check", SPEC, "--format", "json", "--output", out)

    assert result.code == 2
    assert result.err == f"error: {out}: cannot write the report: No space left on device\n"
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["verdict.json"]


def test_unknown_format_is_a_usage_error(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", SPEC, "--format", "yaml")

    assert result.code == 2
    assert result.err.startswith("error: <input>: unknown report format 'yaml'; choose one of: table, json")


def test_missing_candidate_is_a_usage_error(gatekit: Callable[..., Run], write: Callable[[str, str], Path]) -> None:
    text = SPEC.read_text().replace("candidate: candidate-good.yaml\n", "")
    spec = write("gate.yaml", text)

    result = gatekit("check", spec)

    assert result.code == 2
    assert result.err == f"error: {spec}: no candidate results: give --candidate FILE or set `candidate:` in the spec\n"


def test_usage_errors_exit_2(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check")

    assert result.code == 2
    assert "Missing argument 'SPEC'" in result.err


def test_version(gatekit: Callable[..., Run]) -> None:
    assert gatekit("--version") == Run(0, f"gatekit {__version__}\n", "")


def test_internal_error_exits_1_and_asks_to_be_reported(
    gatekit: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr("gatekit.decide.verdict.evaluate_gates", broken)
    result = gatekit("check", SPEC)

    assert result.code == 1
    assert result.err.startswith("gatekit: internal error (a bug in gatekit, not in your input).")
    assert "ZeroDivisionError: bug" in result.err


@pytest.mark.parametrize("stage", STAGES)
def test_init_writes_a_spec_that_validates(
    stage: str, gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    written = gatekit("init", "gate.yaml", "--stage", stage)
    validated = gatekit("validate", "gate.yaml")

    assert written.code == 0
    assert validated.code == 0
    assert validated.out.startswith("gate.yaml: valid (")
    assert f"  written: {dt.date.today().isoformat()}" in Path("gate.yaml").read_text()
    assert "warning: rollback.checkpoint: not pinned" in validated.err


def test_init_does_not_overwrite(gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("gate.yaml").write_text("mine")

    result = gatekit("init", "gate.yaml")

    assert (result.code, result.err) == (2, "error: <input>: gate.yaml already exists; use --force to overwrite it\n")
    assert Path("gate.yaml").read_text() == "mine"


def test_init_unknown_stage(gatekit: Callable[..., Run]) -> None:
    result = gatekit("init", "-", "--stage", "rlhf")

    assert result.code == 2
    assert result.err.startswith("error: <input>: unknown stage 'rlhf'")


def test_validate_strict_fails_on_an_incomplete_manifest(gatekit: Callable[..., Run]) -> None:
    result = gatekit("validate", "--strict", ROOT / "gates" / "sft.yaml")

    assert result.code == 2


def test_validate_reports_each_spec(gatekit: Callable[..., Run], write: Callable[[str, str], Path]) -> None:
    bad = write("bad.yaml", "version: 1\n")

    result = gatekit("validate", SPEC, bad)

    assert result.code == 2
    assert result.out == f"{SPEC}: valid (5 gates, 5 bounds)\n"
    assert f"error: {bad}:1:1: name: required field is missing" in result.err


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, dt.date) else v))


def _all_specs() -> list[Path]:
    return [SPEC, *sorted((ROOT / "gates").glob("*.yaml"))]


def test_every_bundled_spec_validates(gatekit: Callable[..., Run]) -> None:
    specs = _all_specs()

    result = gatekit("validate", *specs)

    assert result.code == 0
    assert len(specs) == 1 + len(STAGES)
    assert result.out.count(": valid (") == len(specs)


@pytest.mark.parametrize("path", _all_specs(), ids=lambda p: p.name)
def test_json_schema_accepts_every_bundled_spec(path: Path, gatekit: Callable[..., Run]) -> None:
    schema = json.loads(gatekit("schema").out)
    data = _as_json(load_yaml_text(path.read_text(), str(path), error=ValueError).data)  # type: ignore[arg-type]

    jsonschema.validate(data, schema)


def test_json_schema_rejects_an_unknown_key(gatekit: Callable[..., Run]) -> None:
    schema = json.loads(gatekit("schema").out)
    data = _as_json(load_yaml_text(SPEC.read_text(), str(SPEC), error=ValueError).data)  # type: ignore[arg-type]
    data["gates"][0]["max_increse"] = 0.1

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_a_results_format_can_be_forced_when_the_name_does_not_tell(
    gatekit: Callable[..., Run], tmp_path: Path
) -> None:
    # The good candidate, copied under a name that detection would read as gatekit YAML; forced, it is YAML.
    renamed = tmp_path / "candidate.results"
    renamed.write_text((EXAMPLE / "candidate-good.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    forced = gatekit("check", SPEC, "--candidate", renamed, "--candidate-format", "gatekit", "--format", "json")
    as_table = gatekit("check", SPEC, "--candidate", renamed, "--candidate-format", "jsonl", "--format", "json")

    assert forced.code == 0
    assert as_table.code == 2
    assert "candidate.results" in as_table.err


def test_an_unknown_results_format_is_a_usage_error(gatekit: Callable[..., Run]) -> None:
    result = gatekit("check", SPEC, "--baseline-format", "excel")

    assert result.code == 2
    assert "unknown results format 'excel'; choose one of: gatekit, jsonl" in result.err


# --- the console entry point: exits without the interpreter's teardown, but not without its duties ---------


def test_the_entry_point_exits_with_the_verdict_and_a_complete_report() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gatekit", "check", str(EXAMPLE / "gate.yaml"), "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0
    assert json.loads(done.stdout)["verdict"] == "ship"


def test_the_entry_point_runs_atexit_handlers() -> None:
    probe = (
        "import atexit, sys; atexit.register(lambda: print('handler ran', flush=True)); "
        "sys.argv = ['gatekit', '--version']; from gatekit.cli import run; run()"
    )
    done = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True)

    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == "handler ran"


def test_a_ship_whose_output_cannot_be_flushed_at_exit_is_not_a_pass() -> None:
    probe = (
        "import io, sys, gatekit.cli as c\n"
        "class Gone(io.StringIO):\n"
        "    def flush(self): raise BrokenPipeError(32, 'Broken pipe')\n"
        "sys.stdout = Gone(); c.main = lambda: 0; c.run()"
    )
    done = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True)

    assert done.returncode == 1


def test_the_cli_offers_init_templates_for_exactly_the_spec_stages() -> None:
    from gatekit.cli._app import STAGE_TEMPLATES
    from gatekit.spec.base import STAGES as SPEC_STAGES

    assert STAGE_TEMPLATES == SPEC_STAGES
