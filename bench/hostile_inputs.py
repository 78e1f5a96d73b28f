"""Large inputs in gatekit's own formats and a large one-column table: how long a check takes, how much memory.

    python bench/hostile_inputs.py            # 10 MB JSON and YAML, 100 MB JSON with one bad field, 1 GB CSV
    python bench/hostile_inputs.py --csv-mb 100   # a smaller CSV (the full one needs ~1 GB of free disk)

Every file is generated in a temporary folder and deleted afterwards. Each check runs in a fresh process
(`gatekit check`), timed from outside, with its peak resident memory (ru_maxrss of the child) printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """\
version: 1
name: bench
hypothesis: {{statement: s, stage: other, improves: score, owner: o, written: 2026-01-01}}
candidate: {candidate}
{extra}gates:
  - {{id: g, metric: score, slices: ["all"], min: 0.1}}
rollback: {{}}
"""


def _write_results(path: Path, target_bytes: int, *, quoted: bool = True, bad_at_end: bool = False) -> None:
    """A results file of about `target_bytes` on one line: one metric with many slices, written in pieces
    so that this process stays small (a child's peak RSS counts the parent's at fork time)."""
    q = '"' if quoted else ""
    entry = f"{q}slice_{{i:07d}}{q}: {{{{{q}value{q}: 0.912345, {q}n{q}: 1000}}}}"
    last = (
        f"{q}all{q}: {{{q}value{q}: {q}high{q}}}" if bad_at_end else f"{q}all{q}: {{{q}value{q}: 0.9, {q}n{q}: 100000}}"
    )
    count = max(1, target_bytes // (len(entry.format(i=0)) + 2))
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{{{q}model{q}: {q}m{q}, {q}metrics{q}: {{{q}score{q}: {{")
        for start in range(0, count, 10000):
            f.write("".join(entry.format(i=i) + ", " for i in range(start, min(count, start + 10000))))
        f.write(last + "}}}\n")


def _run(spec: Path) -> tuple[float, int, float, str]:
    """(seconds, exit code, peak RSS in MiB, last stderr line) of one `gatekit check` in a fresh process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "gatekit", "check", str(spec), "--format", "json"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the most of all children
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        last = (err.read().strip().splitlines() or [""])[-1][:140]
    return seconds, child.returncode, usage.ru_maxrss / 1024, last


def _own_format(folder: Path, name: str, target_bytes: int, **shape: bool) -> Path:
    _write_results(folder / name, target_bytes, **shape)
    spec = folder / f"{name}.gate.yaml"
    spec.write_text(SPEC.format(candidate=name, extra=""), encoding="utf-8")
    return spec


def _csv(folder: Path, megabytes: int) -> Path:
    path = folder / "rows.csv"
    block = b"".join([b"1.2500\n", b"0.7500\n", b"0.0625\n", b"0.5000\n"] * 16384)
    with path.open("wb") as f:
        f.write(b"score\n")
        written = 0
        while written < megabytes << 20:
            f.write(block)
            written += len(block)
    spec = folder / "csv.gate.yaml"
    extra = "metrics:\n  score: {from: {column: score, aggregate: mean}}\n"
    spec.write_text(SPEC.format(candidate="rows.csv", extra=extra), encoding="utf-8")
    return spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=10, help="size of the JSON and YAML results files (MiB)")
    parser.add_argument("--yaml-mb", type=int, default=4, help="size of the flow-style YAML read as YAML")
    parser.add_argument("--bad-json-mb", type=int, default=100, help="size of the JSON file with a bad field")
    parser.add_argument("--csv-mb", type=int, default=1024, help="size of the one-column CSV (MiB); 0 skips it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gatekit-bench-") as tmp:
        folder = Path(tmp)
        mb = args.mb << 20
        rows = [
            ("results JSON, one line", _own_format(folder, "r.json", mb)),
            # The same JSON line saved as .yaml: read by the JSON parser (YAML reads it the same way).
            ("results YAML (JSON text), one line", _own_format(folder, "r.yaml", mb)),
            # YAML's flow style without JSON's quotes (`yaml.safe_dump(default_flow_style=True)`): read as YAML.
            ("results YAML (flow style), one line", _own_format(folder, "s.yaml", args.yaml_mb << 20, quoted=False)),
            ("results YAML (flow style), one line", _own_format(folder, "f.yaml", mb, quoted=False)),
            (
                "results JSON, one bad field at the end",
                _own_format(folder, "bad.json", args.bad_json_mb << 20, bad_at_end=True),
            ),
        ]
        print(f"{'input':<42} {'size':>9} {'seconds':>8} {'exit':>5} {'peak RSS':>10}")
        for label, spec in rows:
            size = (spec.parent / spec.name.removesuffix(".gate.yaml")).stat().st_size
            seconds, code, rss, last = _run(spec)
            print(f"{label:<42} {size / 2**20:>6.1f} MB {seconds:>8.2f} {code:>5} {rss:>7.0f} MiB")
            if code == 2:
                print(f"    {last}")
            (spec.parent / spec.name.removesuffix(".gate.yaml")).unlink()
        if args.csv_mb:
            spec = _csv(folder, args.csv_mb)
            size = (folder / "rows.csv").stat().st_size
            seconds, code, rss, last = _run(spec)
            label = "one-column CSV (mean of 4-decimal scores)"
            print(f"{label:<42} {size / 2**20:>6.0f} MB {seconds:>8.2f} {code:>5} {rss:>7.0f} MiB")
            (folder / "rows.csv").unlink()


if __name__ == "__main__":
    main()
