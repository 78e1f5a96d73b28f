"""The comparison as JSON: the `Comparison` record as it is (schema: `gatekit schema --comparison`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.decide.compare import Comparison
    from gatekit.report import RenderOptions


def render(comparison: Comparison, options: RenderOptions) -> str:
    del options  # JSON has one form
    return comparison.model_dump_json(indent=2) + "\n"
