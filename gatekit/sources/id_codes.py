"""Example ids coded by sorting 64-bit keys, for `example_ids.IdSpace`: what Arrow's hash does, ten times faster.

Arrow's hash of millions of distinct ids (`dictionary_encode`, `index_in`) is bound by cache misses: 2.1 s and
1.9 s for the two tables of a 5M-row paired check, most of its load. A sort of 64-bit keys runs in cache-sized
passes: each id gets a key (an integer id is its own key; an ASCII text id a hash of its bytes), the keys are
sorted, and equal keys get one code. A hash can collide, so every text id is compared byte for byte with the
id its code was first given to; a collision gives up (the caller codes the ids another way, or not at all).

Codes only say which ids are equal (`results.IdKeys`): the numbers differ from Arrow's, never the equalities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from gatekit.packed_sort import stable_order
from gatekit.sources.arrow import arrow_call, text_bytes, to_numpy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    Keys = npt.NDArray[np.uint64] | npt.NDArray[np.int64]
    Rows = npt.NDArray[np.signedinteger[Any]]
    Codes = npt.NDArray[np.signedinteger[Any]]
    Bytes = npt.NDArray[np.uint8]

_BLOCK = 1 << 16
"""Rows padded at a time: each block stays in the cache."""
_WIDEST = 64
"""Text ids longer than this many bytes are left to Arrow's hash (a key reads every 8 bytes of an id)."""


def id_keys(ids: pa.ChunkedArray | pa.Array, kind: str) -> tuple[Keys, Bytes | None] | None:
    """Per row the key of its id, and for text the ids' UTF-8 bytes (a row each, NUL-padded to a multiple of
    8), or None for text with a NUL (which the padding would hide) or longer than `_WIDEST` bytes.

    An integer id (int64) is its own key. A text id's key hashes its 8-byte words w_i as
    mix(sum_i w_i c_i mod 2^64), with odd constants c_i and splitmix64's finaliser as mix: words of NUL padding
    add nothing, so an id's key does not depend on how wide its table pads it."""
    import numpy as np
    import pyarrow as pa

    if kind == "integer":
        return to_numpy(ids).astype(np.int64, copy=False), None
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    longest = 1
    for chunk in chunks:
        offsets, body = text_bytes(chunk)
        if len(body) and int(body.min()) == 0:
            return None
        if len(chunk):
            longest = max(longest, int((offsets[1:] - offsets[:-1]).max()))
    if longest > _WIDEST:
        return None
    data = np.zeros((len(ids), -(-longest // 8) * 8), dtype=np.uint8)
    keys = np.zeros(len(ids), dtype=np.uint64)
    multipliers = [_multiplier(i) for i in range(data.shape[1] // 8)]
    at = 0
    for chunk in chunks:
        for start in range(0, len(chunk), _BLOCK):
            block = chunk.slice(start, _BLOCK)
            rows, block_keys = data[at : at + len(block)], keys[at : at + len(block)]
            _put_text(block, rows, longest)
            # Hashed while the block's bytes are in the cache: a pass per word over the whole table read them
            # from memory again, and each made a temporary of the table's size (50M ids: 3.5 s, against 0.2 s).
            words = rows.view("<u8")
            for i, multiplier in enumerate(multipliers):
                block_keys += words[:, i] * multiplier
            block_keys[:] = _mixed(block_keys)
            at += len(block)
    return keys, data


def _put_text(block: pa.Array, rows: Bytes, longest: int) -> None:
    """Each text id's bytes at the start of its row of `rows` (which are all NUL)."""
    import numpy as np

    offsets, body = text_bytes(block)
    if len(body) == 0:
        return
    if int(body.max()) < 0x80:  # ASCII: Arrow pads each id to one length (characters are bytes)
        try:
            from pyarrow._compute import PadOptions
        except ImportError:  # a pyarrow that moved it (see gatekit.sources.arrow.arrow_call)
            from pyarrow.compute import PadOptions
        padded = text_bytes(arrow_call("utf8_rpad", block, options=PadOptions(longest, "\x00")))[1]
        rows[:, :longest] = padded.reshape(len(block), longest)
        return
    lengths = offsets[1:] - offsets[:-1]
    row = np.repeat(np.arange(len(block)), lengths)
    column = np.arange(len(body)) - np.repeat(offsets[:-1], lengths)
    rows[row, column] = body


def _multiplier(i: int) -> np.uint64:
    """The i-th word's odd constant: splitmix64's i+1-th output, made odd."""
    import numpy as np

    z = (0x9E3779B97F4A7C15 * (i + 1)) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    constant: np.uint64 = np.uint64((z ^ (z >> 31)) | 1)
    return constant


def code_type(size: int) -> type[np.signedinteger[Any]]:
    """int32 codes, positions or row numbers (half the memory and bandwidth of int64) while `size` of them fit."""
    import numpy as np

    return np.int32 if size < 2**31 else np.int64


def _mixed(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, in place: every bit of a key moves every bit of the result."""
    import numpy as np

    keys ^= keys >> np.uint64(30)
    keys *= np.uint64(0xBF58476D1CE4E5B9)
    keys ^= keys >> np.uint64(27)
    keys *= np.uint64(0x94D049BB133111EB)
    keys ^= keys >> np.uint64(31)
    return keys


@dataclass(frozen=True)
class Sorted:
    """One table's ids sorted on their own (`sort_keys`), before they meet the ids of any other table: what
    can run beside the other table's work, where `SortedKeys.join` must run alone."""

    distinct: Keys
    """The table's distinct keys, in order."""
    texts: Bytes | None
    """For text, the bytes of the id each distinct key stands for (in their order)."""
    order: Rows | None
    """The rows in the order of their keys (None when `row_group` says it all)."""
    group: Rows | None
    """Per row in `order`, the position of its key among `distinct`; or, with `order` None, per row. None when
    every key is distinct: the i-th row in `order` has the i-th key."""

    def by_row(self, codes: Codes) -> Codes:
        """Per row, the code of its id: `codes` holds one per distinct key (`SortedKeys.join`)."""
        import numpy as np

        if self.order is None:
            assert self.group is not None
            by_row: Codes = codes[self.group]
            return by_row
        # In the codes' own type: `join` gives them as narrow as the codes of the space allow.
        result = np.empty(len(self.order), dtype=codes.dtype)
        result[self.order] = codes if self.group is None else codes[self.group]
        return result


def sort_keys(keys: Keys, data: Bytes | None) -> Sorted | None:
    """A table's keys sorted, equal ones grouped, and for text each distinct key's id; None when two
    different text ids of the table share a key.

    Equal keys are neighbours once sorted: only the rows that repeat a key are compared with the row before
    them (none in a table of distinct ids). Integer ids in a narrow range are grouped through a table of flags
    instead of a sort (`_dense`)."""
    import numpy as np

    dense = _dense(keys) if data is None else None
    if dense is not None:
        distinct, row_group = dense
        return Sorted(distinct, None, None, row_group)
    order, ordered = _argsort(keys, hashed=data is not None)
    starts = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    if starts.all():  # every id distinct (a paired table): each sorted row is its own group, nothing copied
        return Sorted(ordered, None if data is None else _rows(data, order), order, None)
    group = np.cumsum(starts, dtype=code_type(len(keys)))
    group -= 1  # per sorted row
    distinct, first = ordered[starts], order[starts]
    del ordered
    texts = None
    if data is not None:
        repeats = np.flatnonzero(~starts)
        if not _same_texts(_rows(data, order[repeats]), _rows(data, first[group[repeats]])):
            return None  # two different ids of this table share a key
        texts = _rows(data, first)
    return Sorted(distinct, texts, order, group)


def _argsort(keys: Keys, *, hashed: bool) -> tuple[Rows, Keys]:
    """The rows in the order of their keys (equal keys in any order), and the keys in that order.

    Hashed keys are spread evenly over 64 bits, so few tie in their high bits: `gatekit.packed_sort` sorts them
    with numpy's vectorised integer sort (5M keys: 0.07 s against argsort's 0.22 s)."""
    import numpy as np

    n = len(keys)
    if not hashed or n < 2:
        order: Rows = np.argsort(keys)
        return order, keys[order]
    assert keys.dtype == np.uint64  # hashed keys are unsigned: their high bits order them
    return stable_order(cast("npt.NDArray[np.uint64]", keys), code_type(n))


class SortedKeys:
    """The ids coded so far: their distinct keys sorted, the code of each, and for text the bytes of the id
    each stands for (in the keys' order)."""

    def __init__(self) -> None:
        self.keys: Keys | None = None
        self.codes: Codes | None = None
        self.texts: Bytes | None = None

    def code(self, keys: Keys, data: Bytes | None) -> npt.NDArray[np.signedinteger[Any]] | None:
        """Each row's code: the code of an equal id coded before, else a new one (equal ids of this table get
        one). None when two different text ids share a key; nothing is coded then."""
        table = sort_keys(keys, data)
        codes = None if table is None else self.join(table)
        return None if table is None or codes is None else table.by_row(codes)

    def join(self, table: Sorted) -> Codes | None:
        """The code of each of a sorted table's distinct keys: the code of an equal id coded before, else a new
        one. None when one of its text ids shares a key with a different one coded before; nothing is coded then.

        The table's distinct keys are looked up among the known ones in order, so that the search and the
        comparison of the ids found with the known ones run through memory in order (a hash's jumps about it
        were what made it slow)."""
        import numpy as np

        distinct, data = table.distinct, table.texts
        if self.keys is None or self.codes is None or len(self.keys) == 0:
            codes = np.arange(len(distinct), dtype=code_type(len(distinct)))
            self.keys, self.codes, self.texts = distinct, codes, data
            return codes
        known = len(self.keys)
        at = np.searchsorted(self.keys, distinct)
        if _all_at(self.keys, at, distinct):  # the ids of a table coded before (a paired baseline): no copies
            if data is not None:
                assert self.texts is not None
                if not _same_texts_at(data, self.texts, at):
                    return None  # an id of this table shares a key with a different one coded before
            same: Codes = self.codes[at]
            return same
        found = at < known
        found[found] = self.keys[at[found]] == distinct[found]
        kind = code_type(known + len(distinct))
        codes = np.empty(len(distinct), dtype=kind)
        codes[found] = self.codes[at[found]]
        if data is not None:
            assert self.texts is not None
            if not _same_texts(data[found], _rows(self.texts, at[found])):
                return None
        new = ~found
        added = np.arange(known, known + int(new.sum()), dtype=kind)
        codes[new] = added
        self._add(distinct[new], added, None if data is None else data[new], at[new])
        return codes

    def _add(self, keys: Keys, codes: Codes, texts: Bytes | None, at: npt.NDArray[np.intp]) -> None:
        """Known from now on: sorted `keys` with their `codes` and `texts`, none of them known yet; `at` says where
        each goes among the known keys."""
        import numpy as np

        assert self.keys is not None
        assert self.codes is not None
        self.keys = np.insert(self.keys, at, keys)  # type: ignore[assignment]
        self.codes = np.insert(self.codes.astype(codes.dtype, copy=False), at, codes)
        if texts is not None and self.texts is not None:
            width = max(texts.shape[1], self.texts.shape[1])
            self.texts = np.insert(_widened(self.texts, width), at, _widened(texts, width), axis=0)


_DENSE_SPAN = 4
"""Integer ids whose range is at most this many times their number are coded through a table over the range."""


def _dense(keys: Keys) -> tuple[Keys, npt.NDArray[np.signedinteger[Any]]] | None:
    """For integer ids in a range not much wider than they are many (row numbers, an lm-eval `doc_id`): the
    distinct ids in order and, per row, its id's position among them, as the sort in `SortedKeys.code` finds
    them, from a table of flags over the range instead (a 5M-row table: 0.1 s against 1.3 s). None otherwise."""
    import numpy as np

    if keys.dtype.kind != "i" or len(keys) == 0:
        return None
    lo, hi = int(keys.min()), int(keys.max())
    span = hi - lo + 1
    if span > _DENSE_SPAN * len(keys):
        return None
    at = keys - lo
    present = np.zeros(span, dtype=bool)
    present[at] = True
    distinct: Keys = np.flatnonzero(present).astype(np.int64) + np.int64(lo)
    rank = np.cumsum(present, dtype=code_type(span))
    rank -= 1
    return distinct, rank[at]


def _widened(texts: Bytes, width: int) -> Bytes:
    import numpy as np

    if texts.shape[1] == width:
        return texts
    wide = np.zeros((len(texts), width), dtype=np.uint8)
    wide[:, : texts.shape[1]] = texts
    return wide


def _rows(data: Bytes, rows: npt.NDArray[np.intp]) -> Bytes:
    """`data[rows]` through a view of each row as one item: a gather of items, not of their bytes (2.4x faster
    on 5M rows in random order)."""
    import numpy as np

    width = data.shape[1]
    picked: Bytes = np.ascontiguousarray(data).view(f"V{width}").ravel()[rows].view(np.uint8).reshape(len(rows), width)
    return picked


_JOIN_BLOCK = 1 << 16
"""Rows compared at a time when a table's ids are all known: a comparison of whole tables made a copy of the
known ids and an array of flags the size of the table's bytes (50M ids: 1.6 GB at the check's peak)."""


def _all_at(known: Keys, at: npt.NDArray[np.intp], keys: Keys) -> bool:
    """Whether every key is where `at` says among the known ones: known[at] == keys."""
    import numpy as np

    if len(at) and int(at[-1]) >= len(known):  # `at` rises with the sorted keys: the last is the largest
        return False
    return all(
        np.array_equal(known[at[start : start + _JOIN_BLOCK]], keys[start : start + _JOIN_BLOCK])
        for start in range(0, len(at), _JOIN_BLOCK)
    )


def _same_texts_at(mine: Bytes, known: Bytes, at: npt.NDArray[np.intp]) -> bool:
    """Whether each row of `mine` holds the same id as row `at` of `known`, block by block."""
    return all(
        _same_texts(mine[start : start + _JOIN_BLOCK], _rows(known, at[start : start + _JOIN_BLOCK]))
        for start in range(0, len(at), _JOIN_BLOCK)
    )


def _same_texts(mine: Bytes, theirs: Bytes) -> bool:
    """Whether each row of `mine` holds the same id as that row of `theirs` (NUL-padded bytes of any width)."""
    import numpy as np

    width = max(mine.shape[1], theirs.shape[1])
    return bool(np.array_equal(_widened(mine, width), _widened(theirs, width)))
