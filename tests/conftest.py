"""Shared helpers: run the CLI in-process and capture exit code, stdout and stderr together."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekit.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "incident-bot"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def gatekit(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Call `gatekit ARGS...` in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented text file under the test's tmp folder and return its path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write_file


MINIMAL_SPEC = """
version: 1
name: tiny
hypothesis:
  statement: The change improves accuracy.
  stage: other
  improves: accuracy
  owner: me
  written: 2026-01-01
candidate: candidate.yaml
baseline: baseline.yaml
gates:
  - id: acc
    metric: accuracy
    min: 0.5
rollback:
  checkpoint: {uri: s3://m, digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
  tokenizer: {uri: s3://t, digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}
  generation_config: {uri: s3://g, digest: "sha256:3333333333333333333333333333333333333333333333333333333333333333"}
  serving_image: {uri: "r/i@sha256:4444444444444444444444444444444444444444444444444444444444444444"}
  data_revision: {uri: d, revision: "5555555555555555555555555555555555555555"}
  code_revision: {uri: c, revision: "6666666666666666666666666666666666666666"}
  eval_record: {uri: e, digest: "sha256:7777777777777777777777777777777777777777777777777777777777777777"}
require_uncertainty: false  # bare-number results, gated on the point estimate
"""
"""A spec with one gate and a complete manifest: ships when `accuracy` on `all` is at least 0.5."""


if os.environ.get("GATEKIT_TEST_YAML_C") == "1":
    # The suite, or a part of it, with every YAML file read the way a large one is: by libyaml, and by the fast
    # reader when it is plainly data (`GATEKIT_TEST_YAML_C=1 pytest tests/test_hostile_input.py`).
    from gatekit.spec import yamlio

    yamlio.C_SCANNER_FROM = -1
