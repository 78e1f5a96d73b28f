"""The verdict as JSON: the full verdict object, versioned by `schema_version`, keys in a stable order."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.report import RenderOptions


def render(verdict: Verdict, options: RenderOptions) -> str:
    # Non-finite numbers never reach the verdict (they are reported as missing), so the JSON is strict.
    return verdict.model_dump_json(indent=2) + "\n"
