"""Bisection over a lineage: which stage first broke each (gate, slice) check. Pure: verdicts in, findings out.

Three-valued like `git bisect` with `skip`: a check that passes at a stage is *good* there, one that fails is
*bad*, and one that is inconclusive or missing is *unknown*: never counted as good or bad. For every check
that is not good at some stage, the finding names the first bad stage and the last good stage before it;
the unknown stages between the two are where the regression may also have come in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gatekit.decide.verdict import Verdict, gate_subject

StageState = Literal["good", "bad", "unknown"]


class BisectFinding(BaseModel):
    """One (gate, slice, bound) check along the lineage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    """`gate_id[slice].bound`."""
    states: tuple[StageState, ...]
    """The check's state at each stage, in lineage order (absent from a stage's verdict: unknown)."""
    first_bad: str | None
    """The first stage where the check fails; null when it never fails (only unknown)."""
    last_good: str | None
    """The last stage before `first_bad` (or, with no failure, before the first unknown) where it passes."""
    fails_at: tuple[str, ...]
    """Every stage where the check fails (a check can recover and fail again)."""
    unknown_between: tuple[str, ...]
    """Stages between `last_good` and `first_bad` whose state is unknown: the regression may lie in any of them."""
    message: str


_STATE: dict[str, StageState] = {"pass": "good", "fail": "bad", "inconclusive": "unknown", "missing": "unknown"}


def bisect(stages: Sequence[tuple[str, Verdict]]) -> tuple[BisectFinding, ...]:
    """A finding for every check that is bad or unknown at some stage, in the order the checks first appear."""
    subjects: list[str] = []
    state: dict[str, dict[int, StageState]] = {}
    for i, (_, verdict) in enumerate(stages):
        for outcome in verdict.gates:
            subject = gate_subject(outcome)
            if subject not in state:
                subjects.append(subject)
                state[subject] = {}
            state[subject][i] = _STATE[outcome.status]
    names = [name for name, _ in stages]
    findings = []
    for subject in subjects:
        states = tuple(state[subject].get(i, "unknown") for i in range(len(stages)))
        if all(s == "good" for s in states):
            continue
        findings.append(_finding(subject, states, names))
    return tuple(findings)


def _finding(subject: str, states: tuple[StageState, ...], names: Sequence[str]) -> BisectFinding:
    first_bad = next((i for i, s in enumerate(states) if s == "bad"), None)
    end = first_bad if first_bad is not None else next(i for i, s in enumerate(states) if s == "unknown")
    last_good = next((i for i in range(end - 1, -1, -1) if states[i] == "good"), None)
    between = tuple(names[i] for i in range((last_good if last_good is not None else -1) + 1, end))
    if first_bad is None:
        good = f"; last good at {names[last_good]}" if last_good is not None else ""
        message = f"{subject} never fails, but is unknown from {names[end]}{good}: no stage can be blamed"
    elif last_good is None:
        message = f"{subject} first fails at {names[first_bad]}; no earlier stage passes it"
    else:
        message = f"{subject} first fails at {names[first_bad]}; last good at {names[last_good]}"
    if first_bad is not None and between:
        message += f"; unknown at {', '.join(between)}, so it may have come in there"
    again = [names[i] for i, s in enumerate(states) if s == "bad" and i != first_bad]
    if again:
        message += f"; fails again at {', '.join(again)}"
    return BisectFinding(
        subject=subject,
        states=states,
        first_bad=names[first_bad] if first_bad is not None else None,
        last_good=names[last_good] if last_good is not None else None,
        fails_at=tuple(names[i] for i, s in enumerate(states) if s == "bad"),
        unknown_between=between if first_bad is not None else (),
        message=message,
    )


BISECT_EXIT_CODES = {"good": 0, "bad": 1, "skip": 125, "abort": 128}
"""`gatekit check --exit-codes bisect`, for `git bisect run`: ship 0 (good), a failed check 1 (bad),
inconclusive or otherwise undecided 125 (skip this commit), invalid input or an internal error 128 (abort)."""


def bisect_exit_code(verdict: Verdict) -> int:
    """Good only on ship; bad only on evidence of a failure (a failed gate or budget line); else skip."""
    if verdict.verdict == "ship":
        return BISECT_EXIT_CODES["good"]
    if any(r.status == "fail" for r in verdict.reasons):
        return BISECT_EXIT_CODES["bad"]
    return BISECT_EXIT_CODES["skip"]
