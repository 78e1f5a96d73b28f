"""The review queue and the disagreement queue: the examples a reviewer should read. Pure: no I/O.

* **Review queue.** For every (gate, slice) with a failing or inconclusive check whose candidate and baseline
  values are per example and carry ids, the examples are paired by id and each paired example is
  *regressed* (moved the harmful way: pass -> fail for a rate, a drop of a score that should rise, a rise of
  a latency), *improved* or *unchanged*. For a rate over the same examples the candidate's rate minus the
  baseline's is exactly (improved - regressed) / paired. The regressed examples are ranked by how far they
  moved (ties in id order) and the first `review.limit` are listed with the `review.columns` of each side.
* **Disagreement queue.** For each pair in `review.disagree`, two metrics of the candidate scoring the same
  examples (two scorers, two filters): per slice, the examples on which their values differ, the largest
  difference first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from gatekit.outcomes import (
    DisagreementExample,
    DisagreementSlice,
    ExampleId,
    GateOutcome,
    ReviewExample,
    ReviewSlice,
    Status,
)
from gatekit.results import example_id
from gatekit.spec.model import Spec

if TYPE_CHECKING:
    from gatekit.results import ExampleColumns, Results, Samples

_QUEUED: frozenset[Status] = frozenset({"fail", "inconclusive"})
_WORST: tuple[Status, ...] = ("fail", "missing", "inconclusive", "pass")
_HIGHER_IS_BETTER_BOUNDS = frozenset({"min", "max_decrease", "max_decrease_pct"})


def _id_order(value: ExampleId) -> tuple[int, int, str]:
    # Integers before text, each in its natural order, so that ties rank the same on every run.
    return (0, value, "") if isinstance(value, int) else (1, 0, value)


def _pairs(candidate: Samples, baseline: Samples) -> tuple[list[tuple[ExampleId, float, float]], int]:
    """(id, candidate value, baseline value) for every id in both, in the candidate's order; and how many
    examples are in only one of the two."""
    c_ids, b_ids = candidate.ids, baseline.ids
    assert c_ids is not None
    assert b_ids is not None
    base = {example_id(k): float(v) for k, v in zip(b_ids.tolist(), baseline.values.tolist(), strict=True)}
    pairs = []
    for k, v in zip(c_ids.tolist(), candidate.values.tolist(), strict=True):
        key = example_id(k)
        if key in base:
            pairs.append((key, float(v), base[key]))
    return pairs, (len(c_ids) - len(pairs)) + (len(b_ids) - len(pairs))


def _harm(candidate: float, baseline: float, higher_is_better: bool) -> float:
    """How far an example moved the harmful way (negative: it improved); nan when it cannot tell (inf - inf)."""
    return baseline - candidate if higher_is_better else candidate - baseline


def _columns(examples: ExampleColumns | None, ids: Sequence[ExampleId]) -> list[dict[str, str | None]]:
    if examples is None or not ids:
        return [{} for _ in ids]
    return examples.lookup(list(ids))


def _higher_is_better(spec: Spec, metric: str, checks: Sequence[GateOutcome]) -> bool:
    declared = spec.metric_definition(metric).higher_is_better
    if declared is not None:
        return declared
    # Undeclared: the bound that is not met says which way is harmful (a floor: higher is better).
    return next(o.bound for o in checks if o.status != "pass") in _HIGHER_IS_BETTER_BOUNDS


def _with_ids(results: Results | None, metric: str, slice_name: str) -> Samples | None:
    measurement = results.measurement(metric, slice_name) if results is not None else None
    if measurement is None or measurement.problem is not None or measurement.samples is None:
        return None
    return measurement.samples if measurement.samples.ids is not None else None


def review_queue(
    spec: Spec, gates: Sequence[GateOutcome], candidate: Results, baseline: Results | None
) -> tuple[ReviewSlice, ...]:
    """One `ReviewSlice` per (gate, slice) with a failing or inconclusive check and paired per-example values,
    in the order of the checks."""
    by_slice: dict[tuple[str, str], list[GateOutcome]] = {}
    for o in gates:
        by_slice.setdefault((o.id, o.slice), []).append(o)
    queue = []
    for (gate_id, slice_name), checks in by_slice.items():
        if not any(o.status in _QUEUED for o in checks):
            continue
        metric = checks[0].metric
        cand = _with_ids(candidate, metric, slice_name)
        base = _with_ids(baseline, metric, slice_name)
        if cand is None or base is None or baseline is None:
            continue
        higher = _higher_is_better(spec, metric, checks)
        pairs, unpaired = _pairs(cand, base)
        harms = [_harm(c, b, higher) for _, c, b in pairs]
        regressed = [(h, p) for h, p in zip(harms, pairs, strict=True) if h > 0]
        regressed.sort(key=lambda hp: (-hp[0], _id_order(hp[1][0])))
        top = regressed[: spec.review.limit]
        ids = [p[0] for _, p in top]
        cand_columns = _columns(candidate.examples, ids)
        base_columns = _columns(baseline.examples, ids)
        queue.append(
            ReviewSlice(
                id=gate_id,
                metric=metric,
                slice=slice_name,
                status=min((o.status for o in checks), key=_WORST.index),
                higher_is_better=higher,
                paired=len(pairs),
                regressed=len(regressed),
                improved=sum(1 for h in harms if h < 0),
                unchanged=sum(1 for h in harms if not (h > 0 or h < 0)),  # nan (inf - inf) is unchanged
                unpaired=unpaired,
                show=spec.review.show,
                examples=tuple(
                    ReviewExample(
                        rank=rank, id=key, candidate=c, baseline=b, change=c - b, columns=cc, baseline_columns=bc
                    )
                    for rank, ((_, (key, c, b)), cc, bc) in enumerate(
                        zip(top, cand_columns, base_columns, strict=True), start=1
                    )
                ),
            )
        )
    return tuple(queue)


def disagreement_queue(spec: Spec, candidate: Results) -> tuple[DisagreementSlice, ...]:
    """Per pair of `review.disagree` and per slice both metrics have (with example ids), where they differ."""
    return tuple(_disagreements(spec, candidate))


def _disagreements(spec: Spec, candidate: Results) -> Iterator[DisagreementSlice]:
    for first, second in spec.review.disagree:
        for slice_name in candidate.metrics.get(first, {}):
            a = _with_ids(candidate, first, slice_name)
            b = _with_ids(candidate, second, slice_name)
            if a is None or b is None:
                continue
            pairs, _ = _pairs(a, b)
            differ = [(abs(x - y), (key, x, y)) for key, x, y in pairs if x != y]
            differ.sort(key=lambda dp: (-dp[0], _id_order(dp[1][0])))
            top = differ[: spec.review.limit]
            columns = _columns(candidate.examples, [p[0] for _, p in top])
            yield DisagreementSlice(
                metrics=(first, second),
                slice=slice_name,
                compared=len(pairs),
                disagree=len(differ),
                show=spec.review.show,
                examples=tuple(
                    DisagreementExample(rank=rank, id=key, first=x, second=y, columns=cols)
                    for rank, ((_, (key, x, y)), cols) in enumerate(zip(top, columns, strict=True), start=1)
                ),
            )
