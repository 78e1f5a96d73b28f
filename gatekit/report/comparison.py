"""Comparison renderers (`gatekit compare`): one small module per format, each `render(comparison, options)`.

Looked up by name and imported only when used, like the verdict's renderers in `gatekit.report`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from gatekit.report import RenderOptions

if TYPE_CHECKING:
    from gatekit.decide.compare import CheckpointRow, Comparison

ComparisonRenderer = Callable[["Comparison", RenderOptions], str]

COMPARE_FORMATS: dict[str, str] = {
    "table": "gatekit.report.compare_table",
    "json": "gatekit.report.compare_json",
    "markdown": "gatekit.report.compare_markdown",
    "html": "gatekit.report.compare_html",
}


def get_comparison_renderer(name: str) -> ComparisonRenderer:
    from gatekit.errors import UsageError

    if name not in COMPARE_FORMATS:
        raise UsageError(f"unknown compare format {name!r}; choose one of: {', '.join(COMPARE_FORMATS)}")
    renderer: ComparisonRenderer = importlib.import_module(COMPARE_FORMATS[name]).render
    return renderer


def num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}"


def standing(row: CheckpointRow) -> str:
    """One word for where a checkpoint stands: recommended, eligible, ineligible, dominated."""
    if row.recommended:
        return "recommended"
    if not row.on_frontier:
        return "dominated"
    return "frontier" if row.eligible else "ineligible"


def headline(c: Comparison) -> str:
    if c.recommendation is not None:
        return f"RECOMMEND {c.recommendation}: {c.why}"
    label = {"all_stop": "STOP", "none_eligible": "NONE ELIGIBLE", "undecidable": "UNDECIDABLE"}[c.decision]
    return f"{label}: {c.why}"
