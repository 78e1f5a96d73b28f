"""Immutable records of what the evaluator found. They serialize to the verdict JSON as they are.

Fields are only ever added to these records, never renamed or removed: the JSON verdict is a public format.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatekit.spec.model import ArtifactName, BoundName, OnFail

Status = Literal["pass", "fail", "missing", "inconclusive"]
"""pass: the bound holds. fail: it is breached. missing: it could not be evaluated (no data, NaN, empty slice,
no baseline). inconclusive: the data cannot tell (the interval straddles the threshold, or too few examples).
Only pass ships."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reason(_Record):
    """Why the verdict is not ship: one failed, missing or inconclusive check, or a manifest gap."""

    leads_to: Literal["stop", "revise"]
    kind: Literal["gate", "budget", "rollback", "lock", "provenance", "artifact", "peeking", "sequential", "judge"]
    subject: str
    """What the reason is about: `gate_id[slice].bound`, a budget item or a manifest entry."""
    status: str
    message: str


class GateOutcome(_Record):
    """One (gate, slice, bound) check: the unit of every report."""

    id: str
    """The gate's id."""
    metric: str
    slice: str
    bound: BoundName
    limit: float
    """The number written in the spec for this bound."""
    on_fail: OnFail
    status: Status
    observed: float | None
    """The candidate's value on this slice (null when absent or not finite)."""
    baseline: float | None
    """The baseline's value on this slice (relative bounds only)."""
    threshold: float | None
    """The value the observed value is compared with."""
    margin: float | None
    """Headroom on the passing side of the threshold; negative means a breach by that much."""
    n: int | None
    """Examples behind the candidate's value, when known."""
    reason: str
    """Why this status, in words."""
    uncertainty: Literal["interval", "point"] = "point"
    """interval: decided by a confidence interval; point: by the point estimate alone (no uncertainty known)."""
    method: str | None = None
    """The interval method, e.g. "Clopper-Pearson exact", "order statistics (distribution-free)"."""
    confidence: float | None = None
    """One-sided confidence of the decision (0.95 unless the spec or gate sets it)."""
    interval: tuple[float | None, float | None] | None = None
    """(lower, upper) bounds of the compared quantity, each one-sided at `confidence`, on the observed value's
    scale: for relative bounds, the baseline's value plus the interval of the difference (or times the interval
    of the ratio), so both are compared with `threshold`. null inside: unbounded (too few examples, timeouts)."""
    p_value: float | None = None
    """One-sided p-value for "the bound is breached" (1.0 when the estimate itself is not beyond the threshold)."""
    p_adjusted: float | None = None
    """`p_value` after the spec's family-wise correction; a fail needs it <= 1 - confidence."""
    evidence_needed: int | None = None
    """For inconclusive checks: roughly how many examples per arm would decide it at the observed effect."""


class AggregateCallout(_Record):
    """The aggregate slice passes a bound that one or more other slices of the same gate fail."""

    id: str
    metric: str
    bound: BoundName
    aggregate_observed: float
    aggregate_threshold: float
    failing_slices: tuple[str, ...]
    message: str


class BudgetOutcome(_Record):
    """One budget line: a named cost limit, or the cost per point gained."""

    item: str
    limit: float
    spent: float | None
    """The cost recorded in the candidate results (or the cost per point)."""
    status: Literal["pass", "fail", "missing", "inconclusive"]
    """inconclusive: a cost per point whose gain's interval straddles the limit (revise, never stop)."""
    reason: str


class ArtifactOutcome(_Record):
    """One rollback-manifest entry and whether it pins the artifact."""

    name: ArtifactName
    required: bool
    uri: str | None
    pin: str | None
    """The digest or revision that pins it."""
    status: Literal["pinned", "missing", "unpinned", "not_required"]
    reason: str


class HypothesisOutcome(_Record):
    """Whether a metric the hypothesis meant to improve did improve on the aggregate slice (informational)."""

    metric: str
    candidate: float | None
    baseline: float | None
    change: float | None
    status: Literal["improved", "not_improved", "unknown"]
    reason: str


ExampleId = str | int
"""An example's id as the results file wrote it (text or an integer)."""


class ReviewExample(_Record):
    """One example that moved the wrong way between baseline and candidate, with the columns the spec names."""

    rank: int
    """1 for the largest move in the harmful direction; ties in the order of the ids."""
    id: ExampleId
    candidate: float
    baseline: float
    change: float
    """candidate - baseline (inf or nan when a latency timed out)."""
    columns: dict[str, str | None] = {}
    """The candidate's `review.columns` for this example (e.g. prompt, output)."""
    baseline_columns: dict[str, str | None] = {}
    """The baseline's `review.columns` for this example, when its table has them."""


class ReviewSlice(_Record):
    """A failing or inconclusive (gate, slice) whose per-example values pair candidate and baseline by id."""

    id: str
    """The gate's id."""
    metric: str
    slice: str
    status: Status
    """The worst status among the gate's checks on this slice."""
    higher_is_better: bool
    """The direction that decides what counts as regressed."""
    paired: int
    """Examples present in both candidate and baseline: regressed + improved + unchanged."""
    regressed: int
    improved: int
    unchanged: int
    unpaired: int
    """Examples in only one of the two (left out of the counts)."""
    examples: tuple[ReviewExample, ...]
    """The regressed examples, worst first, at most `review.limit`."""
    show: int = 10
    """How many of `examples` the Markdown and HTML reports show (`review.show`)."""


class DisagreementExample(_Record):
    """One example that two scorers (metrics over the same examples) score differently."""

    rank: int
    id: ExampleId
    first: float
    """The value of the first metric of the pair."""
    second: float
    columns: dict[str, str | None] = {}


class DisagreementSlice(_Record):
    """Where two metrics of the candidate score the same examples of a slice, how often they disagree."""

    metrics: tuple[str, str]
    slice: str
    compared: int
    """Examples scored by both."""
    disagree: int
    examples: tuple[DisagreementExample, ...]
    """The disagreements, the largest difference first, at most `review.limit`."""
    show: int = 10
    """How many of `examples` the Markdown and HTML reports show (`review.show`)."""


class FlakySlice(_Record):
    """Repeated samples on one slice: how many examples, and how many of them are flaky (repeats disagree)."""

    slice: str
    examples: int
    flaky: int
    policy: Literal["count", "exclude", "fail"]
    """count: reported only; exclude: flaky examples were left out of every metric; fail: gate checks on the
    slice fail while it has a flaky example."""


class AppliedWaiver(_Record):
    """A recorded waiver that accepted a check this decision would otherwise not ship on."""

    waiver_id: int
    subject: str
    """`gate_id[slice].bound`."""
    status: Status
    """What the check was: fail (of an `on_fail: revise` gate), missing or inconclusive."""
    by: str
    reason: str
    expires: dt.date


VerificationStatus = Literal["verified", "mismatch", "missing", "unreadable", "not_verified", "unpinned"]
FAILED_VERIFICATION: frozenset[str] = frozenset({"mismatch", "missing", "unreadable"})
"""Statuses that are a reason to revise: the pinned artifact is not there, or is not what was pinned."""


class ArtifactVerification(BaseModel):
    """What verifying one rollback-manifest entry found.

    verified: the local file, directory or git commit is there and matches its pin. mismatch: it is there
    but its digest differs. missing: the path or commit does not exist. unreadable: it could not be read.
    not_verified: remote or an image; its form was checked, its bytes were not. unpinned: no usable pin.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ArtifactName
    uri: str
    kind: Literal["file", "directory", "git", "image", "remote", "local"]
    status: VerificationStatus
    expected: str | None
    """The pin written in the manifest (digest or revision)."""
    actual: str | None
    """The digest computed from the local file or directory, when one was computed."""
    message: str


class LockEvent(_Record):
    """One `gatekit lock`: the spec's digest at that moment and where it came from."""

    digest: str
    """`sha256:` digest of the spec's canonical content."""
    locked_at: dt.datetime
    """When the lock was taken (UTC, from the locking machine's clock: not proof of time)."""
    gatekit_version: str
    git_commit: str | None = None
    """The last commit that touched the spec file, when it is in a git repository."""
    git_spec_modified: bool | None = None
    """Whether the spec file had uncommitted changes when it was locked (null outside git)."""


LockStatus = Literal["locked", "unlocked", "changed", "locked_after_results"]


class LockReport(_Record):
    """Whether the spec as evaluated is the spec as locked, before the results existed.

    * locked: the spec matches its latest lock, and that lock was in force when the results were produced
      (or the results carry no `created` time, which the message says);
    * unlocked: there is no lock file (a reason to revise only when the spec says `require_lock: true`);
    * changed: the spec was edited after its latest lock ("gate changed after the fact"; revise);
    * locked_after_results: the lock in force when the results were produced is not this spec, or the spec
      was locked only after the results existed ("gate changed after the fact"; revise).
    """

    status: LockStatus
    lock_path: str
    spec_digest: str
    """Digest of the spec as evaluated."""
    required: bool
    """The spec says `require_lock: true`."""
    events: tuple[LockEvent, ...] = ()
    """Every lock event in the lock file, oldest first; more than one means the spec was re-locked."""
    results_created: dt.datetime | None = None
    message: str

    @property
    def relocked(self) -> bool:
        return len(self.events) > 1


ProvenanceStatus = Literal["matches", "mismatch", "not_named"]


class ResultsProvenance(_Record):
    """Whether the candidate results name the gate they were produced under (`gate_digest`)."""

    status: ProvenanceStatus
    spec_digest: str
    results_digest: str | None
    message: str
