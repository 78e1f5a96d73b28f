"""What the review queue and the repeats reduction cost on a large per-example table.

Writes a candidate and a baseline Parquet table of N examples x K repeats (ids, a slice column, a 0/1 pass
column, a score), then times, best of R rounds:

* reading the candidate with `table.repeats` (pass_all + mean over repeats, flaky counts) against reading
  one row per example (the first repeat only) with the same metrics as plain rates and means;
* building the verdict with and without the review queue of every slice (the queue pairs all N examples
  of each failing slice by id and ranks the regressed ones).

Run: .venv/bin/python bench/review.py [--examples N] [--repeats K] [--rounds R]. Seeded.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gatekit.decide.verdict import build_verdict
from gatekit.sources.load import load_results
from gatekit.spec.model import Spec

ROLLBACK = {
    "checkpoint": {"uri": "s3://m", "digest": "sha256:" + "1" * 64},
    "tokenizer": {"uri": "s3://t", "digest": "sha256:" + "2" * 64},
    "generation_config": {"uri": "s3://g", "digest": "sha256:" + "3" * 64},
    "serving_image": {"uri": "r/i@sha256:" + "4" * 64},
    "data_revision": {"uri": "d", "revision": "5" * 40},
    "code_revision": {"uri": "c", "revision": "6" * 40},
    "eval_record": {"uri": "e", "digest": "sha256:" + "7" * 64},
}


def make_spec(repeats: bool) -> Spec:
    table: dict[str, Any] = {"slice_by": ["task"]}
    if repeats:
        table["repeats"] = "epoch"
    return Spec.model_validate(
        {
            "version": 1,
            "name": "bench",
            "hypothesis": {"statement": "s", "stage": "other", "improves": "ok", "owner": "o", "written": "2026-01-01"},
            "candidate": "c.parquet",
            "baseline": "b.parquet",
            "metrics": {
                "ok": {"from": {"column": "ok", "aggregate": "pass_all" if repeats else "rate"}},
                "score": {"from": {"column": "score", "aggregate": "mean"}},
            },
            "table": table,
            "review": {"columns": ["prompt"]},
            "gates": [
                {"id": "ok", "metric": "ok", "slices": ["*"], "max_decrease": 0.0},
                {"id": "score", "metric": "score", "slices": ["*"], "max_decrease": 0.0},
            ],
            "rollback": ROLLBACK,
        }
    )


def write(path: Path, n: int, k: int, rate: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n), k)
    epoch = np.tile(np.arange(1, k + 1), n)
    table = pa.table(
        {
            "id": pa.array([f"ex-{i:07d}" for i in ids]),
            "epoch": epoch,
            "task": pa.array(np.array(["billing", "outage", "security", "other"])[ids % 4]).dictionary_encode(),
            "ok": rng.random(n * k) < rate,
            "score": rng.random(n * k),
            "prompt": pa.array([f"prompt {i}" for i in ids]),
        }
    )
    pq.write_table(table, path)


def best(rounds: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n, k = args.examples, args.repeats
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        write(here / "c.parquet", n, k, 0.80, 1)
        write(here / "b.parquet", n, k, 0.82, 2)
        write(here / "c1.parquet", n, 1, 0.80, 1)
        write(here / "b1.parquet", n, 1, 0.82, 2)
        with_repeats, plain = make_spec(True), make_spec(False)
        t_repeats = best(args.rounds, lambda: load_results(here / "c.parquet", with_repeats))
        t_plain = best(args.rounds, lambda: load_results(here / "c1.parquet", plain))
        print(f"read {n:,} examples x {k} repeats with table.repeats: {t_repeats:.3f} s")
        print(f"read {n:,} examples x 1 row (no repeats):           {t_plain:.3f} s")
        candidate, baseline = load_results(here / "c1.parquet", plain), load_results(here / "b1.parquet", plain)
        t_verdict = best(args.rounds, lambda: build_verdict(plain, candidate, baseline, spec_path="s"))
        from gatekit.decide import review

        verdict = build_verdict(plain, candidate, baseline, spec_path="s")
        t_queue = best(args.rounds, lambda: review.review_queue(plain, verdict.gates, candidate, baseline))
        queued = sum(1 for r in verdict.review)
        print(f"build_verdict (with the review queue of {queued} slices): {t_verdict:.3f} s")
        print(f"  of which the review queue alone:                   {t_queue:.3f} s")


if __name__ == "__main__":
    main()
