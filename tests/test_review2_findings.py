"""Findings of review2: inputs on which the fast paths of recent commits read or count otherwise than before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatekit.api import run_check
from gatekit.sources import cuts
from tests.test_jsonl_columns import outcome, row, whole_read

SPEC: dict[str, Any] = {
    "version": 1,
    "name": "paired",
    "hypothesis": {"statement": "s", "stage": "other", "improves": "accuracy", "owner": "o", "written": "2026-01-01"},
    "candidate": "candidate.parquet",
    "baseline": "baseline.parquet",
    "rollback": {},
}


def _two_filter_files(tmp_path: Path) -> Path:
    """A harness samples table: each example on two rows, one per filter, and a metric per filter. The
    baseline lacks three examples' strict rows, so the strict comparison is unpaired and its note counts."""
    rng = np.random.default_rng(3)
    n = 200
    for name, missing in (("candidate", set()), ("baseline", {5, 17, 40})):
        ids, filters, correct = [], [], []
        for i in range(n):
            for f in ("strict", "flexible"):
                if f == "strict" and i in missing:
                    continue
                ids.append(f"e{i}")
                filters.append(f)
                correct.append(bool(rng.random() < 0.7))
        pq.write_table(pa.table({"id": ids, "filter": filters, "correct": correct}), tmp_path / f"{name}.parquet")
    spec = {
        **SPEC,
        "metrics": {
            "strict": {
                "from": {"column": "correct", "aggregate": "rate", "where": {"column": "filter", "equals": "strict"}},
                "higher_is_better": True,
            },
            "flexible": {
                "from": {"column": "correct", "aggregate": "rate", "where": {"column": "filter", "equals": "flexible"}},
                "higher_is_better": True,
            },
        },
        "table": {"id_column": "id"},
        "gates": [
            {"id": "strict-delta", "metric": "strict", "slices": ["all"], "max_decrease": 0.5},
            {"id": "flexible-delta", "metric": "flexible", "slices": ["all"], "max_decrease": 0.5},
        ],
    }
    path = tmp_path / "gate.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_unmatched_ids_of_a_filtered_metric_are_counted_as_the_slice_ids_count_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _two_filter_files(tmp_path)
    fast = run_check(gate, record=False).verdict.model_dump_json()
    monkeypatch.setattr(cuts.SliceRows, "count_unmatched", lambda self, g, other: None)
    slow = run_check(gate, record=False).verdict.model_dump_json()

    assert "unpaired" in slow
    assert fast == slow


def test_a_blank_line_is_an_error_when_another_line_holds_two_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyarrow reads `{..} {..}` on one line as two rows and skips the blank line: the row count equals the
    # line count, so the count alone does not show the blank line the whole read refuses.
    lines = [json.dumps(row(i)) for i in range(20)]
    text = "\n".join(lines[:10]) + "\n" + lines[10] + " " + lines[11] + "\n\n" + "\n".join(lines[12:]) + "\n"
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")

    expected = whole_read(path, monkeypatch, slice_by=["task"])
    assert expected[0] == "error"
    assert outcome(path, slice_by=["task"]) == expected
