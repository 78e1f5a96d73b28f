"""Looks: how many times this candidate has been checked under this spec, read from the decision ledger, and
what that means for the check (a repeated fixed-n look revises; a sequential design reads its intervals at
the look's confidence). The statistics are in `gatekit.decide.sequential`; this module only gathers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatekit.decide import sequential
from gatekit.decide.evaluate import ConfidenceAt
from gatekit.outcomes import Reason
from gatekit.results import Results
from gatekit.spec.model import EVERY_SLICE, Gate, Spec


def current_sizes(spec: Spec, candidate: Results) -> dict[str, int]:
    """Examples per gated cell (`metric[slice]` -> n) in the candidate results, as the ledger records them."""
    sizes: dict[str, int] = {}
    for gate in spec.gates:
        slices = candidate.metrics.get(gate.metric, {})
        names = list(slices) if gate.slices == (EVERY_SLICE,) else list(gate.slices)
        for name in names:
            m = slices.get(name)
            if m is not None and m.n is not None:
                sizes[f"{gate.metric}[{name}]"] = m.n
    return sizes


@dataclass(frozen=True)
class LookAssessment:
    look: sequential.Look | None
    """None when no ledger is configured: looks cannot be counted."""
    confidence_at: ConfidenceAt | None
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...]


def assess_looks(
    spec: Spec, candidate: Results, ledger: Path | None, digest: str, *, recorded: bool = True
) -> LookAssessment:
    """Count this look in the ledger (without recording it) and say what it changes. `recorded`: whether the
    caller records this decision into `ledger`; an alpha-spending design's new look that is not recorded
    cannot ship, since the next look would spend the same alpha again."""
    look = None
    new_look = False
    if ledger is not None:
        from gatekit.integrity.ledger import earlier_looks

        earlier = earlier_looks(ledger, digest, candidate.model)
        sizes = current_sizes(spec, candidate)
        look = sequential.locate_look(earlier, sizes)
        new_look = all(dict(seen) != sizes for _, seen in earlier)
    designed = [g for g in spec.gates if spec.sequential_for(g) is not None]
    fixed = [g for g in spec.gates if spec.sequential_for(g) is None]
    reasons: list[Reason] = []
    notes: list[str] = []
    if look is not None and look.repeated and fixed:
        message = sequential.peeking_message(look, candidate.model)
        if designed:
            message += f" (gates without a sequential design: {', '.join(g.id for g in fixed)})"
        reasons.append(
            Reason(leads_to="revise", kind="peeking", subject="looks", status="repeated_look", message=message)
        )
    if not designed:
        return LookAssessment(look, None, tuple(reasons), ())
    number = look.number if look is not None else 1
    for g in designed:
        design = spec.sequential_for(g)
        assert design is not None
        if design.method != "confidence-sequence":
            if look is None:
                reasons.append(
                    _sequential_reason(
                        g.id,
                        "looks_uncounted",
                        f"gate {g.id}: {sequential.describe(design)} counts looks in the decision ledger, "
                        "and none is configured (--ledger, GATEKIT_LEDGER or the spec's `ledger:`)",
                    )
                )
            elif design.max_looks is not None and number > design.max_looks:
                reasons.append(
                    _sequential_reason(
                        g.id,
                        "looks_spent",
                        f"gate {g.id}: look {number} of a design with max_looks {design.max_looks}: "
                        "no alpha is left to pass on",
                    )
                )
            elif design.max_n is not None and look is not None:
                spent = _cells_without_alpha(g, design.max_n, look, current_sizes(spec, candidate))
                if spent:
                    reasons.append(
                        _sequential_reason(
                            g.id,
                            "looks_spent",
                            f"gate {g.id}: no alpha is left to pass on {', '.join(spent)} (the previous look "
                            f"already reached max_n {design.max_n:,}, or the results did not grow since it)",
                        )
                    )
            # Checked last: a spent design says so first; either way this look cannot ship.
            if new_look and not recorded and not any(r.kind == "sequential" and r.subject == g.id for r in reasons):
                reasons.append(
                    _sequential_reason(
                        g.id,
                        "looks_unrecorded",
                        f"gate {g.id}: {sequential.describe(design)} counts looks in the decision ledger, "
                        f"and this look {number} is not recorded (--no-record, or the Python API's default): the "
                        "next look would spend the same alpha again; check with --record",
                    )
                )
    methods = sorted({sequential.describe(d) for g in designed if (d := spec.sequential_for(g)) is not None})
    if look is None:
        notes.append(f"sequential design: {'; '.join(methods)} (looks not counted: no decision ledger)")
    else:
        notes.append(f"sequential look {number} of this candidate: {'; '.join(methods)}")

    def confidence_at(gate: Gate, slice_name: str, n: int | None) -> float | None:
        design = spec.sequential_for(gate)
        if design is None:
            return None
        confidence = gate.confidence if gate.confidence is not None else spec.confidence
        if design.method == "confidence-sequence" and n is None:
            return 1 - sequential.NO_ALPHA  # no n, no sequence: it cannot pass
        previous = look.previous.get(f"{gate.metric}[{slice_name}]", 0) if look is not None else 0
        return sequential.look_confidence(design, confidence, n=n or 0, look=number, previous_n=previous)

    return LookAssessment(look, confidence_at, tuple(reasons), tuple(notes))


def planned_n_notes(spec: Spec, candidate: Results) -> tuple[str, ...]:
    """Where the candidate's n differs from the n the spec's `plan:` pre-registered (a note; the lock's digest
    covers the plan, so the plan cannot change after the lock without the report saying so). Under a
    sequential design results are expected to grow towards the plan: only an n beyond it is noted."""
    if spec.plan is None:
        return ()
    differing: list[str] = []
    for gate in spec.gates:
        grows = spec.sequential_for(gate) is not None
        one_gate = spec.model_copy(update={"gates": (gate,)})
        for cell, n in current_sizes(one_gate, candidate).items():
            slice_name = cell[cell.index("[") + 1 : -1]
            planned = spec.plan.planned_n(slice_name)
            if planned is None or n == planned or (grows and n < planned):
                continue
            text = f"{cell} has n = {n:,}, planned {planned:,}"
            if text not in differing:
                differing.append(text)
    if not differing:
        return ()
    return (f"{candidate.source}: the results' n differs from the plan: {'; '.join(differing)}",)


def _cells_without_alpha(gate: Gate, max_n: int, look: sequential.Look, sizes: dict[str, int]) -> list[str]:
    """The gate's cells at which spending by information fraction has nothing left for this look."""
    out = []
    for cell, n in sizes.items():
        if not cell.startswith(f"{gate.metric}["):
            continue
        previous = look.previous.get(cell, 0)
        if previous >= max_n or n <= previous:
            out.append(cell)
    return out


def _sequential_reason(gate_id: str, status: str, message: str) -> Reason:
    """A gate's sequential design cannot count this look: revise, with why."""
    return Reason(leads_to="revise", kind="sequential", subject=gate_id, status=status, message=message)
