"""Writes the per-example results of this example (deterministic: run it again and the files do not change).

One SFT run of a support bot, evaluated every 1000 steps on the same 1200 prompts (so that the example ids pair
checkpoints with each other and with the baseline). Each prompt has a difficulty shared by every checkpoint,
so checkpoints get mostly the same prompts right, as real ones do. The later steps get more accurate, then
slower (step-5000: the best headline score, but a p95 latency over the SLO) or worse on one slice (step-6000);
step-4000 is worse than step-3000 on everything (a bad learning-rate spike), and step-2000 is slower and refuses
more than step-3000.

    python examples/checkpoints/make_checkpoints.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N = 1200
TASKS = ("billing", "outage", "account")
HERE = Path(__file__).parent

# name: (accuracy per task, median latency ms, harmless-refusal rate)
CHECKPOINTS = {
    "baseline": ({"billing": 0.78, "outage": 0.78, "account": 0.78}, 420, 0.06),
    "step-1000": ({"billing": 0.72, "outage": 0.70, "account": 0.74}, 400, 0.07),
    "step-2000": ({"billing": 0.80, "outage": 0.79, "account": 0.80}, 470, 0.09),
    "step-3000": ({"billing": 0.84, "outage": 0.83, "account": 0.84}, 405, 0.04),
    "step-4000": ({"billing": 0.81, "outage": 0.80, "account": 0.81}, 450, 0.09),
    "step-5000": ({"billing": 0.88, "outage": 0.87, "account": 0.88}, 560, 0.05),
    "step-6000": ({"billing": 0.89, "outage": 0.72, "account": 0.89}, 420, 0.05),
}


def main() -> None:
    shared = np.random.default_rng(7)
    difficulty = shared.uniform(size=N)
    speed = shared.normal(size=N)
    harmless = shared.uniform(size=N) < 0.4
    refusal_draw = shared.uniform(size=N)
    task = np.array([TASKS[i % 3] for i in range(N)])
    for seed, (name, (accuracy, median, refusal)) in enumerate(CHECKPOINTS.items()):
        own = np.random.default_rng(100 + seed)
        # Mostly the shared difficulty, a little of the checkpoint's own luck: correlated, not identical.
        score = 0.85 * difficulty + 0.15 * own.uniform(size=N)
        # The threshold whose share of scores below it is the target accuracy (empirical, per task).
        correct = np.zeros(N, dtype=bool)
        for t in TASKS:
            rows = task == t
            correct[rows] = score[rows] < np.quantile(score[rows], accuracy[t])
        latency = median * np.exp(0.33 * speed + 0.08 * own.normal(size=N))
        leaning = 0.7 * refusal_draw + 0.3 * own.uniform(size=N)
        refused = harmless & (leaning < np.quantile(leaning[harmless], refusal))
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for i in range(N):
                row = {
                    "id": f"q{i:04d}",
                    "task": str(task[i]),
                    "correct": bool(correct[i]),
                    "latency_ms": round(float(latency[i]), 1),
                    "harmless": bool(harmless[i]),
                    "refused": bool(refused[i]),
                }
                out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
