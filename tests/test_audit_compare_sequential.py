"""Audit: `compare` gives each checkpoint exactly `check`'s verdict, a sequential design included: a
checkpoint that `check` would not ship is never eligible, never recommended."""

from __future__ import annotations

import shutil
from pathlib import Path

from gatekit.api import check
from gatekit.api_compare import run_compare

CANARY = Path(__file__).parent.parent / "examples" / "canary"


def _pocock_spec_without_ledger(tmp_path: Path) -> Path:
    for name in ("gate.yaml", "production.yaml", "look-1.yaml", "look-2.yaml"):
        shutil.copy(CANARY / name, tmp_path / name)
    path = tmp_path / "gate.yaml"
    text = path.read_text(encoding="utf-8").replace("ledger: .gatekit/ledger.db\n", "")
    path.write_text(text.replace("method: confidence-sequence\n  max_n: 6000", "method: pocock\n  max_looks: 3"))
    return path


def test_compare_judges_each_checkpoint_under_the_specs_sequential_design(tmp_path: Path) -> None:
    spec = _pocock_spec_without_ledger(tmp_path)
    assert check(spec, candidate=tmp_path / "look-1.yaml").verdict == "revise"
    comparison = run_compare(spec, results=[tmp_path / "look-1.yaml", tmp_path / "look-2.yaml"])
    assert [(c.id, c.verdict, c.eligible) for c in comparison.checkpoints] == [
        ("look-1", "revise", False),
        ("look-2", "revise", False),
    ]
    assert comparison.recommendation is None
    assert comparison.exit_code == 3
