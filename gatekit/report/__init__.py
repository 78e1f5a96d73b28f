"""Report renderers: one small module per format, each exposing `render(verdict, options) -> str`.

Renderers are looked up by name and imported only when used, so a format's dependencies (rich, jinja2)
stay off the start-up path of commands that do not render.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekit.text import printable

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict


@dataclass(frozen=True)
class RenderOptions:
    """Presentation settings. Pin `width` and `color` for byte-identical output (golden files, CI logs)."""

    width: int = 100
    color: bool = False


__all__ = ["FORMATS", "RenderOptions", "ReportTarget", "get_renderer", "parse_report_targets", "printable", "render"]

Renderer = Callable[["Verdict", RenderOptions], str]

FORMATS: dict[str, str] = {
    "table": "gatekit.report.table",
    "json": "gatekit.report.json",
    "junit": "gatekit.report.junit",
    "markdown": "gatekit.report.markdown",
    "github": "gatekit.report.github",
    "html": "gatekit.report.html",
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


@dataclass(frozen=True)
class ReportTarget:
    """One `--report FORMAT=PATH`: a format and where it goes (`path` None means stdout, written `-`)."""

    format: str
    path: Path | None


def parse_report_targets(values: Sequence[str], output: Path | None = None) -> tuple[ReportTarget, ...]:
    """Parse `--report` values, refusing (UsageError) an unknown format, an empty path, two reports on stdout
    or two reports (or a report and `--output`) into one file. Runs before any work is done."""
    from gatekit.errors import UsageError

    targets: list[ReportTarget] = []
    seen: dict[Path | None, str] = {} if output is None else {output: "--output"}
    for value in values:
        name, sep, where = value.partition("=")
        if not sep or not name or not where:
            raise UsageError(f"--report {value!r}: expected FORMAT=PATH (PATH '-' for stdout), e.g. junit=gates.xml")
        get_renderer(name)
        path = None if where == "-" else Path(where)
        if path in seen:
            place = "stdout" if path is None else str(path)
            raise UsageError(
                f"--report {value!r}: {place} already receives {seen[path]}; give each report its own path"
            )
        seen[path] = f"--report {value}"
        targets.append(ReportTarget(name, path))
    return tuple(targets)
