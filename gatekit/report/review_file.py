"""The review file (`gatekit check --review FILE`): every queued example, one row each, JSONL or CSV by suffix.

Rows of the review queue have ``queue: regressed`` (gate, metric, slice, status, rank, id, candidate, baseline,
change and the `review.columns` of each side); rows of the disagreement queue have ``queue: disagreement``
(the two metrics, slice, rank, id, their two values and the columns). Non-finite numbers (a timed-out
latency) are written as the strings ``inf``, ``-inf`` and ``nan`` in JSONL, where JSON has no such numbers.

A CSV cell of text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
``'`` so that a spreadsheet shows it instead of running it as a formula (prompts and outputs are untrusted).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import UsageError

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict

REVIEW_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def review_format(path: Path) -> str:
    """'jsonl' or 'csv' from the file's suffix; a usage error otherwise."""
    fmt = REVIEW_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"--review {path}: name a .jsonl or .csv file (the format follows the suffix)")
    return fmt


def _number(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def review_rows(verdict: Verdict) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in verdict.review:
        for e in r.examples:
            rows.append(
                {
                    "queue": "regressed",
                    "gate": r.id,
                    "metric": r.metric,
                    "slice": r.slice,
                    "status": r.status,
                    "rank": e.rank,
                    "id": e.id,
                    "candidate": _number(e.candidate),
                    "baseline": _number(e.baseline),
                    "change": _number(e.change),
                    "columns": e.columns,
                    "baseline_columns": e.baseline_columns,
                }
            )
    for d in verdict.disagreements:
        for x in d.examples:
            rows.append(
                {
                    "queue": "disagreement",
                    "metrics": list(d.metrics),
                    "slice": d.slice,
                    "rank": x.rank,
                    "id": x.id,
                    "first": _number(x.first),
                    "second": _number(x.second),
                    "columns": x.columns,
                }
            )
    return rows


def render_review(verdict: Verdict, fmt: str) -> str:
    rows = review_rows(verdict)
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return _csv(rows)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _csv(rows: list[dict[str, Any]]) -> str:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.get("columns", {})))
    base_names: dict[str, None] = {}
    for row in rows:
        base_names.update(dict.fromkeys(row.get("baseline_columns", {})))
    header = [
        "queue",
        "gate",
        "metric",
        "slice",
        "status",
        "rank",
        "id",
        "candidate",
        "baseline",
        "change",
        "first_metric",
        "second_metric",
        "first",
        "second",
        *names,
        *(f"baseline:{c}" for c in base_names),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        flat = {k: v for k, v in row.items() if k not in ("columns", "baseline_columns", "metrics")}
        if "metrics" in row:
            flat["first_metric"], flat["second_metric"] = row["metrics"]
        flat.update(row.get("columns", {}))
        flat.update({f"baseline:{c}": v for c, v in row.get("baseline_columns", {}).items()})
        writer.writerow([_cell(flat.get(name)) for name in header])
    return out.getvalue()
