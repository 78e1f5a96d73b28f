"""Waivers: a named owner accepts one check, with a reason and an expiry, on the record. Pure rules, no I/O.

A waiver is recorded with `gatekit waive` in the ledger, bound to the spec's digest and the SHA-256 of the
candidate results file; `check` reads the waivers of its spec from the ledger and passes them here as data.
A waiver **applies** (its check no longer keeps the release from shipping, and every report lists it) when:

* it was recorded for this spec as it is now (same digest) and for these results: the candidate file's SHA-256,
  combined with the baseline file's when there is a baseline (`results_key`), since a check against a baseline
  is decided by both files;
* it has not expired (it is valid through its `expires` date);
* its subject, ``gate_id[slice].bound``, is a check of this decision that is *inconclusive* or *missing*,
  or *fails* on a gate with ``on_fail: revise``.

It never applies to a failing ``on_fail: stop`` gate, to a budget line (a budget stop or an unverifiable
budget), to a rollback, lock, provenance or judge reason, or to a check of another spec or other results.
A waiver that does not apply is ignored, and a note says why: the decision is then made as if it did not
exist.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from gatekit.outcomes import AppliedWaiver

if TYPE_CHECKING:
    from gatekit.outcomes import Reason

SUBJECT = re.compile(r"^(?P<gate>[^\[\]]+)\[(?P<slice>.+)\]\.(?P<bound>[a-z_]+)$")
"""`gate_id[slice].bound`, as every report names a check."""


class Waiver(BaseModel):
    """A waiver as the ledger holds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    spec_name: str
    subject: str
    """`gate_id[slice].bound`."""
    spec_digest: str
    results_sha256: str
    by: str
    reason: str
    expires: dt.date
    """Valid through this day (UTC)."""
    recorded_at: str


@dataclass(frozen=True)
class WaiverOutcome:
    reasons: tuple[Reason, ...]
    """The reasons left once the applied waivers accepted theirs."""
    applied: tuple[AppliedWaiver, ...]
    notes: tuple[str, ...]
    """One per waiver that was ignored, saying why."""


def results_key(candidate_sha256: str | None, baseline_sha256: str | None, *, has_baseline: bool) -> str | None:
    """What a waiver is bound to: the candidate's SHA-256 alone without a baseline, else a digest of both (a
    check such as max_decrease is decided by the baseline too). None when a file that decides cannot be hashed:
    then no waiver applies."""
    if candidate_sha256 is None or (has_baseline and baseline_sha256 is None):
        return None
    if not has_baseline:
        return candidate_sha256
    import hashlib

    both = f"candidate {candidate_sha256}\nbaseline {baseline_sha256}\n".encode()
    return "sha256:" + hashlib.sha256(both).hexdigest()


def refusal(reason: Reason | None, subject: str) -> str | None:
    """Why a waiver of `subject` cannot accept `reason` (the check's reason in this decision), or None."""
    if SUBJECT.match(subject) is None:
        return f"{subject!r} is not a gate check (gate_id[slice].bound); budget and other reasons cannot be waived"
    if reason is None:
        return f"{subject} is not failing, missing or inconclusive in this decision: nothing to waive"
    if reason.leads_to == "stop":
        return f"{subject} fails an `on_fail: stop` gate, which no waiver can accept"
    return None


def apply_waivers(
    reasons: Sequence[Reason],
    waivers: Sequence[Waiver],
    *,
    spec_digest: str,
    results_sha256: str | None,
    today: dt.date,
) -> WaiverOutcome:
    """Apply the waivers that may accept a reason (see the module docstring); the others become notes."""
    remaining = list(reasons)
    applied: list[AppliedWaiver] = []
    notes: list[str] = []
    for waiver in sorted(waivers, key=lambda w: w.id):
        label = f"waiver #{waiver.id} ({waiver.subject}, by {waiver.by})"
        if waiver.spec_digest != spec_digest:
            notes.append(f"{label} ignored: it was recorded for another version of the spec ({waiver.spec_digest})")
            continue
        if results_sha256 is None or waiver.results_sha256 != results_sha256:
            notes.append(
                f"{label} ignored: it was recorded for other candidate results or another baseline "
                f"(sha256 {waiver.results_sha256})"
            )
            continue
        if waiver.expires < today:
            notes.append(f"{label} ignored: it expired on {waiver.expires.isoformat()}")
            continue
        match = next((r for r in remaining if r.kind == "gate" and r.subject == waiver.subject), None)
        refused = refusal(match, waiver.subject)
        if refused is not None:
            notes.append(f"{label} ignored: {refused}")
            continue
        assert match is not None
        remaining.remove(match)
        applied.append(
            AppliedWaiver(
                waiver_id=waiver.id,
                subject=waiver.subject,
                status=match.status,
                by=waiver.by,
                reason=waiver.reason,
                expires=waiver.expires,
            )
        )
    return WaiverOutcome(tuple(remaining), tuple(applied), tuple(notes))
