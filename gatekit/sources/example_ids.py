"""The example ids of a per-example table: checked, coded as integers shared with the other arm, and as text.

Pairing is equality of ids, asked per slice and per gate: on a paired table with crosses that is hundreds of
comparisons of millions of ids, and sorting text ids for each one was most of a check's time (and keeping a
copy of each slice's text ids most of its memory: fixed-width numpy text is 4 bytes a character). So a table's
ids are coded once, when it is read: an `IdSpace` shared by the candidate and the baseline gives each id of
the first table the position of its id among that table's distinct ids (Arrow's hash, `dictionary_encode`),
and each id of the second the code of the equal id found there (`index_in`) or a new one, so that codes are
equal exactly when the ids are equal. Slices hand the evaluator those codes (`results.IdKeys`); the ids as
numpy values (the same as before: int64, ASCII text as `<U`, other text as Python strings) are built only when
something asks for them: the review queue, which prints them, and pairing where there are no shared codes.

Only integer and text ids are coded, and only ids of one kind share a space: an integer id and a text id are
never the same example by code, so such tables keep comparing the ids themselves, as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.results import IdKeys
from gatekit.sources.arrow import arrow_call, arrow_cast, is_null, text_bytes, to_numpy
from gatekit.sources.columns import plain_column
from gatekit.sources.id_codes import Sorted, SortedKeys, code_type, id_keys, sort_keys
from gatekit.sources.table import Table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from gatekit.sources.unmatched import PartnerRows
    from gatekit.spec.model import RowFilter

    BoolArray = npt.NDArray[np.bool_]


def _coded_kind(kind: pa.DataType) -> str | None:
    """The kind of ids a column holds, "integer" or "text", or None: ids of another type are not coded."""
    import pyarrow as pa

    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    return None


class IdSpace:
    """Integer codes for the example ids of tables compared with each other (a candidate and its baseline).

    Each table's ids get the code of an equal id coded before, else a new one; the codes of one space are
    equal exactly when the ids are. Which table joins first decides which numbers the ids get, never which
    are equal.

    The two tables of a check load on two threads. Each table's ids are keyed and sorted on their own, beside
    the other table's sort. Joining them with the ids coded before, and Arrow's hash where it codes them, run
    alone (`_hashed`): no other table joins, hashes, sorts or measures its slices meanwhile (`measuring`,
    which tables do side by side, never beside a sort). Two hashes of millions of ids at once thrash the
    caches both are bound by (5M-row paired-cross: 25.9 s on two threads at once, 14.8 s one after the
    other), and a hash or a sort beside the other table's measuring adds their peaks: Arrow's hash of 5M text
    ids takes 650-740 MiB while it runs, a sort 300 MiB (5M-row paired-cross peaked at 1,593 MiB with sorts
    beside measuring).
    """

    def __init__(self, tables: int | None = None) -> None:
        self._tables, self._coded = tables, 0
        """How many tables will be coded here (None: not known), and how many have been: once the last one
        is, what is kept of the ids coded (a copy of each id and its key: 160 MB for 5M text ids) is let go,
        and any table coded after it is not coded."""
        self._state = threading.Condition()
        self._busy = {"hashing": 0, "sorting": 0, "measuring": 0}
        """How many tables do each kind of work now (`_doing`)."""
        self._known: pa.Array | None = None
        """Every distinct id coded so far by Arrow's hash; an id's code is its position here."""
        self._sorted: SortedKeys | None = None
        """Or the ids coded so far by sorting their keys (`gatekit.sources.id_codes`), the usual way."""
        self._kind: str | None = None

    @contextlib.contextmanager
    def _doing(self, work: str) -> Iterator[None]:
        """`work` beside other tables' work of the same kind only: "sorting" their own ids, "measuring" their
        slices; "hashing" (a join with the ids coded before, or Arrow's hash) alone."""
        with self._state:
            self._state.wait_for(
                lambda: all(count == 0 for other, count in self._busy.items() if other != work or work == "hashing")
            )
            self._busy[work] += 1
        try:
            yield
        finally:
            with self._state:
                self._busy[work] -= 1
                self._state.notify_all()

    def _hashed(self) -> contextlib.AbstractContextManager[None]:
        return self._doing("hashing")

    def measuring(self) -> contextlib.AbstractContextManager[None]:
        """A table measures its slices: beside another's measuring, never beside a sort or a hash."""
        return self._doing("measuring")

    def code(self, ids: pa.ChunkedArray) -> npt.NDArray[np.signedinteger[Any]] | None:
        """The code of each of a table's ids (one per row, nulls excluded), or None when they are not of the
        kind of the ids coded before (text against integers), or not integers or text at all.

        Ids are coded by sorting their keys (`gatekit.sources.id_codes`). Where the first table's cannot be
        (text with a NUL or over 64 bytes, two of its ids sharing a key), Arrow's hash codes every table: the
        first table's ids are hashed once (`dictionary_encode`: the codes are its indices); a later table's are
        looked up among the ids known (`index_in`), and only those not found are hashed on their own."""
        import numpy as np
        import pyarrow as pa

        kind = _coded_kind(ids.type)
        if kind is None:
            return None
        if kind == "integer" and ids.type != pa.int64():
            try:
                ids = arrow_cast(ids, pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # an unsigned id beyond int64
                return None
        # The table's own keys and their sort need nothing of another table's: they run beside that table's
        # work (two tables on two cores; 5M-row paired check: 1.4 s of each table's 1.8 s). Only the join with
        # the ids coded before runs alone.
        with self._doing("sorting"):
            # Read without the lock: a table the space would refuse, or code by Arrow's hash, is not sorted
            # for nothing (the state only ever moves that way; the join below decides under the lock).
            refused = self._kind not in {None, kind} or (self._tables is not None and self._coded >= self._tables)
            table = _sorted_alone(ids, kind) if self._known is None and not refused else None
        with self._hashed():
            if self._tables is not None and self._coded >= self._tables:
                return None
            self._coded += 1
            try:
                if self._kind is not None and self._kind != kind:
                    return None
                distinct_codes = self._join_sorted(table, kind) if self._known is None else _BY_HASH
                if distinct_codes is _BY_HASH:
                    return self._hash_code(ids, kind)
            finally:
                if self._tables is not None and self._coded >= self._tables:
                    self._sorted, self._known = None, None
        if table is None or not isinstance(distinct_codes, np.ndarray):
            return None
        return table.by_row(distinct_codes)

    def _join_sorted(self, table: Sorted | None, kind: str) -> npt.NDArray[np.signedinteger[Any]] | _ByHash | None:
        """With the lock held: the codes of a sorted table's distinct ids among those coded before; None when
        they cannot be coded; `_BY_HASH` when the first table's ids are left to Arrow's hash (two of them share
        a key, or their keys cannot be made)."""
        if table is None:
            return None if self._sorted is not None else _BY_HASH
        self._sorted = self._sorted or SortedKeys()
        self._kind = kind
        # None (never for the first table, which meets no ids coded before): a text id of this table shares
        # a key with a different one coded before.
        return self._sorted.join(table)

    def _hash_code(self, ids: pa.ChunkedArray, kind: str) -> npt.NDArray[np.signedinteger[Any]] | None:
        """With the lock held: the codes of a table's ids by Arrow's hash (see `code`)."""
        import pyarrow as pa

        self._kind = kind
        known = self._known
        if known is None:
            distinct, codes = _encoded(ids)
            if len(distinct) == len(ids):
                # Every id distinct: they are their own distinct ids, in order; no second copy is kept.
                distinct = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
            self._known = distinct
            return codes.astype(code_type(len(distinct)), copy=False)
        if _coded_kind(known.type) != kind:
            return None
        if ids.type != known.type:  # text against large text
            try:
                ids = arrow_cast(ids, known.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # more text than `string` holds
                return None
        try:
            from pyarrow._compute import SetLookupOptions
        except ImportError:  # a pyarrow that moved it (see gatekit.sources.arrow.arrow_call)
            from pyarrow.compute import SetLookupOptions
        found = arrow_call("index_in", ids, options=SetLookupOptions(value_set=known))
        new = is_null(found)
        if not new.any():
            return to_numpy(found).astype(code_type(len(known)), copy=False)
        # Ids not known yet: coded among themselves (one may repeat), after the known ones.
        unknown = arrow_call("filter", ids, pa.array(new))
        distinct, new_codes = _encoded(unknown)
        kind_of_code = code_type(len(known) + len(distinct))
        codes = to_numpy(found).astype(kind_of_code)
        codes[new] = len(known) + new_codes.astype(kind_of_code)
        self._known = pa.concat_arrays([known, distinct])
        return codes


class _ByHash(enum.Enum):
    HASH = "hash"


_BY_HASH = _ByHash.HASH
"""A table's ids coded by Arrow's hash, not by sorting their keys."""


def _sorted_alone(ids: pa.ChunkedArray, kind: str) -> Sorted | None:
    """A table's ids keyed and sorted on their own (`gatekit.sources.id_codes`), or None when they cannot be
    (text with a NUL or too long; two different ids that share a key)."""
    keyed = id_keys(ids, kind)
    return None if keyed is None else sort_keys(*keyed)


def _released() -> None:
    """Hand the memory of a hash of millions of ids back: Arrow's allocator (mimalloc) would otherwise keep
    the freed pages, and the numpy work that follows would take fresh ones beside them (5M-row paired-cross:
    600 MiB of peak)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _encoded(ids: pa.ChunkedArray) -> tuple[pa.Array, npt.NDArray[np.signedinteger[Any]]]:
    """The distinct ids, in order of first appearance, and per row the position of its id among them."""
    import numpy as np
    import pyarrow as pa

    encoded = arrow_call("dictionary_encode", ids)
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    distinct = chunks[0].dictionary if chunks else pa.array([], type=ids.type)
    codes = np.concatenate([to_numpy(c.indices) for c in chunks]) if chunks else np.zeros(0, np.int32)
    return distinct, codes


class ExampleIds:
    """One table's example ids (a column with no empty cell), for the uniqueness check and for slices.

    `codes` gives each row the code of its id in the table's `IdSpace` (None without a space or for ids that
    are not coded); `values()` the ids as numpy values, built on first use.
    """

    def __init__(self, table: Table, column: str, space: IdSpace | None = None) -> None:
        import numpy as np
        import pyarrow as pa

        array = plain_column(table, column)
        # Only the id column is kept (for messages and the review queue), so that the table's other columns
        # are freed once its slices are measured.
        self._table = dataclasses.replace(table, data=table.data.select([column]), cell_problems={}, text_classes={})
        self._column, self._has_filter = column, "filter" in table.columns
        if pa.types.is_nested(array.type):
            raise ResultsError.at(
                f"example id column {column!r} holds {array.type} values; an id is text or a number", table.source
            )
        if array.null_count:
            first = int(np.flatnonzero(is_null(array))[0])
            raise ResultsError.at(f"example id column {column!r} is empty at {table.where(first)}", table.source)
        self._array = array
        self._values: npt.NDArray[Any] | None = None
        self._partners: dict[int, tuple[ExampleIds, tuple[Any, Any]]] = {}
        self._seen: dict[int, tuple[ExampleIds, PartnerRows]] = {}
        self.rows_read: dict[tuple[int, int], tuple[Any, Any]] = {}
        """(slice index per row of a cut or None, valid rows or None) for each cut and metric its slices read
        (`read_by`): what `seen_by_partners` gathers at once."""
        self._distinct: bool | None = None
        self._local: npt.NDArray[np.signedinteger[Any]] | None = None
        """Per row a code of its id, equal exactly when the ids are: the shared code, or else the position of
        its id among the table's distinct ids."""
        self.codes: npt.NDArray[np.signedinteger[Any]] | None = None
        self.space: IdSpace | None = None
        if _coded_kind(array.type) is None:
            self._values = _numpy_ids(table, column, array)  # checked (a float id must be finite) up front
            return
        shared = space.code(array) if space is not None else None
        if shared is not None:
            # The shared codes are equal exactly when the ids are: they serve as the table's own codes too.
            self._local, self.codes, self.space = shared, shared, space
        else:
            self._local = _encoded(array)[1]
        _released()

    def values(self) -> npt.NDArray[Any]:
        """The ids as numpy values the evaluator sorts and matches in C: integers as int64, ASCII text as
        fixed-width text (`<U`), other text as Python strings."""
        if self._values is None:
            self._values = _numpy_ids(self._table, self._column, self._array)
        return self._values

    def values_at(self, rows: npt.NDArray[np.signedinteger[Any]]) -> npt.NDArray[Any]:
        """`values()[rows]`, converting only these rows' ids when the table's have not been converted (the same
        ids; fixed-width text may be narrower)."""
        import numpy as np

        from gatekit.sources.arrow import arrow_call, from_numpy

        if self._values is None and _is_integer(self._array.type):
            # Integers: the column's own buffer, a view or one copy (an Arrow take and its conversion cost
            # 130 us a call, once or twice per slice of a review queue); text ids would be converted whole.
            self.values()
        if self._values is not None:
            picked: npt.NDArray[Any] = self._values[rows]
            return picked
        taken = arrow_call("take", self._array, from_numpy(rows.astype(np.int64, copy=False)))
        return _numpy_ids(self._table, self._column, taken)

    def keys(self, rows: npt.NDArray[np.signedinteger[Any]]) -> IdKeys | None:
        """The shared codes of these rows' ids, or None when the ids are not coded in a space."""
        return IdKeys(self.codes[rows], self.space) if self.codes is not None else None

    def partners(
        self, other: ExampleIds, mine: BoolArray | None = None, theirs: BoolArray | None = None
    ) -> tuple[Any, Any] | None:
        """Per row, the row of `other` with the same id among the rows a metric reads (`mine`, `theirs`; None:
        all), -1 for none, and the other way round (`gatekit.sources.unmatched.partners`); None unless both are
        coded in one space. Where no id is on two rows of either table, the rows of every metric have the same
        partners: joined once per pair of tables. Where one is (a harness's row per filter, one metric per
        filter), the partner depends on the metric's rows and is joined for them."""
        from gatekit.sources.unmatched import partners

        if self.codes is None or other.codes is None or self.space is None or self.space is not other.space:
            return None
        if not (self._codes_distinct() and other._codes_distinct()):
            return partners(self.codes, other.codes, mine, theirs)
        kept = self._partners.get(id(other))
        if kept is None:
            kept = self._partners[id(other)] = (
                other,
                partners(self.codes, other.codes, distinct=True),
            )  # `other` kept: its id
        return kept[1]

    def read_by(self, codes: Any, valid: Any) -> None:
        """Note that a cut's slices (`codes`, None for `all`) read these rows (`valid`, None for all)."""
        self.rows_read.setdefault((id(codes), id(valid)), (codes, valid))

    def seen_by_partners(self, other: ExampleIds) -> PartnerRows | None:
        """The slices and validity of the rows `other.read_by` noted, at this table's rows through their
        partners (`gatekit.sources.unmatched.PartnerRows`), gathered once per pair of tables; None where the
        partners depend on a metric's rows (`partners`) or the ids are not coded in one space."""
        from gatekit.sources.unmatched import PartnerRows, partner_rows

        if self.codes is None or other.codes is None or self.space is None or self.space is not other.space:
            return None
        if not (self._codes_distinct() and other._codes_distinct()):
            return None
        kept = self._seen.get(id(other))
        if kept is None:
            partner = partner_rows(self.codes, other.codes)
            seen = PartnerRows(partner, len(other.codes), list(other.rows_read.values()))
            del partner  # only PartnerRows reads it: not kept for the check like `partners`
            kept = self._seen[id(other)] = (other, seen)  # `other` kept: its id stays its own
        return kept[1]

    def _codes_distinct(self) -> bool:
        if self._distinct is None:
            self._distinct = self.codes is not None and _all_distinct(self.codes)
        return self._distinct

    def check_unique(self, rowset: BoolArray | None, metric: str) -> None:
        """No id repeats among the rows a metric reads (`rowset`, None for all)."""
        import numpy as np

        keys = self._local if self._local is not None else self.values()
        chosen = keys if rowset is None else keys[rowset]
        if self._local is not None and _all_distinct(chosen):
            return
        # Sorting and comparing neighbours: a hash count (value_counts, np.unique) of millions of distinct ids
        # spends its time on cache misses, about 60x a sort here. Integer codes sort far faster than text.
        ordered = np.sort(chosen, kind="stable")
        repeats = ordered[1:][ordered[1:] == ordered[:-1]]
        if len(repeats) == 0:
            return
        # The id named is the repeated one seen first, so that the message points at the top of the file.
        first_at = int(np.flatnonzero(np.isin(chosen, repeats))[0])
        rows = np.flatnonzero(keys == chosen[first_at])
        if rowset is not None:
            rows = rows[rowset[rows]]
        found = self.values()[int(rows[0])]
        first = found.item() if isinstance(found, np.generic) else found  # numpy scalars repr as np.str_('...')
        table, column = self._table, self._column
        hint = (
            "; a harness samples file repeats each example once per filter: add `where: {column: filter, equals: ...}`"
            if self._has_filter
            else ""
        )
        raise ResultsError.at(
            f"duplicate example id {first!r} in column {column!r} (rows used by {metric!r}) at "
            f"{table.where(int(rows[0]))} and {table.where(int(rows[1]))}{hint}",
            table.source,
            table.line(int(rows[1])),
        )


class UniqueIds:
    """Checks, once per set of rows (a metric's filter), that no example id repeats among them."""

    def __init__(self, ids: ExampleIds) -> None:
        self._ids = ids
        self._checked: set[RowFilter | None] = set()

    def check(self, rowset: BoolArray | None, filter_key: RowFilter | None, metric: str) -> None:
        if filter_key in self._checked:
            return
        self._ids.check_unique(rowset, metric)
        self._checked.add(filter_key)


def _all_distinct(codes: npt.NDArray[np.signedinteger[Any]]) -> bool:
    """Whether no code (non-negative, numbering distinct ids from 0) is on two rows: a flag per code, set once
    per row, counts the distinct ones in one pass, no sort (1 byte a code: a bincount's 8 were the peak of a
    5M-row paired load)."""
    import numpy as np

    if not len(codes):
        return True
    seen = np.zeros(int(codes.max()) + 1, dtype=bool)
    seen[codes] = True
    return int(np.count_nonzero(seen)) == len(codes)


def _is_integer(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind))


def _numpy_ids(table: Table, column: str, array: pa.ChunkedArray) -> npt.NDArray[Any]:
    """Integers as int64, ASCII text as fixed-width text (`<U`), other text as Python strings (exact, and
    slow: numpy's fixed-width text would cut off a trailing NUL, and decoding UTF-8 into it goes through Python
    objects anyway)."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        widths = [_ascii_text(chunk) for chunk in array.chunks]
        if widths and all(width is not None for width in widths):
            width = max([1, *(w for w in widths if w is not None)])
            return _fixed_width_text(array.chunks, width)
    ids = to_numpy(array)
    if pa.types.is_floating(array.type) and not np.isfinite(ids).all():
        # NaN is never equal to itself: two NaN ids would neither pair nor count as duplicates.
        first = int(np.flatnonzero(~np.isfinite(ids))[0])
        raise ResultsError.at(
            f"example id column {column!r} holds {ids[first]} at {table.where(first)}; an id is text or a finite "
            "number",
            table.source,
        )
    return ids


def _ascii_text(chunk: pa.Array) -> int | None:
    """The length of a chunk's longest text id, when every byte is ASCII and not NUL; else None."""
    if len(chunk) == 0:
        return 0
    offsets, body = text_bytes(chunk)
    if len(body) and (int(body.max()) >= 0x80 or int(body.min()) == 0):
        return None
    return int((offsets[1:] - offsets[:-1]).max())


_TEXT_BLOCK = 1 << 16
"""Ids converted to fixed-width text this many at a time: each block's bytes stay in the cache (5M ids at once
took 0.4-1.1 s, in blocks 0.07 s)."""


def _fixed_width_text(chunks: list[pa.Array], width: int) -> npt.NDArray[np.str_]:
    """Chunks of ASCII text ids (`_ascii_text`) as `<U{width}` values: each id left-aligned in `width`
    characters, NUL-padded (what numpy's fixed-width text means). Arrow pads the ids to one length
    (`utf8_rpad`) and the bytes widen to UCS-4 code points in one cast (an ASCII byte is its code point)."""
    import numpy as np

    try:
        from pyarrow._compute import PadOptions
    except ImportError:  # a pyarrow that moved it (see gatekit.sources.arrow.arrow_call)
        from pyarrow.compute import PadOptions

    out = np.zeros(sum(len(chunk) for chunk in chunks), dtype=f"<U{width}")
    points = out.view(np.uint32).reshape(len(out), width)
    at = 0
    for chunk in chunks:
        for start in range(0, len(chunk), _TEXT_BLOCK):
            block = chunk.slice(start, _TEXT_BLOCK)
            n = len(block)
            body = text_bytes(block)[1]
            if len(body) != n * width:
                body = text_bytes(arrow_call("utf8_rpad", block, options=PadOptions(width, "\x00")))[1]
            if len(body) != n * width:  # pragma: no cover - utf8_rpad pads every id to `width`
                raise AssertionError("padded text ids of unequal length")
            points[at : at + n] = body.reshape(n, width)
            at += n
    return out
