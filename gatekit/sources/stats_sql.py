"""The sufficient-statistics contract as SQL: queries a warehouse engine (DuckDB, Spark) runs over a per-example
table to produce the stats table `gatekit check --candidate-format stats` reads (docs/stats-contract.md).

Pure: spec in, SQL text out; nothing here reads a file or talks to an engine.

Two passes. Pass 1 (`counts_query`) is one scan with GROUPING SETS over `all`, every `slice_by` column and every
`slice_cross` pair: per metric and slice the rows, the bad rows, the valid rows (n), the events, the sum and the
centred sum of squares (M2). Pass 2 (`stats_query`) needs each quantile slice's n, because the rank window its
bounds read depends on it (`gatekit.stats.quantile_rank_span`); it repeats pass 1 and adds, per quantile metric
and slice, the order statistics in that window (`row_number() over (partition by slice order by value)`
filtered to the window).

A rule the SQL cannot state exactly is refused (`unsupported`), never approximated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gatekit.spec.model import AGGREGATE_SLICE, ColumnAggregate, RowFilter, Spec

Dialect = Literal["duckdb", "spark"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "spark")

QUANTILE_LEVELS = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
"""The quantile aggregates (the same names and levels as `gatekit.sources.table.QUANTILES`, kept off pyarrow's
import path: `stats-sql` prints SQL without reading a table)."""
SUPPORTED_AGGREGATES = ("rate", "count", *QUANTILE_LEVELS)

COLUMNS: tuple[tuple[str, str], ...] = (
    ("metric", "text"),
    ("cut", "text"),
    ("slice", "text"),
    ("rows", "integer"),
    ("bad", "integer"),
    ("n", "integer"),
    ("events", "float"),
    ("total", "float"),
    ("m2", "float"),
    ("rank", "integer"),
    ("value", "float"),
)
"""The stats table's columns and their kinds, in order (see docs/stats-contract.md)."""

_SQL_TYPES = {"text": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE"}
_SPARK_TYPES = {"text": "STRING", "integer": "BIGINT", "float": "DOUBLE"}


@dataclass(frozen=True)
class Cut:
    """One way of cutting the rows: `all`, one slice column, or the cross of two. `key` names it in the
    stats table's `cut` column."""

    columns: tuple[str, ...]

    @property
    def key(self) -> str:
        return ",".join(self.columns) if self.columns else AGGREGATE_SLICE


def cuts(spec: Spec) -> list[Cut]:
    """The cuts of a spec in the order the local path measures them: `all`, each `slice_by`, each cross."""
    options = spec.table
    return [Cut(()), *(Cut((c,)) for c in options.slice_by), *(Cut(tuple(pair)) for pair in options.slice_cross)]


def stats_metrics(spec: Spec) -> dict[str, ColumnAggregate]:
    return {name: d.from_ for name, d in spec.metrics.items() if d.from_ is not None}


def unsupported(spec: Spec) -> str | None:
    """Why the contract cannot state this spec's statistics exactly, or None when it can."""
    options = spec.table
    if options.id_column is not None:
        return (
            f"table.id_column {options.id_column!r}: pairing by example id is not in the stats contract yet "
            "(the paired intervals read per-example values); gate the per-example tables directly"
        )
    if options.repeats is not None:
        return "table.repeats: repeats are reduced per example before any statistic; not in the stats contract"
    if spec.review.columns:
        return "review.columns: the review queue reads per-example rows; not in the stats contract"
    metrics = stats_metrics(spec)
    if not metrics:
        return "the spec has no metric computed from a table's columns (`metrics.<name>.from`)"
    for name, source in metrics.items():
        if source.aggregate not in SUPPORTED_AGGREGATES:
            return (
                f"metrics.{name}.from.aggregate {source.aggregate!r}: the intervals on a {source.aggregate} read "
                f"per-example values (skewness), which the stats contract does not carry; supported: "
                f"{', '.join(SUPPORTED_AGGREGATES)}"
            )
    return None


# ------------------------------------------------------------------------------------------------ quoting


def _ident(name: str, dialect: Dialect) -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _text(value: str, dialect: Dialect) -> str:
    if dialect == "spark":
        # Spark's lexer joins adjacent literals ('a''b' is 'ab'): escape with backslashes instead.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "''") + "'"


def _number(value: float) -> str:
    return repr(float(value))


_INF = "CAST('Infinity' AS DOUBLE)"


# --------------------------------------------------------------------------------------- row expressions


def _slice_text(column: str, dialect: Dialect) -> str:
    """A slice cell as text; NULL where the row has no value (null or empty text, as the local reader)."""
    cell = f"CAST({_ident(column, dialect)} AS {'STRING' if dialect == 'spark' else 'VARCHAR'})"
    return f"CASE WHEN {cell} IS NULL OR {cell} = '' THEN NULL ELSE {cell} END"


def _number_cell(column: str, dialect: Dialect) -> str:
    return f"CAST({_ident(column, dialect)} AS DOUBLE)"


def _is_nan(value: str, dialect: Dialect) -> str:
    if dialect == "duckdb":
        # DuckDB 2.0 folds isnan() to false from a Parquet column's statistics, which leave NaN out (a NaN cell
        # read back says isnan = false); its text form is always 'nan'.
        return f"(isnan({value}) OR CAST({value} AS VARCHAR) = 'nan')"
    return f"isnan({value})"


def _bad_number(value: str, role: str, dialect: Dialect, *, non_negative: bool) -> str:
    """True where a cell is bad for its role, as `gatekit.sources.columns.decode_numbers` decides it (a null
    latency is a timeout, +inf, not a bad cell)."""
    nan = _is_nan(value, dialect)
    if role == "rate":
        checks = [f"{value} IS NULL", nan, f"{value} NOT IN (0.0, 1.0)"]
    elif role == "quantile":
        checks = [nan, f"{value} = -{_INF}"]
    else:
        checks = [f"{value} IS NULL", nan, f"abs({value}) = {_INF}"]
    if non_negative:
        checks.append(f"{value} < 0")
    # NULL only from a NULL cell: bad, except for a latency (a timeout).
    return "COALESCE(" + " OR ".join(checks) + f", {'FALSE' if role == 'quantile' else 'TRUE'})"


def _role(source: ColumnAggregate) -> str:
    if source.aggregate == "rate":
        return "rate"
    return "quantile" if source.aggregate in QUANTILE_LEVELS else "number"


def _filter(where: RowFilter, dialect: Dialect) -> tuple[str, str]:
    """(kept, bad) expressions of a row filter: rows it keeps, and rows whose filter cell is bad (these are
    the metric's rows too, and bad ones)."""
    if isinstance(where.equals, str):
        cell = _slice_text(where.column, dialect)
        return f"COALESCE({cell} = {_text(where.equals, dialect)}, FALSE)", f"({cell} IS NULL)"
    value = _number_cell(where.column, dialect)
    role = "rate" if isinstance(where.equals, bool) else "number"
    bad = _bad_number(value, role, dialect, non_negative=False)
    return f"(NOT {bad} AND {value} = {_number(float(where.equals))})", bad


@dataclass(frozen=True)
class _MetricSql:
    selected: str
    bad: str
    value: str
    valid: str


def _metric_sql(source: ColumnAggregate, spec: Spec, dialect: Dialect) -> _MetricSql:
    if source.where is not None:
        kept, filter_bad = _filter(source.where, dialect)
        selected = f"({kept} OR {filter_bad})"
    else:
        selected, filter_bad = "TRUE", "FALSE"
    if source.column is None:
        value, cell_bad = "1.0", "FALSE"
    else:
        role = _role(source)
        raw = _number_cell(source.column, dialect)
        value = f"COALESCE({raw}, {_INF})" if role == "quantile" else raw
        cell_bad = _bad_number(raw, role, dialect, non_negative=source.column in spec.table.non_negative)
    bad = f"({selected} AND ({cell_bad} OR {filter_bad}))"
    return _MetricSql(selected, bad, value, f"({selected} AND NOT {bad})")


# ------------------------------------------------------------------------------------------------ queries


def _base(spec: Spec, table: str, dialect: Dialect) -> tuple[str, dict[str, str]]:
    """The per-example CTE: slice texts and, per metric, its value and row flags. Returns (sql, slice aliases)."""
    slice_columns = list(dict.fromkeys(c for cut in cuts(spec) for c in cut.columns))
    aliases = {c: f"s{i}" for i, c in enumerate(slice_columns)}
    parts = [f"{_slice_text(c, dialect)} AS {aliases[c]}" for c in slice_columns]
    for i, source in enumerate(stats_metrics(spec).values()):
        m = _metric_sql(source, spec, dialect)
        parts += [f"{m.selected} AS m{i}_sel", f"{m.bad} AS m{i}_bad", f"{m.valid} AS m{i}_ok", f"{m.value} AS m{i}_v"]
    body = ",\n    ".join(parts)
    return f"base AS (\n  SELECT\n    {body}\n  FROM {table}\n)", aliases


def _label(cut: Cut, aliases: Mapping[str, str], dialect: Dialect) -> str:
    """The slice's name as the local path names it (`lang=de`, `lang=de,region=eu`); NULL for rows without a
    value in one of the cut's columns."""
    if not cut.columns:
        return _text(AGGREGATE_SLICE, dialect)
    pieces: list[str] = []
    for i, column in enumerate(cut.columns):
        pieces += [_text(("," if i else "") + column + "=", dialect), aliases[column]]
    present = " AND ".join(f"{aliases[c]} IS NOT NULL" for c in cut.columns)
    return f"CASE WHEN {present} THEN concat({', '.join(pieces)}) END"


def _typed_null(kind: str, dialect: Dialect) -> str:
    types = _SPARK_TYPES if dialect == "spark" else _SQL_TYPES
    return f"CAST(NULL AS {types[kind]})"


def counts_query(spec: Spec, table: str, dialect: Dialect) -> str:
    """Pass 1: one summary row per (metric, cut, slice), the slice NULL for rows that have no slice value."""
    return _with(spec, table, dialect, order_rows=None)


def stats_query(
    spec: Spec, table: str, dialect: Dialect, windows: Mapping[tuple[str, str, str], tuple[int, int]]
) -> str:
    """Pass 2: the whole stats table: pass 1's rows plus, per quantile metric and slice, the order statistics in
    its rank window. `windows` maps (metric, cut, slice) to its first and last rank (1-based)."""
    return _with(spec, table, dialect, order_rows=windows)


def _with(
    spec: Spec, table: str, dialect: Dialect, order_rows: Mapping[tuple[str, str, str], tuple[int, int]] | None
) -> str:
    reason = unsupported(spec)
    if reason is not None:
        raise ValueError(reason)
    base, aliases = _base(spec, table, dialect)
    all_cuts = cuts(spec)
    grouped = list(aliases.values())
    sets = ", ".join("(" + ", ".join(aliases[c] for c in cut.columns) + ")" for cut in all_cuts)
    cut_case = "CASE " + " ".join(
        "WHEN "
        + " AND ".join(f"grouping({a}) = {0 if c in cut.columns else 1}" for c, a in aliases.items())
        + f" THEN {_text(cut.key, dialect)}"
        for cut in all_cuts
        if grouped
    )
    cut_expr = (cut_case + " END") if grouped else _text(AGGREGATE_SLICE, dialect)
    label = (
        "CASE "
        + " ".join(f"WHEN cut = {_text(cut.key, dialect)} THEN {_label(cut, aliases, dialect)}" for cut in all_cuts)
        + " END"
    )
    metrics = stats_metrics(spec)
    wide: list[str] = []
    for i, source in enumerate(metrics.values()):
        wide += [
            f"count(CASE WHEN m{i}_sel THEN 1 END) AS m{i}_rows",
            f"count(CASE WHEN m{i}_bad THEN 1 END) AS m{i}_bad",
            f"count(CASE WHEN m{i}_ok THEN 1 END) AS m{i}_n",
        ]
        if source.aggregate == "rate":
            wide += [
                f"sum(CASE WHEN m{i}_ok THEN m{i}_v END) AS m{i}_total",
                f"var_pop(CASE WHEN m{i}_ok THEN m{i}_v END) AS m{i}_var",
            ]
    group = f"GROUP BY GROUPING SETS ({sets})" if grouped else ""
    keys = ", ".join(grouped)
    cube = (
        f"cube AS (\n  SELECT {cut_expr} AS cut{', ' + keys if keys else ''},\n    "
        + ",\n    ".join(wide)
        + f"\n  FROM base\n  {group}\n)"
    )
    labelled = f"labelled AS (\n  SELECT {label} AS slice, cube.* FROM cube\n)"
    selects = []
    for i, (name, source) in enumerate(metrics.items()):
        rate = source.aggregate == "rate"
        total = f"CAST(m{i}_total AS DOUBLE)" if rate else _typed_null("float", dialect)
        m2 = f"CAST(m{i}_var * m{i}_n AS DOUBLE)" if rate else _typed_null("float", dialect)
        selects.append(
            f"SELECT {_text(name, dialect)} AS metric, cut, slice, m{i}_rows AS rows, m{i}_bad AS bad, "
            f"m{i}_n AS n, {total} AS events, {total} AS total, {m2} AS m2, "
            f"{_typed_null('integer', dialect)} AS rank, {_typed_null('float', dialect)} AS value FROM labelled"
        )
    if order_rows is not None:
        selects += _order_selects(spec, aliases, dialect, order_rows)
    return f"WITH {base},\n{cube},\n{labelled}\n" + "\nUNION ALL\n".join(selects) + "\n"


def _order_selects(
    spec: Spec,
    aliases: Mapping[str, str],
    dialect: Dialect,
    windows: Mapping[tuple[str, str, str], tuple[int, int]],
) -> list[str]:
    selects: list[str] = []
    for i, (name, source) in enumerate(stats_metrics(spec).items()):
        if source.aggregate not in QUANTILE_LEVELS:
            continue
        for cut in cuts(spec):
            wanted = [(s, w) for (m, c, s), w in sorted(windows.items()) if m == name and c == cut.key]
            if not wanted:
                continue
            partition = ("PARTITION BY " + ", ".join(aliases[c] for c in cut.columns) + " ") if cut.columns else ""
            present = "".join(f" AND {aliases[c]} IS NOT NULL" for c in cut.columns)
            ranked = (
                f"SELECT {_label(cut, aliases, dialect)} AS slice, m{i}_v AS value, "
                f"row_number() OVER ({partition}ORDER BY m{i}_v) AS rank FROM base WHERE m{i}_ok{present}"
            )
            inside = " OR ".join(
                f"(slice = {_text(s, dialect)} AND rank BETWEEN {first} AND {last})" for s, (first, last) in wanted
            )
            null = _typed_null
            selects.append(
                f"SELECT {_text(name, dialect)} AS metric, {_text(cut.key, dialect)} AS cut, slice, "
                f"{null('integer', dialect)} AS rows, {null('integer', dialect)} AS bad, "
                f"{null('integer', dialect)} AS n, {null('float', dialect)} AS events, "
                f"{null('float', dialect)} AS total, {null('float', dialect)} AS m2, "
                f"CAST(rank AS BIGINT) AS rank, value FROM ({ranked}) ranked_{i}_{len(selects)} WHERE {inside}"
            )
    return selects


def rank_windows(
    spec: Spec, counts: Sequence[tuple[str, str, str | None, int]]
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Per quantile (metric, cut, slice) of pass 1's rows (metric, cut, slice, n), the ranks its point estimate
    and bounds read: the whole slice up to `BOOTSTRAP_MAX_N` (the bootstrap of a change resamples it), else
    `quantile_rank_span` at the deepest confidence any decision of the spec reaches."""
    from gatekit.sources.aggregate import deepest_confidence
    from gatekit.stats import BOOTSTRAP_MAX_N, quantile_rank_span

    metrics = stats_metrics(spec)
    reach = deepest_confidence(spec)
    windows: dict[tuple[str, str, str], tuple[int, int]] = {}
    for metric, cut, slice_name, n in counts:
        source = metrics.get(metric)
        if source is None or source.aggregate not in QUANTILE_LEVELS or slice_name is None or n <= 0:
            continue
        q = QUANTILE_LEVELS[source.aggregate]
        windows[(metric, cut, slice_name)] = quantile_rank_span(n, q, reach) if n > BOOTSTRAP_MAX_N else (1, n)
    return windows


def needs_second_pass(spec: Spec) -> bool:
    return any(source.aggregate in QUANTILE_LEVELS for source in stats_metrics(spec).values())
