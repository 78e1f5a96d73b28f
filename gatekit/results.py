"""Results: what a checkpoint scored, per metric and per slice, and what it cost.

gatekit's own results format (YAML or JSON)::

    model: incident-bot-sft-v3
    metrics:
      format_pass:
        all: {value: 0.962, n: 1200}
        billing: 0.97            # a bare number is {value: 0.97}
    costs:
      train_gpu_hours: 310

A value may be NaN or infinite in the file (harnesses write them): it loads, and the evaluator reports it
as missing. Everything else malformed is a `ResultsError` with file, line and field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gatekit.spec.model import MetricDefinition, MetricKind

if TYPE_CHECKING:  # numpy stays off the import path of `gatekit validate` and `--version`
    import numpy as np
    import numpy.typing as npt

    from gatekit.stats import OrderStatistics


MAX_COUNT = 2**53
"""The largest example count a results file may state; any reader refuses more (`gatekit.sources.load`)."""


@dataclass(frozen=True)
class SampleSummary:
    """What most intervals need from the per-example values, computed once: the mean, its standard error
    (sample SD / sqrt(n); inf below two examples) and, when every value is 0 or 1, the event count."""

    mean: float
    stderr: float
    events: float | None


@dataclass(frozen=True)
class IdKeys:
    """Example ids as integer codes: within one `space` (an object the loader shares between the tables it
    compares), two ids are the same example exactly when their codes are equal. The codes say nothing about
    the ids' order, only which are equal, so pairing and counting unmatched ids is integer work."""

    codes: npt.NDArray[np.integer[Any]]
    space: object


class Samples:
    """The per-example values behind a measurement: what intervals and paired comparisons are computed from.

    `values` holds one float per example: 0.0/1.0 for a rate, the score for a mean, the latency for a
    quantile (a timed-out request is +inf: slowest, never dropped). `ids`, when known, are the example ids
    in the same order, unique within the slice; they pair candidate and baseline examples.

    A per-example table gives each slice its values on first use (`fetch`, with `has_ids` saying whether
    ids come with them) and its summary up front, so a gate that needs only the mean or the event count
    never copies a slice's rows. `is_sorted` says the values come in ascending order (ids in that order).
    A large quantile slice comes with `order_statistics`: the run of sorted values its bounds read, so that
    the whole slice is fetched and sorted only if something else asks for it.

    `ids` may also be a function that gives them on first use, and `keys` (an `IdKeys`, or a function that
    gives one) the same ids as integer codes that the other arm's samples share: pairing reads the codes, so
    text ids are built only for what prints them (the review queue).
    """

    __slots__ = (
        "__weakref__",
        "_fetch",
        "_fetch_ids",
        "_fetch_ids_at",
        "_fetch_keys",
        "_has_ids",
        "_ids",
        "_ids_fetched",
        "_is_sorted",
        "_keys",
        "_order",
        "_summary",
        "_values",
        "count_unmatched",
        "n",
        "origin",
    )

    def __init__(
        self,
        values: npt.NDArray[np.float64] | None = None,
        ids: npt.NDArray[Any] | Callable[[], npt.NDArray[Any]] | None = None,
        *,
        fetch: Callable[[], tuple[npt.NDArray[np.float64], npt.NDArray[Any] | None]] | None = None,
        n: int | None = None,
        summary: SampleSummary | None = None,
        is_sorted: bool = False,
        has_ids: bool = False,
        order_statistics: OrderStatistics | None = None,
        keys: IdKeys | Callable[[], IdKeys] | None = None,
        count_unmatched: Callable[[Samples], tuple[int, int] | None] | None = None,
        origin: object = None,
        ids_at: Callable[[npt.NDArray[np.intp]], npt.NDArray[Any]] | None = None,
    ) -> None:
        if (values is None) == (fetch is None):
            raise ValueError("give the values or a function that fetches them, not both")
        if values is None and n is None:
            raise ValueError("fetched samples need their count up front")
        self._values = values
        self._fetch_ids = ids if callable(ids) else None
        self._fetch_ids_at = ids_at
        self._ids = None if callable(ids) else ids
        self._ids_fetched = fetch is not None and ids is None
        """The ids come with the fetched values (and are forgotten with them)."""
        self._has_ids = ids is not None or (fetch is not None and has_ids)
        self._fetch_keys = keys if callable(keys) else None
        self._keys = None if callable(keys) else keys
        self._fetch = fetch
        count = len(values) if values is not None else n
        assert count is not None
        self.n = count
        self._summary = summary
        self._is_sorted = is_sorted
        if order_statistics is not None and order_statistics.n != count:
            raise ValueError("order statistics of a sample of another size")
        self._order = order_statistics
        self.count_unmatched = count_unmatched
        """How many of these examples' ids the other arm's samples lack, and the other way round, as
        `decide.pairing.unmatched` counts them from both arms' keys, or None where it cannot tell: the loader
        counts every slice of a cut at once (one pass over the rows, not one per slice)."""
        self.origin = origin
        """Where the loader made these samples (opaque here; `count_unmatched` of the other arm reads it)."""

    def _load(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any] | None]:
        values, ids = self._values, self._ids
        if values is None:
            assert self._fetch is not None
            values, fetched_ids = self._fetch()
            self._values = values
            if self._ids_fetched:
                self._ids = ids = fetched_ids
            _KEPT.hold(self)
        return values, ids

    @property
    def values(self) -> npt.NDArray[np.float64]:
        return self._load()[0]

    @property
    def ids(self) -> npt.NDArray[Any] | None:
        if not self._has_ids:
            return None
        if self._fetch_ids is None:
            return self._load()[1]
        ids = self._ids
        if ids is None:
            self._ids = ids = self._fetch_ids()
            _KEPT.hold(self)
        return ids

    def ids_at(self, positions: npt.NDArray[np.intp]) -> npt.NDArray[Any] | None:
        """`ids[positions]`, without building every id of the sample where the loader can give a few: the review
        queue prints the ids of a few examples of slices of millions (whose text ids would take 160 MB)."""
        if not self._has_ids:
            return None
        if self._fetch_ids_at is not None and self._ids is None:
            return self._fetch_ids_at(positions)
        ids = self.ids
        return None if ids is None else ids[positions]

    @property
    def has_ids(self) -> bool:
        """Whether the examples carry ids, told without fetching them."""
        return self._has_ids

    @property
    def keys(self) -> IdKeys | None:
        """The ids as integer codes shared with the other arm (`IdKeys`), when the loader coded them."""
        keys = self._keys
        if keys is None and self._fetch_keys is not None:
            self._keys = keys = self._fetch_keys()
            _KEPT.hold(self)
        return keys

    def _held_bytes(self) -> int:
        """The bytes of what this sample fetched and keeps (and would fetch again)."""
        held = 0
        if self._fetch is not None and self._values is not None:
            held += self._values.nbytes
        if (self._fetch_ids is not None or self._ids_fetched) and self._ids is not None:
            held += getattr(self._ids, "nbytes", 0)
        if self._fetch_keys is not None and self._keys is not None:
            held += self._keys.codes.nbytes
        return held

    def _forget(self) -> None:
        """Drop what was fetched; it is fetched again when next asked for."""
        if self._fetch is not None:
            self._values = None
            if self._ids_fetched:
                self._ids = None
        if self._fetch_ids is not None:
            self._ids = None
        if self._fetch_keys is not None:
            self._keys = None

    def summary(self) -> SampleSummary:
        if self._summary is None:
            from gatekit.stats import sample_mean_stderr

            values = self.values
            mean, stderr = sample_mean_stderr(values) if len(values) else (math.nan, math.inf)
            binary = bool(((values == 0) | (values == 1)).all())
            self._summary = SampleSummary(mean, stderr, float(values.sum()) if binary else None)
        return self._summary

    def order_statistics(self) -> OrderStatistics:
        """The values in ascending order (+inf last), sorted once; possibly only the run of ranks that a
        quantile's bounds read (`OrderStatistics.at` tells a rank outside it)."""
        if self._order is None:
            import numpy as np

            from gatekit.stats import OrderStatistics

            values = self.values
            self._order = OrderStatistics.of(values if self._is_sorted else np.sort(values))
        return self._order


class _Kept:
    """The samples whose fetched values, ids and keys are kept, most recently fetched last.

    A per-example table's slices fetch their rows only when asked (`Samples(fetch=...)`), and a sample keeps
    what it fetched: a paired comparison reads the values and codes of both arms, then reads them again. A
    check that paired every slice of every metric would keep a copy of each for all its length: every row
    once per cut and metric, twice over (5M-row paired-cross: 1 GB). So what was fetched is kept only for
    the most recent samples, while their arrays fit in `KEPT_BYTES` (the last `KEPT_ALWAYS` are kept
    whatever their size); an older one forgets its arrays and fetches them again if asked."""

    KEPT_BYTES = 64 << 20
    KEPT_ALWAYS = 4

    def __init__(self) -> None:
        import threading
        import weakref
        from collections import OrderedDict

        # Reentrant: a sample collected while the lock is held calls `_drop` on the same thread.
        self._lock = threading.RLock()
        self._held: OrderedDict[int, tuple[weakref.ref[Samples], int]] = OrderedDict()
        self._bytes = 0
        self._ref = weakref.ref

    def hold(self, samples: Samples) -> None:
        key = id(samples)
        with self._lock:
            old = self._held.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            held = samples._held_bytes()
            self._held[key] = (self._ref(samples, lambda _: self._drop(key)), held)
            self._bytes += held
            while self._bytes > self.KEPT_BYTES and len(self._held) > self.KEPT_ALWAYS:
                _, (ref, size) = self._held.popitem(last=False)
                self._bytes -= size
                oldest = ref()
                if oldest is not None:
                    oldest._forget()

    def _drop(self, key: int) -> None:
        """A sample was collected: its arrays went with it."""
        with self._lock:
            entry = self._held.pop(key, None)
            if entry is not None:
                self._bytes -= entry[1]

    def held_bytes(self) -> int:
        """The bytes kept now (for tests)."""
        with self._lock:
            return self._bytes


_KEPT = _Kept()


@dataclass(frozen=True)
class Measurement:
    """One metric on one slice. `value` may be non-finite; `n`, `stderr` and `samples` are optional."""

    value: float
    n: int | None = None
    stderr: float | None = None
    samples: Samples | None = None
    problem: str | None = None
    """Why the value cannot be gated although the file has it (bad rows, a partial run, a failed log);
    the evaluator reports such a measurement as missing with this reason."""


def example_id(value: Any) -> str | int:
    """An id as JSON holds it: an integer stays an integer, anything else becomes text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


@dataclass(frozen=True)
class ExampleColumns:
    """Columns of a per-example table kept for the review queue, looked up by example id.

    `lookup(ids)` gives, for each id, the text of each column (None for an empty cell or an unknown id).
    """

    columns: tuple[str, ...]
    lookup: Callable[[Sequence[Any]], list[dict[str, str | None]]]


@dataclass(frozen=True)
class Results:
    """The results of one checkpoint, as the evaluator sees them."""

    source: str
    model: str
    metrics: Mapping[str, Mapping[str, Measurement]]
    costs: Mapping[str, float] = field(default_factory=dict)
    created: dt.datetime | None = None
    gate_digest: str | None = None
    notes: tuple[str, ...] = ()
    """Warnings from loading that do not stop a check (rows dropped under `drop_invalid`, unpaired ids)."""
    examples: ExampleColumns | None = None
    """The `review.columns` of a per-example table, by example id."""
    flaky: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """With `table.repeats`: slice -> (flaky examples, examples), counted before any `flaky: exclude`."""
    definitions: Mapping[str, MetricDefinition] = field(default_factory=dict)
    """Built-in metric definitions of the harness adapter that read the file (promptfoo's `pass_rate` is a
    rate): the evaluator reads them as if the spec had them, unless the spec defines the metric itself."""

    def measurement(self, metric: str, slice_name: str) -> Measurement | None:
        return self.metrics.get(metric, {}).get(slice_name)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MeasurementRecord(_Strict):
    """A slice's entry in a results file: a number, or {value, n, stderr}."""

    value: Annotated[float, Field(allow_inf_nan=True)]
    """The metric's value on this slice. NaN is accepted and is treated as missing."""
    n: Annotated[int, Field(ge=0, le=MAX_COUNT)] | None = None
    """How many examples the value was computed on (at most 2**53: no eval has more, and counts above it
    are not exact as floats)."""
    stderr: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    """Standard error of the value, if the harness computed one."""

    @model_validator(mode="before")
    @classmethod
    def _bare_number(cls, data: Any) -> Any:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"value": float(data)}
        return data


class ResultsRecord(_Strict):
    """A whole results file in gatekit's own format."""

    model: Annotated[str, Field(min_length=1)]
    """The checkpoint id these results belong to."""
    metrics: dict[str, dict[str, MeasurementRecord]]
    """metric name -> slice name -> measurement. Slice `all` is the aggregate."""
    costs: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(default_factory=dict)
    """What the run cost, by item (train_gpu_hours, train_usd, ...)."""
    created: Annotated[dt.datetime, Field(strict=False)] | None = None
    """When these results were produced (ISO 8601)."""
    gate_digest: str | None = None
    """The digest of the gate spec the results were produced under (see `gatekit lock`)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Free-form provenance; gatekit does not interpret it."""

    @field_validator("metrics")
    @classmethod
    def _ranges_fit_kinds(
        cls, metrics: dict[str, dict[str, MeasurementRecord]], info: ValidationInfo
    ) -> dict[str, dict[str, MeasurementRecord]]:
        kinds: Mapping[str, MetricKind | None] = (info.context or {}).get("metric_kinds", {})
        for metric, slices in metrics.items():
            kind = kinds.get(metric)
            for slice_name, record in slices.items():
                problem = _out_of_range(kind, record.value)
                if problem:
                    raise PydanticCustomError(
                        "value_out_of_range",
                        "{message}",
                        {"message": f"{metric} is a {kind}: {problem}", "gatekit_path": (metric, slice_name, "value")},
                    )
        return metrics

    def to_results(self, source: str) -> Results:
        return Results(
            source=source,
            model=self.model,
            metrics={
                metric: {name: Measurement(r.value, r.n, r.stderr) for name, r in slices.items()}
                for metric, slices in self.metrics.items()
            },
            costs=dict(self.costs),
            created=self.created,
            gate_digest=self.gate_digest,
        )


def _out_of_range(kind: MetricKind | None, value: float) -> str | None:
    if not math.isfinite(value):
        return None  # reported as missing by the evaluator, with the reason
    if kind == "proportion" and not 0 <= value <= 1:
        return f"{value} is outside [0, 1]"
    if kind == "count" and value < 0:
        return f"{value} is negative"
    return None
