"""Example ids coded as integers shared by a candidate and a baseline table (gatekit.sources.example_ids).

Pairing and the unpaired note read the codes instead of the ids; every answer must be the one the ids give:
checked against the text path (the same tables loaded without a shared space) on random tables with ids in
one arm only, rows dropped on one side, filtered metrics, text and integer ids, and whole checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.api import check
from gatekit.decide.pairing import paired as _paired
from gatekit.decide.pairing import unpaired_note as _unpaired_note
from gatekit.errors import ResultsError
from gatekit.report import RenderOptions, render
from gatekit.results import Results
from gatekit.sources.adapters.common import minimal_spec
from gatekit.sources.example_ids import ExampleIds, IdSpace
from gatekit.sources.measure import table_results
from gatekit.sources.rows import rows_to_table
from gatekit.spec.model import Spec
from tests.conftest import ROOT

METRICS = {
    "acc": {"from": {"column": "correct", "aggregate": "rate"}},
    "score": {"from": {"column": "score", "aggregate": "mean"}},
    "p90": {"from": {"column": "score", "aggregate": "p90"}},
    "acc_a": {"from": {"column": "correct", "aggregate": "rate", "where": {"column": "kind", "equals": "a"}}},
}


def make_spec() -> Spec:
    data = minimal_spec().model_dump(mode="python", by_alias=True, exclude_defaults=True)
    table = {"slice_by": ["kind", "lang"], "slice_cross": [["kind", "lang"]], "drop_invalid": True}
    return Spec.model_validate({**data, "version": 1, "metrics": METRICS, "table": table})


def measure(rows: list[dict[str, Any]], name: str, space: IdSpace | None) -> Results:
    return table_results(rows_to_table(rows, name, first_line=1), make_spec(), id_space=space)


def both(cand: list[dict[str, Any]], base: list[dict[str, Any]], *, coded: bool) -> tuple[Results, Results]:
    space = IdSpace() if coded else None
    return measure(cand, "candidate.jsonl", space), measure(base, "baseline.jsonl", space)


def pairing(cand: Results, base: Results) -> list[tuple[str, str, str, Any]]:
    """Per metric and slice both arms have: the unpaired note and the paired values, as plain lists."""
    out = []
    for metric, slices in cand.metrics.items():
        for label, c in slices.items():
            b = base.metrics[metric].get(label)
            if b is None:
                continue
            paired = _paired(c, b)
            listed = None if paired is None else (paired[0].tolist(), paired[1].tolist())
            out.append((metric, label, _unpaired_note(c, b), listed))
    return out


def rows_of(ids: list[Any], cells: list[tuple[bool | None, float | None, str, str]]) -> list[dict[str, Any]]:
    return [
        {"id": i, "correct": c, "score": s, "kind": k, "lang": g} for i, (c, s, k, g) in zip(ids, cells, strict=True)
    ]


_cell = st.tuples(
    st.one_of(st.booleans(), st.none()),  # a null correctness is dropped (drop_invalid) on that side only
    st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.none()),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["en", "de"]),
)


@st.composite
def _arms(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pool = draw(st.sampled_from(["text", "integer"]))
    universe = [f"q{i}" for i in range(40)] if pool == "text" else list(range(-5, 35))
    shared = draw(st.integers(0, 20))
    c_only, b_only = draw(st.integers(0, 8)), draw(st.integers(0, 8))
    order = draw(st.permutations(range(len(universe))))
    c_ids = [universe[i] for i in order[: shared + c_only]]
    b_ids = [universe[i] for i in [*order[:shared], *order[shared + c_only : shared + c_only + b_only]]]
    b_ids = draw(st.permutations(b_ids))
    c_cells = draw(st.lists(_cell, min_size=len(c_ids), max_size=len(c_ids)))
    b_cells = draw(st.lists(_cell, min_size=len(b_ids), max_size=len(b_ids)))
    if not c_ids or not b_ids:  # an id outside the universe, in both: neither table is empty
        extra = "q-both" if pool == "text" else 1000
        c_ids, c_cells = [*c_ids, extra], [*c_cells, (True, 1.0, "a", "en")]
        b_ids, b_cells = [*b_ids, extra], [*b_cells, (True, 1.0, "a", "en")]
    return rows_of(c_ids, c_cells), rows_of(list(b_ids), b_cells)


@settings(max_examples=150, deadline=None)
@given(arms=_arms())
def test_coded_ids_pair_and_count_unmatched_ids_as_the_ids_themselves(
    arms: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    cand_rows, base_rows = arms
    coded = both(cand_rows, base_rows, coded=True)
    plain = both(cand_rows, base_rows, coded=False)

    assert pairing(*coded) == pairing(*plain)
    keys = coded[0].metrics["acc"]["all"].samples.keys  # type: ignore[union-attr]
    assert keys is not None  # the coded path was taken
    assert plain[0].metrics["acc"]["all"].samples.keys is None  # type: ignore[union-attr]


def _cells(n: int) -> list[tuple[bool | None, float | None, str, str]]:
    return [(i % 3 != 0, i / n, "ab"[i % 2], "en") for i in range(n)]


def test_ids_equal_as_text_but_of_another_type_are_not_coded_together() -> None:
    # 7 and "7" print alike; the two tables keep comparing their ids themselves, as without codes.
    cand = rows_of(list(range(10)), _cells(10))
    base = rows_of([str(i) for i in range(10)], _cells(10))

    coded, plain = both(cand, base, coded=True), both(cand, base, coded=False)

    assert coded[1].metrics["acc"]["all"].samples.keys is None  # type: ignore[union-attr]
    assert pairing(*coded) == pairing(*plain)


def test_ids_in_one_arm_only_are_counted_per_slice() -> None:
    cand = rows_of(["x", "y", "z", "w"], [(True, 1.0, "a", "en")] * 4)
    base = rows_of(["y", "x", "v"], [(True, 1.0, "a", "en")] * 3)

    c, b = both(cand, base, coded=True)

    assert _unpaired_note(c.metrics["acc"]["kind=a"], b.metrics["acc"]["kind=a"]) == (
        " (unpaired: the example ids differ; 2 candidate ids not in the baseline, 1 baseline ids not in the candidate)"
    )


def test_the_same_ids_in_another_order_pair_each_example_with_its_own() -> None:
    cand = rows_of(["x", "y", "z"], [(True, 0.1, "a", "en"), (True, 0.2, "a", "en"), (True, 0.3, "a", "en")])
    base = rows_of(["z", "x", "y"], [(True, 3.0, "a", "en"), (True, 1.0, "a", "en"), (True, 2.0, "a", "en")])

    c, b = both(cand, base, coded=True)
    paired = _paired(c.metrics["score"]["all"], b.metrics["score"]["all"])

    assert paired is not None
    assert paired[0].tolist() == [0.1, 0.2, 0.3]
    assert paired[1].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("coded", [True, False])
def test_a_repeated_id_is_named_at_its_two_rows_with_or_without_codes(coded: bool) -> None:
    rows = rows_of(["r", "p", "q", "q", "p"], _cells(5))

    with pytest.raises(ResultsError, match=r"duplicate example id 'p' in column 'id' .* at line 2 and line 5"):
        measure(rows, "rows.jsonl", IdSpace() if coded else None)


def test_an_id_repeated_outside_a_metrics_filter_is_coded_once_and_pairs() -> None:
    # acc_a reads kind=a rows only, where "x" appears once; the other metrics would refuse the table.
    rows = rows_of(["x", "x", "y"], [(True, 1.0, "a", "en"), (True, 1.0, "b", "en"), (False, 0.0, "a", "en")])
    spec = make_spec()
    spec = spec.model_copy(update={"metrics": {"acc_a": spec.metrics["acc_a"]}})
    space = IdSpace()
    c = table_results(rows_to_table(rows, "c.jsonl", first_line=1), spec, id_space=space).metrics["acc_a"]["all"]
    b = table_results(rows_to_table(rows, "b.jsonl", first_line=1), spec, id_space=space).metrics["acc_a"]["all"]

    paired = _paired(c, b)

    assert paired is not None
    assert paired[0].tolist() == [1.0, 0.0]
    assert c.samples is not None
    assert c.samples.ids is not None
    assert c.samples.ids.tolist() == ["x", "y"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (pa.array([5, 7, 9], pa.int32()), pa.array([9, 5, 11], pa.int64())),
        (pa.array(["a", "b", "c"], pa.string()), pa.array(["c", "a", "d"], pa.large_string())),
        (pa.array(["é", "a\x00", ""], pa.string()), pa.array(["", "é", "a"], pa.string())),
    ],
)
def test_equal_ids_of_two_tables_get_equal_codes(first: pa.Array, second: pa.Array) -> None:
    space = IdSpace()

    a, b = space.code(first), space.code(second)

    assert a is not None
    assert b is not None
    for i, x in enumerate(first.to_pylist()):
        for j, y in enumerate(second.to_pylist()):
            assert (a[i] == b[j]) == (x == y), (x, y)
    assert len(set(a.tolist())) == len(a)
    assert len(set(b.tolist())) == len(b)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (pa.array([1, 2]), pa.array(["1", "2"])),
        (pa.array(["1", "2"]), pa.array([1, 2])),
        (pa.array([1, 2], pa.int8()), pa.array([2**63 + 1], pa.uint64())),
        (pa.array([1.0, 2.0]), pa.array([1.0, 2.0])),
    ],
)
def test_ids_of_another_kind_are_not_coded_in_the_space(first: pa.Array, second: pa.Array) -> None:
    space = IdSpace()
    space.code(first)

    assert space.code(second) is None


@pytest.mark.parametrize(
    "ids",
    [pa.array(["b", "a"]), pa.array([2, 1]), pa.array(["b\x00", "a"])],
    ids=["sorted-keys", "integer-range", "arrow-hash"],
)
def test_a_space_for_two_tables_lets_their_ids_go_once_both_are_coded(ids: pa.Array) -> None:
    # A copy of every id and its key, kept for the next table to be coded against: 160 MB for 5M text ids
    # held to the end of the check, for nothing, once the baseline is coded.
    space = IdSpace(tables=2)

    first, second = space.code(ids), space.code(ids)

    assert first is not None
    assert second is not None
    assert first.tolist() == second.tolist()
    assert (space._sorted, space._known) == (None, None)
    assert space.code(ids) is None  # a third table: nothing is left to code it against


def test_a_coded_comparison_never_builds_the_text_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    # The text ids of every slice are what filled the memory of a large paired check (fixed-width numpy
    # text is 4 bytes a character): pairing and the unpaired note must not need them.
    cand = rows_of([f"ex-{i}" for i in range(30)], _cells(30))
    base = rows_of([f"ex-{i}" for i in range(5, 40)], _cells(35))
    c, b = both(cand, base, coded=True)

    def no_text(self: ExampleIds) -> None:
        raise AssertionError("text ids built")

    monkeypatch.setattr(ExampleIds, "values", no_text)

    assert "5 candidate ids not in the baseline, 10 baseline ids" in _unpaired_note(
        c.metrics["score"]["all"], b.metrics["score"]["all"]
    )
    assert _paired(c.metrics["score"]["kind=a"], b.metrics["score"]["kind=a"]) is None


def test_a_whole_paired_check_renders_the_same_json_with_or_without_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ROOT / "tests" / "fixtures" / "review" / "gate.yaml"
    options = RenderOptions(width=160, color=False)
    code = IdSpace.code
    coded_arms: list[bool] = []

    def spy(self: IdSpace, distinct: pa.Array) -> Any:
        codes = code(self, distinct)
        coded_arms.append(codes is not None)
        return codes

    monkeypatch.setattr(IdSpace, "code", spy)
    coded = render(check(spec), "json", options)
    monkeypatch.setattr(IdSpace, "code", lambda self, distinct: None)

    plain = render(check(spec), "json", options)

    assert coded_arms == [True, True]
    assert coded == plain
    assert '"regressed"' in coded


def test_samples_report_ids_without_fetching_them() -> None:
    c, _ = both(rows_of(["x", "y"], _cells(2)), rows_of(["x", "y"], _cells(2)), coded=True)
    samples = c.metrics["acc"]["all"].samples
    assert samples is not None

    assert samples.has_ids
    assert samples.keys is not None
    assert np.array_equal(samples.ids, np.array(["x", "y"]))  # type: ignore[arg-type]
