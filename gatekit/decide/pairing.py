"""Pairing the two arms of a comparison by example id, and counting the ids only one arm has.

Pure: the arms' ids (or the loader's integer codes of them, `results.IdKeys`) in, aligned values or counts out.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from gatekit import stats
from gatekit.results import Measurement


def id_arrays(cand: Measurement, base: Measurement) -> tuple[npt.NDArray[Any], npt.NDArray[Any]] | None:
    """What to compare the two arms' example ids by: their integer codes when the loader coded both in one
    space (equal codes, equal ids; `results.IdKeys`), else the ids themselves; None when an arm has no ids."""
    if cand.samples is None or base.samples is None or not (cand.samples.has_ids and base.samples.has_ids):
        return None
    c_keys, b_keys = cand.samples.keys, base.samples.keys
    if c_keys is not None and b_keys is not None and c_keys.space is b_keys.space:
        return c_keys.codes, b_keys.codes
    c_ids, b_ids = cand.samples.ids, base.samples.ids
    if c_ids is None or b_ids is None:
        return None
    return c_ids, b_ids


def paired(cand: Measurement, base: Measurement) -> tuple[stats.FloatArray, stats.FloatArray] | None:
    """Candidate and baseline values aligned by example id, when both carry the same set of ids."""
    if cand.samples is None or base.samples is None or cand.samples.n != base.samples.n:
        return None
    compared = id_arrays(cand, base)
    if compared is None:
        return None
    c_ids, b_ids = compared
    at = _code_positions(c_ids, b_ids)
    if at is not None:
        if isinstance(at, bool):
            return None
        c_values, b_values = cand.samples.values, base.samples.values
        aligned = np.empty_like(b_values)
        aligned[at] = b_values  # the baseline in the candidate's example order
        return c_values, aligned
    try:
        # Sorting both id lists pairs them in O(n log n): same length, each unique, equal once sorted.
        c_order, b_order = np.argsort(c_ids, kind="stable"), np.argsort(b_ids, kind="stable")
    except TypeError:  # ids that do not compare (a table column never mixes types): leave them unpaired
        return None
    c_sorted, b_sorted = c_ids[c_order], b_ids[b_order]
    if len(c_sorted) > 1 and bool((c_sorted[1:] == c_sorted[:-1]).any()):
        return None
    if not np.array_equal(c_sorted, b_sorted):
        return None
    c_values, b_values = cand.samples.values, base.samples.values
    aligned = np.empty_like(b_values)
    aligned[c_order] = b_values[b_order]  # the baseline in the candidate's example order
    return c_values, aligned


def _code_positions(
    c_ids: npt.NDArray[Any], b_ids: npt.NDArray[Any]
) -> npt.NDArray[np.signedinteger[Any]] | bool | None:
    """For integer ids (the loader's codes among them) of two lists of one length: each baseline id's position
    among the candidate's, found through a table over their range instead of two sorts; False when the lists
    are not the same set of unique ids (what the sorts in `paired` find), None when the shortcut does not
    apply (an empty or wide range of negative or large ids)."""
    n = len(c_ids)
    if not (c_ids.dtype.kind in "iu" and b_ids.dtype.kind in "iu" and n and n == len(b_ids)):
        return None
    lo = min(int(c_ids.min()), int(b_ids.min()))
    span = max(int(c_ids.max()), int(b_ids.max())) - lo + 1
    # int32 positions while they fit: half the memory traffic of the table over the range.
    kind = np.int32 if n < 2**31 else np.intp
    rows = np.arange(n, dtype=kind)
    if span <= 4 * n:
        return _placed(np.full(span, -1, dtype=kind), c_ids - lo, b_ids - lo, rows)
    if lo < 0 or lo + span > _MOST_POSITIONS:
        return None
    # A slice of a table's codes: a few ids among millions. The thread's table of positions over the codes'
    # whole range, set for this slice and cleared again, so each call costs its ids, not the range (two sorts
    # of the slice's codes cost 2.2 s of a 6 s check of 1M paired rows in 167 slices).
    position = _positions(lo + span)
    try:
        return _placed(position, c_ids, b_ids, rows)
    finally:
        position[c_ids] = -1


def _placed(
    position: npt.NDArray[np.signedinteger[Any]],
    c_at: npt.NDArray[Any],
    b_at: npt.NDArray[Any],
    rows: npt.NDArray[np.signedinteger[Any]],
) -> npt.NDArray[np.signedinteger[Any]] | bool:
    """`_code_positions` through `position`, a table over the ids' range holding -1 everywhere (on return it
    holds the candidate's positions at `c_at`; the caller clears them if it keeps the table)."""
    position[c_at] = rows
    if not np.array_equal(position[c_at], rows):
        return False  # a candidate id repeats
    at: npt.NDArray[np.signedinteger[Any]] = position[b_at]
    if bool((at < 0).any()):
        return False  # a baseline id the candidate lacks
    hit = np.zeros(len(rows), dtype=bool)
    hit[at] = True
    if not bool(hit.all()):
        return False  # a baseline id repeats (so another candidate id is missing)
    return at


def positions_among(ids: npt.NDArray[Any], among: npt.NDArray[Any]) -> npt.NDArray[np.signedinteger[Any]] | None:
    """Each of `ids`' position in `among` (integers, the loader's codes of one space), or -1 where it is not
    there, through the thread's table of positions; None when the table does not apply (ids not integers,
    negative or too large) or an id repeats in `among` (whose first position a caller's search finds)."""
    if not (ids.dtype.kind in "iu" and among.dtype.kind in "iu" and len(among)):
        return None
    lo = min(int(among.min()), int(ids.min())) if len(ids) else int(among.min())
    top = max(int(among.max()), int(ids.max())) if len(ids) else int(among.max())
    if lo < 0 or top >= _MOST_POSITIONS or len(among) >= 2**31:
        return None
    position = _positions(top + 1)
    rows = np.arange(len(among), dtype=np.int32)
    try:
        position[among] = rows
        if not np.array_equal(position[among], rows):
            return None  # an id repeats in `among`
        found: npt.NDArray[np.signedinteger[Any]] = position[ids]
        return found
    finally:
        position[among] = -1


_MOST_POSITIONS = 1 << 25
"""Non-negative integer ids below this are paired through the thread's table of positions (int32: at most
128 MiB, and only as long as the largest code seen; a 5M-row table codes its ids below about 10M, 40 MB)."""


def _positions(size: int) -> npt.NDArray[np.int32]:
    """The thread's table of at least `size` positions, all -1: whoever sets positions clears them again."""
    table: npt.NDArray[np.int32] | None = getattr(_THREAD, "positions", None)
    if table is None or len(table) < size:
        table = np.full(size, -1, dtype=np.int32)
        _THREAD.positions = table
    return table


def unmatched(c_ids: npt.NDArray[Any], b_ids: npt.NDArray[Any]) -> tuple[int, int]:
    """How many candidate ids are not among the baseline's and the other way round: what
    `(~np.isin(c_ids, b_ids)).sum()` and `(~np.isin(b_ids, c_ids)).sum()` count. Integers through tables of
    flags (or a sort and a search where their range is too wide), other ids from one stable sort of both lists
    together (each np.isin sorts both lists' unique values and their concatenation again: 3x slower on a
    million text ids, paid for every slice and gate that is judged unpaired)."""
    if c_ids.dtype.kind in "iu" and b_ids.dtype.kind in "iu" and len(c_ids) and len(b_ids):
        # Integers (the loader's id codes among them) in a range not much wider than there are ids: a lookup
        # in a table of flags over that range, no sort.
        lo = min(int(c_ids.min()), int(b_ids.min()))
        span = max(int(c_ids.max()), int(b_ids.max())) - lo + 1
        if span <= 64 * (len(c_ids) + len(b_ids)):
            in_c, in_b = np.zeros(span, dtype=bool), np.zeros(span, dtype=bool)
            c_at, b_at = c_ids - lo, b_ids - lo
            in_c[c_at], in_b[b_at] = True, True
            return int(len(c_ids) - in_b[c_at].sum()), int(len(b_ids) - in_c[b_at].sum())
        if lo >= 0 and lo + span <= _MOST_FLAGS:
            # A few ids among many (a slice of a table's codes): the same lookup in a table of flags kept for
            # the thread, set for one list and cleared again, so each call costs its ids, not the whole range.
            flags = _flags(lo + span)
            return _not_flagged(c_ids, b_ids, flags), _not_flagged(b_ids, c_ids, flags)
        # Otherwise each list sorted once, and the other's ids looked up in it: what np.isin counts, without
        # the stable sort of both lists together.
        return _absent(c_ids, np.sort(b_ids)), _absent(b_ids, np.sort(c_ids))
    try:
        both = np.concatenate([c_ids, b_ids])
        order = np.argsort(both, kind="stable")
    except TypeError:  # ids that do not order (Python objects of mixed kinds): isin compares by equality
        return int((~np.isin(c_ids, b_ids)).sum()), int((~np.isin(b_ids, c_ids)).sum())
    if len(both) == 0:
        return 0, 0
    ordered = both[order]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(starts) - 1  # equal ids share a group
    from_b = order >= len(c_ids)
    in_b = np.bincount(group, weights=from_b)
    in_c = np.bincount(group, weights=~from_b)
    return int(in_c[in_b == 0].sum()), int(in_b[in_c == 0].sum())


_MOST_FLAGS = 1 << 25
"""Non-negative integer ids below this are looked up in the thread's table of flags (at most 32 MiB, kept for
the next call: a table of 5M rows codes its ids below about 10M)."""
_THREAD = threading.local()


def _flags(size: int) -> npt.NDArray[np.bool_]:
    """The thread's table of at least `size` flags, all False: whoever sets flags clears them before returning."""
    table: npt.NDArray[np.bool_] | None = getattr(_THREAD, "flags", None)
    if table is None or len(table) < size:
        table = np.zeros(size, dtype=bool)
        _THREAD.flags = table
    return table


def _not_flagged(ids: npt.NDArray[Any], among: npt.NDArray[Any], flags: npt.NDArray[np.bool_]) -> int:
    """How many of `ids` (non-negative integers) are not in `among`, with `flags` set for `among` meanwhile."""
    try:
        flags[among] = True
        return int(len(ids) - flags[ids].sum())
    finally:
        flags[among] = False


def _absent(ids: npt.NDArray[Any], among: npt.NDArray[Any]) -> int:
    """How many of `ids` are not in the sorted, non-empty `among`."""
    at = np.minimum(np.searchsorted(among, ids), len(among) - 1)
    return int((among[at] != ids).sum())


def unpaired_note(cand: Measurement, base: Measurement) -> str:
    """Why examples that carry ids could not be paired, with the counts of unmatched ids; "" without ids."""
    c_samples, b_samples = cand.samples, base.samples
    if c_samples is None or b_samples is None or not (c_samples.has_ids and b_samples.has_ids):
        return ""
    # The loader's count for every slice of the cut at once, where it can give one (both arms' ids coded in
    # one space): the same numbers as `unmatched` of the two slices' keys, without fetching them.
    counted = c_samples.count_unmatched(b_samples) if c_samples.count_unmatched is not None else None
    if counted is None:
        compared = id_arrays(cand, base)
        if compared is None:
            return ""
        try:
            counted = unmatched(*compared)
        except TypeError:
            return " (unpaired: the example ids differ)"
    only_c, only_b = counted
    if not only_c and not only_b:
        return " (unpaired: an example id repeats)"
    return (
        f" (unpaired: the example ids differ; {only_c} candidate ids not in the baseline, "
        f"{only_b} baseline ids not in the candidate)"
    )
