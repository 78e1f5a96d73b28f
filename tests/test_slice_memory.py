"""What a paired per-example table keeps in memory while its slices are judged (gatekit.results.Samples,
gatekit.sources.aggregate, gatekit.sources.example_ids).

A slice fetches its values and id codes only when the evaluator asks. What it fetched is kept only for the
most recent slices, and a cut's slice order is made once for all metrics: a check that pairs every slice of
every metric must not end up holding a copy of every row once per cut and metric.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatekit import results
from gatekit.results import Results
from gatekit.sources.adapters.common import minimal_spec
from gatekit.sources.example_ids import IdSpace
from gatekit.sources.measure import table_results
from gatekit.sources.rows import read_table
from gatekit.sources.table import Table
from gatekit.spec.model import Spec

ROWS = 300_000
METRICS = {
    "acc": {"from": {"column": "correct", "aggregate": "rate"}},
    "score": {"from": {"column": "score", "aggregate": "mean"}},
    "lat": {"from": {"column": "latency", "aggregate": "p95"}},
}


def make_spec() -> Spec:
    data = minimal_spec().model_dump(mode="python", by_alias=True, exclude_defaults=True)
    table = {"slice_by": ["a", "b"], "slice_cross": [["a", "b"]], "id_column": "id", "drop_invalid": True}
    return Spec.model_validate({**data, "version": 1, "metrics": METRICS, "table": table})


def make_table(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    score = rng.random(ROWS)
    score[rng.random(ROWS) < 0.01] = np.nan  # bad cells on each side: the arms' slices differ in size
    return pa.table(
        {
            "id": pa.array([f"ex-{i}" for i in rng.permutation(ROWS)]),
            "a": pa.array(rng.choice(["x", "y", "z"], ROWS)),
            "b": pa.array(rng.choice(["p", "q"], ROWS)),
            "correct": pa.array(rng.random(ROWS) < 0.7),
            "score": pa.array(score),
            "latency": pa.array(rng.exponential(100.0, ROWS)),
        }
    )


def both_arms() -> tuple[Results, Results]:
    space = IdSpace()
    spec = make_spec()
    arms = [
        table_results(Table(f"{name}.parquet", make_table(seed), first_line=0), spec, id_space=space)
        for name, seed in (("candidate", 1), ("baseline", 2))
    ]
    return arms[0], arms[1]


def every_sample(arms: tuple[Results, Results]) -> list[results.Samples]:
    return [
        m.samples for arm in arms for slices in arm.metrics.values() for m in slices.values() if m.samples is not None
    ]


def test_fetching_every_slice_of_every_metric_keeps_only_the_recent_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kept: at most 1 MiB of fetched arrays (and the last four samples whatever their size), plus one slice
    # order per cut. Keeping everything fetched (values and codes of each row, once per cut and metric, in
    # both arms: 4 cuts x 3 metrics x 2 arms x 12 bytes x 300,000 rows) and an order per cut and metric
    # would hold about 90 MB.
    kept = getattr(results, "_Kept", None)  # absent from a gatekit that kept every fetched array
    if kept is not None:
        monkeypatch.setattr(kept, "KEPT_BYTES", 1 << 20)
    arms = both_arms()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for samples in every_sample(arms):
            assert len(samples.values) == samples.n
            assert samples.keys is not None
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert held < 25 * 2**20


def test_a_forgotten_slice_fetches_the_same_values_and_codes_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results._Kept, "KEPT_BYTES", 0)
    monkeypatch.setattr(results._Kept, "KEPT_ALWAYS", 1)
    samples = every_sample(both_arms())
    first = [(s.values.copy(), s.keys.codes.copy() if s.keys else None, s.ids) for s in samples[:40]]

    for s in samples[40:]:
        s.values  # noqa: B018 - fetching the others makes the first ones forget theirs
    again = [(s.values, s.keys.codes if s.keys else None, s.ids) for s in samples[:40]]

    for (values, codes, ids), (values_again, codes_again, ids_again) in zip(first, again, strict=True):
        assert np.array_equal(values, values_again, equal_nan=True)
        assert codes is not None
        assert codes_again is not None
        assert np.array_equal(codes, codes_again)
        assert ids is not None
        assert ids_again is not None
        assert np.array_equal(ids, ids_again)


def test_a_parquet_id_column_is_read_as_plain_text_not_dictionary_encoded(tmp_path: Path) -> None:
    # Each id is distinct: a dictionary would be a hash of every id, only to be undone.
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ["q1", "q2", "q3"], "task": ["a", "b", "a"]}), path)

    table = read_table(path, "parquet", ["id", "task"], distinct=["id"])

    assert table.data.schema.field("id").type == pa.string()
    assert pa.types.is_dictionary(table.data.schema.field("task").type)
