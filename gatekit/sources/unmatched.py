"""Per slice of a cut, how many example ids one table's slice has that the other table's same slice lacks.

A comparison of two slices whose ids are not the same set is judged unpaired, and its note counts the ids
only one arm has (`decide.pairing.unpaired_note`). Counted slice by slice, each count fetched both slices'
rows and codes and looked them up in a table of flags the size of the id space: on a 5M-row paired table
with `drop_invalid` (every slice's two id sets then differ a little) that was 2.2 s of a 5.5 s check, nearly
all of it cache misses. Here each table's rows are joined to the other's once (`partners`, by the loader's
shared codes), and every slice of a cut is then counted at once by looking up, for each row, its partner's
slice in an array of one or two bytes a row. Pure: arrays in, counts out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Codes = npt.NDArray[np.integer[Any]]
    Mask = npt.NDArray[np.bool_]
    Rows = npt.NDArray[np.signedinteger[Any]]
    Table = tuple[Rows, "Codes | None", list[str], "Mask | None"]


def partners(
    mine: Codes,
    theirs: Codes,
    mine_rows: Mask | None = None,
    their_rows: Mask | None = None,
    *,
    distinct: bool = False,
) -> tuple[Rows, Rows]:
    """For each row of mine, the row of theirs whose id code is the same (-1: none), and the other way round.
    The codes are the loader's: non-negative, equal exactly when the ids are, unique within a table among the
    rows one metric reads (a repeated id is refused). Where a code repeats among a table's rows (each row of an
    example read by another metric: a harness's row per filter), the last row holding it stands for it: give
    the rows one metric reads (`mine_rows`, `their_rows`; None for all), and only those are partners.
    `distinct`: no code repeats within either table, so that the partners are one matching read both ways
    (their row j's partner is i exactly when mine i's is j): theirs are set from mine in one pass."""
    import numpy as np

    if distinct and mine_rows is None and their_rows is None:
        mine_partner = partner_rows(mine, theirs)
        their_partner = np.full(len(theirs), -1, dtype=mine_partner.dtype)
        matched = np.flatnonzero(mine_partner >= 0).astype(mine_partner.dtype, copy=False)
        their_partner[mine_partner[matched]] = matched
        return mine_partner, their_partner
    at, kind = _positions(mine, theirs)
    their_codes, their_index = _placed(theirs, their_rows, kind)
    at[their_codes] = their_index
    mine_partner = at[mine]
    at[their_codes] = -1
    mine_codes, mine_index = _placed(mine, mine_rows, kind)
    at[mine_codes] = mine_index
    return mine_partner, at[theirs]


def partner_rows(mine: Codes, theirs: Codes) -> Rows:
    """For each row of mine, the row of theirs whose id code is the same (-1: none): `partners(mine,
    theirs)[0]`, for codes that repeat in neither table, without the other way round."""
    import numpy as np

    at, kind = _positions(mine, theirs)
    at[theirs] = np.arange(len(theirs), dtype=kind)
    found: Rows = at[mine]
    return found


def _positions(mine: Codes, theirs: Codes) -> tuple[Rows, Any]:
    """A table of -1 over the two tables' codes, for the row numbers of one of them, and the row numbers' type."""
    import numpy as np

    span = 1 + max((int(codes.max()) for codes in (mine, theirs) if len(codes)), default=0)
    kind = np.int32 if max(len(mine), len(theirs)) < 2**31 else np.int64
    return np.full(span, -1, dtype=kind), kind


def no_partners(rows: int) -> Rows:
    """A table's `partners` where `unmatched_by_slice` is given their keys at my rows (`theirs_at_mine`): only
    their number is read. A view of one -1, no memory."""
    import numpy as np

    return np.broadcast_to(np.int32(-1), (rows,))


def _placed(codes: Codes, rows: Mask | None, kind: Any) -> tuple[Codes, Rows]:
    import numpy as np

    index = np.arange(len(codes), dtype=kind)
    return (codes, index) if rows is None else (codes[rows], index[rows])


def unmatched_by_slice(
    mine: Table, theirs: Table, theirs_at_mine: Codes | None = None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For each table given as (its `partners` row per row, slice index per row or None for `all`, slice
    names, valid rows or None for all): per slice of mine, how many of its valid rows' ids are not among the
    valid rows of their slice of the same name, and per slice of theirs the same the other way round. A slice
    index equal to the number of names (a row with no value in a slice column) is in no slice.

    What `decide.pairing.unmatched` counts for each pair of same-named slices: a row's id is in their slice
    exactly when its partner row is valid and in the slice of that name (ids are unique among valid rows, so
    that a row's partner's partner is the row). A pair of rows so matched is matched from either side: each
    slice's unmatched rows are its valid rows less the matched pairs of its name, counted once, from mine.
    `theirs_at_mine`: what `PartnerRows.keys` gives for theirs, gathered already (else gathered here)."""
    import numpy as np

    mine_names, their_names = mine[2], theirs[2]
    size, their_size = len(mine_names), len(their_names)
    own = _slice_keys(mine, mine_names, none=size)[:-1]  # no slice, or invalid: `size`, which no key of theirs is
    if theirs_at_mine is None:
        theirs_at_mine = _slice_keys(theirs, mine_names)[mine[0]]
    matched = own[own == theirs_at_mine]
    matched_by_name = _bincount(matched, size)
    only_mine = _bincount(own, size) - matched_by_name
    index = {name: i for i, name in enumerate(mine_names)}
    matched_theirs = np.array([matched_by_name[index[name]] if name in index else 0 for name in their_names])
    only_theirs = _bincount(_slice_keys(theirs, their_names, none=their_size)[:-1], their_size) - matched_theirs
    return only_mine, only_theirs.astype(np.intp)


def _bincount(keys: Codes, size: int) -> npt.NDArray[np.intp]:
    """How many keys are each of 0..size-1 (a key of `size` or more counts nowhere)."""
    import numpy as np

    if size <= _FEW:  # a pass of comparisons per key: bincount first widens every key to 8 bytes
        return np.array([np.count_nonzero(keys == key) for key in range(size)], dtype=np.intp)
    counts: npt.NDArray[np.intp] = np.bincount(keys, minlength=size + 1)[:size]
    return counts


_FEW = 16
"""Slices counted key by key: up to this many (5M keys of one byte: 0.4 ms a key, against 17 ms a bincount)."""


def _slice_keys(table: Table, names: list[str], none: int = -1) -> Codes:
    """Per row of `table`, the index among `names` of the slice it is a valid row of, `none` for none (an
    invalid row, no slice value, a slice `names` lacks), and one more `none` at the end (where partner -1
    points). In the narrowest signed type: the lookups through partners land in an array of one or two bytes a
    row."""
    import numpy as np

    partner, slices, own_names, valid = table
    width = len(names) + 1
    kind = np.int8 if width <= 2**7 else np.int16 if width <= 2**15 else np.int32
    keys = np.full(len(partner) + 1, none, dtype=kind)
    if slices is None:
        keys[:-1] = 0 if names else none
    else:
        index = {name: i for i, name in enumerate(names)}
        renumbered = np.array([index.get(name, none) for name in own_names] + [none], dtype=kind)
        if names == own_names and none == len(names):
            keys[:-1] = slices  # the table's own numbering, with no value where `none` is
        else:
            keys[:-1] = renumbered[slices]
    if valid is not None:
        keys[:-1][~valid] = none
    return keys


_GATHER_BLOCK = 1 << 20
"""Rows of mine whose partners' words are gathered at a time (8 MB of one-word rows)."""


class PartnerRows:
    """The slice of every cut and the validity for every metric of their rows, read at my rows through my rows'
    partners (`partners`): one random gather of a word a row for every cut and metric a check counts, where
    a gather of each cut's keys for each metric went to memory once a row each time (50M rows: about a second
    a gather, 14 of them in a paired check with three slice columns and their crosses).

    `read`: their (slice index per row of a cut, or None for `all`; valid rows, or None for all) pairs, as
    their table's slices read them. A pair not among them is not served (`keys` gives None)."""

    def __init__(self, partner: Rows, size: int, read: list[tuple[Codes | None, Mask | None]]) -> None:
        import numpy as np

        cuts = {id(codes): codes for codes, _ in read if codes is not None}
        masks = {id(valid): valid for _, valid in read if valid is not None}
        self._cuts: dict[int, tuple[Codes, int]] = {}
        width = 0
        for key, codes in cuts.items():
            self._cuts[key] = (codes, width)
            width += codes.dtype.itemsize
        # A bit for "is a row" (row `size`, where a partner of -1 points, is none), then one per metric's rows.
        self._flags = width
        self._masks = {key: (valid, 1 + i) for i, (key, valid) in enumerate(masks.items())}
        width += (len(masks) + 1 + 7) // 8
        words = (width + 7) // 8
        packed = np.zeros((size + 1, 8 * words), dtype=np.uint8)
        for codes, offset in self._cuts.values():
            packed[:size, offset : offset + codes.dtype.itemsize] = (
                np.ascontiguousarray(codes).view(np.uint8).reshape(size, -1)
            )
        packed[:size, self._flags] = 1
        for valid, bit in self._masks.values():
            packed[:size, self._flags + bit // 8] |= valid.view(np.uint8) << np.uint8(bit % 8)
        as_words = packed.view(np.uint64)
        del packed
        # Each field in an array of its own (every count reads one in whole), filled a block of rows at a time:
        # the gathered words of the whole table are never held beside them.
        self._rows = rows = len(partner)
        self._at = {key: np.empty(rows, dtype=codes.dtype) for key, (codes, _) in self._cuts.items()}
        self._flag_bytes = [np.empty(rows, dtype=np.uint8) for _ in range(self._flags, width)]
        for start in range(0, rows, _GATHER_BLOCK):
            block = slice(start, start + _GATHER_BLOCK)
            seen = as_words[partner[block]].view(np.uint8)
            for key, (codes, offset) in self._cuts.items():
                self._at[key][block] = seen[:, offset : offset + codes.dtype.itemsize].view(codes.dtype)[:, 0]
            for byte, flags in enumerate(self._flag_bytes):
                flags[block] = seen[:, self._flags + byte]

    def keys(self, codes: Codes | None, valid: Mask | None, their_names: list[str], names: list[str]) -> Codes | None:
        """Per row of mine, the index among `names` of the slice of their cut (`codes`, `their_names`) that its
        partner is a valid row of, -1 for none: `_slice_keys(theirs, names)` at my rows' partners. None for a
        cut or rows not read."""
        import numpy as np

        if (codes is not None and id(codes) not in self._cuts) or (valid is not None and id(valid) not in self._masks):
            return None
        width = len(names) + 1
        kind = np.int8 if width <= 2**7 else np.int16 if width <= 2**15 else np.int32
        ok = self._flag_bytes[0] & np.uint8(1)
        if valid is not None:
            bit = self._masks[id(valid)][1]
            ok &= self._flag_bytes[bit // 8] >> np.uint8(bit % 8)
        if codes is None:
            keys = np.full(self._rows, 0 if names else -1, dtype=kind)
        else:
            index = {name: i for i, name in enumerate(names)}
            keys = np.array([index.get(name, -1) for name in their_names] + [-1], dtype=kind)[self._at[id(codes)]]
        keys[~ok.view(bool)] = -1  # ok holds 0 or 1: the first byte's bit 0 was picked first
        return keys
