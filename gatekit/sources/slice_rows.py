"""A cut's rows slice by slice, fetched when a slice's values, ids or codes are first asked for, and the
unmatched-id counts of a cut's slices (`gatekit.sources.unmatched`) for the notes of unpaired comparisons."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gatekit.results import Samples, SampleSummary
from gatekit.sources.columns import Decoded
from gatekit.sources.cuts import Cut
from gatekit.sources.example_ids import ExampleIds

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from gatekit.stats import OrderStatistics

    IntArray = npt.NDArray[np.intp]
    RowArray = npt.NDArray[np.signedinteger[Any]]
    BoolArray = npt.NDArray[np.bool_]


class SliceRows:
    """A cut's valid rows slice by slice (see `Cut.rows`; only paired comparisons and small-sample
    bootstraps ever ask for them)."""

    def __init__(self, cut: Cut, valid: BoolArray | None, column: Decoded, ids: ExampleIds | None) -> None:
        self._cut, self._valid, self._column, self._ids = cut, valid, column, ids
        self._unmatched: dict[int, tuple[SliceRows, tuple[IntArray, IntArray]]] = {}
        if ids is not None:
            ids.read_by(cut.codes, valid)

    def rows(self, g: int) -> RowArray:
        return self._cut.rows(g, self._valid, len(self._column))

    def samples(
        self, g: int, n: int, *, summary: SampleSummary | None = None, order_statistics: OrderStatistics | None = None
    ) -> Samples:
        """Slice g's values, fetched on first use, with its ids and their codes (each fetched on its own)."""
        return Samples(
            fetch=lambda: (self._column.values[self.rows(g)], None),
            n=n,
            summary=summary,
            order_statistics=order_statistics,
            count_unmatched=None if self._ids is None else lambda other: self.count_unmatched(g, other),
            origin=(self, g),
            **id_fields(self._ids, lambda: self.rows(g)),
        )

    def count_unmatched(self, g: int, other: Samples) -> tuple[int, int] | None:
        """`Samples.count_unmatched` of slice g: the ids it has that the other arm's slice of the same name
        lacks, and the other way round, counted for every slice of the cut at once
        (`gatekit.sources.unmatched`). None unless the other arm's samples come from the same cut of a table
        whose ids are coded in the same space."""
        theirs, h = other.origin if isinstance(other.origin, tuple) else (None, -1)
        if (
            not isinstance(theirs, SliceRows)
            or self._ids is None
            or theirs._ids is None
            or theirs._cut.columns != self._cut.columns
            or theirs._cut.names[h] != self._cut.names[g]
        ):
            return None
        kept = self._unmatched.get(id(theirs))
        if kept is None:
            from gatekit.sources.unmatched import no_partners, unmatched_by_slice

            mine = (self._cut.codes, self._cut.names, self._valid)
            their = (theirs._cut.codes, theirs._cut.names, theirs._valid)
            seen = self._ids.seen_by_partners(theirs._ids)
            at_mine = (
                None
                if seen is None
                else seen.keys(theirs._cut.codes, theirs._valid, theirs._cut.names, self._cut.names)
            )
            joined: tuple[Any, Any] | None
            if at_mine is not None and self._ids.codes is not None and theirs._ids.codes is not None:
                # Their rows read at mine already: the partners' number is all that is read of them.
                joined = (no_partners(len(self._ids.codes)), no_partners(len(theirs._ids.codes)))
            else:
                joined = self._ids.partners(theirs._ids, self._valid, theirs._valid)
                if joined is None:
                    return None  # not coded in one space: the evaluator compares the ids themselves
            counts = unmatched_by_slice((joined[0], *mine), (joined[1], *their), at_mine)
            self._unmatched[id(theirs)] = kept = (theirs, counts)  # `theirs` kept: its id stays its own
        only_mine, only_theirs = kept[1]
        return int(only_mine[g]), int(only_theirs[h])


def id_fields(ids: ExampleIds | None, rows: Callable[[], RowArray]) -> dict[str, Any]:
    """The `ids` and `keys` of a slice's Samples whose rows `rows` gives: each fetched when first asked for."""
    if ids is None:
        return {}
    return {
        "ids": lambda: ids.values()[rows()],
        "keys": lambda: ids.keys(rows()),
        "ids_at": lambda positions: ids.values_at(rows()[positions]),
    }
