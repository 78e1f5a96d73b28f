"""The quantile-change bootstrap reads each replicate's quantile by partitioning resampled ranks instead of
gathering and partitioning resampled values (a speed-up, bench/matrix.py many-slices). It must give the very
same replicates, bit for bit, as the plain `np.quantile(values[idx], q, axis=1, method="inverted_cdf")` it
replaced: ties, timeouts (+inf), NaN, signed zeros, paired and unpaired, difference and ratio."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekit import stats
from gatekit.stats.quantile_changes import canonical_order


def plain_bootstrap(
    candidate: np.ndarray, baseline: np.ndarray, q: float, *, ratio: bool, paired: bool, resamples: int
) -> np.ndarray:
    candidate, baseline = canonical_order(candidate, baseline, paired=paired)
    rng = np.random.default_rng(stats.BOOTSTRAP_SEED)
    out = np.empty(resamples, dtype=np.float64)
    chunk = max(1, 2_000_000 // max(len(candidate), len(baseline), 1))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        idx_c = rng.integers(0, len(candidate), size=(size, len(candidate)))
        idx_b = idx_c if paired else rng.integers(0, len(baseline), size=(size, len(baseline)))
        q_c = np.quantile(candidate[idx_c], q, axis=1, method="inverted_cdf")
        q_b = np.quantile(baseline[idx_b], q, axis=1, method="inverted_cdf")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + size] = q_c / q_b if ratio else q_c - q_b
    out[np.isnan(out)] = math.inf
    return np.sort(out)


cells = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, math.inf, math.nan]),
    # Not below 1e-6: 1e4 / 1e-310 overflows, which numpy warns about in the old and new code alike.
    st.floats(min_value=1e-6, max_value=1e4, allow_nan=False),
)


@settings(max_examples=200, deadline=None)
@given(
    candidate=st.lists(cells, min_size=1, max_size=120),
    baseline=st.lists(cells, min_size=1, max_size=120),
    q=st.sampled_from([0.01, 0.5, 0.9, 0.95, 0.99]),
    ratio=st.booleans(),
    paired=st.booleans(),
)
def test_bootstrap_replicates_are_bit_identical_to_plain_numpy_quantiles(
    candidate: list[float], baseline: list[float], q: float, ratio: bool, paired: bool
) -> None:
    c = np.array(candidate, dtype=np.float64)
    b = np.array(baseline if not paired else (baseline * len(candidate))[: len(candidate)], dtype=np.float64)

    fast = stats.bootstrap_difference(c, b, q, ratio=ratio, paired=paired, resamples=300)

    assert fast.tobytes() == plain_bootstrap(c, b, q, ratio=ratio, paired=paired, resamples=300).tobytes()


def test_bootstrap_at_full_size_matches_plain_numpy_in_several_chunks() -> None:
    rng = np.random.default_rng(3)
    c = np.round(rng.exponential(800, 1500))  # rounded: many ties
    b = rng.exponential(780, 1500)
    b[:20] = math.inf

    fast = stats.bootstrap_difference(c, b, 0.95, ratio=True, paired=True)

    assert fast.tobytes() == plain_bootstrap(c, b, 0.95, ratio=True, paired=True, resamples=4000).tobytes()


@pytest.mark.parametrize(("n_c", "n_b", "paired"), [(2000, 700, False), (59, 2000, False), (1999, 1999, True)])
def test_int32_resample_positions_are_the_int64_draws_at_every_chunking(n_c: int, n_b: int, paired: bool) -> None:
    # The positions are drawn as int32 (half the memory traffic): the same numbers as numpy's default int64
    # draws, chunk after chunk, unpaired arms alternating, so the replicates keep every bit.
    rng = np.random.default_rng([n_c, n_b])
    c = np.round(rng.lognormal(6, 0.5, n_c))
    b = rng.lognormal(6.1, 0.5, n_b)

    fast = stats.bootstrap_difference(c, b, 0.95, ratio=False, paired=paired)

    assert fast.tobytes() == plain_bootstrap(c, b, 0.95, ratio=False, paired=paired, resamples=4000).tobytes()
