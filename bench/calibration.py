"""Calibration: how often does gatekit say *pass* when the truth violates the bound?

For each method, many eval sets are simulated from a truth placed just on the failing side of the
threshold (the hardest case for a false ship). Each set goes through the real evaluator
(`gatekit.decide.evaluate.evaluate_gates`), and beside it the same set is judged by plain point-estimate gating
(observed vs threshold). With one-sided confidence 0.95 the false-ship rate should stay at or below 0.05,
within simulation error (the last column is 2 standard errors of a rate of 0.05 at that many simulations).

A second table: a good checkpoint (every slice exactly at its threshold, which passes) over many slices,
and how often a fail decision would *stop* it, with and without the family-wise correction.

Run: .venv/bin/python bench/calibration.py [--quick]. Seeded: the same table every run.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatekit.decide.bounds import BOUND_KINDS, passes
from gatekit.decide.evaluate import evaluate_gates
from gatekit.results import Measurement, Results, Samples
from gatekit.spec.model import Spec

Rng = np.random.Generator
METRIC = "m_p95"
"""The name tells a quantile metric's level (p95); proportions and means ignore it."""
Draw = Callable[[Rng], tuple[Results, Results | None]]


def make_spec(gate: dict[str, Any], kind: str, **extra: Any) -> Spec:
    return Spec.model_validate(
        {
            "version": 1,
            "name": "calibration",
            "hypothesis": {"statement": "s", "stage": "other", "improves": "m", "owner": "o", "written": "2026-01-01"},
            "baseline": "b.yaml",
            "metrics": {METRIC: {"kind": kind}},
            "gates": [{"id": "g", "metric": METRIC, **gate}],
            "rollback": {},
            **extra,
        },
        strict=False,
    )


def one(slices: dict[str, Measurement]) -> Results:
    return Results(source="sim", model="sim", metrics={METRIC: slices})


def rate(k: int, n: int) -> Measurement:
    return Measurement(k / n, n=n)


def values(x: np.ndarray[Any, Any], ids: np.ndarray[Any, Any] | None = None, q: float | None = None) -> Measurement:
    value = float(np.quantile(x, q, method="inverted_cdf")) if q is not None else float(x.mean())
    return Measurement(value, samples=Samples(x.astype(np.float64), ids))


# --- scenarios: the truth violates the bound by a hair -------------------------------------------------


def wilson(rng: Rng) -> tuple[Results, Results | None]:
    n = 500
    return one({"all": rate(int(rng.binomial(n, 0.9499)), n)}), None


def newcombe(rng: Rng) -> tuple[Results, Results | None]:
    n = 1000
    return one({"all": rate(int(rng.binomial(n, 0.0601)), n)}), one({"all": rate(int(rng.binomial(n, 0.05)), n)})


def paired(rng: Rng) -> tuple[Results, Results | None]:
    # The same 1000 prompts: the baseline refuses 10%; the candidate also refuses 1.1222% of the prompts the
    # baseline answered, so the true difference is 0.9 * 0.011222 = +1.01pt.
    n = 1000
    ids = np.arange(n)
    base = rng.random(n) < 0.10
    cand = base | ((~base) & (rng.random(n) < 0.011222))
    return one({"all": values(cand.astype(float), ids)}), one({"all": values(base.astype(float), ids)})


def mean_t(rng: Rng) -> tuple[Results, Results | None]:
    return one({"all": values(rng.normal(0.7999, 0.2, 50))}), None


def log_ratio(rng: Rng) -> tuple[Results, Results | None]:
    n = 500
    cand = rng.normal(0.8 * 0.99 - 0.0001, 0.15, n)
    base = rng.normal(0.8, 0.15, n)
    return one({"all": values(cand)}), one({"all": values(base)})


P95_LOGNORMAL = math.exp(6.5 + 0.4 * 1.6448536269514722)


def order_statistics(rng: Rng) -> tuple[Results, Results | None]:
    return one({"all": values(rng.lognormal(6.5, 0.4, 200), q=0.95)}), None


def bootstrap(rng: Rng) -> tuple[Results, Results | None]:
    n = 300
    cand = rng.lognormal(6.5, 0.4, n) * 1.0502
    base = rng.lognormal(6.5, 0.4, n)
    return one({"all": values(cand, q=0.95)}), one({"all": values(base, q=0.95)})


def many_slices(rng: Rng, slices: int = 50) -> tuple[Results, Results | None]:
    # 50 slices: slice s0 violates by a hair, the other 49 are clearly fine (-3pt).
    n = 1000
    cand = {f"s{i}": rate(int(rng.binomial(n, 0.0601 if i == 0 else 0.02)), n) for i in range(slices)}
    base = {f"s{i}": rate(int(rng.binomial(n, 0.05)), n) for i in range(slices)}
    return one(cand), one(base)


def good_slices(rng: Rng, slices: int = 200) -> tuple[Results, Results | None]:
    # A good checkpoint: 200 slices, each exactly at the threshold (+1pt allowed, +1pt true).
    n = 1000
    cand = {f"s{i}": rate(int(rng.binomial(n, 0.06)), n) for i in range(slices)}
    base = {f"s{i}": rate(int(rng.binomial(n, 0.05)), n) for i in range(slices)}
    return one(cand), one(base)


@dataclass(frozen=True)
class Scenario:
    method: str
    case: str
    spec: Spec
    draw: Draw
    sims: int


def scenarios(quick: bool) -> list[Scenario]:
    k = 4 if quick else 1
    increase = {"max_increase": 0.01, "slices": ["*"]}
    return [
        Scenario(
            "Wilson score",
            "rate >= 0.95, true 0.9499, n=500",
            make_spec({"min": 0.95}, "proportion"),
            wilson,
            4000 // k,
        ),
        Scenario(
            "Newcombe hybrid score",
            "+1pt allowed, true +1.01pt, n=1000/arm",
            make_spec(increase, "proportion"),
            newcombe,
            4000 // k,
        ),
        Scenario(
            "Newcombe paired score",
            "+1pt allowed, true +1.01pt, 1000 pairs",
            make_spec(increase, "proportion"),
            paired,
            4000 // k,
        ),
        Scenario("t interval", "mean >= 0.80, true 0.7999, n=50", make_spec({"min": 0.8}, "mean"), mean_t, 4000 // k),
        Scenario(
            "log-ratio delta",
            "-1% allowed, true -1.01%, n=500/arm",
            make_spec({"max_decrease_pct": 1.0}, "mean"),
            log_ratio,
            4000 // k,
        ),
        Scenario(
            "order statistics",
            f"p95 <= {P95_LOGNORMAL - 0.01:.2f} (true p95 above), n=200",
            make_spec({"max": P95_LOGNORMAL - 0.01}, "quantile"),
            order_statistics,
            4000 // k,
        ),
        Scenario(
            "bootstrap (ratio of p95)",
            "+5% allowed, true +5.02%, n=300/arm",
            make_spec({"max_increase_pct": 5.0}, "quantile"),
            bootstrap,
            400 // k,
        ),
        Scenario(
            "Newcombe, 50 slices, holm",
            "one slice +1.01pt, 49 at -3pt, n=1000/arm",
            make_spec(increase, "proportion"),
            many_slices,
            2000 // k,
        ),
    ]


def shipped(spec: Spec, cand: Results, base: Results | None) -> tuple[bool, bool]:
    """(gatekit passes every check, point-estimate gating passes every check)."""
    outcomes = evaluate_gates(spec, cand, base)
    gatekit = all(o.status == "pass" for o in outcomes)
    point = all(
        o.observed is not None
        and o.threshold is not None
        and passes(BOUND_KINDS[o.bound].side, o.observed, o.threshold)
        for o in outcomes
    )
    return gatekit, point


def false_ship_table(quick: bool) -> list[str]:
    lines = [
        "| method | case (truth violates the bound) | sims | gatekit false-ship | point-estimate false-ship "
        "| 2 SE at 0.05 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for i, scenario in enumerate(scenarios(quick)):
        rng = np.random.default_rng(1000 + i)
        gatekit = point = 0
        for _ in range(scenario.sims):
            g, p = shipped(scenario.spec, *scenario.draw(rng))
            gatekit += g
            point += p
        se2 = 2 * math.sqrt(0.05 * 0.95 / scenario.sims)
        lines.append(
            f"| {scenario.method} | {scenario.case} | {scenario.sims} | {gatekit / scenario.sims:.3f} | "
            f"{point / scenario.sims:.3f} | {se2:.3f} |"
        )
    return lines


def false_stop_table(quick: bool) -> list[str]:
    lines = [
        "| correction | case (good checkpoint: 200 slices, every slice exactly at its threshold) | sims | "
        "stopped (any slice fails) |",
        "|---|---|---:|---:|",
    ]
    sims = 500 if quick else 2000
    for correction in ("holm", "bonferroni", "none"):
        spec = make_spec(
            {"max_increase": 0.01, "slices": ["*"], "on_fail": "stop"}, "proportion", correction=correction
        )
        rng = np.random.default_rng(7)
        stopped = 0
        for _ in range(sims):
            cand, base = good_slices(rng)
            stopped += any(o.status == "fail" for o in evaluate_gates(spec, cand, base))
        lines.append(
            f"| {correction} | +1pt allowed, +1pt true, n=1000/arm per slice | {sims} | {stopped / sims:.3f} |"
        )
    return lines


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    print("\n".join(false_ship_table(quick)))
    print()
    print("\n".join(false_stop_table(quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
