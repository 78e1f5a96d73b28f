"""Reading a stats table (docs/stats-contract.md) made elsewhere, by `gatekit stats-sql`'s queries on a warehouse
engine, into the same `Results` the local path builds from the per-example table.

The schema is checked before any number is used: a missing or mistyped column, a row that breaks an invariant
(n above rows, a negative count, two summary rows for one slice, an order statistic outside its slice or a rank
window with a hole) is a `ResultsError` naming the file and the row (exit 2), never a guess.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from gatekit.errors import ResultsError
from gatekit.results import Measurement, Results, Samples, SampleSummary
from gatekit.sources.stats_sql import COLUMNS, QUANTILE_LEVELS, cuts, rank_windows, stats_metrics, unsupported
from gatekit.spec.model import ColumnAggregate, Spec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass
class _Summary:
    row: int
    rows: int
    bad: int
    n: int
    events: float | None


@dataclass
class _CutStats:
    slices: dict[str, _Summary] = field(default_factory=dict)
    absent: int = 0
    order: dict[str, dict[int, tuple[float, int]]] = field(default_factory=lambda: defaultdict(dict))


def load_stats_table(path: Path, spec: Spec | None) -> Results:
    """The stats table at `path` (Parquet, or CSV with a header) as the Results of the spec's metrics."""
    source = str(path)
    if spec is None:
        raise ResultsError.at("a stats table is read against a spec's derived metrics", source)
    reason = unsupported(spec)
    if reason is not None:
        raise ResultsError.at(f"this spec cannot be checked from a stats table: {reason}", source)
    records = _read(path)
    by_metric = _collect(records, spec, source)
    metrics: dict[str, dict[str, Measurement]] = {}
    notes: list[str] = []
    for name, definition in stats_metrics(spec).items():
        metrics[name] = _measure(name, definition, by_metric[name], spec, source, notes)
    return Results(source=source, model=path.stem, metrics=metrics, notes=tuple(notes))


# -------------------------------------------------------------------------------------------------- reading


def _read(path: Path) -> list[dict[str, Any]]:
    import pyarrow as pa

    source = str(path)
    try:
        if path.suffix.lower() == ".csv":
            import pyarrow.csv as pcsv

            text_columns = {name: pa.string() for name, kind in COLUMNS if kind == "text"}
            table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types=text_columns))
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise ResultsError.at(f"cannot read the stats table: {error}", source) from None
    present = set(table.column_names)
    missing = [name for name, _ in COLUMNS if name not in present]
    if missing:
        raise ResultsError.at(
            f"a stats table needs the columns {', '.join(n for n, _ in COLUMNS)}; missing: {', '.join(missing)}",
            source,
        )
    for name, kind in COLUMNS:
        column_type = table.schema.field(name).type
        fits = {
            "text": pa.types.is_string(column_type) or pa.types.is_large_string(column_type),
            "integer": pa.types.is_integer(column_type) or pa.types.is_null(column_type),
            "float": pa.types.is_floating(column_type)
            or pa.types.is_integer(column_type)
            or pa.types.is_null(column_type),
        }[kind]
        if not fits:
            raise ResultsError.at(f"stats table column {name!r} holds {column_type}, not {kind} values", source)
    return [dict(r, _row=i + 1) for i, r in enumerate(table.select([n for n, _ in COLUMNS]).to_pylist())]


def _fail(source: str, row: int, message: str) -> NoReturn:
    raise ResultsError.at(f"row {row}: {message}", source)


def _count(record: dict[str, Any], name: str, source: str) -> int:
    value = record[name]
    if value is None or value < 0:
        _fail(source, record["_row"], f"{name} must be a count (0 or more), not {value!r}")
    return int(value)


def _collect(records: list[dict[str, Any]], spec: Spec, source: str) -> dict[str, dict[str, _CutStats]]:
    metrics = stats_metrics(spec)
    keys = {cut.key for cut in cuts(spec)}
    found: dict[str, dict[str, _CutStats]] = {name: defaultdict(_CutStats) for name in metrics}
    for record in records:
        row = record["_row"]
        metric, cut, slice_name = record["metric"], record["cut"], record["slice"]
        if metric not in metrics:
            continue  # another spec's metric in a shared table: not this check's business
        if cut not in keys:
            _fail(source, row, f"cut {cut!r} is not one of this spec's cuts ({', '.join(sorted(keys))})")
        stats = found[metric][cut]
        if record["rank"] is None:
            rows, bad, n = (_count(record, name, source) for name in ("rows", "bad", "n"))
            if n + bad != rows:
                _fail(source, row, f"n ({n}) plus bad ({bad}) must equal rows ({rows})")
            if slice_name is None:
                stats.absent += rows
                continue
            if slice_name in stats.slices:
                _fail(
                    source,
                    row,
                    f"a second summary row for {metric} on {slice_name!r} (first at row "
                    f"{stats.slices[slice_name].row})",
                )
            events = record["events"]
            if metrics[metric].aggregate == "rate" and n and (events is None or not 0 <= events <= n):
                _fail(source, row, f"events ({events!r}) must be a count between 0 and n ({n})")
            stats.slices[slice_name] = _Summary(row, rows, bad, n, None if events is None else float(events))
        else:
            if metrics[metric].aggregate not in QUANTILE_LEVELS or slice_name is None:
                _fail(source, row, f"an order statistic (rank {record['rank']}) for a metric that is not a quantile")
            value = record["value"]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                _fail(source, row, f"the order statistic at rank {record['rank']} has no value")
            stats.order[slice_name][int(record["rank"])] = (float(value), row)
    return found


# ------------------------------------------------------------------------------------------------ measuring


def _no_values() -> tuple[npt.NDArray[np.float64], npt.NDArray[Any] | None]:
    raise ResultsError("a stats table carries no per-example values; gate the per-example tables for this check")


def _measure(  # noqa: PLR0917 - internal, called once per metric
    name: str, definition: ColumnAggregate, by_cut: dict[str, _CutStats], spec: Spec, source: str, notes: list[str]
) -> dict[str, Measurement]:
    from gatekit.sources.aggregate import measurement
    from gatekit.sources.cuts import Found

    options = spec.table
    column_name = definition.column or "(rows)"
    whole = by_cut.get(cuts(spec)[0].key, _CutStats()).slices.get(cuts(spec)[0].key)
    total_bad = whole.bad if whole is not None else 0
    bad_rows = f"{total_bad} bad row{'s' if total_bad != 1 else ''} in column {column_name!r}"
    if total_bad and options.drop_invalid:
        notes.append(f"{source}: {name}: dropped {bad_rows} (drop_invalid)")
    windows = rank_windows(
        spec,
        [(name, key, s, summary.n) for key, stats in by_cut.items() for s, summary in stats.slices.items()],
    )
    out: dict[str, Measurement] = {}
    for cut in cuts(spec):
        stats = by_cut.get(cut.key, _CutStats())
        slice_problem = absent_problem = None
        names = " or ".join(repr(c) for c in cut.columns)
        if stats.absent:
            rows_have = "row has" if stats.absent == 1 else "rows have"
            slice_problem = absent_problem = f"{stats.absent} {rows_have} no {names} value"
            if options.drop_invalid:
                notes.append(f"{source}: {name}: {slice_problem}; they are left out of these slices")
                slice_problem = None
        measured = False
        # An engine has no row order: slices come in the order of their names (the local path lists them in the
        # order they first appear in the file, which is the same order for a table sorted by its slice columns).
        for slice_name, summary in sorted(stats.slices.items()):
            if summary.rows == 0:
                continue  # no row of this metric in this slice: the slice does not exist for the metric
            problem = slice_problem
            if summary.bad and not options.drop_invalid and problem is None:
                problem = (
                    f"{summary.bad} of {summary.rows} row{'s' if summary.rows != 1 else ''} "
                    f"{'has' if summary.bad == 1 else 'have'} a bad {column_name!r} value ({bad_rows}); "
                    "set table.drop_invalid to use the rest"
                )
            if definition.aggregate in QUANTILE_LEVELS:
                window = windows.get((name, cut.key, slice_name))
                found = _quantile(definition, summary, stats.order.get(slice_name, {}), window, source)
            elif definition.aggregate == "count":
                found = Found(float(summary.n), summary.n)
            else:
                found = _rate(summary, source)
            out[slice_name] = measurement(definition, found, problem)
            measured = True
        if absent_problem is not None and not measured:
            # As the local path: every row lacks the cut's value, so `"*"` must not shrink to `all` silently.
            out[",".join(f"{column}=*" for column in cut.columns)] = Measurement(
                math.nan, 0, problem=f"{absent_problem}: no slice of {names} can be measured"
            )
    return out


def _rate(summary: _Summary, source: str) -> Any:
    from gatekit.sources.cuts import Found

    size = summary.n
    if size == 0:
        return Found(math.nan, 0, None, Samples(fetch=_no_values, n=0))
    if summary.events is None or not float(summary.events).is_integer():
        _fail(source, summary.row, f"events ({summary.events!r}) must be a whole count")
    k = summary.events
    n = float(max(size, 1))
    # The local path's arithmetic, in the same order: var = k (n - k) / (n (n - 1)), the sample variance of 0/1.
    var = k * (size - k) / (n * (size - 1)) if size > 1 else math.nan
    mean = k / size
    se = math.sqrt(var / size) if math.isfinite(var) else None
    summary_stats = SampleSummary(mean, se if se is not None else math.inf, k)
    return Found(mean, size, se, Samples(fetch=_no_values, n=size, summary=summary_stats))


def _quantile(
    definition: ColumnAggregate,
    summary: _Summary,
    ranks: dict[int, tuple[float, int]],
    window: tuple[int, int] | None,
    source: str,
) -> Any:
    import numpy as np

    from gatekit.sources.cuts import Found
    from gatekit.stats import OrderStatistics, nearest_rank

    n = summary.n
    if n == 0:
        return Found(math.nan, 0, None, Samples(np.zeros(0), None, is_sorted=True))
    assert window is not None
    first, last = window
    wanted = range(first, last + 1)
    holes = [r for r in wanted if r not in ranks]
    if holes:
        _fail(
            source,
            summary.row,
            f"the order statistics of this slice (n = {n}) must cover ranks {first}..{last}; rank {holes[0]} is "
            f"missing{' (was the table made by pass 2 of `gatekit stats-sql`?)' if len(holes) == len(wanted) else ''}",
        )
    stray = [r for r in ranks if not first <= r <= last]
    if stray:
        _fail(source, ranks[stray[0]][1], f"rank {stray[0]} lies outside this slice's window {first}..{last}")
    run = np.array([ranks[r][0] for r in wanted], dtype=np.float64)
    if bool(np.any(run[1:] < run[:-1])):  # a comparison, not a difference: +inf - +inf is NaN
        _fail(source, summary.row, "the order statistics of this slice do not ascend with their rank")
    q = QUANTILE_LEVELS[definition.aggregate]
    value = float(run[nearest_rank(n, q) - first])
    if first == 1 and last == n:
        return Found(value, n, None, Samples(run, None, is_sorted=True))
    kept = OrderStatistics(n, run, first - 1)
    return Found(value, n, None, Samples(fetch=_no_values, n=n, order_statistics=kept))


def pass_one_counts(path: Path, spec: Spec) -> dict[tuple[str, str, str], tuple[int, int]]:
    """The rank windows of every quantile slice, from pass 1's result (the stats table without order statistics)."""
    records = _read(path)
    by_metric = _collect(records, spec, str(path))
    return rank_windows(
        spec,
        [
            (metric, key, slice_name, summary.n)
            for metric, by_cut in by_metric.items()
            for key, stats in by_cut.items()
            for slice_name, summary in stats.slices.items()
        ],
    )
