"""Report renderers: one small module per format, each exposing `render(verdict, options) -> str`.

Renderers are looked up by name and imported only when used, so a format's dependencies (rich, jinja2)
stay off the start-up path of commands that do not render.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.verdict import Verdict


@dataclass(frozen=True)
class RenderOptions:
    """Presentation settings. Pin `width` and `color` for byte-identical output (golden files, CI logs)."""

    width: int = 100
    color: bool = False


Renderer = Callable[["Verdict", RenderOptions], str]

FORMATS: dict[str, str] = {
    "table": "gatekit.report.table",
    "json": "gatekit.report.json",
}
"""Format name -> module defining `render`."""


def get_renderer(name: str) -> Renderer:
    from gatekit.errors import UsageError

    module_name = FORMATS.get(name)
    if module_name is None:
        raise UsageError(f"unknown report format {name!r}; choose one of: {', '.join(FORMATS)}")
    render: Renderer = importlib.import_module(module_name).render
    return render


def render(verdict: Verdict, name: str, options: RenderOptions | None = None) -> str:
    return get_renderer(name)(verdict, options or RenderOptions())
