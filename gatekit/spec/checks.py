"""What `gatekit validate` can know about a spec before any results exist, beyond what the models check.

The models (`gatekit.spec.model`) reject a spec that cannot be read. These checks reject a spec that reads
well but cannot mean what it says: a gate on a metric the spec never declares, a hypothesis about a metric no
gate or definition names, a slice whose column the table is not sliced by, a bound that can never fail on its
metric's kind. Each finding is a `Diagnostic` at the line of the field it is about.

`check` does not run these: it has the results, and a name that is not in them is already inconclusive there.
This module imports no numpy or pyarrow (`validate` must start fast); `table_column_findings` takes the
column names a caller has read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from gatekit.errors import Diagnostic
from gatekit.names import did_you_mean
from gatekit.spec.model import AGGREGATE_SLICE, EVERY_SLICE, Gate, Spec
from gatekit.spec.yamlio import Document, format_path

_Path = tuple[str | int, ...]


@dataclass(frozen=True)
class _Finding:
    path: _Path
    message: str


def spec_findings(spec: Spec, document: Document) -> list[Diagnostic]:
    """Every finding of the checks below, located in `document` (the file `spec` was read from)."""
    findings = [
        *_undeclared_gate_metrics(spec),
        *_unknown_improves(spec, document),
        *_unsliced_slice_names(spec),
        *_bounds_that_cannot_fail(spec),
    ]
    return _located(findings, document)


def table_column_findings(spec: Spec, document: Document, columns: Sequence[str], source: str) -> list[Diagnostic]:
    """The derived metrics' columns (`metrics.M.from.column`, `...where.column`) and the `table` columns that
    the results table `source`, whose columns are `columns`, does not have."""
    present = set(columns)
    findings: list[_Finding] = []

    def absent(path: _Path, column: str | None) -> None:
        if column is not None and column not in present:
            findings.append(
                _Finding(
                    path,
                    f"column {column!r} is not in {source}{did_you_mean(column, columns)}; "
                    f"its columns: {', '.join(columns)}",
                )
            )

    for name, definition in spec.metrics.items():
        if definition.from_ is not None:
            absent(("metrics", name, "from", "column"), definition.from_.column)
            if definition.from_.where is not None:
                absent(("metrics", name, "from", "where", "column"), definition.from_.where.column)
    for i, column in enumerate(spec.table.slice_by):
        absent(("table", "slice_by", i), column)
    for i, pair in enumerate(spec.table.slice_cross):
        for j, column in enumerate(pair):
            absent(("table", "slice_cross", i, j), column)
    absent(("table", "id_column"), spec.table.id_column)
    return _located(findings, document)


def _located(findings: Iterable[_Finding], document: Document) -> list[Diagnostic]:
    locator = document.locator()
    out = []
    for finding in findings:
        found, _rest = locator.resolve(finding.path)
        line, column = locator.mark(found)
        out.append(Diagnostic(finding.message, document.path, line, column, format_path(finding.path)))
    return out


def _undeclared_gate_metrics(spec: Spec) -> Iterator[_Finding]:
    """With a `metrics:` section, a gate's metric must be one of it: a typo there would otherwise be found
    only when the check reports the metric missing from the results."""
    if not spec.metrics:
        return
    for i, gate in enumerate(spec.gates):
        if gate.metric not in spec.metrics:
            yield _Finding(
                ("gates", i, "metric"),
                f"metric {gate.metric!r} is not declared in `metrics:`{did_you_mean(gate.metric, spec.metrics)}; "
                f"declared: {', '.join(spec.metrics)}",
            )


def _unknown_improves(spec: Spec, document: Document) -> Iterator[_Finding]:
    """The hypothesis must name metrics the spec knows: declared ones, or ones a gate holds."""
    known = list(dict.fromkeys([*spec.metrics, *(g.metric for g in spec.gates)]))
    written_as_list = isinstance(document.data.get("hypothesis", {}).get("improves"), list)
    for j, metric in enumerate(spec.hypothesis.improves):
        if metric not in known:
            path: _Path = ("hypothesis", "improves", j) if written_as_list else ("hypothesis", "improves")
            yield _Finding(
                path,
                f"the hypothesis improves {metric!r}, which no gate or metric definition names"
                f"{did_you_mean(metric, known)}; known metrics: {', '.join(known)}",
            )


def _unsliced_slice_names(spec: Spec) -> Iterator[_Finding]:
    """A slice `column=value` of a per-example table exists only when `column` is in `table.slice_by` (or
    `a=x,b=y` when [a, b] is in `table.slice_cross`). Checked when the spec slices a table at all; results in
    gatekit's own format name their slices freely."""
    options = spec.table
    if not options.slice_by and not options.slice_cross:
        return
    for i, gate in enumerate(spec.gates):
        for j, name in enumerate(gate.slices):
            if name in (AGGREGATE_SLICE, EVERY_SLICE) or "=" not in name:
                continue
            if _names_a_cut(name, options.slice_by, options.slice_cross):
                continue
            key = name.split("=", 1)[0]
            crosses = [f"{a}=…,{b}=…" for a, b in options.slice_cross]
            yield _Finding(
                ("gates", i, "slices", j),
                f"slice {name!r}: {key!r} is not a `table.slice_by` column{did_you_mean(key, options.slice_by)}; "
                f"slices are named {', '.join([*(f'{c}=…' for c in options.slice_by), *crosses])}",
            )


def _names_a_cut(name: str, slice_by: Sequence[str], slice_cross: Sequence[tuple[str, str]]) -> bool:
    # Values may themselves hold '=' or ',', so a name is matched by its column prefixes, never split apart.
    if any(name.startswith(f"{column}=") for column in slice_by):
        return True
    return any(name.startswith(f"{a}=") and f",{b}=" in name[len(a) + 1 :] for a, b in slice_cross)


def _bounds_that_cannot_fail(spec: Spec) -> Iterator[_Finding]:
    """A bound every value of its metric's kind satisfies is a gate that only looks like one.

    A proportion lies in [0, 1], so a difference of two lies in [-1, 1]: `max_increase`/`max_decrease` of 1 or
    more, `min` of 0 or less and `max` of 1 or more always pass. A proportion or a count is never negative, so
    `max_decrease_pct: 100` (observed >= 0) always passes, as does a `min` of 0 or less on a count."""
    for i, gate in enumerate(spec.gates):
        kind = spec.metric_definition(gate.metric).kind
        for bound, value in gate.bounds():
            why = _why_it_cannot_fail(kind, bound, value)
            if why is not None:
                yield _Finding(("gates", i, bound), f"{_bound(gate, bound, value)} can never fail: {why}")


def _why_it_cannot_fail(kind: str | None, bound: str, value: float) -> str | None:
    if kind == "proportion":
        if bound in ("max_increase", "max_decrease") and value >= 1:
            return "a proportion moves by at most 1 (it lies in 0 to 1); for 5 percentage points write 0.05"
        if bound == "min" and value <= 0:
            return "a proportion is never below 0"
        if bound == "max" and value >= 1:
            return "a proportion is never above 1"
    if kind in ("proportion", "count"):
        if bound == "max_decrease_pct" and value >= 100:
            return f"a {kind} is never negative, so it cannot fall by more than 100%"
        if kind == "count" and bound == "min" and value <= 0:
            return "a count is never below 0"
    return None


def _bound(gate: Gate, bound: str, value: float) -> str:
    return f"{bound} {value:g} on {gate.metric!r}"
