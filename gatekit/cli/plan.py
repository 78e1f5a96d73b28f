"""`gatekit plan`: the evidence a gate needs, before the run; and the plan section of `validate` and `lock`.

Nothing here imports numpy at module level: `validate` imports this module, and reaches the statistics only
when the spec has a `plan:` block.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gatekit.cli._app import _count, app
from gatekit.errors import Diagnostic, UsageError

if TYPE_CHECKING:
    from gatekit.decide.plan import EvidenceRange
    from gatekit.decide.planning import PlannedCheck, SpecPlan
    from gatekit.results import Results
    from gatekit.sources.load import LoadedSpec


def _pct(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3f}"


def _int(n: int | None) -> str:
    return "never" if n is None else f"{n:,}"


def _num(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.4g}"


def render_plan(plan: SpecPlan, title: str) -> str:
    """The plan as text: one row per check, then the gate's chance to ship and the n per slice."""
    lines = [
        f"plan: {title}",
        f"target: the whole gate ships with probability {plan.target:.0%}; "
        f"each of {_count(len(plan.checks) - len(plan.unmodelled), 'modelled check')} then needs power "
        f"{plan.family_power:.4f} (independent checks)",
        "",
        f"{'check':<44} {'n':>9} {'truth':>9} {'baseline':>9} {'threshold':>9} {'P(pass)':>8} "
        f"{'n@' + format(plan.target, '.0%'):>10} {'n family':>10}",
    ]
    for c in plan.checks:
        truth = c.truth
        lines.append(
            f"{c.subject:<44} {_int(c.n) if c.n is not None else 'n/a':>9} "
            f"{_num(truth.candidate if truth else None):>9} {_num(truth.baseline if truth else None):>9} "
            f"{_num(c.threshold):>9} {_pct(c.pass_probability):>8} "
            f"{_cell(c, c.n_for_power):>10} {_cell(c, c.n_for_family):>10}"
        )
    lines.append("")
    if plan.ship_probability is not None:
        modelled = len(plan.checks) - len(plan.unmodelled)
        text = (
            f"P(gate ships) = {plan.ship_probability:.3f} at the planned n: the product over "
            f"{_count(modelled, 'modelled check')}"
        )
        if plan.shared_rows:
            text += (
                "; checks that read the same rows are dependent, so this product is an approximation "
                f"(shared slices: {'; '.join(plan.shared_rows)})"
            )
        lines.append(text)
    for c in plan.checks:
        if c.note is not None:
            lines.append(f"not modelled: {c.subject}: {c.note} (the ship probability assumes it passes)")
    per_slice = plan.n_by_slice()
    if per_slice and any(c.n_for_family is not None for c in plan.checks):
        lines.append(
            f"examples per slice (per arm) for a {plan.target:.0%} chance that the gate ships: "
            + "; ".join(f"{s} {_int(n)}" for s, n in per_slice.items())
        )
    if plan.scaled_n_by_slice:
        lines.append(
            "the same, scaled down together until the product is "
            f"{plan.target:.0%}: " + "; ".join(f"{s} {n:,}" for s, n in plan.scaled_n_by_slice.items())
        )
    blocked = [c for c in plan.checks if c.cannot_pass is not None]
    for c in blocked:
        lines.append(f"cannot pass: {c.subject}: {c.cannot_pass}")
    return "\n".join(lines) + "\n"


def _cell(c: PlannedCheck, n: int | None) -> str:
    if c.truth is None or (c.note is not None and c.pass_probability is None and c.n_for_family is None):
        return "n/a"
    return _int(n)


def plan_diagnostics(loaded: LoadedSpec, plan: SpecPlan) -> list[Diagnostic]:
    """A diagnostic at the bound's line for every check that cannot pass at the planned n, and at the value
    for every assumed proportion outside [0, 1] (else the planner skips it and calls the plan truth-less)."""
    locator = loaded.document.locator()
    out = []
    assumed = loaded.spec.plan
    for field, values in (("truth", assumed.truth), ("baseline", assumed.baseline)) if assumed else ():
        for metric, slices in values.items():
            if loaded.spec.metric_definition(metric).kind != "proportion":
                continue
            for slice_name, value in slices.items():
                if 0 <= value <= 1:
                    continue
                line, column = locator.mark(("plan", field, metric, slice_name))
                out.append(
                    Diagnostic(
                        f"{metric} is a proportion: an assumed value must be within [0, 1], not {value:g}",
                        str(loaded.path),
                        line,
                        column,
                        f"plan.{field}.{metric}.{slice_name}",
                    )
                )
    for c in plan.checks:
        if c.cannot_pass is None:
            continue
        line, column = locator.mark(("gates", c.gate_index, c.bound), at_key=True)
        out.append(
            Diagnostic(
                f"cannot pass at the planned n on slice {c.slice!r}: {c.cannot_pass}",
                str(loaded.path),
                line,
                column,
                f"gates[{c.gate_index}].{c.bound}",
            )
        )
    return out


def spec_plan_section(loaded: LoadedSpec) -> tuple[list[Diagnostic], str | None]:
    """`validate` and `lock`: the checks that cannot pass at the spec's planned n, and a one-line summary.
    Nothing (and no numpy) without a `plan:` block."""
    if loaded.spec.plan is None:
        return [], None
    from gatekit.decide.planning import Assumptions, plan_spec

    plan = plan_spec(loaded.spec, Assumptions(), search_n=False)
    summary = f"{loaded.path}: plan: "
    if plan.ship_probability is not None:
        summary += f"P(gate ships) = {plan.ship_probability:.3f} at the planned n under the plan's assumed truth"
        if plan.unmodelled:
            summary += f" ({_count(len(plan.unmodelled), 'check')} not modelled)"
    else:
        summary += "no check has an assumed truth (plan.truth, plan.baseline, plan.effect); run `gatekit plan`"
    return plan_diagnostics(loaded, plan), summary


def _parse_effects(values: list[str]) -> tuple[dict[str, float], float | None]:
    effects: dict[str, float] = {}
    improvement = None
    for value in values:
        name, sep, number = value.rpartition("=")
        try:
            delta = float(number)
        except ValueError:
            raise UsageError(f"--effect {value!r}: give METRIC=DELTA or DELTA (a number)") from None
        if not math.isfinite(delta):
            raise UsageError(f"--effect {value!r}: the effect must be finite")
        if sep:
            effects[name] = delta
        else:
            improvement = delta
    return effects, improvement


@app.command("plan")
def plan_command(
    spec: Annotated[Path, typer.Argument(help="The gate spec.", show_default=False, metavar="SPEC")],
    n: Annotated[
        Optional[int], typer.Option("--n", min=1, max=10**9, help="Planned examples per slice and arm.")  # noqa: UP045
    ] = None,
    n_from: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--n-from", help="Take the n of each slice from this results file."),
    ] = None,
    baseline: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Baseline results (the assumed truth); default: the spec's `baseline:`."),
    ] = None,
    effect: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--effect",
            metavar="[METRIC=]DELTA",
            help="Assumed true change over the baseline: METRIC=DELTA in the metric's units (signed), or DELTA "
            "better on every metric with a known direction. Repeatable.",
        ),
    ] = None,
    ship_probability: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(min=0.01, max=0.99, help="Target chance that the gate ships; default plan.ship_probability."),
    ] = None,
    candidate: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Observed candidate results: print, per check, the n needed over the plausible truth "
            "(the middle half of its interval), sized for the family."
        ),
    ] = None,
    simulate: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also simulate this many eval sets (slice `all` pooled from the others) for the ship probability "
            "where checks share rows; 0: no simulation.",
        ),
    ] = 2000,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> int:
    """Plan the evidence: each check's chance to pass at the planned n, the n it needs, and the chance that
    the whole gate ships. Exit 0, or 2 when a check cannot pass at the planned n."""
    if format not in ("text", "json"):
        raise UsageError(f"unknown plan format {format!r}: choose text or json")
    from gatekit.decide.planning import Assumptions, plan_spec
    from gatekit.sources.load import load_results, load_spec

    loaded = load_spec(spec)
    baseline_path = baseline or (loaded.resolve(loaded.spec.baseline) if loaded.spec.baseline else None)
    if baseline is None and baseline_path is not None and not baseline_path.exists():
        # Planning comes before the run: the spec's baseline file may not be there yet.
        typer.echo(f"note: {baseline_path} (the spec's baseline) does not exist yet: planning without it", err=True)
        baseline_path = None
    baseline_results = load_results(baseline_path, loaded.spec) if baseline_path is not None else None
    effects, improvement = _parse_effects(effect or [])
    assumptions = Assumptions(
        n=n,
        n_from=load_results(n_from, loaded.spec) if n_from is not None else None,
        baseline=baseline_results,
        effects=effects,
        improvement=improvement,
        ship_probability=ship_probability,
    )
    plan = plan_spec(loaded.spec, assumptions)
    from gatekit.decide.plan_simulate import simulate_ship

    simulated = simulate_ship(loaded.spec, plan, simulate) if simulate else None
    evidence = _evidence(loaded, load_results(candidate, loaded.spec), baseline_results, plan) if candidate else []
    if format == "json":
        document = {
            "spec": str(loaded.path),
            **asdict(plan),
            "n_by_slice": plan.n_by_slice(),
            "simulated": asdict(simulated) if simulated is not None else None,
            "evidence": [{"check": subject, **asdict(found)} for subject, found in evidence],
        }
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        text = render_plan(plan, f"{loaded.spec.name} ({loaded.path})")
        if simulated is not None:
            pooled = (
                f"; slice all pooled from the other slices of {', '.join(simulated.pooled)}" if simulated.pooled else ""
            )
            text += (
                f"simulated P(gate ships) = {simulated.probability:.3f} +/- {2 * simulated.standard_error:.3f} "
                f"(2 SE, {simulated.runs:,} simulated eval sets{pooled}; metrics drawn independently)\n"
            )
        for subject, found in evidence:
            text += (
                f"evidence needed: {subject}: n per arm for power {plan.family_power:.4f}, over the plausible "
                f"truth: {_int(found.favourable)} (favourable quartile {_num(found.truths[0])}), "
                f"{_int(found.point)} (observed {_num(found.truths[1])}), "
                f"{_int(found.harmful)} (harmful quartile {_num(found.truths[2])})\n"
            )
        sys.stdout.write(text)
    diagnostics = plan_diagnostics(loaded, plan)
    for d in diagnostics:
        typer.echo(d.format(), err=True)
    return 2 if diagnostics else 0


def _evidence(
    loaded: LoadedSpec, candidate: Results, baseline: Results | None, plan: SpecPlan
) -> list[tuple[str, EvidenceRange]]:
    from gatekit.decide import plan as math_plan
    from gatekit.decide.confidence import settings_for

    rows: list[tuple[str, EvidenceRange]] = []
    for c in plan.checks:
        gate = loaded.spec.gates[c.gate_index]
        cand = candidate.measurement(gate.metric, c.slice)
        base = baseline.measurement(gate.metric, c.slice) if baseline is not None else None
        if cand is None or (base is None and gate.needs_baseline()):
            continue
        model = math_plan.CheckModel.of(c.bound, c.limit, settings_for(loaded.spec, gate))
        found = math_plan.evidence_range(model, cand, base if model.kind.needs_baseline else None, plan.family_power)
        if found is not None:
            rows.append((c.subject, found))
    return rows
