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
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatekit import __version__
from gatekit.decide.budget import evaluate_budget
from gatekit.decide.evaluate import evaluate_gates, evaluate_hypothesis, find_aggregate_callouts
from gatekit.decide.rollback import check_manifest, manifest_complete
from gatekit.exit_codes import ExitCode
from gatekit.integrity.artifacts import FAILED_VERIFICATION, ArtifactVerification
from gatekit.integrity.lock import LockReport, ResultsProvenance
from gatekit.outcomes import AggregateCallout, ArtifactOutcome, BudgetOutcome, GateOutcome, HypothesisOutcome
from gatekit.results import Results
from gatekit.spec.model import Spec, Stage

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


class Reason(_Record):
    """Why the verdict is not ship: one failed, missing or inconclusive check, or a manifest gap."""

    leads_to: Literal["stop", "revise"]
    kind: Literal["gate", "budget", "rollback", "lock", "provenance", "artifact"]
    subject: str
    """What the reason is about: `gate_id[slice].bound`, a budget item or a manifest entry."""
    status: str
    message: str


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
    `drop_invalid` (with the count), rows left out of a slice. A note never changes the verdict."""


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
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
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


def _summary(decision: Decision, reasons: Sequence[Reason], gates: Sequence[GateOutcome], budget_set: bool) -> str:
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
    return text


_NOUNS = {
    "gate": ("gate check", "gate checks"),
    "budget": ("budget line", "budget lines"),
    "rollback": ("rollback entry", "rollback entries"),
    "artifact": ("rollback artifact", "rollback artifacts"),
}
_PAST = {"fail": "failed", "mismatch": "mismatched"}
_FACTS = {
    ("lock", "changed"): "the spec was changed after it was locked",
    ("lock", "locked_after_results"): "the spec was locked after the results were produced",
    ("lock", "unlocked"): "the spec is not locked",
    ("provenance", "mismatch"): "the results name a different gate digest",
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
) -> Verdict:
    """Evaluate everything and decide. Pure: the same inputs always give the same verdict.

    `lock`, `provenance` and `artifacts` are assessed by the caller (they need files, git or hashing;
    see `gatekit.api.check`) and passed in; each adds its reasons to revise.
    """
    gates = evaluate_gates(spec, candidate, baseline)
    budget = evaluate_budget(spec.budget, candidate, baseline)
    rollback = check_manifest(spec)
    reasons = collect_reasons(gates, budget, rollback, lock=lock, provenance=provenance, artifacts=artifacts or ())
    decision = decide(reasons)
    counts = Counter(o.status for o in gates)
    return Verdict(
        verdict=decision,
        exit_code=int(EXIT_CODES[decision]),
        summary=_summary(decision, reasons, gates, budget_set=bool(budget)),
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
        notes=(*candidate.notes, *(baseline.notes if baseline is not None else ())),
    )
