"""How far a gate's evidence can be trusted: unvalidated judges and flaky repeated samples. Pure, no I/O.

* A metric declared ``judge: {validated: false}`` is scored by a judge nobody has checked against human
  labels. Its gate adds a reason to revise ("judge not validated") whatever its checks say: such a gate can
  stop a release (a failing ``on_fail: stop`` check still stops) but never ship one on its own.
* Under ``table.flaky: fail`` every check of a derived metric on a slice with a flaky example (its repeats
  disagree) fails; missing stays missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from gatekit.outcomes import FlakySlice, GateOutcome
from gatekit.results import Results
from gatekit.spec.model import Spec


def judge_reasons(spec: Spec, gates: Sequence[GateOutcome]) -> list[tuple[str, str]]:
    """(gate id, message) for each gate of the decision whose metric's judge is not validated."""
    out = []
    for gate_id in dict.fromkeys(o.id for o in gates):
        metric = next(o.metric for o in gates if o.id == gate_id)
        judge = spec.metric_definition(metric).judge
        if judge is not None and not judge.validated:
            out.append(
                (
                    gate_id,
                    f"judge not validated: {metric} is scored by a judge that has not been checked against human "
                    "labels (metrics.{0}.judge.validated: false), so gate {1!r} cannot ship on its own".format(
                        metric, gate_id
                    ),
                )
            )
    return out


def flaky_slices(spec: Spec, candidate: Results) -> tuple[FlakySlice, ...]:
    return tuple(
        FlakySlice(slice=name, examples=examples, flaky=flaky, policy=spec.table.flaky)
        for name, (flaky, examples) in candidate.flaky.items()
    )


def apply_flaky_policy(spec: Spec, gates: Sequence[GateOutcome], candidate: Results) -> tuple[GateOutcome, ...]:
    """Under `table.flaky: fail`, the checks of derived metrics on slices with flaky examples fail."""
    if spec.table.flaky != "fail" or not candidate.flaky:
        return tuple(gates)
    out = []
    for o in gates:
        flaky = candidate.flaky.get(o.slice, (0, 0))[0]
        derived = spec.metric_definition(o.metric).from_ is not None
        if flaky and derived and o.status != "missing":
            reason = f"{flaky} flaky example(s) on {o.slice!r}, whose repeats disagree (table.flaky: fail); {o.reason}"
            out.append(o.model_copy(update={"status": "fail", "reason": reason}))
        else:
            out.append(o)
    return tuple(out)
