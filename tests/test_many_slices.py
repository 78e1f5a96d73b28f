"""Fast paths for tables of many slices give the very values of the plain computations they replace.

Each test holds a vectorised or cached routine to the straightforward one, to the bit where a verdict reads it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit.decide.methods import _paired, _unmatched
from gatekit.results import Measurement, Samples
from gatekit.sources.example_ids import _numpy_ids

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
@given(cand=_int_ids, base=_int_ids, spread=st.sampled_from([1, 10**7]))
def test_unmatched_integer_ids_in_a_wide_range_are_what_isin_counts(
    cand: list[int], base: list[int], spread: int
) -> None:
    # spread 10**7: ids far wider apart than there are of them, so no table over their range is made.
    c, b = np.array(cand, dtype=np.int64) * spread, np.array(base, dtype=np.int64) * spread

    assert _unmatched(c, b) == (int((~np.isin(c, b)).sum()), int((~np.isin(b, c)).sum()))


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
