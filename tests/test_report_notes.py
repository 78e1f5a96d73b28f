"""Notes from reading the results (rows dropped under `drop_invalid`, rows without a slice value) reach the
verdict and every report format, with their counts; they never change the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.report import FORMATS, RenderOptions, render

SPEC = """
version: 1
name: notes
hypothesis: {statement: s, stage: other, improves: accuracy, owner: o, written: 2026-01-01}
candidate: rows.jsonl
metrics:
  accuracy: {from: {column: correct, aggregate: rate}}
table: {slice_by: [task], drop_invalid: true}
gates:
  - {id: acc, metric: accuracy, slices: ["*"], min: 0.1}
rollback: {}
"""


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    rows = [{"task": "a" if i % 2 else "b", "correct": True} for i in range(200)]
    rows[7]["correct"] = "yes"  # one bad cell: dropped and counted
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    path = tmp_path / "gate.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_the_dropped_rows_are_a_note_of_the_verdict(spec_path: Path) -> None:
    verdict = check(spec_path)

    assert len(verdict.notes) == 1
    assert "accuracy: dropped 1 bad row in column 'correct'" in verdict.notes[0]
    assert "line 8" in verdict.notes[0]
    assert verdict.counts["pass"] == len(verdict.gates)  # a note does not fail a gate


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_shows_the_note_with_its_count(spec_path: Path, fmt: str) -> None:
    verdict = check(spec_path)

    shown = render(verdict, fmt, RenderOptions(width=200, color=False))

    assert "dropped 1 bad row" in shown
