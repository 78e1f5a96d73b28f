"""Large inputs in gatekit's own formats and a large one-column table: how long a check takes, how much memory.

    python bench/hostile_inputs.py            # 10 MB JSON and YAML, 100 MB JSON with one bad field, 1 GB CSVs
    python bench/hostile_inputs.py --csv-mb 100   # a smaller CSV (the full one needs ~1 GB of free disk)
    python bench/hostile_inputs.py --only csv flow --against /tmp/old   # also by the gatekit in /tmp/old
    # (made with `mkdir /tmp/old && git archive BASE gatekit | tar -x -C /tmp/old`)

Every file is generated in a temporary folder and deleted afterwards. Each check runs in a fresh process
(`gatekit check`), timed from outside, with its peak resident memory (ru_maxrss of the child) printed. With
`--against`, the other checkout's check of the same file runs right after, and both are printed side by side.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def _run(spec: Path, code_from: Path | None = None) -> tuple[float, int, float, str]:
    """(seconds, exit code, peak RSS in MiB, last stderr line) of one `gatekit check` in a fresh process, of
    this checkout's gatekit or, with `code_from`, of the gatekit package in that folder."""
    env = dict(os.environ)
    if code_from is not None:
        env["PYTHONPATH"] = str(code_from)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "gatekit", "check", str(spec), "--format", "json"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=spec.parent,  # not this checkout's root, whose gatekit/ would come before PYTHONPATH's
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the most of all children
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        last = (err.read().strip().splitlines() or [""])[-1][:140]
    return seconds, child.returncode, usage.ru_maxrss / 1024, last


def _write_block_results(path: Path, target_bytes: int) -> None:
    """The same results in YAML's block style (`yaml.safe_dump(default_flow_style=False)`): a line per key."""
    entry = "    slice_{i:07d}:\n      value: 0.912345\n      n: 1000\n"
    count = max(1, target_bytes // len(entry.format(i=0)))
    with path.open("w", encoding="utf-8") as f:
        f.write("model: m\nmetrics:\n  score:\n")
        for start in range(0, count, 10000):
            f.write("".join(entry.format(i=i) for i in range(start, min(count, start + 10000))))
        f.write("    all:\n      value: 0.9\n      n: 100000\n")


def _own_format(folder: Path, name: str, target_bytes: int, *, block: bool = False, **shape: bool) -> Path:
    if block:
        _write_block_results(folder / name, target_bytes)
    else:
        _write_results(folder / name, target_bytes, **shape)
    spec = folder / f"{name}.gate.yaml"
    spec.write_text(SPEC.format(candidate=name, extra=""), encoding="utf-8")
    return spec


def _csv(folder: Path, megabytes: int, *, cells: str = "scores") -> Path:
    """A one-column CSV: four 4-decimal scores over and over (7 bytes a row), `random` 4-decimal scores (10,001
        distinct texts, every block holding most of them), `floats`: random full-precision floats (19 bytes a row,
    nearly all distinct), or `rate` 0/1 cells (2 bytes a row: the most rows a
        gigabyte holds, 537M)."""
    import numpy as np

    path = folder / "rows.csv"
    texts = [f"{i / 10000:.4f}\n".encode() for i in range(10001)]
    pick = np.random.default_rng(1)
    fixed = (
        [b"1\n", b"0\n", b"1\n", b"1\n"] if cells == "rate" else [b"1.2500\n", b"0.7500\n", b"0.0625\n", b"0.5000\n"]
    )
    with path.open("wb") as f:
        f.write(b"score\n")
        written = 0
        while written < megabytes << 20:
            if cells == "random":
                block = b"".join([texts[i] for i in pick.integers(0, len(texts), 1 << 16)])
            elif cells == "floats":
                block = "".join(f"{x!r}\n" for x in pick.random(1 << 16).tolist()).encode()
            else:
                block = b"".join(fixed * 16384)
            f.write(block)
            written += len(block)
    spec = folder / "csv.gate.yaml"
    aggregate = "rate" if cells == "rate" else "mean"
    extra = f"metrics:\n  score: {{from: {{column: score, aggregate: {aggregate}}}}}\n"
    spec.write_text(SPEC.format(candidate="rows.csv", extra=extra), encoding="utf-8")
    return spec


INPUTS = ("json", "yaml-json", "flow-small", "flow", "block", "bad-json", "csv", "csv-random", "csv-floats", "csv-rate")


def _inputs(folder: Path, args: argparse.Namespace) -> Iterator[tuple[str, Path, Path]]:
    """(label, spec, the results file it reads) of each input asked for, made just before it is checked."""
    mb = args.mb << 20
    made: dict[str, tuple[str, Callable[[], Path]]] = {
        "json": ("results JSON, one line", lambda: _own_format(folder, "r.json", mb)),
        # The same JSON line saved as .yaml: read by the JSON parser (YAML reads it the same way).
        "yaml-json": ("results YAML (JSON text), one line", lambda: _own_format(folder, "r.yaml", mb)),
        # YAML's flow style without JSON's quotes (`yaml.safe_dump(default_flow_style=True)`): read as YAML.
        "flow-small": (
            "results YAML (flow style), one line",
            lambda: _own_format(folder, "s.yaml", args.yaml_mb << 20, quoted=False),
        ),
        "flow": ("results YAML (flow style), one line", lambda: _own_format(folder, "f.yaml", mb, quoted=False)),
        "block": ("results YAML (block style)", lambda: _own_format(folder, "b.yaml", mb, block=True)),
        "bad-json": (
            "results JSON, one bad field at the end",
            lambda: _own_format(folder, "bad.json", args.bad_json_mb << 20, bad_at_end=True),
        ),
        "csv": ("one-column CSV (mean of 4-decimal scores)", lambda: _csv(folder, args.csv_mb)),
        "csv-random": (
            "one-column CSV (mean of random 4-dec. scores)",
            lambda: _csv(folder, args.csv_mb, cells="random"),
        ),
        "csv-floats": ("one-column CSV (mean of random floats)", lambda: _csv(folder, args.csv_mb, cells="floats")),
        "csv-rate": ("one-column CSV (rate of 0/1 cells)", lambda: _csv(folder, args.csv_mb, cells="rate")),
    }
    for key in args.only:
        if key.startswith("csv") and not args.csv_mb:
            continue
        label, make = made[key]
        spec = make()
        data = folder / ("rows.csv" if key.startswith("csv") else spec.name.removesuffix(".gate.yaml"))
        yield label, spec, data


def _shown(seconds: float, code: int, rss: float) -> str:
    return f"{seconds:>8.2f} {code:>5} {rss:>7.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=10, help="size of the JSON and YAML results files (MiB)")
    parser.add_argument("--yaml-mb", type=int, default=4, help="size of the smaller flow-style YAML (MiB)")
    parser.add_argument("--bad-json-mb", type=int, default=100, help="size of the JSON file with a bad field")
    parser.add_argument("--csv-mb", type=int, default=1024, help="size of the one-column CSV (MiB); 0 skips it")
    parser.add_argument("--only", nargs="+", choices=INPUTS, default=list(INPUTS), help="the inputs to check")
    parser.add_argument("--against", type=Path, help="a folder holding another gatekit package, checked beside")
    args = parser.parse_args()
    header = f"{'input':<46} {'size':>9} {'seconds':>8} {'exit':>5} {'peak RSS':>10}"
    if args.against:
        header += f"   | {args.against}: {'seconds':>8} {'exit':>5} {'peak RSS':>10}"
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="gatekit-bench-") as tmp:
        for label, spec, data in _inputs(Path(tmp), args):
            size = data.stat().st_size / 2**20
            seconds, code, rss, last = _run(spec)
            line = f"{label:<46} {size:>6.1f} MB {_shown(seconds, code, rss)}"
            if args.against:
                other = _run(spec, args.against)
                line += f"   | {_shown(*other[:3])}"
            print(line, flush=True)
            if code == 2:
                print(f"    {last}")
            data.unlink()


if __name__ == "__main__":
    main()
