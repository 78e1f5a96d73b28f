"""Calibration of `gatekit compare`: how often does it recommend a checkpoint that is truly dominated or truly
fails a gate (should be at most 1 - confidence = 0.05), and how often the truly best one (power)?

Each scenario is a set of checkpoints with known true rates on two noisy metrics (accuracy, higher is better;
harmless refusal, lower is better) and an exact cost. Every simulation draws each checkpoint's per-example
results on the same example ids (a shared difficulty per example, so checkpoints are correlated as real ones
are), judges each with the real evaluator (`build_verdict`) against a gate floor and ceiling, and runs the
real comparison (`gatekit.decide.compare.compare`, tie-break: lowest cost). Beside it, the naive rule: gates
and Pareto dominance on the point estimates, cheapest first (what a leaderboard or a compare view does).

*Truly dominated*: another truly eligible checkpoint is truly at least as good on every axis and better on one.
*Truly failing*: its true accuracy is below the floor or its true refusal above the ceiling. *Truly best*: the
checkpoint the rule picks given the truth (the cheapest of the truly eligible, truly undominated ones).

Run: .venv/bin/python bench/calibration_compare.py [--quick]. Seeded: the same table every run.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatekit.decide.compare import Checkpoint, compare
from gatekit.decide.verdict import build_verdict
from gatekit.results import Measurement, Results, Samples
from gatekit.spec.model import Spec

FLOOR, CEILING = 0.70, 0.10
PINNED = {
    "checkpoint": {"uri": "s3://m", "digest": "sha256:" + "1" * 64},
    "tokenizer": {"uri": "s3://t", "digest": "sha256:" + "2" * 64},
    "generation_config": {"uri": "s3://g", "digest": "sha256:" + "3" * 64},
    "serving_image": {"uri": "r/i@sha256:" + "4" * 64},
    "data_revision": {"uri": "d", "revision": "5" * 40},
    "code_revision": {"uri": "c", "revision": "6" * 40},
    "eval_record": {"uri": "e", "digest": "sha256:" + "7" * 64},
}
SPEC = Spec.model_validate(
    {
        "version": 1,
        "name": "calibration-compare",
        "hypothesis": {
            "statement": "s",
            "stage": "other",
            "improves": "accuracy",
            "owner": "o",
            "written": "2026-01-01",
        },
        "metrics": {
            "accuracy": {"kind": "proportion", "higher_is_better": True},
            "refusal": {"kind": "proportion", "higher_is_better": False},
        },
        "gates": [
            {"id": "floor", "metric": "accuracy", "min": FLOOR},
            {"id": "ceiling", "metric": "refusal", "max": CEILING},
        ],
        "frontier": {
            "axes": [{"metric": "accuracy"}, {"metric": "refusal"}, {"cost": "usd"}],
            "tie_break": {"cost": "usd"},
        },
        "rollback": PINNED,
    },
    strict=False,
)


@dataclass(frozen=True)
class Truth:
    name: str
    accuracy: float
    refusal: float
    usd: float

    def eligible(self) -> bool:
        return self.accuracy >= FLOOR and self.refusal <= CEILING

    def dominates(self, other: Truth) -> bool:
        at_least = self.accuracy >= other.accuracy and self.refusal <= other.refusal and self.usd <= other.usd
        better = self.accuracy > other.accuracy or self.refusal < other.refusal or self.usd < other.usd
        return at_least and better


SCENARIOS: dict[str, tuple[Truth, ...]] = {
    # c2 is truly best; c3 is truly dominated by c2; c4 is the most accurate but refuses too much; c1 fails.
    "clear gaps (5 checkpoints)": (
        Truth("c1", 0.66, 0.05, 1.0),
        Truth("c2", 0.80, 0.05, 2.0),
        Truth("c3", 0.77, 0.07, 3.0),
        Truth("c4", 0.88, 0.13, 2.5),
        Truth("c5", 0.84, 0.04, 4.0),
    ),
    # The cheapest one is truly just under the floor; c3 is truly dominated by c2 by a small margin.
    "near the gates and near ties": (
        Truth("c1", 0.69, 0.05, 1.0),
        Truth("c2", 0.78, 0.06, 2.0),
        Truth("c3", 0.77, 0.065, 2.0),
        Truth("c4", 0.80, 0.095, 3.0),
    ),
    # Equal truths but for the cost: the dearer ones are truly (weakly) dominated by the cheapest.
    "identical but for cost": (
        Truth("c1", 0.80, 0.05, 3.0),
        Truth("c2", 0.80, 0.05, 1.0),
        Truth("c3", 0.80, 0.05, 2.0),
    ),
}


def truly_best(truths: tuple[Truth, ...]) -> str | None:
    eligible = [t for t in truths if t.eligible()]
    frontier = [t for t in eligible if not any(o.dominates(t) for o in eligible if o is not t)]
    return min(frontier, key=lambda t: t.usd).name if frontier else None


def draw(truths: tuple[Truth, ...], n: int, rng: np.random.Generator) -> list[Checkpoint]:
    ids = np.array([f"q{i}" for i in range(n)])
    difficulty, leaning = rng.uniform(size=n), rng.uniform(size=n)
    checkpoints = []
    for i, t in enumerate(truths):
        # Mostly the shared difficulty, sometimes the checkpoint's own draw: each marginal is exactly the truth.
        own = rng.uniform(size=n) < 0.2
        correct = np.where(own, rng.uniform(size=n) < t.accuracy, difficulty < t.accuracy).astype(float)
        refused = np.where(own, rng.uniform(size=n) < t.refusal, leaning < t.refusal).astype(float)
        metrics: dict[str, dict[str, Measurement]] = {
            "accuracy": {"all": _measure(correct, ids)},
            "refusal": {"all": _measure(refused, ids)},
        }
        results = Results(t.name, t.name, metrics, {"usd": t.usd})
        verdict = build_verdict(SPEC, results, None, spec_path="bench")
        checkpoints.append(Checkpoint(t.name, float(i), results, verdict))
    return checkpoints


def _measure(values: np.ndarray[Any, Any], ids: np.ndarray[Any, Any]) -> Measurement:
    return Measurement(float(values.mean()), len(values), samples=Samples(values, ids))


def naive_pick(checkpoints: list[Checkpoint]) -> str | None:
    """Point-estimate gating and a point-estimate Pareto frontier, cheapest first: what a leaderboard does."""
    points = []
    for c in checkpoints:
        accuracy = c.results.metrics["accuracy"]["all"].value
        refusal = c.results.metrics["refusal"]["all"].value
        if accuracy >= FLOOR and refusal <= CEILING:
            points.append(Truth(c.id, accuracy, refusal, c.results.costs["usd"]))
    frontier = [p for p in points if not any(o.dominates(p) for o in points if o is not p)]
    return min(frontier, key=lambda p: p.usd).name if frontier else None


def wilson_upper(k: int, n: int, z: float = 1.96) -> float:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre + half


def main() -> None:
    quick = "--quick" in sys.argv
    simulations = 60 if quick else 400
    n = 600
    rng = np.random.default_rng(20261201)
    header = (
        f"{'scenario':<30} {'sims':>5} {'n':>5} {'bad pick':>9} {'(95% upper)':>12} {'best pick':>10} {'none':>6}"
        f" {'naive bad':>10} {'naive best':>11}"
    )
    print(f"gatekit compare calibration (confidence 0.95: a bad pick should be at most 0.05), n = {n} per checkpoint")
    print(header)
    print("-" * len(header))
    for name, truths in SCENARIOS.items():
        bad = {t.name for t in truths if not t.eligible()}
        bad |= {t.name for t in truths if any(o.eligible() and o.dominates(t) for o in truths if o is not t)}
        best = truly_best(truths)
        bad_picks = best_picks = none = naive_bad = naive_best = 0
        for _ in range(simulations):
            checkpoints = draw(truths, n, rng)
            comparison = compare(SPEC, checkpoints, spec_path="bench", baseline=None)
            pick = comparison.recommendation
            naive = naive_pick(checkpoints)
            naive_bad += naive in bad
            naive_best += naive == best
            none += pick is None
            bad_picks += pick in bad
            best_picks += pick == best
        print(
            f"{name:<30} {simulations:>5} {n:>5} {bad_picks / simulations:>9.3f} "
            f"{wilson_upper(bad_picks, simulations):>12.3f} {best_picks / simulations:>10.3f} "
            f"{none / simulations:>6.3f} {naive_bad / simulations:>10.3f} {naive_best / simulations:>11.3f}"
        )


if __name__ == "__main__":
    main()
