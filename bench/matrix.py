"""A matrix of table shapes that look like users' data: `gatekit check` against DuckDB, polars, pandas and
the pyarrow read floor, side by side.

Not a test. Run it by hand (needs the `[bench]` extra for duckdb, polars and pandas):

    .venv/bin/pip install -c constraints.txt -e '.[bench]'
    nice -n 10 .venv/bin/python bench/matrix.py --quick          # a few shapes at 200,000 rows: iteration
    nice -n 10 .venv/bin/python bench/matrix.py                  # every shape at 1M and 5M rows, + 50M
    nice -n 10 .venv/bin/python bench/matrix.py --only paired-cross --rows 5000000
    nice -n 10 .venv/bin/python bench/matrix.py --quick --against /work/main/.venv/bin/python  # old and new
    nice -n 10 .venv/bin/python bench/matrix.py --quick --terminal  # gatekit printing its terminal report

Each shape is generated once, seeded, into bench/data/matrix/ (gitignored): a candidate and a baseline file
with a boolean `correct`, a `score` and a `latency_ms`, one to three slice columns (plain text, Arrow
dictionary-encoded text, or integers), and optionally a text `id` column holding the same ids on both sides in
another row order (so that comparisons pair). Slice sizes are Zipf-skewed; one shape has 1,500 values in one
column. Bad cells are mixed in where a shape says so: NaN and null scores, null correctness, NaN latencies
and +inf latencies (timeouts). JSONL cannot hold NaN or infinity, so there a bad cell is a null.

Every command runs as a fresh process, in interleaved rounds (a, b, c, a, b, c, ...) so that a slow spell of
the shared machine falls on every command alike; the table shows each command's best time and peak RSS and
the ratio gatekit / peer. Every peer computes what gatekit computes per slice of every cut (`all`, each
`slice_by` column, each cross), for both files: the count, the rate of `correct`, the mean and standard
deviation of `score`, the exact p95 (nearest rank) of `latency_ms`, and candidate minus baseline per slice
(with ids: the mean and standard deviation of the paired differences, joined on `id`). None of them computes
an interval, a bound or a verdict, so they are a floor for the work, not a second implementation.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from throughput import GATEKIT, PYTHON, Timings, interleaved  # noqa: E402

DATA = HERE / "data" / "matrix"
SEED = 20261201
VALUES = ["correct", "score", "latency_ms"]


@dataclass(frozen=True)
class Shape:
    """One kind of table. `slices` is the number of values of each slice column, `kind` how they are stored."""

    name: str
    slices: tuple[int, ...]
    kind: str = "string"  # string | dict | int
    ids: bool = False
    crosses: bool = False
    bad: bool = False
    zipf: float = 1.1
    int_ids: bool = False
    """Integer ids (0..rows-1, another order on each side) instead of text ones."""
    output_bytes: int = 0
    """A text column `output` (a model's output, which no gate reads) of about this many bytes a row."""
    example_slices: bool = False
    """With ids: an example's slice values are its own, the same on both sides (so every slice pairs), instead
    of drawn again for each side (so only `all` pairs and each slice is compared unpaired)."""

    def columns(self) -> list[str]:
        return [f"s{i}" for i in range(len(self.slices))]

    def crossed(self) -> list[tuple[str, str]]:
        names = self.columns()
        if not self.crosses:
            return []
        return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]

    def n_slices(self) -> int:
        index = dict(zip(self.columns(), self.slices, strict=True))
        return 1 + sum(self.slices) + sum(index[a] * index[b] for a, b in self.crossed())


SHAPES = [
    Shape("dict-1", (40,), kind="dict"),
    Shape("int-2", (40, 12), kind="int"),
    Shape("string-3", (12, 6, 4), kind="string", bad=True),
    Shape("string-3-cross", (12, 6, 4), kind="string", crosses=True, bad=True),
    Shape("paired", (12, 6, 4), kind="string", ids=True, bad=True),
    Shape("paired-cross", (12, 6, 4), kind="string", ids=True, crosses=True, bad=True),
    Shape("many-slices", (1500,), kind="string", zipf=1.05, bad=True),
    Shape("many-paired-dict", (1500, 6), kind="dict", ids=True, zipf=1.05),
    Shape("outputs", (12, 6), kind="string", ids=True, bad=True, int_ids=True, output_bytes=300),
    Shape("paired-slices", (12, 6, 4), kind="string", ids=True, crosses=True, example_slices=True),
    Shape("many-paired-slices", (1500,), kind="string", ids=True, zipf=1.05, example_slices=True),
    Shape("cross-grid", (100, 60), kind="string", crosses=True, bad=True),
    Shape("int-ids-10k", (10000,), kind="int", zipf=0.8, ids=True, int_ids=True),
    Shape("int-ids-10k-paired", (10000,), kind="int", zipf=0.8, ids=True, int_ids=True, example_slices=True),
]
QUICK = ["dict-1", "paired-cross", "many-slices"]
FORMATS = ["parquet", "csv", "jsonl"]


def spec_text(shape: Shape, fmt: str) -> str:
    cross = ", ".join(f"[{a}, {b}]" for a, b in shape.crossed())
    id_line = "  id_column: id\n" if shape.ids else ""
    return f"""\
version: 1
name: matrix-{shape.name}
hypothesis: {{statement: bench, stage: other, improves: accuracy, owner: bench, written: 2026-01-01}}
candidate: candidate.{fmt}
baseline: baseline.{fmt}
metrics:
  accuracy: {{from: {{column: correct, aggregate: rate}}, higher_is_better: true}}
  score: {{from: {{column: score, aggregate: mean}}, higher_is_better: true}}
  latency_p95_ms: {{from: {{column: latency_ms, aggregate: p95}}, higher_is_better: false}}
table:
  slice_by: [{", ".join(shape.columns())}]
  slice_cross: [{cross}]
{id_line}  non_negative: [latency_ms]
  drop_invalid: {"true" if shape.bad else "false"}
gates:
  - {{id: accuracy-floor, metric: accuracy, slices: ["*"], min: 0.5}}
  - {{id: accuracy-delta, metric: accuracy, slices: ["*"], max_decrease: 0.05, on_fail: stop}}
  - {{id: score-floor, metric: score, slices: ["*"], min: 0.2}}
  - {{id: score-delta, metric: score, slices: ["*"], max_decrease_pct: 5}}
  - {{id: latency-ceiling, metric: latency_p95_ms, slices: ["*"], max: 20000}}
  - {{id: latency-delta, metric: latency_p95_ms, slices: ["*"], max_increase_pct: 20}}
rollback: {{}}
"""


def _zipf_codes(rng: object, count: int, rows: int, s: float) -> object:
    import numpy as np

    weights = 1.0 / np.arange(1, count + 1) ** s
    # Shuffled, so that the largest slice is not always the first label.
    weights = weights[rng.permutation(count)]  # type: ignore[attr-defined]
    return rng.choice(count, size=rows, p=weights / weights.sum()).astype(np.int32)  # type: ignore[attr-defined]


def _arrow_table(shape: Shape, rows: int, side: int) -> object:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([SEED, side, rows, sum(map(ord, shape.name))])
    shift = 0.01 * side
    cols: dict[str, pa.Array] = {}
    example = None
    if shape.ids:
        # The same ids on both sides, in another order: the baseline is a permutation of the candidate.
        order = np.random.default_rng([SEED, rows]).permutation(rows)
        order = order if side == 0 else order[rng.permutation(rows)]
        example = order
        cols["id"] = (
            pa.array(order.astype(np.int64)) if shape.int_ids else pa.array(np.char.add("ex-", order.astype("U9")))
        )
    shared = np.random.default_rng([SEED, rows, 7, sum(map(ord, shape.name))])
    for name, count in zip(shape.columns(), shape.slices, strict=True):
        if shape.example_slices and example is not None:
            codes = _zipf_codes(shared, count, rows, shape.zipf)[example]  # example k's values on both sides
        else:
            codes = _zipf_codes(rng, count, rows, shape.zipf)
        if shape.kind == "int":
            cols[name] = pa.array(codes * 7 + 100)
        else:
            labels = pa.array([f"{name}_{i:04d}" for i in range(count)])
            encoded = pa.DictionaryArray.from_arrays(pa.array(codes), labels)
            cols[name] = encoded if shape.kind == "dict" else encoded.dictionary_decode()
    correct = rng.random(rows) < 0.8 - shift
    score = np.clip(rng.normal(0.7 - shift, 0.15, rows), 0, 1)
    latency = rng.lognormal(6.5, 0.5, rows) * (1 + shift)
    null_correct = null_score = null_latency = None
    if shape.bad:
        score[rng.random(rows) < 0.001] = np.nan
        null_score = rng.random(rows) < 0.001
        null_correct = rng.random(rows) < 0.0005
        latency[rng.random(rows) < 0.0005] = np.nan
        latency[rng.random(rows) < 0.002] = np.inf  # timed out: the slowest, never dropped
        null_latency = rng.random(rows) < 0.0005
    cols["correct"] = pa.array(correct, mask=null_correct)
    cols["score"] = pa.array(score, mask=null_score)
    cols["latency_ms"] = pa.array(latency, mask=null_latency)
    if shape.output_bytes:
        cols["output"] = _output_text(rng, rows, shape.output_bytes)
    return pa.table(cols)


def _output_text(rng: object, rows: int, mean_bytes: int) -> object:
    """`rows` texts of random lowercase words, of 1 to 2 x `mean_bytes` bytes each, straight into Arrow buffers."""
    import numpy as np
    import pyarrow as pa

    lengths = rng.integers(1, 2 * mean_bytes, size=rows)  # type: ignore[attr-defined]
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz      ", dtype=np.uint8)
    body = alphabet[rng.integers(0, len(alphabet), size=int(offsets[-1]), dtype=np.uint8)]  # type: ignore[attr-defined]
    return pa.Array.from_buffers(pa.large_string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(body)])


def _paths(shape: Shape, rows: int, fmt: str) -> tuple[Path, Path, Path]:
    folder = DATA / f"{shape.name}-{rows}"
    return folder / f"candidate.{fmt}", folder / f"baseline.{fmt}", folder / f"gate-{fmt}.yaml"


def generate(shape: Shape, rows: int, fmt: str) -> tuple[Path, Path, Path]:
    """The candidate, the baseline and the spec of a shape, written once."""
    *paths, spec = _paths(shape, rows, fmt)
    folder = spec.parent
    folder.mkdir(parents=True, exist_ok=True)
    spec.write_text(spec_text(shape, fmt), encoding="utf-8")
    for side, path in enumerate(paths):
        if path.exists():
            continue
        print(f"  writing {path.relative_to(HERE)}", file=sys.stderr, flush=True)
        parquet = folder / f"{path.stem}.parquet"
        if not parquet.exists():
            import pyarrow.parquet as pq

            pq.write_table(_arrow_table(shape, rows, side), parquet)  # type: ignore[arg-type]
        if fmt != "parquet":
            _convert(parquet, path, fmt)
    return paths[0], paths[1], spec


def _convert(parquet: Path, path: Path, fmt: str) -> None:
    import duckdb

    tmp = path.with_suffix(".tmp")
    if fmt == "csv":
        # DuckDB writes a null as an empty cell and NaN / inf as `nan` / `inf` (bad cells to gatekit).
        duckdb.sql(f"COPY (SELECT * FROM '{parquet}') TO '{tmp}' (FORMAT csv, HEADER)")
    else:
        # JSON has no NaN or infinity: a bad number is a null there.
        fix = ", ".join(f"CASE WHEN isfinite({c}) THEN {c} ELSE NULL END AS {c}" for c in ("score", "latency_ms"))
        duckdb.sql(f"COPY (SELECT * EXCLUDE (score, latency_ms), {fix} FROM '{parquet}') TO '{tmp}' (FORMAT json)")
    tmp.rename(path)


# ------------------------------------------------------------------------------------------------ the peers

DUCKDB_PEER = """
import sys, duckdb
dims, crosses, ids, fmt = {dims!r}, {crosses!r}, {ids!r}, {fmt!r}
con = duckdb.connect()
con.execute("SET threads TO 2")
reader = {{"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}}[fmt]
sets = ", ".join(["()", *[f"({{d}})" for d in dims], *[f"({{a}}, {{b}})" for a, b in crosses]])
cols = ", ".join(dims)
def stats(path):
    return con.sql(f'''
        SELECT {{cols}}, GROUPING({{cols}}) AS cut, count(*) AS n,
               avg(correct::DOUBLE) AS rate,
               avg(score) FILTER (WHERE isfinite(score)) AS mean,
               stddev_samp(score) FILTER (WHERE isfinite(score)) AS sd,
               quantile_disc(coalesce(latency_ms, 'inf'::DOUBLE), 0.95)
                   FILTER (WHERE NOT isnan(coalesce(latency_ms, 0))) AS p95
        FROM {{reader}}('{{path}}') GROUP BY GROUPING SETS ({{sets}})''')
c, b = stats(sys.argv[1]), stats(sys.argv[2])
keys = " AND ".join([*(f"c.{{d}} IS NOT DISTINCT FROM b.{{d}}" for d in dims), "c.cut = b.cut"])
con.sql(f"SELECT c.*, c.rate - b.rate, c.mean - b.mean, c.p95 - b.p95 FROM c JOIN b ON {{keys}}").fetchall()
if ids:
    con.sql(f'''
        SELECT {{", ".join(f"c.{{d}}" for d in dims)}}, count(*), avg(c.score - b.score),
               stddev_samp(c.score - b.score)
        FROM {{reader}}('{{sys.argv[1]}}') c JOIN {{reader}}('{{sys.argv[2]}}') b USING (id)
        WHERE isfinite(c.score) AND isfinite(b.score)
        GROUP BY GROUPING SETS ({{", ".join(["()", *[f"(c.{{d}})" for d in dims],
                                              *[f"(c.{{x}}, c.{{y}})" for x, y in crosses]])}})''').fetchall()
"""

POLARS_PEER = """
import sys, polars as pl
dims, crosses, ids, fmt = {dims!r}, {crosses!r}, {ids!r}, {fmt!r}
scan = {{"parquet": pl.scan_parquet, "csv": pl.scan_csv, "jsonl": pl.scan_ndjson}}[fmt]
cuts = [[], *[[d] for d in dims], *[[a, b] for a, b in crosses]]
score_ok = pl.col("score").is_finite()
aggs = [pl.len().alias("n"), pl.col("correct").cast(pl.Float64).mean().alias("rate"),
        pl.col("score").filter(score_ok).mean().alias("mean"), pl.col("score").filter(score_ok).std().alias("sd"),
        pl.col("latency_ms").fill_null(float("inf")).filter(pl.col("latency_ms").is_nan().not_() |
            pl.col("latency_ms").is_null()).quantile(0.95, "higher").alias("p95")]
def per_cut(frame, cut):
    return frame.group_by(cut).agg(aggs) if cut else frame.select(aggs)
c, b = (scan(p).collect() for p in sys.argv[1:3])
for cut in cuts:
    x, y = per_cut(c.lazy(), cut), per_cut(b.lazy(), cut)
    (x.join(y, on=cut, suffix="_b") if cut else x.join(y, how="cross", suffix="_b")).collect()
if ids:
    pairs = c.join(b.select("id", pl.col("score").alias("score_b")), on="id").filter(
        score_ok & pl.col("score_b").is_finite()).with_columns(d=pl.col("score") - pl.col("score_b")).lazy()
    for cut in cuts:
        agg = [pl.len().alias("n"), pl.col("d").mean().alias("mean"), pl.col("d").std().alias("sd")]
        (pairs.group_by(cut).agg(agg) if cut else pairs.select(agg)).collect()
"""

PANDAS_PEER = """
import sys, numpy as np, pandas as pd
dims, crosses, ids, fmt = {dims!r}, {crosses!r}, {ids!r}, {fmt!r}
read = {{"parquet": pd.read_parquet, "csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True)}}[fmt]
cuts = [[], *[[d] for d in dims], *[[a, b] for a, b in crosses]]
def prepare(df):
    df["rate"] = df["correct"].astype(float)
    df["ok_score"] = df["score"].where(np.isfinite(df["score"]))
    df["lat"] = df["latency_ms"].fillna(np.inf).where(~np.isnan(df["latency_ms"]) | df["latency_ms"].isna())
    return df
def per_cut(df, cut):
    g = df.assign(_all=0).groupby(cut or ["_all"], observed=True)
    return pd.concat([g.size().rename("n"), g["rate"].mean(), g["ok_score"].agg(["mean", "std"]),
                      g["lat"].quantile(0.95, interpolation="higher")], axis=1)
c, b = (prepare(read(p)) for p in sys.argv[1:3])
for cut in cuts:
    per_cut(c, cut).sub(per_cut(b, cut))
if ids:
    pairs = c.merge(b[["id", "ok_score"]], on="id", suffixes=("", "_b"))
    pairs["d"] = pairs["ok_score"] - pairs["ok_score_b"]
    for cut in cuts:
        pairs.assign(_all=0).groupby(cut or ["_all"], observed=True)["d"].agg(["count", "mean", "std"])
"""

FLOOR = """
import sys, pyarrow.parquet as pq, pyarrow.csv as pc, pyarrow.json as pj
fmt = {fmt!r}
for path in sys.argv[1:3]:
    if fmt == "parquet":
        with pq.ParquetFile(path) as f:
            f.read()
    elif fmt == "csv":
        pc.read_csv(path)
    else:
        pj.read_json(path)
"""


def commands(
    shape: Shape, fmt: str, cand: Path, base: Path, spec: Path, against: str | None = None, *, terminal: bool = False
) -> dict[str, list[str]]:
    fill = {"dims": shape.columns(), "crosses": shape.crossed(), "ids": shape.ids, "fmt": fmt}
    files = [str(cand), str(base)]
    # The verdict JSON on stdout, or (--terminal) the report a CI log shows: every gate's table and every reason.
    report = ["--no-color", "--width", "100"] if terminal else ["--format", "json"]
    other = {"against": [against, "-m", "gatekit", "check", str(spec), *report]} if against else {}
    return {
        "gatekit": [*GATEKIT, "check", str(spec), *report],
        **other,
        "duckdb": [PYTHON, "-c", DUCKDB_PEER.format(**fill), *files],
        "polars": [PYTHON, "-c", POLARS_PEER.format(**fill), *files],
        "pandas": [PYTHON, "-c", PANDAS_PEER.format(**fill), *files],
        "floor": [PYTHON, "-c", FLOOR.format(fmt=fmt), *files],
    }


PEERS = ["duckdb", "polars", "pandas", "floor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"shapes {', '.join(QUICK)}; 200,000 rows; Parquet")
    parser.add_argument("--rows", type=int, nargs="+", help="rows per side (default 1M and 5M; quick: 200k)")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, help="default: all three (quick: parquet)")
    parser.add_argument("--only", nargs="+", choices=[s.name for s in SHAPES], help="these shapes only")
    parser.add_argument("--big", type=int, default=50_000_000, help="rows of the Parquet paired-cross run (0: no)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (the best is shown)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["gatekit", *PEERS], help="commands not run")
    parser.add_argument(
        "--against", metavar="PYTHON", help="another interpreter whose `-m gatekit` (another checkout) is timed beside"
    )
    parser.add_argument(
        "--terminal", action="store_true", help="time gatekit with its terminal report (width 100), not --format json"
    )
    args = parser.parse_args()
    names = args.only or (QUICK if args.quick else [s.name for s in SHAPES])
    shapes = [s for s in SHAPES if s.name in names]
    sizes = args.rows or ([200_000] if args.quick else [1_000_000, 5_000_000])
    formats = args.formats or (["parquet"] if args.quick else FORMATS)
    runs = [(shape, rows, fmt) for rows in sizes for shape in shapes for fmt in formats]
    if not args.quick and args.big and not args.only:
        runs.append((next(s for s in SHAPES if s.name == "paired-cross"), args.big, "parquet"))

    missing = [run for run in runs if not all(path.exists() for path in _paths(*run))]
    if missing:
        for shape, rows, fmt in missing:
            generate(shape, rows, fmt)
        # Timed from a fresh process: a child forked from this one, which now holds the tables it wrote, would
        # count that memory in its own peak RSS until it execs.
        print("  files written; timing in a fresh process", file=sys.stderr, flush=True)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    print(f"best of {args.repeat} interleaved rounds; ratio = gatekit / peer; RSS = peak resident MiB")
    print()
    header = ["shape", "rows/side", "format", "slices", "gatekit s", "RSS", "exit"]
    if args.against:
        header += ["against s", "RSS", "exit", "its ratio to duckdb"]
    for peer in PEERS:
        header += [f"{peer} s", "RSS", "ratio"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * 3 + "---:|" * (len(header) - 3))
    for shape, rows, fmt in runs:
        cand, base, spec = generate(shape, rows, fmt)
        every = commands(shape, fmt, cand, base, spec, args.against, terminal=args.terminal)
        wanted = {k: v for k, v in every.items() if k not in args.skip}
        print(f"  timing {shape.name} {rows:,} {fmt}: {', '.join(wanted)}", file=sys.stderr, flush=True)
        times = interleaved(wanted, args.repeat)
        print("| " + " | ".join(_cells(shape, rows, fmt, times)) + " |", flush=True)


def _cells(shape: Shape, rows: int, fmt: str, times: dict[str, Timings]) -> list[str]:
    g = times.get("gatekit")
    cells = [shape.name, f"{rows:,}", fmt, str(shape.n_slices())]
    cells += [_seconds(g), f"{g.rss:.0f}", str(g.code)] if g else ["-", "-", "-"]
    other, duck = times.get("against"), times.get("duckdb")
    if other is not None:
        ratio = other.best / duck.best if duck and math.isfinite(other.best) and math.isfinite(duck.best) else math.nan
        cells += [_seconds(other), f"{other.rss:.0f}", str(other.code), f"{ratio:.2f}x"]
    for peer in PEERS:
        t = times.get(peer)
        if t is None:
            cells += ["-", "-", "-"]
            continue
        ratio = g.best / t.best if g and math.isfinite(g.best) and math.isfinite(t.best) else math.nan
        cells += [_seconds(t), f"{t.rss:.0f}", f"{ratio:.2f}x"]
    return cells


def _seconds(t: Timings) -> str:
    return f"{t.best:.2f}" if math.isfinite(t.best) else "timeout"


if __name__ == "__main__":
    main()
