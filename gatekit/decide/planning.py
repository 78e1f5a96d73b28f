"""A whole spec's plan: every (gate, slice, bound) with its assumed truth, planned n, chance to pass and the
n it needs; the gate's chance to ship; the checks that cannot pass at the planned n. Pure (results come in
already read); the math is in `gatekit.decide.plan`.

Where the numbers come from, first found wins:

* n per slice (and per arm): `--n`, the n of the `--n-from` results, the spec's `plan:` (`n_by_slice`, `n`),
  the baseline results;
* the baseline's truth: the spec's `plan.baseline`, the baseline results;
* the candidate's truth: the spec's `plan.truth`, else the baseline's truth plus an effect (`--effect
  METRIC=DELTA`, the spec's `plan.effect`, or `--effect DELTA`: DELTA better on every metric with a known
  direction; none: as good as the baseline);
* a mean's per-example sd: the spec's `plan.sd`, the baseline's stderr times sqrt(n).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from gatekit.decide import plan
from gatekit.decide.confidence import settings_for
from gatekit.results import Measurement, Results
from gatekit.spec.model import EVERY_SLICE, BoundName, Gate, PlanValues, Spec


@dataclass(frozen=True)
class PlannedCheck:
    gate: str
    gate_index: int
    slice: str
    bound: BoundName
    limit: float
    n: int | None
    truth: plan.Truth | None
    threshold: float | None
    pass_probability: float | None
    n_for_power: int | None
    """n per arm for the check alone to pass with the target probability."""
    n_for_family: int | None
    """n per arm for the check to pass with the family power (so that the whole gate ships with the target)."""
    cannot_pass: str | None
    note: str | None
    """Why there is no chance to pass (no power model, no truth, no n)."""

    @property
    def subject(self) -> str:
        return f"{self.gate}[{self.slice}].{self.bound}"


@dataclass(frozen=True)
class SpecPlan:
    target: float
    """The chance the whole gate should ship (the spec's `plan.ship_probability`, or --ship-probability)."""
    family_power: float
    checks: tuple[PlannedCheck, ...]
    ship_probability: float | None
    """The product of the modelled checks' chances (None when no check is modelled)."""
    unmodelled: tuple[str, ...]
    shared_rows: tuple[str, ...]
    """Slices that several checks read: those checks are dependent, and the product approximates."""
    scaled_n_by_slice: dict[str, int] | None = None
    """`n_by_slice()` scaled down together until the product of the checks' chances is the target (equal power
    per check over-delivers: the check that needs the most n on a slice sets it for every check there)."""

    def n_by_slice(self) -> dict[str, int | None]:
        """Per slice, the largest family-sized n among its modelled checks (None: some check cannot reach it)."""
        out: dict[str, int | None] = {}
        for c in self.checks:
            if c.note is not None:  # no model or no truth: nothing to size
                continue
            if c.slice in out and out[c.slice] is None:
                continue
            out[c.slice] = None if c.n_for_family is None else max(out.get(c.slice) or 0, c.n_for_family)
        return out


@dataclass(frozen=True)
class Assumptions:
    n: int | None = None
    n_from: Results | None = None
    baseline: Results | None = None
    effects: Mapping[str, float] | None = None
    improvement: float | None = None
    ship_probability: float | None = None


def _lookup(table: PlanValues, metric: str, slice_name: str) -> float | None:
    by_slice = table.get(metric, {})
    return by_slice.get(slice_name, by_slice.get(EVERY_SLICE))


def _slices(gate: Gate, spec: Spec, a: Assumptions) -> list[str]:
    if gate.slices != (EVERY_SLICE,):
        return list(gate.slices)
    for results in (a.n_from, a.baseline):
        if results is not None and results.metrics.get(gate.metric):
            return list(results.metrics[gate.metric])
    if spec.plan is not None and spec.plan.n_by_slice:
        return list(spec.plan.n_by_slice)
    return [EVERY_SLICE]


def _measurement(results: Results | None, metric: str, slice_name: str) -> Measurement | None:
    m = results.measurement(metric, slice_name) if results is not None else None
    return m if m is not None and math.isfinite(m.value) else None


def _n(spec: Spec, a: Assumptions, metric: str, slice_name: str) -> int | None:
    if a.n is not None:
        return a.n
    from_n = _measurement(a.n_from, metric, slice_name)
    if from_n is not None and from_n.n:
        return from_n.n
    if spec.plan is not None and spec.plan.planned_n(slice_name) is not None:
        return spec.plan.planned_n(slice_name)
    base = _measurement(a.baseline, metric, slice_name)
    return base.n if base is not None and base.n else None


def _effect(spec: Spec, a: Assumptions, metric: str) -> float:
    if a.effects and metric in a.effects:
        return a.effects[metric]
    if spec.plan is not None and metric in spec.plan.effect:
        return spec.plan.effect[metric]
    direction = spec.metric_definition(metric).higher_is_better
    if a.improvement is not None and direction is not None:
        return a.improvement if direction else -a.improvement
    return 0.0


def truth_for(spec: Spec, a: Assumptions, metric: str, slice_name: str) -> plan.Truth | None:
    """The assumed truth of (metric, slice), or None when nothing says what the candidate's value is."""
    values = spec.plan
    base_measured = _measurement(a.baseline, metric, slice_name)
    baseline = _lookup(values.baseline, metric, slice_name) if values is not None else None
    if baseline is None and base_measured is not None:
        baseline = base_measured.value
    candidate = _lookup(values.truth, metric, slice_name) if values is not None else None
    if candidate is None and baseline is not None:
        candidate = baseline + _effect(spec, a, metric)
    if candidate is None:
        return None
    sd = values.sd.get(metric) if values is not None else None
    if sd is None and base_measured is not None and base_measured.stderr is not None and base_measured.n:
        sd = base_measured.stderr * math.sqrt(base_measured.n)
    return plan.Truth(candidate, baseline, sd)


def plan_spec(spec: Spec, a: Assumptions, *, search_n: bool = True) -> SpecPlan:
    """The plan of every check; `search_n=False` skips the n searches (validate and lock: quick)."""
    target = a.ship_probability or (spec.plan.ship_probability if spec.plan is not None else 0.8)
    drafts: list[Draft] = []
    for i, gate in enumerate(spec.gates):
        settings = settings_for(spec, gate)
        for slice_name in _slices(gate, spec, a):
            n = _n(spec, a, gate.metric, slice_name)
            truth = truth_for(spec, a, gate.metric, slice_name)
            for bound, limit in gate.bounds():
                drafts.append((i, gate, slice_name, bound, limit, plan.CheckModel.of(bound, limit, settings), n, truth))
    modelled = [d for d in drafts if d[5].has_power_model() and d[7] is not None]
    family = plan.family_power(target, len(modelled))
    checks = tuple(_plan_check(*d, target=target, family=family, search_n=search_n) for d in drafts)
    probabilities = [c.pass_probability for c in checks if c.pass_probability is not None]
    partial = SpecPlan(target, family, checks, None, (), ())
    scaled = _scale_to_target(drafts, partial.n_by_slice(), target) if search_n else None
    return SpecPlan(
        target=target,
        family_power=family,
        checks=checks,
        ship_probability=plan.ship_probability(probabilities) if probabilities else None,
        unmodelled=tuple(c.subject for c in checks if c.pass_probability is None),
        shared_rows=_shared_rows(checks),
        scaled_n_by_slice=scaled,
    )


Draft = tuple[int, Gate, str, BoundName, float, plan.CheckModel, "int | None", "plan.Truth | None"]


def _scale_to_target(drafts: list[Draft], sizes: dict[str, int | None], target: float) -> dict[str, int] | None:
    """The smallest common factor c <= 1 on every slice's family-sized n at which the product still reaches
    `target` (bisection on c, to 1 %); None when some slice cannot be sized."""
    if not sizes or any(n is None for n in sizes.values()):
        return None
    base = {s: n for s, n in sizes.items() if n is not None}
    modelled = [(d[5], d[7], d[2]) for d in drafts if d[5].has_power_model() and d[7] is not None and d[2] in base]

    def at(c: float) -> tuple[dict[str, int], float]:
        scaled = {s: max(2, math.ceil(n * c)) for s, n in base.items()}
        chances = [plan.pass_probability(model, truth, scaled[s]) for model, truth, s in modelled if truth is not None]
        return scaled, plan.ship_probability(p for p in chances if p is not None)

    lo, hi = 0.0, 1.0
    if at(hi)[1] < target:
        return base
    while hi - lo > 0.01:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if at(mid)[1] >= target else (mid, hi)
    return at(hi)[0]


def _plan_check(  # noqa: PLR0917 - one draft row
    index: int,
    gate: Gate,
    slice_name: str,
    bound: BoundName,
    limit: float,
    model: plan.CheckModel,
    n: int | None,
    truth: plan.Truth | None,
    *,
    target: float,
    family: float,
    search_n: bool,
) -> PlannedCheck:
    threshold = model.kind.threshold(limit, truth.baseline).value if truth is not None else None
    if not model.kind.needs_baseline and threshold is None:
        threshold = limit
    blocked = plan.cannot_pass(model, n, truth.baseline if truth is not None else None) if n is not None else None
    probability, note = None, None
    if n is None:
        note = "no planned n (give --n, --n-from or plan.n)"
    elif not model.has_power_model():
        note = f"no power model for a {model.settings.kind or 'metric of unknown kind'}"
    elif truth is None:
        note = "no assumed truth (give a baseline, plan.truth or plan.baseline)"
    elif model.kind.needs_baseline and truth.baseline is None:
        note = f"{bound} compares with a baseline: give plan.baseline or a baseline results file"
    else:
        probability = plan.pass_probability(model, truth, n)
        if probability is None:
            note = "the assumed truth cannot be modelled: a rate outside [0, 1], or a mean without plan.sd"
    for_power = for_family = None
    if search_n and truth is not None and model.has_power_model():
        start = n or 8
        for_power = plan.n_for_power(model, truth, target, start=start)
        for_family = plan.n_for_power(model, truth, family, start=start)
    return PlannedCheck(
        gate.id, index, slice_name, bound, limit, n, truth, threshold, probability, for_power, for_family, blocked, note
    )


def _shared_rows(checks: tuple[PlannedCheck, ...]) -> tuple[str, ...]:
    readers: dict[str, set[str]] = {}
    for c in checks:
        readers.setdefault(c.slice, set()).add(c.gate)
    shared = [f"{s} ({len(g)} gates)" for s, g in readers.items() if len(g) > 1]
    if "all" in readers and len(readers) > 1:
        shared.append("all holds the rows of the other slices")
    return tuple(shared)
