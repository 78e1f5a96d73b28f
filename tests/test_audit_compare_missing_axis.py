"""Audit: compare never recommends a checkpoint that has no usable value on a frontier axis: "no other
checkpoint dominates it with confidence" must not rest on having no evidence about it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gatekit.api_compare import run_compare

CHECKPOINTS = Path(__file__).parent.parent / "examples" / "checkpoints"


def test_a_checkpoint_without_a_value_on_a_frontier_axis_is_not_recommended(tmp_path: Path) -> None:
    for path in CHECKPOINTS.glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for i, row in enumerate(rows):
            # step-2000 (the cheapest that ships, so the tie-break's pick) has no usable tone at all.
            row["tone"] = None if path.stem == "step-2000" else (i % 7) / 7
        (tmp_path / path.name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    shutil.copy(CHECKPOINTS / "gate.yaml", tmp_path / "gate.yaml")
    spec = tmp_path / "gate.yaml"
    text = spec.read_text(encoding="utf-8")
    text = text.replace(
        "metrics:\n", "metrics:\n  tone:\n    higher_is_better: true\n    from: {column: tone, aggregate: mean}\n", 1
    )
    spec.write_text(
        text.replace("    - {metric: harmless_refusal}\n", "    - {metric: harmless_refusal}\n    - {metric: tone}\n")
    )
    comparison = run_compare(spec)
    rows = {c.id: c for c in comparison.checkpoints}
    assert rows["step-2000"].verdict == "ship"
    assert comparison.recommendation != "step-2000"
    assert comparison.recommendation is not None
