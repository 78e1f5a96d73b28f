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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    import numpy as np
    import numpy.typing as npt

    from gatekit.results import ExampleColumns, Results, Samples

_QUEUED: frozenset[Status] = frozenset({"fail", "inconclusive"})
_WORST: tuple[Status, ...] = ("fail", "missing", "inconclusive", "pass")
_HIGHER_IS_BETTER_BOUNDS = frozenset({"min", "max_decrease", "max_decrease_pct"})


@dataclass(frozen=True)
class _Paired:
    """The examples in both candidate and baseline, in the candidate's order."""

    rows: npt.NDArray[np.intp]
    """Each paired example's position among the candidate's."""
    candidate_samples: Samples
    candidate: npt.NDArray[np.float64]
    baseline: npt.NDArray[np.float64]
    unpaired: int
    """Examples in only one of the two."""

    def ids(self, positions: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
        """The ids of these paired examples (positions among the paired), built for them alone."""
        ids = self.candidate_samples.ids_at(self.rows[positions])
        assert ids is not None
        return ids


def _pair(candidate: Samples, baseline: Samples) -> _Paired | None:
    """None when an arm's ids turn out missing."""
    import numpy as np

    where = _coded_positions(candidate, baseline)
    if where is None:
        c_ids, b_ids = candidate.ids, baseline.ids
        if c_ids is None or b_ids is None:
            return None
        where = _positions(c_ids, b_ids)
    found = where >= 0
    rows = np.flatnonzero(found)
    return _Paired(
        rows,
        candidate,
        candidate.values[found],
        baseline.values[where[found]],
        (candidate.n - len(rows)) + (baseline.n - len(rows)),
    )


def _coded_positions(candidate: Samples, baseline: Samples) -> npt.NDArray[np.intp] | None:
    """`_positions` from the ids' integer codes, when the loader coded both arms in one space (equal codes,
    equal ids): a lookup in a table over the codes (`pairing.positions_among`), or where a baseline code
    repeats a stable sort of the baseline's codes and a search, where Arrow would hash the text ids. The first
    of repeated baseline ids is found, as `index_in` finds it. None without shared codes."""
    import numpy as np

    from gatekit.decide.pairing import positions_among

    c_keys, b_keys = candidate.keys, baseline.keys
    if c_keys is None or b_keys is None or c_keys.space is not b_keys.space:
        return None
    c_codes, b_codes = c_keys.codes, b_keys.codes
    direct = positions_among(c_codes, b_codes)  # through a table over the codes, where no baseline code repeats
    if direct is not None:
        return direct.astype(np.intp)
    where = np.full(len(c_codes), -1, dtype=np.intp)
    if len(b_codes) == 0:
        return where
    order = np.argsort(b_codes, kind="stable")
    ordered = b_codes[order]
    at = np.minimum(np.searchsorted(ordered, c_codes), len(ordered) - 1)
    found = ordered[at] == c_codes
    where[found] = order[at[found]]
    return where


def _positions(c_ids: npt.NDArray[Any], b_ids: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """For each candidate id, its position among the baseline ids, or -1: a hash lookup in Arrow when both
    hold ids of one type, else through Python with ids normalised (1 and 1.0 are the same example)."""
    import numpy as np
    import pyarrow as pa

    from gatekit.sources.arrow import arrow_call, from_numpy, is_null, to_numpy

    try:
        from pyarrow._compute import SetLookupOptions
    except ImportError:  # a pyarrow that moved it (see gatekit.sources.arrow.arrow_call)
        from pyarrow.compute import SetLookupOptions
    try:
        found = arrow_call("index_in", from_numpy(c_ids), options=SetLookupOptions(value_set=from_numpy(b_ids)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        index = {example_id(k): i for i, k in enumerate(b_ids.tolist())}
        return np.array([index.get(example_id(k), -1) for k in c_ids.tolist()], dtype=np.intp)
    positions = to_numpy(found).astype(np.intp)
    positions[is_null(found)] = -1
    return positions


def _ranked(
    ids_of: Callable[[npt.NDArray[np.intp]], npt.NDArray[Any]], harm: npt.NDArray[np.float64], limit: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """Positions of the examples with harm > 0, the largest harm first, ties in id order, at most `limit`,
    and their ids."""
    import numpy as np

    chosen = np.flatnonzero(harm > 0)
    if len(chosen) > limit:
        # Only the examples at or above the limit-th largest harm can be listed: sort those alone.
        cut = np.partition(harm[chosen], len(chosen) - limit)[len(chosen) - limit]
        chosen = chosen[harm[chosen] >= cut]
    ids = ids_of(chosen)  # built for the chosen examples alone
    try:
        by_id = np.argsort(ids, kind="stable")
    except TypeError:  # ids of mixed types: integers before text
        by_id = np.array(sorted(range(len(chosen)), key=lambda i: _id_order(example_id(ids[i]))), dtype=np.intp)
    by_id = by_id[np.argsort(-harm[chosen[by_id]], kind="stable")][:limit]
    return chosen[by_id], ids[by_id]


def _id_order(value: ExampleId) -> tuple[int, int, str]:
    return (0, value, "") if isinstance(value, int) else (1, 0, value)


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
    return measurement.samples if measurement.samples.has_ids else None


def review_queue(
    spec: Spec, gates: Sequence[GateOutcome], candidate: Results, baseline: Results | None
) -> tuple[ReviewSlice, ...]:
    """One `ReviewSlice` per (gate, slice) with a failing or inconclusive check and paired per-example values,
    in the order of the checks."""
    import numpy as np

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
        paired = _pair(cand, base)
        if paired is None:
            continue
        # How far each example moved the harmful way (negative: it improved; nan for inf - inf: unchanged).
        with np.errstate(invalid="ignore"):
            harm = paired.baseline - paired.candidate if higher else paired.candidate - paired.baseline
        top, top_ids = _ranked(paired.ids, harm, spec.review.limit)
        ids = [example_id(k) for k in top_ids.tolist()]
        cand_columns = _columns(candidate.examples, ids)
        base_columns = _columns(baseline.examples, ids)
        regressed = int((harm > 0).sum())
        improved = int((harm < 0).sum())
        c_top, b_top = paired.candidate[top], paired.baseline[top]
        with np.errstate(invalid="ignore"):
            change = c_top - b_top
        # Python values, converted once per slice rather than one numpy scalar at a time.
        examples = tuple(
            ReviewExample(rank=rank, id=key, candidate=c, baseline=b, change=d, columns=cc, baseline_columns=bc)
            for rank, (key, c, b, d, cc, bc) in enumerate(
                zip(ids, c_top.tolist(), b_top.tolist(), change.tolist(), cand_columns, base_columns, strict=True),
                start=1,
            )
        )
        queue.append(
            ReviewSlice(
                id=gate_id,
                metric=metric,
                slice=slice_name,
                status=min((o.status for o in checks), key=_WORST.index),
                higher_is_better=higher,
                paired=len(harm),
                regressed=regressed,
                improved=improved,
                unchanged=len(harm) - regressed - improved,
                unpaired=paired.unpaired,
                show=spec.review.show,
                examples=examples,
            )
        )
    return tuple(queue)


def disagreement_queue(spec: Spec, candidate: Results) -> tuple[DisagreementSlice, ...]:
    """Per pair of `review.disagree` and per slice both metrics have (with example ids), where they differ."""
    return tuple(_disagreements(spec, candidate))


def _disagreements(spec: Spec, candidate: Results) -> Iterator[DisagreementSlice]:
    import numpy as np

    for first, second in spec.review.disagree:
        for slice_name in candidate.metrics.get(first, {}):
            a = _with_ids(candidate, first, slice_name)
            b = _with_ids(candidate, second, slice_name)
            if a is None or b is None:
                continue
            paired = _pair(a, b)
            if paired is None:
                continue
            with np.errstate(invalid="ignore"):
                gap = np.where(paired.candidate != paired.baseline, np.abs(paired.candidate - paired.baseline), 0.0)
            top, top_ids = _ranked(paired.ids, gap, spec.review.limit)
            ids = [example_id(k) for k in top_ids.tolist()]
            columns = _columns(candidate.examples, ids)
            yield DisagreementSlice(
                metrics=(first, second),
                slice=slice_name,
                compared=len(paired.rows),
                disagree=int((gap > 0).sum()),
                show=spec.review.show,
                examples=tuple(
                    DisagreementExample(
                        rank=rank,
                        id=key,
                        first=float(paired.candidate[i]),
                        second=float(paired.baseline[i]),
                        columns=cols,
                    )
                    for rank, (i, key, cols) in enumerate(zip(top.tolist(), ids, columns, strict=True), start=1)
                ),
            )
