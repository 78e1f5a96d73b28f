"""Intervals and tests: pure functions, the one place numpy does statistics.

Every interval here is a pair of *one-sided* bounds, each holding with probability `confidence` on its own
(so the pair is a two-sided interval at 2 * confidence - 1). A gate asks a one-sided question — is the
truth at or below the threshold? — and uses one bound to pass and the other to fail.

The modules say which guarantee each method carries (exact, proven or approximate); docs/statistics.md has
the measured worst cells. `_base` (quantiles of z and t, constants), `proportions`, `means`, `quantiles`
(order statistics), `betting` (bounded means, distribution-free), `quantile_changes` (bootstrap and
MOVER), `decisions` (p-values, correction, evidence).
"""

from gatekit.stats._base import (
    DEFAULT_POWER,
    SMALLEST_ALPHA,
    Bounds,
    FloatArray,
    critical_value,
    mover_ratio_limits,
    t_cdf,
    t_quantile,
    z_value,
)
from gatekit.stats.betting import BETTING_SEED, BettingBounds, canonical_betting_order, outside_range
from gatekit.stats.decisions import Correction, adjust_p_values, breach_p_value, evidence_needed, sized_evidence_needed
from gatekit.stats.means import (
    log_ratio_bounds,
    mean_bounds,
    mean_skew,
    no_spread,
    sample_mean_stderr,
    skew_corrected_bounds,
    third_cumulant,
    welch_df,
    welch_skew,
)
from gatekit.stats.proportions import (
    clopper_pearson,
    mover_difference,
    mover_ratio,
    newcombe,
    newcombe_paired,
    paired_difference,
    paired_mover,
    wilson,
)
from gatekit.stats.quantile_changes import (
    BOOTSTRAP_MAX_N,
    BOOTSTRAP_MIN_N,
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    MONTE_CARLO_SIGMAS,
    ExactBootstrap,
    bootstrap_difference,
    bootstrap_rank,
    canonical_order,
    mover_quantile_change,
    percentile_bounds,
    quantile_change_bounds,
    resampled_quantile_law,
)
from gatekit.stats.quantiles import (
    OrderStatistics,
    min_n_for_quantile,
    nearest_rank,
    quantile_bounds,
    quantile_rank_span,
    quantile_ranks,
    sorted_quantile_bounds,
)

__all__ = [
    "BETTING_SEED",
    "BOOTSTRAP_MAX_N",
    "BOOTSTRAP_MIN_N",
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "DEFAULT_POWER",
    "MONTE_CARLO_SIGMAS",
    "SMALLEST_ALPHA",
    "BettingBounds",
    "Bounds",
    "Correction",
    "ExactBootstrap",
    "FloatArray",
    "OrderStatistics",
    "adjust_p_values",
    "bootstrap_difference",
    "bootstrap_rank",
    "breach_p_value",
    "canonical_betting_order",
    "canonical_order",
    "clopper_pearson",
    "critical_value",
    "evidence_needed",
    "log_ratio_bounds",
    "mean_bounds",
    "mean_skew",
    "min_n_for_quantile",
    "mover_difference",
    "mover_quantile_change",
    "mover_ratio",
    "mover_ratio_limits",
    "nearest_rank",
    "newcombe",
    "newcombe_paired",
    "no_spread",
    "outside_range",
    "paired_difference",
    "paired_mover",
    "percentile_bounds",
    "quantile_bounds",
    "quantile_change_bounds",
    "quantile_rank_span",
    "quantile_ranks",
    "resampled_quantile_law",
    "sample_mean_stderr",
    "sized_evidence_needed",
    "skew_corrected_bounds",
    "sorted_quantile_bounds",
    "t_cdf",
    "t_quantile",
    "third_cumulant",
    "welch_df",
    "welch_skew",
    "wilson",
    "z_value",
]
