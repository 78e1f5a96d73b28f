"""The comparison as one self-contained HTML page: the recommendation, the frontier as inline SVG scatter plots
(interval whiskers; recommended, eligible, ineligible and dominated checkpoints marked), the checkpoint x gate
grid, the series and the bisection. No script, no network: a Content-Security-Policy forbids both.

Rendered with jinja2, autoescaping on: every name from a spec or results file is escaped. The plots are
computed here (coordinates in user units) so that the template only places them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gatekit.report.comparison import headline, num, standing

if TYPE_CHECKING:
    from gatekit.decide.compare import CheckpointRow, Comparison
    from gatekit.report import RenderOptions

TEMPLATE = "compare.html.j2"
WIDTH, HEIGHT = 520, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 18, 46


@dataclass(frozen=True)
class PlotPoint:
    id: str
    standing: str
    x: float
    y: float
    x_lo: float | None
    x_hi: float | None
    y_lo: float | None
    y_hi: float | None
    title: str
    label_x: float
    anchor: str
    """Labels near the right edge are drawn to the left of the point, so they are not cut off."""


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Plot:
    title: str
    x_label: str
    y_label: str
    points: tuple[PlotPoint, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    missing: tuple[str, ...]


def _span(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        pad = max(abs(hi) * 0.05, 1e-3)
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.08
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float, to_px: object, count: int = 5) -> tuple[Tick, ...]:
    assert callable(to_px)
    step = (hi - lo) / (count - 1)
    return tuple(Tick(round(to_px(lo + i * step), 1), f"{lo + i * step:.4g}") for i in range(count))


def _plot(c: Comparison, x_axis: int | None, y_axis: int) -> Plot:
    """y: a quality axis; x: another axis (its index) or, with None, the order key."""
    y_info = c.frontier.axes[y_axis]
    x_name = c.frontier.axes[x_axis].label if x_axis is not None else "order"
    rows: list[tuple[CheckpointRow, float, float]] = []
    missing = []
    for row in c.checkpoints:
        y = row.axes[y_axis].value
        x = row.axes[x_axis].value if x_axis is not None else row.order
        if x is None or y is None:
            missing.append(row.id)
            continue
        rows.append((row, x, y))
    xs = [v for row, x, _ in rows for v in _whisker_values(x, row, x_axis)]
    ys = [v for row, _, y in rows for v in _whisker_values(y, row, y_axis)]
    x_lo, x_hi = _span(xs) if xs else (0.0, 1.0)
    y_lo, y_hi = _span(ys) if ys else (0.0, 1.0)

    def px(v: float) -> float:
        return LEFT + (v - x_lo) / (x_hi - x_lo) * (WIDTH - LEFT - RIGHT)

    def py(v: float) -> float:
        return HEIGHT - BOTTOM - (v - y_lo) / (y_hi - y_lo) * (HEIGHT - TOP - BOTTOM)

    def clip(v: float | None, to: object, lo: float, hi: float) -> float | None:
        assert callable(to)
        return None if v is None or not math.isfinite(v) else round(to(min(max(v, lo), hi)), 1)

    points = []
    for row, x, y in rows:
        x_point = row.axes[x_axis] if x_axis is not None else None
        y_point = row.axes[y_axis]
        points.append(
            PlotPoint(
                id=row.id,
                standing=standing(row),
                x=round(px(x), 1),
                y=round(py(y), 1),
                x_lo=clip(x_point.lower, px, x_lo, x_hi) if x_point else None,
                x_hi=clip(x_point.upper, px, x_lo, x_hi) if x_point else None,
                y_lo=clip(y_point.lower, py, y_lo, y_hi),
                y_hi=clip(y_point.upper, py, y_lo, y_hi),
                title=f"{row.id}: {y_info.label} {num(y)}, {x_name} {num(x)} ({standing(row)})",
                label_x=round(px(x) + (8 if px(x) < WIDTH - 90 else -8), 1),
                anchor="start" if px(x) < WIDTH - 90 else "end",
            )
        )

    def label(i: int | None) -> str:
        if i is None:
            return "order (step)"
        a = c.frontier.axes[i]
        return f"{a.label} ({'higher' if a.higher_is_better else 'lower'} is better)"

    return Plot(
        title=f"{y_info.label} vs {x_name}",
        x_label=label(x_axis),
        y_label=label(y_axis),
        points=tuple(points),
        x_ticks=_ticks(x_lo, x_hi, px),
        y_ticks=_ticks(y_lo, y_hi, py),
        missing=tuple(missing),
    )


def _whisker_values(value: float, row: CheckpointRow, axis: int | None) -> list[float]:
    if axis is None:
        return [value]
    point = row.axes[axis]
    return [v for v in (value, point.lower, point.upper) if v is not None and math.isfinite(v)]


def plots(c: Comparison) -> list[Plot]:
    """The first metric axis (quality) against every other axis; with a single axis, against the order."""
    metric_axes = [i for i, a in enumerate(c.frontier.axes) if a.kind == "metric"]
    if not metric_axes:
        return []
    quality = metric_axes[0]
    others = [i for i in range(len(c.frontier.axes)) if i != quality]
    return [_plot(c, other, quality) for other in others] if others else [_plot(c, None, quality)]


def render(comparison: Comparison, options: RenderOptions) -> str:
    del options
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gatekit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    gates = [g.gate for g in comparison.checkpoints[0].gates] if comparison.checkpoints else []
    return env.get_template(TEMPLATE).render(
        c=comparison,
        headline=headline(comparison),
        plots=plots(comparison),
        gates=gates,
        standing=standing,
        num=num,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        bottom=BOTTOM,
        top=TOP,
        right=RIGHT,
    )
