"""The human side of a verdict in plain sentences, shared by every report format: review counts, flaky
examples, disagreements and applied waivers. Each renderer escapes these lines its own way."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.outcomes import AppliedWaiver, DisagreementSlice, FlakySlice, ReviewSlice


def review_line(r: ReviewSlice) -> str:
    unpaired = f" ({r.unpaired} unpaired, left out)" if r.unpaired else ""
    return (
        f"review {r.id}[{r.slice}] ({r.status}): {r.regressed} regressed, {r.improved} improved, "
        f"{r.unchanged} unchanged of {r.paired} paired examples{unpaired}"
    )


def flaky_line(f: FlakySlice) -> str:
    return f"flaky on {f.slice!r}: {f.flaky} of {f.examples} examples have repeats that disagree (flaky: {f.policy})"


def disagreement_line(d: DisagreementSlice) -> str:
    first, second = d.metrics
    return f"disagreement {first} vs {second} on {d.slice!r}: {d.disagree} of {d.compared} examples"


def waiver_line(w: AppliedWaiver) -> str:
    return (
        f"waiver #{w.waiver_id} accepted {w.subject} ({w.status}), by {w.by} through {w.expires.isoformat()}: "
        f"{w.reason}"
    )


def evidence_lines(verdict: Verdict) -> list[str]:
    """Every line, in a fixed order: waivers, review counts, disagreements, flaky counts."""
    return [
        *(waiver_line(w) for w in verdict.waivers),
        *(review_line(r) for r in verdict.review),
        *(disagreement_line(d) for d in verdict.disagreements),
        *(flaky_line(f) for f in verdict.flaky),
    ]
