"""Repeated samples: one row per example before any metric is computed.

Agents and sampled generations are evaluated several times per example (Inspect `--epochs`, promptfoo
`--repeat`, lm-eval `repeats`). With `table.repeats: COLUMN` naming the column that numbers the repeat, the
rows of each example (same id) are reduced to one row, per value column of each derived metric:

* ``pass_all`` (pass^k): 1 when every repeat passed, else 0;
* ``pass_any`` (pass@k): 1 when any repeat passed, else 0;
* any other aggregate (mean, sum, a quantile): the example's mean over its repeats; ``count`` counts examples.

The aggregation (`gatekit.sources.aggregate.table_results`) then sees one row per example, so n is the number
of examples and every interval is computed from per-example values: repeats of one example are not
independent draws, and counting them as such would make an interval too narrow.

An example whose pass/fail repeats disagree (a pass_all or pass_any column with both 0 and 1) is *flaky*.
Flaky examples are counted per slice (before anything is left out) and `table.flaky` decides the rest:
``count`` only reports them, ``exclude`` leaves them out of every metric (with a note), ``fail`` makes the
gate checks on a slice with a flaky example fail (decided in `gatekit.decide.waivers.apply_flaky_policy`).

Fail-closed: a bad cell in any repeat makes the example's value empty, so the aggregation reports the
example as a bad row (or drops it under `drop_invalid`); an example with the same repeat twice, an example
whose slice or filter columns differ between repeats, or an empty id or repeat cell is bad input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results
from gatekit.sources.arrow import arrow_call, is_null, to_numpy
from gatekit.sources.columns import decode_numbers, plain_column
from gatekit.sources.rows import check_columns
from gatekit.sources.table import QUANTILES, Table
from gatekit.spec.model import ColumnAggregate, MetricDefinition, Spec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from gatekit.sources.example_ids import IdSpace

PASS_AGGREGATES = frozenset({"pass_all", "pass_any"})
_FLAKY_COLUMN = "__gatekit_flaky"
_FLAKY_METRIC = "__gatekit_flaky"


def needs_per_example_step(spec: Spec) -> bool:
    """Whether `per_example_results` must run before the aggregation: repeats to reduce, pass_all/pass_any
    to rename, or review columns to keep."""
    return (
        spec.table.repeats is not None
        or bool(spec.review.columns)
        or any(d.from_ is not None and d.from_.aggregate in PASS_AGGREGATES for d in spec.metrics.values())
    )


def extra_columns(spec: Spec) -> list[str]:
    """The columns this step reads besides the aggregation's own."""
    return [*([spec.table.repeats] if spec.table.repeats else []), *spec.review.columns]


def per_example_results(
    table: Table,
    spec: Spec,
    *,
    model: str | None = None,
    extra: dict[str, dict[str, Measurement]] | None = None,
    notes: tuple[str, ...] | list[str] = (),
    id_space: IdSpace | None = None,
) -> Results:
    """`slice_results` of the table reduced to one row per example, with the flaky counts and review columns."""
    from gatekit.sources.aggregate import slice_results
    from gatekit.sources.review import example_columns

    examples = example_columns(table, spec) if spec.review.columns else None
    all_notes = list(notes)
    flaky: dict[str, tuple[int, int]] = {}
    renamed: dict[str, str] = {}
    if spec.table.repeats is not None:
        reduced = reduce_repeats(table, spec)
        flaky = _flaky_counts(reduced, spec)
        all_notes += reduced.notes
        table, renamed = reduced.table, reduced.renamed
        if spec.table.flaky == "exclude":
            table = _without_flaky(reduced)
            if reduced.flaky_examples:
                all_notes.append(
                    f"{table.source}: {reduced.flaky_examples} flaky example(s) left out of every metric "
                    "(table.flaky: exclude)"
                )
    results = slice_results(
        table, plain_spec(spec, renamed), model=model, extra=extra, notes=all_notes, id_space=id_space
    )
    if spec.table.flaky == "exclude":
        results = _keep_emptied_slices(results, spec, flaky)
    return replace(results, examples=examples, flaky=flaky)


def _keep_emptied_slices(results: Results, spec: Spec, flaky: dict[str, tuple[int, int]]) -> Results:
    """A slice whose every example was flaky and left out is still a slice: its derived metrics are missing
    (n = 0, with why), never absent, or a `slices: ["*"]` gate would ship past it."""
    metrics = {name: dict(slices) for name, slices in results.metrics.items()}
    for slice_name, (flaky_examples, examples) in flaky.items():
        if examples == 0 or flaky_examples < examples:
            continue
        problem = f"all {examples} examples of slice {slice_name!r} are flaky and were left out (table.flaky: exclude)"
        for name, definition in spec.metrics.items():
            if definition.from_ is not None and slice_name not in metrics.get(name, {}):
                metrics.setdefault(name, {})[slice_name] = Measurement(math.nan, n=0, problem=problem)
    return replace(results, metrics=metrics)


def plain_spec(spec: Spec, renamed: dict[str, str] | None = None) -> Spec:
    """The spec as the aggregation reads it: pass_all and pass_any as rates (of the reduced columns, renamed
    as `renamed` says, keyed by metric), no repeats, no review columns."""
    renamed = renamed or {}
    metrics = {}
    for name, definition in spec.metrics.items():
        source = definition.from_
        if source is not None and (source.aggregate in PASS_AGGREGATES or name in renamed):
            update: dict[str, Any] = {"column": renamed.get(name, source.column)}
            if source.aggregate in PASS_AGGREGATES:
                update["aggregate"] = "rate"
            metrics[name] = definition.model_copy(update={"from_": source.model_copy(update=update)})
        else:
            metrics[name] = definition
    table = spec.table.model_copy(update={"repeats": None, "flaky": "count"})
    review = spec.review.model_copy(update={"columns": ()})
    return spec.model_copy(update={"metrics": metrics, "table": table, "review": review})


@dataclass(frozen=True)
class ReducedTable:
    table: Table
    """One row per example, in the order of each example's first row."""
    renamed: dict[str, str]
    """metric -> the reduced column it now reads."""
    flaky: npt.NDArray[np.bool_]
    """Per example (row of `table`): its pass/fail repeats disagree."""
    notes: list[str]

    @property
    def flaky_examples(self) -> int:
        return int(self.flaky.sum())


def _reduction(source: ColumnAggregate) -> str:
    return source.aggregate if source.aggregate in PASS_AGGREGATES else "mean"


def reduce_repeats(table: Table, spec: Spec) -> ReducedTable:
    """Each example's rows (its repeats) as one row; see the module docstring for how values combine."""
    import numpy as np
    import pyarrow as pa

    options = spec.table
    assert options.repeats is not None
    id_column = options.id_column or "id"
    if id_column not in table.columns:
        raise ResultsError.at(
            f"table.repeats needs an example id column to group repeats by: set table.id_column "
            f"(no {id_column!r} column)",
            table.source,
        )
    check_columns([options.repeats], table.columns, table.source)
    codes, first, labels = _groups(table, id_column)
    _check_repeats_unique(table, options.repeats, codes, labels)
    counts = np.bincount(codes, minlength=len(first))
    for column in _constant_columns(spec):
        if column in table.columns:
            _check_constant(table, column, codes, first, labels)

    sources = {name: d.from_ for name, d in spec.metrics.items() if d.from_ is not None and d.from_.column}
    reductions: dict[str, set[str]] = {}
    for source in sources.values():
        assert source.column is not None
        reductions.setdefault(source.column, set()).add(_reduction(source))
    data = table.data.take(pa.array(first))
    cell_problems = {c: p[first] for c, p in table.cell_problems.items() if c not in reductions}
    renamed: dict[str, str] = {}
    flaky = np.zeros(len(first), dtype=np.bool_)
    notes: list[str] = []
    done: dict[tuple[str, str], str] = {}
    for metric, source in sources.items():
        assert source.column is not None
        how = _reduction(source)
        name = source.column if len(reductions[source.column]) == 1 else f"{source.column}:{how}"
        renamed[metric] = name
        if (source.column, how) in done:
            continue
        done[(source.column, how)] = name
        role = "rate" if how in PASS_AGGREGATES else "quantile" if source.aggregate in QUANTILES else "number"
        decoded = decode_numbers(table, source.column, role=role, non_negative=source.column in options.non_negative)
        bad = decoded.bad()
        values = decoded.values if bad is None else np.where(bad, 0.0, decoded.values)
        sums = np.bincount(codes, weights=values, minlength=len(first))
        bad_examples = (
            np.zeros(len(first), dtype=np.bool_)
            if bad is None
            else np.bincount(codes, weights=bad.astype(np.float64), minlength=len(first)) > 0
        )
        if how == "pass_all":
            reduced = (sums == counts).astype(np.float64)
        elif how == "pass_any":
            reduced = (sums > 0).astype(np.float64)
        else:
            reduced = sums / counts
        if how in PASS_AGGREGATES:
            flaky |= (sums > 0) & (sums < counts) & ~bad_examples
        if bad_examples.any():
            notes.append(
                f"{table.source}: {int(bad_examples.sum())} example(s) have a bad {source.column!r} cell in one "
                "of their repeats: the example's value is left empty (a bad row)"
            )
        array = pa.array(reduced, mask=bad_examples)
        if name in data.column_names:
            data = data.set_column(data.column_names.index(name), name, array)
        else:
            data = data.append_column(name, array)
    low, high = int(counts.min()), int(counts.max())
    distinct = len(arrow_call("unique", plain_column(table, options.repeats)))
    if high == 1 and distinct > 1:
        # E.g. ids made unique per repeat ("q1#2"): each repeat would count as an example, intervals too narrow.
        notes.append(
            f"{table.source}: every example has one row although {options.repeats!r} holds {distinct} different "
            f"repeat numbers: if the ids differ between repeats, each repeat counts as an example"
        )
    if low != high:
        notes.append(
            f"{table.source}: examples have between {low} and {high} repeats ({options.repeats!r}): pass^k and "
            "pass@k compare examples sampled a different number of times"
        )
    reduced_table = Table(table.source, data, table.text_cells, 0, cell_problems)
    return ReducedTable(reduced_table, renamed, flaky, notes)


def _constant_columns(spec: Spec) -> list[str]:
    """Columns that describe the example, not the repeat: they must not change between repeats."""
    options = spec.table
    columns = [*options.slice_by, *(c for pair in options.slice_cross for c in pair)]
    for definition in spec.metrics.values():
        if definition.from_ is not None and definition.from_.where is not None:
            columns.append(definition.from_.where.column)
    return list(dict.fromkeys(columns))


def _groups(table: Table, id_column: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[Any]]:
    """Per row its example's number (examples numbered by first appearance), each example's first row, and
    each example's id."""
    import numpy as np

    ids = plain_column(table, id_column)
    if ids.null_count:
        row = int(np.flatnonzero(is_null(ids))[0])
        raise ResultsError.at(f"example id column {id_column!r} is empty at {table.where(row)}", table.source)
    encoded = arrow_call("dictionary_encode", ids.combine_chunks())
    codes = to_numpy(encoded.indices).astype(np.intp)
    _, first = np.unique(codes, return_index=True)
    return codes, first.astype(np.intp), encoded.dictionary.to_pylist()


def _check_repeats_unique(table: Table, column: str, codes: npt.NDArray[np.intp], labels: list[Any]) -> None:
    import numpy as np

    repeats = plain_column(table, column)
    if repeats.null_count:
        row = int(np.flatnonzero(is_null(repeats))[0])
        raise ResultsError.at(f"repeat column {column!r} is empty at {table.where(row)}", table.source)
    repeat_codes = to_numpy(arrow_call("dictionary_encode", repeats.combine_chunks()).indices).astype(np.int64)
    key = codes.astype(np.int64) * (int(repeat_codes.max()) + 1) + repeat_codes
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        row = int(first[np.flatnonzero(counts > 1)[0]])
        again = int(np.flatnonzero(key == key[row])[1])
        raise ResultsError.at(
            f"example {labels[codes[row]]!r} has repeat {repeats[row].as_py()!r} twice ({column!r}), at "
            f"{table.where(row)} and {table.where(again)}",
            table.source,
        )


def _check_constant(
    table: Table, column: str, codes: npt.NDArray[np.intp], first: npt.NDArray[np.intp], labels: list[Any]
) -> None:
    import numpy as np
    import pyarrow as pa

    values = plain_column(table, column).combine_chunks()
    spread = values.take(pa.array(first)).take(pa.array(codes))
    equal = arrow_call("equal", values, spread)
    same = to_numpy(arrow_call("coalesce", equal, pa.scalar(False))) | (is_null(values) & is_null(spread))
    if not same.all():
        row = int(np.flatnonzero(~same)[0])
        raise ResultsError.at(
            f"column {column!r} differs between the repeats of example {labels[codes[row]]!r} (at "
            f"{table.where(int(first[codes[row]]))} and {table.where(row)}): a slice or filter column describes "
            "the example, not the repeat",
            table.source,
        )


def _flaky_counts(reduced: ReducedTable, spec: Spec) -> dict[str, tuple[int, int]]:
    """slice -> (flaky examples, examples), with the spec's slices, before anything is left out."""
    import pyarrow as pa

    from gatekit.sources.aggregate import slice_results

    data = reduced.table.data.append_column(_FLAKY_COLUMN, pa.array(reduced.flaky.astype("float64")))
    counting = Table(reduced.table.source, data, reduced.table.text_cells, 0, reduced.table.cell_problems)
    definition = MetricDefinition.model_validate({"from": {"column": _FLAKY_COLUMN, "aggregate": "sum"}})
    counting_spec = plain_spec(spec).model_copy(update={"metrics": {_FLAKY_METRIC: definition}})
    measured = slice_results(counting, counting_spec).metrics[_FLAKY_METRIC]
    return {name: (int(m.value), int(m.n or 0)) for name, m in measured.items()}


def _without_flaky(reduced: ReducedTable) -> Table:
    import pyarrow as pa

    keep = ~reduced.flaky
    table = reduced.table
    problems = {c: p[keep] for c, p in table.cell_problems.items()}
    return Table(table.source, table.data.filter(pa.array(keep)), table.text_cells, 0, problems)
