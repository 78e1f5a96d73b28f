"""Audit, property: whatever waivers are recorded, `apply_waivers` never lets through a stop, a non-gate
reason, a check of another spec digest or other results, or an expired waiver; and it removes at most one
reason per applied waiver."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gatekit.decide.verdict import decide
from gatekit.decide.waivers import Waiver, apply_waivers
from gatekit.outcomes import Reason

TODAY = dt.date(2026, 6, 1)
DIGESTS = ["sha256:" + c * 64 for c in "ab"]
SUBJECTS = ["acc[all].min", "acc[a].min", "lat[all].max", "train_usd", "looks"]

reasons = st.builds(
    Reason,
    leads_to=st.sampled_from(["stop", "revise"]),
    kind=st.sampled_from(["gate", "budget", "judge", "peeking", "sequential", "lock"]),
    subject=st.sampled_from(SUBJECTS),
    status=st.sampled_from(["fail", "missing", "inconclusive"]),  # a gate check's statuses (AppliedWaiver's)
    message=st.just("m"),
)
waivers = st.builds(
    Waiver,
    id=st.integers(1, 50),
    spec_name=st.just("tiny"),
    subject=st.sampled_from(SUBJECTS),
    spec_digest=st.sampled_from(DIGESTS),
    results_sha256=st.sampled_from(DIGESTS),
    by=st.just("alice"),
    reason=st.just("r"),
    expires=st.dates(dt.date(2026, 5, 25), dt.date(2026, 6, 7)),
    recorded_at=st.just("2026-05-01T00:00:00+00:00"),
)


@given(st.lists(reasons, max_size=6), st.lists(waivers, max_size=6, unique_by=lambda w: w.id))
def test_no_waiver_lets_through_what_it_must_not(given_reasons: list[Reason], given_waivers: list[Waiver]) -> None:
    outcome = apply_waivers(
        given_reasons, given_waivers, spec_digest=DIGESTS[0], results_sha256=DIGESTS[0], today=TODAY
    )
    removed = list(given_reasons)
    for r in outcome.reasons:
        removed.remove(r)
    assert len(removed) == len(outcome.applied)
    assert all(r.kind == "gate" and r.leads_to == "revise" for r in removed)
    by_id = {w.id: w for w in given_waivers}
    for applied in outcome.applied:
        waiver = by_id[applied.waiver_id]
        assert (waiver.spec_digest, waiver.results_sha256) == (DIGESTS[0], DIGESTS[0])
        assert waiver.expires >= TODAY
    assert sorted(a.subject for a in outcome.applied) == sorted(r.subject for r in removed)
    if decide(given_reasons) == "stop":
        assert decide(outcome.reasons) == "stop"
