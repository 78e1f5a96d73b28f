"""A per-example table's results: the columns a check reads, and every metric of the spec on every slice.

The entry above the two steps: a spec whose table has repeats, pass_all/pass_any metrics or review columns
first reduces the rows to one per example (`gatekit.sources.repeats`); the aggregation
(`gatekit.sources.aggregate`) then measures every slice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from gatekit.sources.aggregate import slice_results
from gatekit.sources.repeats import extra_columns, needs_per_example_step, per_example_results

if TYPE_CHECKING:
    from gatekit.results import Measurement, Results
    from gatekit.sources.example_ids import IdSpace
    from gatekit.sources.table import Table
    from gatekit.spec.model import Spec


def table_columns(spec: Spec, present: Iterable[str] | None = None) -> list[str]:
    """The columns a check reads from a table: slices, id, and each derived metric's column and filter."""
    options = spec.table
    wanted = [*options.slice_by, *(c for pair in options.slice_cross for c in pair)]
    for definition in spec.metrics.values():
        source = definition.from_
        if source is None:
            continue
        if source.column is not None:
            wanted.append(source.column)
        if source.where is not None:
            wanted.append(source.where.column)
    id_column = options.id_column
    if id_column is None and present is not None and "id" in present:
        id_column = "id"
    if id_column is not None:
        wanted.append(id_column)
    return list(dict.fromkeys([*wanted, *extra_columns(spec)]))


def table_results(
    table: Table,
    spec: Spec,
    *,
    model: str | None = None,
    extra: dict[str, dict[str, Measurement]] | None = None,
    notes: Sequence[str] = (),
    id_space: IdSpace | None = None,
) -> Results:
    """Every derived metric of the spec on every slice of the table. `id_space` codes the example ids as
    integers shared with the tables it is compared with (`gatekit.sources.example_ids`)."""
    if needs_per_example_step(spec):  # repeats reduced to one row per example first; see repeats.py
        return per_example_results(table, spec, model=model, extra=extra, notes=tuple(notes), id_space=id_space)
    return slice_results(table, spec, model=model, extra=extra, notes=notes, id_space=id_space)
