"""The columns a reviewer reads next to an example (`review.columns`, e.g. prompt and output), by example id.

Only the id column and the named columns are kept, and the id index is built the first time the review
queue asks for an example, so a check with nothing to review pays for neither. With repeats, an example's
first row (in file order) supplies its text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gatekit.results import ExampleColumns, example_id
from gatekit.sources.arrow import to_numpy
from gatekit.sources.columns import plain_column
from gatekit.sources.rows import check_columns
from gatekit.sources.table import Table
from gatekit.spec.model import Spec


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def example_columns(table: Table, spec: Spec) -> ExampleColumns | None:
    """The `review.columns` of `table` by example id, or None when the table has no id column."""
    columns = spec.review.columns
    id_column = spec.table.id_column or ("id" if "id" in table.columns else None)
    if id_column is None or not columns:
        return None
    check_columns([id_column, *columns], table.columns, table.source)
    data = table.data.select(list(dict.fromkeys([id_column, *columns])))
    index: dict[Any, int] = {}

    def lookup(ids: Sequence[Any]) -> list[dict[str, str | None]]:
        if not index:
            for row, key in enumerate(to_numpy(plain_column(Table(table.source, data), id_column)).tolist()):
                index.setdefault(example_id(key), row)
        rows = [index.get(example_id(key)) for key in ids]
        found = [row for row in rows if row is not None]
        taken = {c: data.column(c).take(found).to_pylist() for c in columns}
        out: list[dict[str, str | None]] = []
        position = 0
        for found_row in rows:
            if found_row is None:
                out.append(dict.fromkeys(columns))
                continue
            out.append({c: _text(taken[c][position]) for c in columns})
            position += 1
        return out

    return ExampleColumns(tuple(columns), lookup)
