"""Fast paths for tables of many slices give the very values of the plain computations they replace.

Each test holds a vectorised or cached routine to the straightforward one, to the bit where a verdict reads it.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.decide.pairing import _flags, _positions, positions_among
from gatekit.decide.pairing import paired as _paired
from gatekit.decide.pairing import unmatched as _unmatched
from gatekit.results import Measurement, Samples
from gatekit.sources import id_codes
from gatekit.sources.example_ids import IdSpace, _numpy_ids
from gatekit.stats import bootstrap_rank, resampled_quantile_law, t_cdf
from gatekit.stats.quantile_changes import stable_argsort

_ASCII_IDS = st.lists(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=12), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ids=_ASCII_IDS, cuts=st.lists(st.integers(0, 40), max_size=4), large=st.booleans(), skip=st.integers(0, 3))
def test_ascii_text_ids_become_the_fixed_width_text_numpy_makes(
    ids: list[str], cuts: list[int], large: bool, skip: int
) -> None:
    kind = pa.large_string() if large else pa.string()
    whole = pa.array(["-"] * skip + ids, kind).slice(skip)  # a chunk that starts inside its buffers
    bounds = sorted({0, len(ids), *(min(c, len(ids)) for c in cuts)})
    chunks = [whole.slice(a, b - a) for a, b in itertools.pairwise(bounds)] or [whole]

    found = _numpy_ids(None, "id", pa.chunked_array(chunks, kind))  # type: ignore[arg-type]

    width = max([1, *map(len, ids)])
    expected = np.array(ids, dtype=f"<U{width}")
    assert found.dtype == expected.dtype
    assert found.tolist() == ids
    assert np.array_equal(found, expected)


_int_ids = st.lists(st.integers(-3, 12), max_size=14)


@settings(max_examples=300, deadline=None)
@given(cand=_int_ids, base=_int_ids, spread=st.sampled_from([1, 10**5, 10**8]), shift=st.sampled_from([0, 5 * 10**6]))
def test_unmatched_integer_ids_in_a_wide_range_are_what_isin_counts(
    cand: list[int], base: list[int], spread: int, shift: int
) -> None:
    # Ids far wider apart than there are of them: a table of flags reused across calls (spread 10**5, the
    # loader's codes of a slice among millions), or no table at all (spread 10**8); negative ids neither.
    c = np.array(cand, dtype=np.int64) * spread + shift
    b = np.array(base, dtype=np.int64) * spread + shift

    assert _unmatched(c, b) == (int((~np.isin(c, b)).sum()), int((~np.isin(b, c)).sum()))
    assert not _flags(1).any()  # the reused table is left clear


def _sorted_pairing(c_ids: np.ndarray, b_ids: np.ndarray, b_values: np.ndarray) -> np.ndarray | None:
    """The pairing `_paired` does by sorting both id lists (its path for ids of any kind)."""
    c_order, b_order = np.argsort(c_ids, kind="stable"), np.argsort(b_ids, kind="stable")
    c_sorted, b_sorted = c_ids[c_order], b_ids[b_order]
    if len(c_sorted) > 1 and bool((c_sorted[1:] == c_sorted[:-1]).any()):
        return None
    if not np.array_equal(c_sorted, b_sorted):
        return None
    aligned = np.empty_like(b_values)
    aligned[c_order] = b_values[b_order]
    return aligned


@settings(max_examples=400, deadline=None)
@given(cand=st.lists(st.integers(0, 9), min_size=1, max_size=10), data=st.data())
def test_coded_ids_pair_as_sorting_pairs_them(cand: list[int], data: st.DataObject) -> None:
    same_length = st.lists(st.integers(0, 9), min_size=len(cand), max_size=len(cand))
    base = data.draw(st.one_of(st.permutations(cand), same_length))
    c_ids, b_ids = np.array(cand, dtype=np.int64), np.array(base, dtype=np.int64)
    c_values, b_values = np.arange(len(cand), dtype=np.float64), np.arange(len(base), dtype=np.float64) * 10
    cand_m = Measurement(1.0, samples=Samples(c_values, c_ids))
    base_m = Measurement(1.0, samples=Samples(b_values, b_ids))

    found = _paired(cand_m, base_m)
    expected = _sorted_pairing(c_ids, b_ids, b_values)

    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert np.array_equal(found[1], expected)
        assert found[0] is c_values


@settings(max_examples=400, deadline=None)
@given(
    cand=st.lists(st.integers(0, 9), min_size=1, max_size=10),
    spread=st.sampled_from([10**5, 4 * 10**5, 10**8]),
    data=st.data(),
)
def test_codes_of_a_slice_among_many_pair_as_sorting_pairs_them(
    cand: list[int], spread: int, data: st.DataObject
) -> None:
    # A slice's codes spread over a table's range: the thread's table of positions (10**5, 4 * 10**5), or
    # beyond its range the sorts (10**8).
    same_length = st.lists(st.integers(0, 9), min_size=len(cand), max_size=len(cand))
    base = data.draw(st.one_of(st.permutations(cand), same_length))
    c_ids, b_ids = np.array(cand, dtype=np.int64) * spread, np.array(base, dtype=np.int64) * spread
    c_values, b_values = np.arange(len(cand), dtype=np.float64), np.arange(len(base), dtype=np.float64) * 10
    cand_m = Measurement(1.0, samples=Samples(c_values, c_ids))
    base_m = Measurement(1.0, samples=Samples(b_values, b_ids))

    found = _paired(cand_m, base_m)
    expected = _sorted_pairing(c_ids, b_ids, b_values)

    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert np.array_equal(found[1], expected)
    assert (_positions(1) == -1).all()  # the reused table is left clear


@settings(max_examples=400, deadline=None)
@given(
    ids=st.lists(st.integers(0, 9), max_size=12),
    among=st.lists(st.integers(0, 9), min_size=1, max_size=12),
    spread=st.sampled_from([1, 10**5, 10**8]),
)
def test_positions_among_codes_are_where_a_search_of_the_sorted_codes_finds_them(
    ids: list[int], among: list[int], spread: int
) -> None:
    keys, within = np.array(ids, dtype=np.int64) * spread, np.array(among, dtype=np.int64) * spread

    found = positions_among(keys, within)

    repeats = len(set(among)) < len(among)
    beyond_the_table = max(ids + among) * spread >= 1 << 25  # only ids of 0 fit at the widest spread
    if repeats or beyond_the_table:
        assert found is None
    else:
        assert found is not None
        assert found.tolist() == [among.index(i) if i in among else -1 for i in ids]
    assert (_positions(1) == -1).all()


def _law_by_unique(values: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """`resampled_quantile_law` as it was written first: distinct values through np.unique."""
    from scipy import special

    ordered = np.sort(values) + 0.0
    n = len(ordered)
    distinct, first = np.unique(ordered, return_index=True)
    at_or_below = np.append(first[1:], n).astype(np.float64)
    cdf = special.bdtrc(bootstrap_rank(n, q), n, at_or_below / n)
    cdf[-1] = 1.0
    mass = np.diff(cdf, prepend=0.0)
    keep = mass > 1e-18
    return distinct[keep], mass[keep]


_cells = st.sampled_from([0.0, -0.0, 1.0, 2.5, 3.0, 1e300, np.inf, -np.inf, np.nan])


@settings(max_examples=400, deadline=None)
@given(
    values=st.lists(st.one_of(_cells, st.floats(-5, 5)), min_size=1, max_size=60),
    q=st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)
def test_the_resampled_quantile_law_is_the_one_np_unique_gives(values: list[float], q: float) -> None:
    array = np.array(values, dtype=np.float64)

    found, expected = resampled_quantile_law(array, q), _law_by_unique(array, q)

    assert found[0].tobytes() == expected[0].tobytes()
    assert found[1].tobytes() == expected[1].tobytes()


def _slice_like(seed: int, n: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(5, 1.5, n)
    if kind == "rounded":  # latencies in whole milliseconds: many ties
        values = np.round(values)
    elif kind == "timeouts":  # a fifth of the slice timed out (+inf)
        values[rng.random(n) < 0.2] = np.inf
    elif kind == "few":
        values = rng.integers(0, 5, n).astype(np.float64)
    return values


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.sampled_from([65, 66, 200, 999, 2000]),
    kind=st.sampled_from(["continuous", "rounded", "timeouts", "few"]),
    q=st.sampled_from([0.05, 0.5, 0.9, 0.95, 0.99]),
)
def test_the_resampled_quantile_law_of_a_slice_is_the_one_every_value_s_probability_gives(
    seed: int, n: int, kind: str, q: float
) -> None:
    # Slices of the sizes the exact bootstrap sees (up to 2,000): the law's tails, found by bisection, leave
    # out only what the full computation drops.
    array = _slice_like(seed, n, kind)

    found, expected = resampled_quantile_law(array, q), _law_by_unique(array, q)

    assert found[0].tobytes() == expected[0].tobytes()
    assert found[1].tobytes() == expected[1].tobytes()


_text_ids = st.lists(st.text(alphabet="ab-01é日", max_size=19) | st.sampled_from(["a\x00", "x" * 70]), max_size=25)
_number_ids = st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3), max_size=25)


def _assert_codes_are_equalities(first: list[Any], second: list[Any], a: Any, b: Any) -> None:
    assert a is not None
    for i, x in enumerate(first):
        for j, y in enumerate(first):
            assert (a[i] == a[j]) == (x == y)
    if b is None:
        return
    for j, y in enumerate(second):
        for k, z in enumerate(second):
            assert (b[j] == b[k]) == (y == z)
        for i, x in enumerate(first):
            assert (a[i] == b[j]) == (x == y), (x, y)


_same_ids_reordered = _text_ids.flatmap(lambda ids: st.permutations(ids).map(lambda other: (ids, list(other))))
"""A paired baseline: the candidate's ids in another order (`SortedKeys.join` finds every one)."""


@settings(max_examples=300, deadline=None)
@given(
    ids=st.one_of(st.tuples(_text_ids, _text_ids), st.tuples(_number_ids, _number_ids), _same_ids_reordered),
    weak=st.booleans(),
)
def test_ids_coded_by_sorting_keys_are_equal_exactly_when_the_ids_are(
    ids: tuple[list[Any], list[Any]], weak: bool
) -> None:
    # weak: a hash of two bits, so that different text ids share keys: the space must notice and never give
    # them one code (it codes the first table with Arrow's hash instead, or leaves the second uncoded).
    first, second = ids
    text = any(isinstance(v, str) for v in first + second)
    kind = pa.string() if text else pa.int64()
    with pytest.MonkeyPatch.context() as patch:
        if weak:
            patch.setattr(id_codes, "_mixed", lambda keys: keys & np.uint64(3))
        space = IdSpace()
        a = space.code(pa.chunked_array([pa.array(first, kind)], kind))
        b = space.code(pa.chunked_array([pa.array(second, kind)], kind))

    _assert_codes_are_equalities(first, second, a, b)
    if not weak and not any("\x00" in v or len(v) > 21 for v in second if isinstance(v, str)):
        assert b is not None


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(
        st.integers(0, 2**64 - 1) | st.integers(0, 9) | st.integers(2**64 - 9, 2**64 - 1) | st.just(2**40), max_size=90
    )
)
def test_hashed_keys_are_sorted_whatever_high_bits_they_share(keys: list[int]) -> None:
    # The row number sits in the low bits of the sorted words: keys alike in their high bits must still come
    # out in order, and every row exactly once.
    array = np.array(keys, dtype=np.uint64)

    order, ordered = id_codes._argsort(array, hashed=True)

    assert sorted(order.tolist()) == list(range(len(keys)))
    assert array[order].tolist() == ordered.tolist() == sorted(keys)


@settings(max_examples=300, deadline=None)
@given(
    known=st.sets(st.integers(0, 40), max_size=30),
    keys=st.sets(st.integers(0, 40), max_size=30),
    block=st.sampled_from([1, 3, 1 << 16]),
)
def test_a_table_is_found_whole_among_known_keys_exactly_when_each_of_its_keys_is(
    known: set[int], keys: set[int], block: int
) -> None:
    # Compared block by block (a paired baseline's ids against the candidate's): no block may be skipped.
    known_keys, table_keys = np.array(sorted(known), dtype=np.uint64), np.array(sorted(keys), dtype=np.uint64)
    at = np.searchsorted(known_keys, table_keys)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(id_codes, "_JOIN_BLOCK", block)
        assert id_codes._all_at(known_keys, at, table_keys) == (keys <= known)
        if keys <= known and keys:
            texts = np.array([[k, 7] for k in sorted(known)], dtype=np.uint8)
            mine = texts[at].copy()
            assert id_codes._same_texts_at(mine, texts, at)
            mine[-1, 1] = 8  # the last row of the last block differs
            assert not id_codes._same_texts_at(mine, texts, at)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(_cells.filter(lambda v: not np.isnan(v)) | st.integers(-4, 4).map(float), max_size=80))
def test_the_fast_stable_argsort_is_numpys_stable_argsort(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)

    assert np.array_equal(stable_argsort(array), np.argsort(array, kind="stable"))


# Values a few units in the last place apart share their high bits: their order comes from the fix-up.
_near_ties = st.integers(-6, 6).map(lambda k: 1.0 + k * 2.0**-50) | st.integers(-6, 6).map(
    lambda k: -3.0 - k * 2.0**-49
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_near_ties | _cells.filter(lambda v: not np.isnan(v)), min_size=2, max_size=300))
def test_the_fast_stable_argsort_orders_values_that_share_their_high_bits(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)

    assert np.array_equal(stable_argsort(array), np.argsort(array, kind="stable"))


@pytest.mark.parametrize("n", [2, 3, 1 << 12, (1 << 15) + 1])
def test_the_fast_stable_argsort_is_numpys_on_a_law_of_a_change(n: int) -> None:
    rng = np.random.default_rng(n)
    change = np.subtract.outer(np.round(rng.lognormal(5, 1, 200)), np.round(rng.lognormal(5, 1, 200))).ravel()[:n]

    assert np.array_equal(stable_argsort(change), np.argsort(change, kind="stable"))


def _t_cdf_by_the_loop(t: float, df: int) -> float:
    """`t_cdf` as it was written first: the series summed term by term."""
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2 == 1:
        total, term = 0.0, c
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * k) / (2 * k + 1)
        central = (2 / math.pi) * (theta + s * total) if df > 1 else 2 * theta / math.pi
    else:
        total, term = 0.0, 1.0
        for k in range(df // 2):
            total += term
            term *= c * c * (2 * k + 1) / (2 * k + 2)
        central = s * total
    return 0.5 + central / 2


@settings(max_examples=3000, deadline=None)
@given(
    t=st.floats(-60, 60) | st.sampled_from([0.0, -0.0, 1e-300, 1.6448536269514722]),
    df=st.integers(1, 320) | st.integers(1, 2200),
)
def test_the_t_cdf_series_is_the_term_by_term_sum_to_the_bit(t: float, df: int) -> None:
    # t_quantile bisects on t_cdf: a different last bit could move a quantile, and a verdict with it.
    assert t_cdf(t, df) == _t_cdf_by_the_loop(t, df)


@settings(max_examples=300, deadline=None)
@given(
    cand=st.lists(st.sampled_from(["a", "b", "c", "dd", "e-1"]), max_size=12),
    base=st.lists(st.sampled_from(["a", "b", "c", "dd", "zz"]), max_size=12),
)
def test_the_review_queue_pairs_coded_ids_as_arrow_pairs_the_text(cand: list[str], base: list[str]) -> None:
    from gatekit.decide.review import _coded_positions, _positions
    from gatekit.results import IdKeys

    space = IdSpace()
    c_codes = space.code(pa.chunked_array([pa.array(cand, pa.string())], pa.string()))
    b_codes = space.code(pa.chunked_array([pa.array(base, pa.string())], pa.string()))
    assert c_codes is not None
    assert b_codes is not None
    c_ids, b_ids = np.array(cand, dtype="U3"), np.array(base, dtype="U3")
    c = Samples(np.zeros(len(cand)), c_ids, keys=IdKeys(c_codes, space))
    b = Samples(np.zeros(len(base)), b_ids, keys=IdKeys(b_codes, space))

    found = _coded_positions(c, b)

    assert found is not None
    assert found.tolist() == _positions(c_ids, b_ids).tolist()


@settings(max_examples=200, deadline=None)
@given(
    tables=st.lists(st.lists(st.integers(-40, 40), max_size=60), min_size=1, max_size=3),
    offset=st.sampled_from([0, -(2**62), 2**62]),
)
def test_integer_ids_in_a_narrow_range_are_coded_as_the_sort_codes_them(tables: list[list[int]], offset: int) -> None:
    # The table over the range must give each row the very code the sort gives: the codes of a later table
    # depend on those of every table before it.
    def codes(dense_span: int) -> list[list[int]]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(id_codes, "_DENSE_SPAN", dense_span)
            space = id_codes.SortedKeys()
            coded = [space.code(np.array(t, dtype=np.int64) + np.int64(offset), None) for t in tables]
            return [[] if c is None else c.tolist() for c in coded]

    assert codes(4) == codes(0)
    assert id_codes._dense(np.array([0, 10**6], dtype=np.int64)) is None  # a wide range keeps the sort


def test_the_fast_stable_argsort_orders_a_float32_sample() -> None:
    values = (np.arange(100, dtype=np.float32)[::-1] / 7).astype(np.float32)

    assert np.array_equal(stable_argsort(values), np.argsort(values, kind="stable"))


def test_clopper_pearson_limits_do_not_depend_on_the_type_counts_come_in() -> None:
    from scipy import special

    from gatekit.stats import clopper_pearson

    # np.float32(500) equals 500.0: a cache keyed by the arguments would hand 500.0 the float32-precision limits.
    clopper_pearson(np.float32(500), 1000, 0.5)
    exact = (float(special.betaincinv(500.0, 501.0, 0.5)), float(special.betaincinv(501.0, 500.0, 0.5)))

    assert clopper_pearson(500.0, 1000, 0.5) == exact
    assert clopper_pearson(np.array(3.0), 10, 0.95) == clopper_pearson(3.0, 10, 0.95)


_LEVELS = (0.0, 1.0, 0.5, 0.025, 0.05, 0.95, 0.975, 0.99, 0.995, 0.005, 1 / 3, 0.1, 0.9, 0.999, 1e-9, 1 - 1e-9)


def test_the_bootstrap_rank_is_the_one_np_quantile_reads_for_every_n_to_3000() -> None:
    for q in _LEVELS:
        for n in range(1, 3001):
            expected = int(np.quantile(np.arange(n, dtype=np.float64), q, method="inverted_cdf"))
            assert bootstrap_rank.__wrapped__(n, q) == expected, (n, q)


@settings(max_examples=500, deadline=None)
@given(n=st.integers(1, 100_000), q=st.floats(0, 1))
def test_the_bootstrap_rank_is_the_one_np_quantile_reads_at_any_level(n: int, q: float) -> None:
    expected = int(np.quantile(np.arange(n, dtype=np.float64), q, method="inverted_cdf"))
    assert bootstrap_rank.__wrapped__(n, q) == expected
