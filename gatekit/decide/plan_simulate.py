"""The gate's ship probability by simulation, for checks that share rows.

The product in `gatekit.decide.planning` treats every check as independent. A slice `all` holds the rows
of the other slices of its metric, so its check rises and falls with theirs. Here each simulated eval set
draws every slice's data from the assumed truth (a binomial count, or a normal sum for a mean), and pools
`all` from the other slices of its metric when their planned n add up to its n. Each check is then decided
by the evaluator's own rule (`plan.check_passes`). Different metrics are drawn independently: the plan
does not know how they correlate on shared prompts. Pure and seeded: the same figure every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gatekit.decide import plan
from gatekit.decide.confidence import settings_for
from gatekit.decide.planning import PlannedCheck, SpecPlan
from gatekit.results import Measurement
from gatekit.spec.model import AGGREGATE_SLICE, Spec

SEED = 20261201


@dataclass(frozen=True)
class SimulatedShip:
    probability: float
    standard_error: float
    runs: int
    pooled: tuple[str, ...]
    """Metrics whose slice `all` was pooled from their other slices."""


Cell = tuple[str, str]


def simulate_ship(spec: Spec, planned: SpecPlan, runs: int, seed: int = SEED) -> SimulatedShip | None:
    """The share of simulated eval sets on which every modelled check passes; None when no check is modelled."""
    checks = [c for c in planned.checks if c.pass_probability is not None and c.truth is not None and c.n]
    if not checks:
        return None
    cells: dict[Cell, PlannedCheck] = {}
    for c in checks:
        cells.setdefault((spec.gates[c.gate_index].metric, c.slice), c)
    pooled = _pooled(cells)
    rng = np.random.default_rng(seed)
    models = [
        (
            c,
            plan.CheckModel.of(c.bound, c.limit, settings_for(spec, spec.gates[c.gate_index])),
            spec.gates[c.gate_index],
        )
        for c in checks
    ]
    shipped = 0
    for _ in range(runs):
        drawn = _draw(spec, cells, pooled, rng)
        ship = True
        for c, model, gate in models:
            cand, base = drawn[(gate.metric, c.slice)]
            if not plan.check_passes(model, cand, base if model.kind.needs_baseline else None):
                ship = False
                break
        shipped += ship
    share = shipped / runs
    return SimulatedShip(share, math.sqrt(max(share * (1 - share), 1 / runs) / runs), runs, tuple(sorted(pooled)))


def _pooled(cells: dict[Cell, PlannedCheck]) -> dict[str, list[str]]:
    """Per metric, the slices whose rows make up its `all` (only when their planned n add up to it)."""
    out: dict[str, list[str]] = {}
    metrics = {m for m, _ in cells}
    for metric in metrics:
        whole = cells.get((metric, AGGREGATE_SLICE))
        parts = [s for m, s in cells if m == metric and s != AGGREGATE_SLICE]
        if whole is not None and parts and sum(cells[(metric, s)].n or 0 for s in parts) == whole.n:
            out[metric] = parts
    return out


def _draw(
    spec: Spec, cells: dict[Cell, PlannedCheck], pooled: dict[str, list[str]], rng: np.random.Generator
) -> dict[Cell, tuple[Measurement, Measurement | None]]:
    totals: dict[Cell, tuple[float, float | None, int]] = {}
    for (metric, slice_name), c in cells.items():
        if metric in pooled and slice_name == AGGREGATE_SLICE:
            continue
        assert c.truth is not None
        assert c.n is not None
        totals[(metric, slice_name)] = (*_sums(spec.metric_definition(metric).kind, c.truth, c.n, rng), c.n)
    for metric, parts in pooled.items():
        cand = sum(totals[(metric, s)][0] for s in parts)
        bases = [totals[(metric, s)][1] for s in parts]
        base = sum(b for b in bases if b is not None) if all(b is not None for b in bases) else None
        totals[(metric, AGGREGATE_SLICE)] = (cand, base, sum(totals[(metric, s)][2] for s in parts))
    out: dict[Cell, tuple[Measurement, Measurement | None]] = {}
    for (metric, slice_name), (cand, base, n) in totals.items():
        kind = spec.metric_definition(metric).kind
        truth = cells[(metric, slice_name)].truth
        assert truth is not None
        out[(metric, slice_name)] = (
            _measurement(kind, cand, n, truth.sd),
            _measurement(kind, base, n, truth.sd) if base is not None else None,
        )
    return out


def _sums(kind: str | None, truth: plan.Truth, n: int, rng: np.random.Generator) -> tuple[float, float | None]:
    """One draw of the candidate's and the baseline's totals (event count, or sum of scores) over n examples."""
    if kind == "proportion":
        base = float(rng.binomial(n, truth.baseline)) if truth.baseline is not None else None
        return float(rng.binomial(n, truth.candidate)), base
    sd = truth.sd or 0.0
    spread = sd * math.sqrt(n)
    base = float(rng.normal(truth.baseline * n, spread)) if truth.baseline is not None else None
    return float(rng.normal(truth.candidate * n, spread)), base


def _measurement(kind: str | None, total: float, n: int, sd: float | None) -> Measurement:
    if kind == "proportion":
        return Measurement(total / n, n)
    return Measurement(total / n, n, (sd or 0.0) / math.sqrt(n))
