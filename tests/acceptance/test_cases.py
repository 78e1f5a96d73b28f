"""Acceptance cases: each folder under cases/ is a spec, results and `expect.yaml`, run through the real CLI.

expect.yaml keys: `args` (after `gatekit`, run inside the folder; default: check gate.yaml), `exit` (the code),
`verdict` (when --format json), `stdout_contains`, `stderr` (exact) or `stderr_contains`.
Add a folder to add a case; nothing else to register.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Run

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case(case: Path, gatekit: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    expect: dict[str, Any] = yaml.safe_load((case / "expect.yaml").read_text())
    monkeypatch.chdir(case)

    result = gatekit(*expect.get("args", ["check", "gate.yaml", "--format", "json"]))

    assert result.code == expect["exit"], result.err or result.out
    if "verdict" in expect:
        assert json.loads(result.out)["verdict"] == expect["verdict"]
    for text in expect.get("stdout_contains", []):
        assert text in result.out
    if "stderr" in expect:
        assert result.err == expect["stderr"]
    for text in expect.get("stderr_contains", []):
        assert text in result.err
    assert "Traceback" not in result.err
