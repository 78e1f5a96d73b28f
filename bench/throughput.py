"""Throughput benchmark: `gatekit check` on per-example tables against the pyarrow floor and a pandas peer.

Not a test. Run it by hand (needs the `[bench]` extra for pandas):

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/throughput.py            # 5,000,000 Parquet rows per side, 1,000,000 JSONL rows

It writes (once, with a fixed seed) candidate and baseline tables into bench/data/ (gitignored): three slice
columns (task x120, language x50, domain x30: 200 slices plus `all`), a boolean, a score, a latency and a
cost column. Then it times, each as a fresh process and with its peak RSS (wait4), in interleaved rounds
(every command once per round) so that the ratios compare runs made side by side on a noisy machine:

* gatekit: `gatekit check` with 10 gates over every slice (rates, means, p95 latency, baseline deltas);
* floor: reading the same columns of both files with pyarrow's `pq.read_table` and nothing else;
* lean floor: the same read through `ParquetFile.read`, which skips `pq.read_table`'s import of
  pyarrow.dataset and, with it, of pandas (gatekit reads this way);
* peer: pandas reading both files and computing rate, mean and p95 per slice (no intervals, no verdict);
* start-up: `gatekit --version` and `gatekit validate` on a small spec.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PYTHON = sys.executable
GATEKIT = [PYTHON, "-m", "gatekit"]
SEED = 20260101
SLICES = {"task": 120, "language": 50, "domain": 30}
COLUMNS = [*SLICES, "correct", "score", "latency_ms", "cost_usd"]

SPEC = """\
version: 1
name: throughput-bench
hypothesis: {{statement: bench, stage: other, improves: accuracy, owner: bench, written: 2026-01-01}}
candidate: candidate.{ext}
baseline: baseline.{ext}
metrics:
  accuracy: {{from: {{column: correct, aggregate: rate}}, higher_is_better: true}}
  score: {{from: {{column: score, aggregate: mean}}, higher_is_better: true}}
  latency_p95_ms: {{from: {{column: latency_ms, aggregate: p95}}, higher_is_better: false}}
  cost_usd: {{from: {{column: cost_usd, aggregate: mean}}, higher_is_better: false}}
  cost_total_usd: {{from: {{column: cost_usd, aggregate: sum}}, higher_is_better: false}}
table:
  slice_by: [task, language, domain]
  non_negative: [latency_ms, cost_usd]
gates:
  - {{id: accuracy-floor, metric: accuracy, slices: ["*"], min: 0.5}}
  - {{id: accuracy-delta, metric: accuracy, slices: ["*"], max_decrease: 0.05, on_fail: stop}}
  - {{id: score-floor, metric: score, slices: ["*"], min: 0.2}}
  - {{id: score-delta, metric: score, slices: ["*"], max_decrease_pct: 5}}
  - {{id: latency-ceiling, metric: latency_p95_ms, slices: ["*"], max: 20000}}
  - {{id: latency-delta, metric: latency_p95_ms, slices: ["*"], max_increase_pct: 20}}
  - {{id: cost-ceiling, metric: cost_usd, slices: ["*"], max: 0.05}}
  - {{id: cost-delta, metric: cost_usd, slices: ["*"], max_increase_pct: 10}}
  - {{id: cost-total, metric: cost_total_usd, slices: ["*"], max_increase_pct: 10}}
  - {{id: accuracy-close, metric: accuracy, slices: ["*"], max_decrease: 0.2}}
rollback: {{}}
"""

FLOOR = """
import sys, pyarrow.parquet as pq
cols = {cols!r}
for path in sys.argv[1:]:
    pq.read_table(path, columns=cols)
"""

# The same read without pq.read_table's detour through pyarrow.dataset, which imports pandas (gatekit reads
# this way): the strictest floor, with nothing in it but the interpreter, pyarrow and the read.
LEAN_FLOOR = """
import sys, pyarrow.parquet as pq
cols = {cols!r}
for path in sys.argv[1:]:
    with pq.ParquetFile(path) as f:
        f.read(columns=cols)
"""

PEER = """
import sys, pandas as pd
dims = {dims!r}
for path in sys.argv[1:]:
    df = pd.read_parquet(path, columns={cols!r}) if path.endswith(".parquet") else pd.read_json(path, lines=True)
    out = []
    for dim in [None, *dims]:
        g = df.groupby(dim, observed=True) if dim else df.assign(_all=0).groupby("_all")
        out.append(g.agg(accuracy=("correct", "mean"), score=("score", "mean"), cost=("cost_usd", "mean"),
                         cost_total=("cost_usd", "sum")))
        out.append(g["latency_ms"].quantile(0.95))
"""


def generate(rows: int, fmt: str, force: bool = False) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    paths = (DATA / f"candidate.{fmt}", DATA / f"baseline.{fmt}")
    if all(p.exists() for p in paths) and not force:
        return paths
    rng = np.random.default_rng(SEED)
    for path, shift in zip(paths, (0.0, 0.01), strict=True):
        cols: dict[str, pa.Array] = {}
        for name, count in SLICES.items():
            codes = rng.integers(0, count, rows, dtype=np.int32)
            labels = pa.array([f"{name}_{i:03d}" for i in range(count)])
            cols[name] = pa.DictionaryArray.from_arrays(pa.array(codes), labels)
        cols["correct"] = pa.array(rng.random(rows) < 0.8 - shift)
        cols["score"] = pa.array(np.clip(rng.normal(0.7 - shift, 0.15, rows), 0, 1))
        cols["latency_ms"] = pa.array(rng.lognormal(6.5, 0.5, rows))
        cols["cost_usd"] = pa.array(rng.gamma(2.0, 0.002, rows))
        table = pa.table(cols)
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            _write_jsonl(table, path)
    return paths


def _write_jsonl(table: object, path: Path) -> None:
    data = table.to_pydict()  # type: ignore[attr-defined]
    names = list(data)
    with path.open("w", encoding="utf-8") as f:
        for values in zip(*(data[n] for n in names), strict=True):
            f.write(json.dumps(dict(zip(names, values, strict=True))) + "\n")


TIMEOUT = 300.0


def run(argv: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB, exit code of one fresh process (exit -1: killed after TIMEOUT s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > TIMEOUT:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return math.inf, usage.ru_maxrss / 1024, -1
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 2, 3, 4):
        raise SystemExit(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


@dataclass
class Timings:
    """Every run of one command: wall seconds and the highest peak RSS."""

    seconds: list[float] = field(default_factory=list)
    rss: float = 0.0
    code: int = 0

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, Timings]:
    """Each command `repeat` times, in rounds (a, b, c, a, b, c, ...), so that a slow spell of a noisy
    machine falls on every command alike and the ratios compare runs made side by side."""
    out = {name: Timings() for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            seconds, rss, code = run(argv)
            timings = out[name]
            timings.seconds.append(seconds)
            timings.rss = max(timings.rss, rss)
            timings.code = code
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000, help="Parquet rows per file")
    parser.add_argument("--jsonl-rows", type=int, default=1_000_000, help="JSONL rows per file")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of runs (best and median are shown)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds before a run is killed")
    args = parser.parse_args()
    globals()["TIMEOUT"] = args.timeout

    rows: list[tuple[str, Timings | None, str]] = []
    ratios: list[tuple[str, float, float, str]] = []
    for fmt, count in (("parquet", args.rows), ("jsonl", args.jsonl_rows)):
        print(f"generating {fmt} data ({count:,} rows per file) ...", file=sys.stderr, flush=True)
        cand, base = generate(count, fmt, args.regenerate)
        spec = DATA / f"gate-{fmt}.yaml"
        spec.write_text(SPEC.format(ext=fmt), encoding="utf-8")
        # The same without the p95 baseline-delta gate: what the quantile intervals cost.
        lean = DATA / f"gate-{fmt}-no-p95-delta.yaml"
        lean.write_text(
            "\n".join(line for line in SPEC.format(ext=fmt).splitlines() if "latency-delta" not in line) + "\n",
            encoding="utf-8",
        )
        label = f"{count:,} rows x2, {fmt}"
        commands = {
            "gatekit": [*GATEKIT, "check", str(spec), "--format", "json"],
            "gatekit-lean": [*GATEKIT, "check", str(lean), "--format", "json"],
            "peer": [PYTHON, "-c", PEER.format(dims=list(SLICES), cols=COLUMNS), str(cand), str(base)],
        }
        if fmt == "parquet":
            commands["floor"] = [PYTHON, "-c", FLOOR.format(cols=COLUMNS), str(cand), str(base)]
            commands["lean-floor"] = [PYTHON, "-c", LEAN_FLOOR.format(cols=COLUMNS), str(cand), str(base)]
        print(f"timing {', '.join(commands)}: {args.repeat} rounds ...", file=sys.stderr, flush=True)
        t = interleaved(commands, args.repeat)
        g = t["gatekit"]
        note = f"exit {g.code}" if g.code >= 0 else f"killed after {TIMEOUT:.0f} s"
        rows.append((f"gatekit check, 10 gates x 201 slices ({label})", g, note))
        g_lean = t["gatekit-lean"]
        rows.append((f"gatekit check, 9 gates (no p95 delta) ({label})", g_lean, f"exit {g_lean.code}"))
        if fmt == "parquet":
            rows.append((f"floor: pyarrow `pq.read_table` of the same columns ({label})", t["floor"], ""))
            rows.append((f"lean floor: pyarrow `ParquetFile.read`, no pandas import ({label})", t["lean-floor"], ""))
        rows.append((f"peer: pandas group-by, rate/mean/p95 ({label})", t["peer"], ""))
        if fmt == "parquet":
            ratios.append(("gatekit / floor", g.best / t["floor"].best, g.median / t["floor"].median, "target <= 2.5"))
            ratios.append(
                ("gatekit / lean floor", g.best / t["lean-floor"].best, g.median / t["lean-floor"].median, "")
            )
        target = "target < 1" if fmt == "parquet" else ""
        ratios.append((f"gatekit / pandas ({fmt})", g.best / t["peer"].best, g.median / t["peer"].median, target))

    small = HERE.parent / "examples" / "incident-bot" / "gate.yaml"
    t = interleaved({"version": [*GATEKIT, "--version"], "validate": [*GATEKIT, "validate", str(small)]}, args.repeat)
    rows.append(("gatekit --version", t["version"], "target < 0.3 s"))
    rows.append(("gatekit validate (small spec)", t["validate"], "target < 0.3 s"))

    print(f"best and median of {args.repeat} interleaved rounds")
    print()
    print("| measurement | best s | median s | peak RSS MiB | note |")
    print("|---|---:|---:|---:|---|")
    for name, timings, note in rows:
        assert timings is not None
        best, median = (
            (f"{timings.best:.2f}", f"{timings.median:.2f}") if math.isfinite(timings.best) else ("> timeout", "")
        )
        print(f"| {name} | {best} | {median} | {timings.rss:.0f} | {note} |")
    print()
    print("| ratio | of best | of medians | note |")
    print("|---|---:|---:|---|")
    for name, of_best, of_median, note in ratios:
        print(f"| {name} | {of_best:.2f}x | {of_median:.2f}x | {note} |")


if __name__ == "__main__":
    main()
