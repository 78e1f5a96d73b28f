"""Unmatched ids counted for every slice of a cut at once count what `decide.pairing.unmatched` counts for each
pair of same-named slices, and a check's verdict does not depend on which of the two counts it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.api import run_check
from gatekit.decide.pairing import unmatched
from gatekit.sources import slice_rows
from gatekit.sources import unmatched as unmatched_module
from gatekit.sources.unmatched import PartnerRows, _slice_keys, partner_rows, partners, unmatched_by_slice
from tests.factories import HYPOTHESIS

NAMES = ["a", "b", "c", "d"]


@st.composite
def tables(draw: st.DrawFn, names: list[str]) -> tuple[Any, ...]:
    """Unique non-negative codes, a slice index per row (len(names): no slice) or None, a valid mask or None."""
    n = draw(st.integers(0, 40))
    codes = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n, unique=True)), dtype=np.int64)
    slices = draw(st.none() | st.just(np.array(draw(st.lists(st.integers(0, len(names)), min_size=n, max_size=n)))))
    valid = draw(st.none() | st.just(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)))
    return codes, None if slices is None else slices.astype(np.uint8 if len(names) < 255 else np.uint16), names, valid


def _slice_codes(table: tuple[Any, ...], name: str) -> np.ndarray:
    codes, slices, names, valid = table
    rows = np.ones(len(codes), dtype=bool) if valid is None else valid.copy()
    if slices is not None:
        rows &= slices == names.index(name)
    return codes[rows]


@pytest.mark.parametrize("few", [0, 16], ids=["bincount", "key-by-key"])
@settings(max_examples=300, deadline=None)
@given(data=st.data(), their_names=st.sampled_from([NAMES, ["c", "a", "e"], ["b"]]))
def test_every_slice_counts_what_the_slice_by_slice_count_counts(
    few: int, data: st.DataObject, their_names: list[str]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(unmatched_module, "_FEW", few)
        _check_counts(data, NAMES, their_names)


@pytest.mark.parametrize("slices", [17, 127, 128, 300])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_many_slices_count_what_the_slice_by_slice_count_counts(slices: int, data: st.DataObject) -> None:
    # Past 16 slices bincount counts them; past 127 the per-row slice keys are two bytes wide.
    names = [f"s{i}" for i in range(slices)]
    _check_counts(data, names, names[::-1][: slices - 3])


def _check_counts(data: st.DataObject, my_names: list[str], their_names: list[str]) -> None:
    mine = data.draw(tables(my_names))
    theirs = data.draw(tables(their_names))
    if (mine[1] is None) != (theirs[1] is None):
        return  # `all` is compared with `all` only
    if mine[1] is None:
        mine, theirs = (*mine[:2], ["all"], mine[3]), (*theirs[:2], ["all"], theirs[3])

    mine_partners, their_partners = partners(mine[0], theirs[0])
    only_mine, only_theirs = unmatched_by_slice((mine_partners, *mine[1:]), (their_partners, *theirs[1:]))

    for name in set(mine[2]) & set(theirs[2]):
        expected = unmatched(_slice_codes(mine, name), _slice_codes(theirs, name))
        assert (int(only_mine[mine[2].index(name)]), int(only_theirs[theirs[2].index(name)])) == expected


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_partners_of_codes_that_never_repeat_are_found_from_one_side(data: st.DataObject) -> None:
    # No code repeats in either table: their partners are mine read the other way, set in one pass.
    mine, theirs = data.draw(tables(NAMES))[0], data.draw(tables(NAMES))[0]

    found, expected = partners(mine, theirs, distinct=True), partners(mine, theirs)

    assert np.array_equal(found[0], expected[0])
    assert np.array_equal(found[1], expected[1])
    assert found[1].dtype == expected[1].dtype
    assert np.array_equal(partner_rows(mine, theirs), expected[0])


@st.composite
def their_reads(draw: st.DrawFn) -> tuple[Any, ...]:
    """Their table: a permutation of partners (with -1: no partner) for mine, and the (cut, valid) pairs its
    slices read: cuts of one or two bytes a row (or `all`), valid masks (or all rows) enough to need more
    than one byte of flags and more than one word a row."""
    size = draw(st.integers(1, 30))
    mine = draw(st.integers(0, 30))
    partner = np.array(draw(st.lists(st.integers(-1, size - 1), min_size=mine, max_size=mine)), dtype=np.int32)
    cuts = []
    for slices in draw(st.lists(st.sampled_from([3, 200, 300]), min_size=0, max_size=9)):
        names = [f"s{i}" for i in range(slices)]
        kind = np.uint8 if slices < 255 else np.uint16
        codes = np.array(draw(st.lists(st.integers(0, slices), min_size=size, max_size=size)), dtype=kind)
        cuts.append((codes, names))
    masks = [
        np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
        for _ in range(draw(st.integers(0, 10)))
    ]
    reads = [(codes, names, valid) for codes, names in [*cuts, (None, ["all"])] for valid in [*masks, None]]
    return partner, size, reads


@pytest.mark.parametrize("block", [3, 1 << 20], ids=["blocks", "one-block"])
@settings(max_examples=200, deadline=None)
@given(their=their_reads(), renamed=st.booleans())
def test_their_rows_gathered_at_once_are_what_each_cut_and_metric_gathers(
    block: int, their: tuple[Any, ...], renamed: bool
) -> None:
    partner, size, reads = their
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(unmatched_module, "_GATHER_BLOCK", block)  # every block of rows filled
        seen = PartnerRows(partner, size, [(codes, valid) for codes, _, valid in reads])

    for codes, their_names, valid in reads:
        names = their_names[::-1][:-1] if renamed else their_names  # my names: other slices, in another order
        found = seen.keys(codes, valid, their_names, names)
        # Their table as `unmatched_by_slice` takes it (its own partners matter only for their length).
        expected = _slice_keys((np.zeros(size, dtype=np.int32), codes, their_names, valid), names)[partner]
        assert found is not None
        assert found.dtype == expected.dtype
        assert np.array_equal(found, expected)


def test_rows_their_slices_did_not_read_are_not_served() -> None:
    codes, valid = np.array([0, 1], dtype=np.uint8), np.array([True, False])
    seen = PartnerRows(np.array([1, 0], dtype=np.int32), 2, [(codes, None)])

    assert seen.keys(codes.copy(), None, ["a", "b"], ["a", "b"]) is None
    assert seen.keys(codes, valid, ["a", "b"], ["a", "b"]) is None
    assert seen.keys(codes, None, ["a", "b"], ["a", "b"]) is not None


def _paired_files(tmp_path: Path) -> Path:
    """A paired table pair with bad cells dropped on each side, so that every slice's two id sets differ."""
    rng = np.random.default_rng(7)
    n = 3_000
    for name, shift in (("candidate", 0.02), ("baseline", 0.0)):
        order = rng.permutation(n)
        correct = rng.random(n) < 0.7 + shift
        score = rng.random(n)
        score[rng.random(n) < 0.05] = np.nan  # dropped: a different 5% on each side
        table = pa.table(
            {
                "id": [f"e{i}" for i in order],
                "task": [f"t{i % 4}" for i in order],
                "lang": [f"l{i % 3}" for i in order],
                "correct": pa.array(np.where(rng.random(n) < 0.03, None, correct).tolist(), type=pa.bool_()),
                "score": score,
            }
        )
        pq.write_table(table, tmp_path / f"{name}.parquet")
    return _write_gate(
        tmp_path,
        metrics={
            "accuracy": {"from": {"column": "correct", "aggregate": "rate"}, "higher_is_better": True},
            "score": {"from": {"column": "score", "aggregate": "mean"}, "higher_is_better": True},
        },
        table={
            "slice_by": ["task", "lang"],
            "slice_cross": [["task", "lang"]],
            "id_column": "id",
            "drop_invalid": True,
        },
        gates=[
            {"id": "accuracy-delta", "metric": "accuracy", "slices": ["*"], "max_decrease": 0.05},
            {"id": "score-delta", "metric": "score", "slices": ["*"], "max_decrease_pct": 5},
        ],
    )


def _write_gate(tmp_path: Path, **parts: Any) -> Path:
    """A gate over `candidate.parquet` and `baseline.parquet` in tmp_path, with these metrics, table and gates."""
    spec = {
        "version": 1,
        "name": "paired",
        "hypothesis": HYPOTHESIS,
        "candidate": "candidate.parquet",
        "baseline": "baseline.parquet",
        "rollback": {},
        **parts,
    }
    path = tmp_path / "gate.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_a_checks_verdict_is_the_same_whichever_way_it_counts_unmatched_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _paired_files(tmp_path)
    counted: list[tuple[int, int] | None] = []
    by_cut = slice_rows.SliceRows.count_unmatched

    def spy(self: slice_rows.SliceRows, g: int, other: Any) -> tuple[int, int] | None:
        counted.append(by_cut(self, g, other))
        return counted[-1]

    monkeypatch.setattr(slice_rows.SliceRows, "count_unmatched", spy)
    gathered: list[int] = []
    made = PartnerRows.__init__
    served = PartnerRows.keys

    def gather(self: PartnerRows, *args: Any) -> None:
        gathered.append(1)
        made(self, *args)

    def keys(self: PartnerRows, *args: Any) -> Any:
        found = served(self, *args)
        assert found is not None  # every cut and metric counted is among those gathered
        return found

    monkeypatch.setattr(PartnerRows, "__init__", gather)
    monkeypatch.setattr(PartnerRows, "keys", keys)
    fast = run_check(gate, record=False).verdict.model_dump_json()
    monkeypatch.setattr(slice_rows.SliceRows, "count_unmatched", lambda self, g, other: None)
    slow = run_check(gate, record=False).verdict.model_dump_json()

    assert counted  # the unpaired notes were counted by the cut
    assert all(c is not None for c in counted)
    assert gathered == [1]  # one gather of the baseline's rows for every cut and metric
    assert "candidate ids not in the baseline" in fast
    assert fast == slow


def test_the_review_queue_builds_the_ids_of_the_examples_it_shows_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pairing by the loader's codes, a queue of slices of millions used to build every text id of both tables
    # (160 MB each at 5M rows) to print ten of them. The queue must be what the full ids give.
    from gatekit.sources import example_ids

    gate = _paired_files(tmp_path)
    spec = json.loads(gate.read_text())
    spec["gates"] = [{"id": "accuracy-delta", "metric": "accuracy", "slices": ["*"], "max_decrease": 0.0}]
    gate.write_text(json.dumps(spec), encoding="utf-8")
    built: list[int] = []
    every_id = example_ids.ExampleIds.values

    def counted(self: Any) -> Any:
        built.append(1)
        return every_id(self)

    monkeypatch.setattr(example_ids.ExampleIds, "values", counted)
    few = run_check(gate, record=False).verdict
    assert not built
    monkeypatch.setattr(example_ids.ExampleIds, "values_at", lambda self, rows: every_id(self)[rows])
    every = run_check(gate, record=False).verdict

    assert sum(len(r.examples) for r in few.review) > 0
    assert few.model_dump_json() == every.model_dump_json()


def _two_filter_files(tmp_path: Path) -> Path:
    """A harness samples table: each example on two rows, one per filter, and a metric per filter. The
    baseline lacks three examples' strict rows, so the strict comparison is unpaired and its note counts."""
    rng = np.random.default_rng(3)
    n = 200
    for name, missing in (("candidate", set()), ("baseline", {5, 17, 40})):
        ids, filters, correct = [], [], []
        for i in range(n):
            for f in ("strict", "flexible"):
                if f == "strict" and i in missing:
                    continue
                ids.append(f"e{i}")
                filters.append(f)
                correct.append(bool(rng.random() < 0.7))
        pq.write_table(pa.table({"id": ids, "filter": filters, "correct": correct}), tmp_path / f"{name}.parquet")
    return _write_gate(
        tmp_path,
        metrics={
            "strict": {
                "from": {"column": "correct", "aggregate": "rate", "where": {"column": "filter", "equals": "strict"}},
                "higher_is_better": True,
            },
            "flexible": {
                "from": {"column": "correct", "aggregate": "rate", "where": {"column": "filter", "equals": "flexible"}},
                "higher_is_better": True,
            },
        },
        table={"id_column": "id"},
        gates=[
            {"id": "strict-delta", "metric": "strict", "slices": ["all"], "max_decrease": 0.5},
            {"id": "flexible-delta", "metric": "flexible", "slices": ["all"], "max_decrease": 0.5},
        ],
    )


def test_unmatched_ids_of_a_filtered_metric_are_counted_as_the_slice_ids_count_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _two_filter_files(tmp_path)
    fast = run_check(gate, record=False).verdict.model_dump_json()
    monkeypatch.setattr(slice_rows.SliceRows, "count_unmatched", lambda self, g, other: None)
    slow = run_check(gate, record=False).verdict.model_dump_json()

    assert "unpaired" in slow
    assert fast == slow
