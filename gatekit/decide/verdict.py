"""The verdict: ship, stop or revise, with every reason. One object that every report format renders.

The rule, applied in this order:

* **stop** if any gate with `on_fail: stop` fails, or the budget is exceeded;
* otherwise **revise** if any check fails, is missing or is inconclusive, a budget line cannot be verified,
  the rollback manifest is incomplete, the gate changed after the fact (edited after its lock, or locked
  after the results; or unlocked when the spec requires a lock), the results name another gate, or a
  verified rollback artifact is missing or does not match its pin;
* otherwise **ship**.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from gatekit import __version__
from gatekit.decide.budget import evaluate_budget
from gatekit.decide.evaluate import ConfidenceAt, evaluate_gates, evaluate_hypothesis, find_aggregate_callouts
from gatekit.decide.rollback import check_manifest, manifest_complete
from gatekit.exit_codes import ExitCode
from gatekit.outcomes import (
    FAILED_VERIFICATION,
    AggregateCallout,
    AppliedWaiver,
    ArtifactOutcome,
    ArtifactVerification,
    BudgetOutcome,
    DisagreementSlice,
    FlakySlice,
    GateOutcome,
    HypothesisOutcome,
    LockReport,
    Reason,
    ResultsProvenance,
    ReviewSlice,
)
from gatekit.results import Results
from gatekit.spec.model import Spec, Stage

if TYPE_CHECKING:
    from gatekit.decide.waivers import Waiver

VERDICT_SCHEMA_VERSION = 1

Decision = Literal["ship", "stop", "revise"]
EXIT_CODES: dict[Decision, ExitCode] = {"ship": ExitCode.SHIP, "revise": ExitCode.REVISE, "stop": ExitCode.STOP}


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpecSummary(_Record):
    name: str
    path: str
    stage: Stage
    statement: str
    improves: tuple[str, ...]
    owner: str
    written: dt.date
    gate_lines: dict[str, int]
    """Line of each gate in the spec file, by gate id (for annotations that point at the spec)."""


class ResultsSummary(_Record):
    path: str
    model: str


class Verdict(_Record):
    """Everything a report needs, and nothing it must recompute."""

    schema_version: int = VERDICT_SCHEMA_VERSION
    gatekit_version: str = __version__
    verdict: Decision
    exit_code: int
    summary: str
    """One line a human reads first."""
    spec: SpecSummary
    candidate: ResultsSummary
    baseline: ResultsSummary | None
    gates: tuple[GateOutcome, ...]
    aggregate_callouts: tuple[AggregateCallout, ...]
    budget: tuple[BudgetOutcome, ...]
    rollback: tuple[ArtifactOutcome, ...]
    rollback_complete: bool
    hypothesis: tuple[HypothesisOutcome, ...]
    reasons: tuple[Reason, ...]
    counts: dict[str, int]
    """Gate checks by status."""
    lock: LockReport | None = None
    """The spec against its lock file (null when the check was not asked to look)."""
    results_provenance: ResultsProvenance | None = None
    """Whether the candidate results name this gate's digest (null when not assessed)."""
    artifacts: tuple[ArtifactVerification, ...] | None = None
    """Rollback artifacts verified on disk (`--verify-artifacts`); null when verification was not asked for."""
    notes: tuple[str, ...] = ()
    """What reading the results noted without stopping the check, each naming its file: rows dropped under
    `drop_invalid` (with the count), rows left out of a slice; waivers that were ignored, and why. A note never
    changes the verdict."""
    review: tuple[ReviewSlice, ...] = ()
    """The review queue: per failing or inconclusive (gate, slice) with paired per-example values, the counts
    of regressed, improved and unchanged examples and the regressed examples, worst first."""
    disagreements: tuple[DisagreementSlice, ...] = ()
    """Per `review.disagree` pair and slice, the examples the two metrics score differently."""
    flaky: tuple[FlakySlice, ...] = ()
    """With `table.repeats`: flaky examples (repeats disagree) per slice of the candidate."""
    waivers: tuple[AppliedWaiver, ...] = ()
    """The waivers this decision applied: each accepted one check that would otherwise not ship."""


def gate_subject(outcome: GateOutcome) -> str:
    return f"{outcome.id}[{outcome.slice}].{outcome.bound}"


def collect_reasons(
    gates: Sequence[GateOutcome],
    budget: Sequence[BudgetOutcome],
    rollback: Sequence[ArtifactOutcome],
    *,
    lock: LockReport | None = None,
    provenance: ResultsProvenance | None = None,
    artifacts: Sequence[ArtifactVerification] = (),
    extra: Sequence[Reason] = (),
) -> tuple[Reason, ...]:
    reasons: list[Reason] = list(extra)
    for o in gates:
        if o.status == "pass":
            continue
        # Stop needs evidence of a breach: a stop gate that is missing or inconclusive asks to revise.
        leads_to: Literal["stop", "revise"] = "stop" if o.status == "fail" and o.on_fail == "stop" else "revise"
        reasons.append(
            Reason(
                leads_to=leads_to,
                kind="gate",
                subject=gate_subject(o),
                status=o.status,
                message=f"{o.metric} on {o.slice!r}: {o.reason}",
            )
        )
    for b in budget:
        if b.status != "pass":
            reasons.append(
                Reason(
                    leads_to="stop" if b.status == "fail" else "revise",
                    kind="budget",
                    subject=b.item,
                    status=b.status,
                    message=b.reason,
                )
            )
    for a in rollback:
        if a.status in ("missing", "unpinned"):  # a present entry that pins nothing blocks, required or not
            reasons.append(
                Reason(
                    leads_to="revise",
                    kind="rollback",
                    subject=a.name,
                    status=a.status,
                    message=f"rollback manifest: {a.name}: {a.reason}",
                )
            )
    if lock is not None and (
        lock.status in ("changed", "locked_after_results") or (lock.required and lock.status == "unlocked")
    ):
        reasons.append(Reason(leads_to="revise", kind="lock", subject="lock", status=lock.status, message=lock.message))
    if provenance is not None and provenance.status == "mismatch":
        reasons.append(
            Reason(
                leads_to="revise",
                kind="provenance",
                subject="gate_digest",
                status=provenance.status,
                message=provenance.message,
            )
        )
    for v in artifacts:
        if v.status in FAILED_VERIFICATION:
            reasons.append(
                Reason(
                    leads_to="revise",
                    kind="artifact",
                    subject=v.name,
                    status=v.status,
                    message=f"rollback artifact {v.name} ({v.uri}): {v.message}",
                )
            )
    # Stop reasons first: they decide the verdict.
    return tuple(sorted(reasons, key=lambda r: r.leads_to != "stop"))


def decide(reasons: Sequence[Reason]) -> Decision:
    if any(r.leads_to == "stop" for r in reasons):
        return "stop"
    if reasons:
        return "revise"
    return "ship"


def _summary(
    decision: Decision, reasons: Sequence[Reason], gates: Sequence[GateOutcome], budget_set: bool, waived: int = 0
) -> str:
    if decision == "ship" and waived:
        budget = ", the budget held" if budget_set else ""  # no budget set: nothing held
        return (
            f"SHIP with {waived} waived: {len(gates) - waived} of {len(gates)} gate checks passed and "
            f"{waived} {'was' if waived == 1 else 'were'} accepted by a waiver{budget} and the rollback "
            "manifest is complete"
        )
    if decision == "ship":
        budget = ", the budget held" if budget_set else ""  # no budget set: nothing held
        return f"SHIP: all {len(gates)} gate checks passed{budget} and the rollback manifest is complete"
    deciding = [r for r in reasons if r.leads_to == decision]
    groups = Counter((r.kind, r.status) for r in deciding)
    parts = [_describe(kind, status, n) for (kind, status), n in groups.items()]
    named = ", ".join(r.subject for r in deciding[:3]) + (", ..." if len(deciding) > 3 else "")
    text = f"{decision.upper()}: {'; '.join(parts)} ({named})"
    others = len(reasons) - len(deciding)
    if others:
        text += f"; {others} more reason{'s' if others > 1 else ''} to revise"
    if waived:
        text += f"; {waived} check{'s' if waived > 1 else ''} waived"
    return text


_NOUNS = {
    "gate": ("gate check", "gate checks"),
    "budget": ("budget line", "budget lines"),
    "rollback": ("rollback entry", "rollback entries"),
    "artifact": ("rollback artifact", "rollback artifacts"),
    "judge": ("gate on an unvalidated judge", "gates on unvalidated judges"),
}
_PAST = {"fail": "failed", "mismatch": "mismatched", "not_validated": "cannot ship on its own"}
_FACTS = {
    ("lock", "changed"): "the spec was changed after it was locked",
    ("lock", "locked_after_results"): "the spec was locked after the results were produced",
    ("lock", "unlocked"): "the spec is not locked",
    ("provenance", "mismatch"): "the results name a different gate digest",
    ("peeking", "repeated_look"): "the results were looked at before (fixed-n intervals, repeated looks)",
    ("sequential", "looks_spent"): "the sequential design has no looks left",
    ("sequential", "looks_uncounted"): "the sequential design's looks cannot be counted without a ledger",
    ("sequential", "looks_unrecorded"): "the sequential design's new look is not recorded, so it cannot be counted",
}


def _describe(kind: str, status: str, n: int) -> str:
    """One group of reasons in words: '2 gate checks failed', 'the spec was changed after it was locked'."""
    if (kind, status) in _FACTS:
        return _FACTS[(kind, status)]
    singular, plural = _NOUNS.get(kind, (f"{kind} check", f"{kind} checks"))
    return f"{n} {singular if n == 1 else plural} {_PAST.get(status, status.replace('_', ' '))}"


def build_verdict(
    spec: Spec,
    candidate: Results,
    baseline: Results | None,
    *,
    spec_path: str,
    gate_lines: Mapping[str, int] | None = None,
    lock: LockReport | None = None,
    provenance: ResultsProvenance | None = None,
    artifacts: tuple[ArtifactVerification, ...] | None = None,
    confidence_at: ConfidenceAt | None = None,
    extra_reasons: Sequence[Reason] = (),
    extra_notes: Sequence[str] = (),
    waivers: Sequence[Waiver] = (),
    spec_digest: str | None = None,
    results_sha256: str | None = None,
    today: dt.date | None = None,
) -> Verdict:
    """Evaluate everything and decide. Pure: the same inputs always give the same verdict.

    `lock`, `provenance` and `artifacts` are assessed by the caller (they need files, git or hashing;
    see `gatekit.api.check`) and passed in; each adds its reasons to revise. So do `extra_reasons` (a
    repeated look, see `gatekit.decide.sequential`); `confidence_at` is a sequential design's confidence.
    `waivers` are read from the ledger by the caller and applied by `gatekit.decide.waivers.apply_waivers`
    against `spec_digest`, `results_sha256` (of the candidate results file) and `today`.
    """
    from gatekit.decide.review import disagreement_queue, review_queue
    from gatekit.decide.trust import apply_flaky_policy, flaky_slices, judge_reasons

    gates = apply_flaky_policy(spec, evaluate_gates(spec, candidate, baseline, confidence_at=confidence_at), candidate)
    budget = evaluate_budget(spec.budget, candidate, baseline, spec)
    rollback = check_manifest(spec)
    reasons = collect_reasons(
        gates, budget, rollback, lock=lock, provenance=provenance, artifacts=artifacts or (), extra=extra_reasons
    )
    applied: tuple[AppliedWaiver, ...] = ()
    waiver_notes: tuple[str, ...] = ()
    if waivers:
        from gatekit.decide.waivers import apply_waivers

        if spec_digest is None or today is None:
            raise ValueError("waivers are applied against the spec's digest and today's date: give both")
        outcome = apply_waivers(reasons, waivers, spec_digest=spec_digest, results_sha256=results_sha256, today=today)
        reasons, applied, waiver_notes = outcome.reasons, outcome.applied, outcome.notes
    judged = [
        Reason(leads_to="revise", kind="judge", subject=gate_id, status="not_validated", message=message)
        for gate_id, message in judge_reasons(spec, gates)
    ]
    reasons = tuple(sorted((*reasons, *judged), key=lambda r: r.leads_to != "stop"))
    decision = decide(reasons)
    counts = Counter(o.status for o in gates)
    return Verdict(
        verdict=decision,
        exit_code=int(EXIT_CODES[decision]),
        summary=_summary(decision, reasons, gates, budget_set=bool(budget), waived=len(applied)),
        spec=SpecSummary(
            name=spec.name,
            path=spec_path,
            stage=spec.hypothesis.stage,
            statement=spec.hypothesis.statement,
            improves=spec.hypothesis.improves,
            owner=spec.hypothesis.owner,
            written=spec.hypothesis.written,
            gate_lines=dict(gate_lines or {}),
        ),
        candidate=ResultsSummary(path=candidate.source, model=candidate.model),
        baseline=ResultsSummary(path=baseline.source, model=baseline.model) if baseline else None,
        gates=gates,
        aggregate_callouts=find_aggregate_callouts(spec, candidate, baseline, gates),
        budget=budget,
        rollback=rollback,
        rollback_complete=manifest_complete(rollback),
        hypothesis=evaluate_hypothesis(spec, candidate, baseline),
        reasons=reasons,
        counts={s: counts.get(s, 0) for s in ("pass", "fail", "missing", "inconclusive")},
        lock=lock,
        results_provenance=provenance,
        artifacts=artifacts,
        notes=(*candidate.notes, *(baseline.notes if baseline is not None else ()), *extra_notes, *waiver_notes),
        review=review_queue(spec, gates, candidate, baseline),
        disagreements=disagreement_queue(spec, candidate),
        flaky=flaky_slices(spec, candidate),
        waivers=applied,
    )
