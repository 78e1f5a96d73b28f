"""Hostile and malformed input (issue 14): every case an adversarial run found, one test each.

The promise: bad input exits 2 with a location, never a traceback; nothing unreadable, missing or over the
line by any amount a user can write is ever a ship; names from input never drive the terminal; outputs go to
regular files only; small metadata files never hang or exhaust memory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekit.api import check
from gatekit.decide.bounds import passes
from gatekit.errors import GatekitError
from tests.conftest import MINIMAL_SPEC, Run

GatekitRun = Callable[..., Run]
Write = Callable[[str, str], Path]

CANDIDATE = "model: m\nmetrics:\n  accuracy:\n    all: {value: 0.9, n: 100}\n"


def _spec(tmp_path: Path, text: str = MINIMAL_SPEC, candidate: str = CANDIDATE, name: str = "candidate.yaml") -> Path:
    spec = tmp_path / "gate.yaml"
    body = textwrap.dedent(text).lstrip("\n").replace("candidate: candidate.yaml", f"candidate: {name}")
    spec.write_text(body.replace("baseline: baseline.yaml\n", ""), encoding="utf-8")
    (tmp_path / name).write_text(candidate, encoding="utf-8")
    return spec


def _assert_bad_input(run: Run, where: str) -> None:
    assert run.code == 2, run.err
    assert "Traceback" not in run.err
    assert "internal error" not in run.err
    assert where in run.err, run.err


# ----------------------------------------------------------------------------------------------- false ships


def _max_gate(tmp_path: Path, limit: str, observed: str) -> Path:
    text = MINIMAL_SPEC.replace("    min: 0.5", f"    max: {limit}")
    return _spec(tmp_path, text, f"model: m\nmetrics:\n  accuracy:\n    all: {observed}\n")


@pytest.mark.parametrize(
    ("limit", "observed"),
    [("1.0e-10", "9.0e-10"), ("0", "9.0e-10"), ("0", "1.0e-300"), ("-1.0e-10", "-5.0e-11"), ("1.0e-9", "1.1e-9")],
)
def test_a_breach_of_a_tiny_threshold_is_never_a_ship(tmp_path: Path, limit: str, observed: str) -> None:
    verdict = check(_max_gate(tmp_path, limit, observed))
    assert verdict.verdict != "ship"
    assert [o.status for o in verdict.gates] == ["fail"]


@pytest.mark.parametrize(
    ("side", "observed", "threshold", "expected"),
    [
        # At the threshold, or within one part in 1e9 of its magnitude: float rounding, passes.
        ("at_most", 0.1 + 0.2, 0.3, True),
        ("at_least", 0.3, 0.1 + 0.2, True),
        ("at_most", 1e-10 * (1 + 1e-12), 1e-10, True),
        ("at_most", -1e-10 * (1 - 1e-12), -1e-10, True),
        ("at_most", 1e6 + 1e-4, 1e6, True),
        # Beyond it by an amount a user can write: fails, on both sides of zero and of 1e-9.
        ("at_most", 9e-10, 1e-10, False),
        ("at_most", 9e-10, 0.0, False),
        ("at_most", 5e-324, 0.0, False),
        ("at_least", -5e-324, 0.0, False),
        ("at_least", -9e-10, -1e-10, False),
        ("at_most", -5e-11, -1e-10, False),
        ("at_most", 1.1e-9, 1e-9, False),
        ("at_least", 0.9e-9, 1e-9, False),
        ("at_most", 1e6 + 1e-2, 1e6, False),
        ("at_most", float("nan"), 1.0, False),
    ],
)
def test_tolerance_is_relative_to_the_threshold(side: Any, observed: float, threshold: float, expected: bool) -> None:
    assert passes(side, observed, threshold) is expected


def _table_spec(tmp_path: Path, rows_file: str) -> Path:
    document = {
        "version": 1,
        "name": "t",
        "hypothesis": {"statement": "s", "stage": "other", "improves": "score", "owner": "o", "written": "2026-01-01"},
        "candidate": rows_file,
        "metrics": {"score": {"from": {"column": "x", "aggregate": "rate"}}},
        "table": {"slice_by": ["task"]},
        "gates": [{"id": "g", "metric": "score", "slices": ["*"], "min": 0.1}],
        "rollback": {},
    }
    spec = tmp_path / "gate.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    return spec


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        lines = ["task,x", *(f"{r['task'] or ''},{r['x']}" for r in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"task": [r["task"] for r in rows], "x": [r["x"] for r in rows]}), path)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("empty", [None, ""])
def test_a_slice_column_empty_in_every_row_is_missing_not_shrunk_to_all(
    tmp_path: Path, suffix: str, empty: str | None
) -> None:
    if suffix == ".csv" and empty is None:
        pytest.skip("a CSV cell cannot be null, only empty")
    _write_rows(tmp_path / f"rows{suffix}", [{"task": empty, "x": 1} for _ in range(50)])
    verdict = check(_table_spec(tmp_path, f"rows{suffix}"))
    assert verdict.verdict != "ship"
    missing = [o for o in verdict.gates if o.status == "missing"]
    assert [o.slice for o in missing] == ["task=*"]
    assert "50 rows have no 'task' value" in (missing[0].reason or "")


def test_a_slice_the_metric_rows_never_reach_is_missing(tmp_path: Path) -> None:
    # The metric counts only rows with y == 1, and each of them has no task: its task slices would vanish.
    rows = [{"task": None, "x": 1, "y": 1} for _ in range(20)] + [{"task": "a", "x": 1, "y": 0} for _ in range(20)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = _table_spec(tmp_path, "rows.jsonl")
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    document["metrics"]["score"]["from"]["where"] = {"column": "y", "equals": 1}
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    verdict = check(spec)
    assert verdict.verdict != "ship"
    assert [(o.slice, o.status) for o in verdict.gates] == [("all", "pass"), ("task=*", "missing")]


# --------------------------------------------------------------------------------- exit 2, not a traceback


@pytest.mark.parametrize(
    ("written", "line"),
    [
        ("2024-13-45", 8),
        ("!!int twelve", 8),
        ("!!float nope", 8),
        ("!!bool maybe", 8),
        ("!!timestamp soon", 8),
        ("2026-02-30 10:00:00Z", 8),
    ],
)
def test_a_scalar_yaml_cannot_construct_is_located_bad_input(
    tmp_path: Path, gatekit: GatekitRun, written: str, line: int
) -> None:
    spec = _spec(tmp_path, MINIMAL_SPEC.replace("written: 2026-01-01", f"written: {written}"))
    _assert_bad_input(gatekit("validate", spec), f"gate.yaml:{line}:")


@pytest.mark.parametrize("created", ["2026-02-30T10:00:00Z", "2026-01-01T10:00:00+99:99"])
def test_an_impossible_timestamp_in_results_is_located_bad_input(
    tmp_path: Path, gatekit: GatekitRun, created: str
) -> None:
    spec = _spec(tmp_path, candidate=CANDIDATE + f"created: {created}\n")
    _assert_bad_input(gatekit("check", spec), "candidate.yaml:5:")


@pytest.mark.parametrize(("char", "name"), [("\x00", "NUL"), ("\x1b", "ESC"), ("\x7f", "DEL"), ("\x9b", "0x9b")])
def test_a_raw_control_character_in_yaml_is_located_bad_input(
    tmp_path: Path, gatekit: GatekitRun, char: str, name: str
) -> None:
    spec = _spec(tmp_path, MINIMAL_SPEC.replace("name: tiny", f"name: ti{char}ny"))
    _assert_bad_input(gatekit("validate", spec), "gate.yaml:2:9:")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_utf16_without_a_bom_is_located_bad_input(tmp_path: Path, gatekit: GatekitRun, suffix: str) -> None:
    data = {"model": "m", "metrics": {"accuracy": {"all": "high"}}}
    text = json.dumps(data) if suffix == ".json" else yaml.safe_dump(data)
    spec = _spec(tmp_path, candidate="", name=f"candidate{suffix}")
    (tmp_path / f"candidate{suffix}").write_bytes(text.encode("utf-16-le"))
    _assert_bad_input(gatekit("check", spec), f"candidate{suffix}:1:2:")


def test_a_json_error_is_located_without_reading_the_file_as_yaml(tmp_path: Path, gatekit: GatekitRun) -> None:
    # A raw DEL in a JSON string is JSON the YAML reader refuses: the location must still come out.
    text = '{"model": "m\x7f",\n "metrics": {"accuracy": {"all": {"value": "high"}}}}'
    spec = _spec(tmp_path, candidate=text, name="candidate.json")
    run = gatekit("check", spec)
    _assert_bad_input(run, "candidate.json:2:44: metrics.accuracy.all.value:")


def test_a_duplicate_json_key_is_located(tmp_path: Path, gatekit: GatekitRun) -> None:
    text = '{"model": "m",\n "metrics": {"accuracy": {"all": 0.9}},\n "model": "n"}'
    spec = _spec(tmp_path, candidate=text, name="candidate.json")
    _assert_bad_input(gatekit("check", spec), "candidate.json:3:2: duplicate key 'model'")


HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("candidate.json", '{"model": "m", "metrics": {"accuracy": {"all": ' + HUGE + "}}}", "candidate.json:1:"),
        ("candidate.yaml", f"model: m\nmetrics:\n  accuracy:\n    all: {HUGE}\n", "candidate.yaml:4:10:"),
        ("candidate.yaml", f"model: m\nmetrics:\n  accuracy:\n    all: 1{'0' * 400}\n", "candidate.yaml:4:10:"),
        ("candidate.yaml", f"model: m\nmetrics:\n  accuracy:\n    all: {{value: 0.9, n: 1{'0' * 400}}}\n", ":4:"),
        ("candidate.yaml", "model: m\nmetrics:\n  accuracy:\n    all: 1.0e400\n", "candidate.yaml:4:10:"),
        ("candidate.json", '{"model": "m", "metrics": {"accuracy": {"all": -1e999}}}', "candidate.json:1:"),
        ("candidate.yaml", "model: m\nmetrics:\n  accuracy:\n    all: {value: 0.9, n: 18446744073709551616}\n", ":4:"),
        ("candidate.yaml", "model: m\nmetrics:\n  accuracy:\n    all: {value: 0.9, n: 9007199254740993}\n", ":4:"),
    ],
)
def test_numbers_no_eval_has_are_located_bad_input(
    tmp_path: Path, gatekit: GatekitRun, name: str, text: str, where: str
) -> None:
    spec = _spec(tmp_path, candidate=text, name=name)
    _assert_bad_input(gatekit("check", spec, "--ledger", tmp_path / "ledger.db"), where)
    assert not (tmp_path / "ledger.db").exists()


def test_a_huge_hex_number_where_a_name_belongs_is_located_bad_input(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _spec(tmp_path, MINIMAL_SPEC.replace("name: tiny", f"name: 0x{'f' * 5000}"))
    _assert_bad_input(gatekit("validate", spec), "gate.yaml:2:7:")


def test_a_huge_integer_in_a_lock_file_is_bad_input(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "gate.yaml.lock").write_text('{"spec": "gate.yaml", "events": ' + HUGE + "}", encoding="utf-8")
    _assert_bad_input(gatekit("check", spec), "gate.yaml.lock")


def _jsonl_spec(tmp_path: Path, lines: str) -> Path:
    spec = _table_spec(tmp_path, "rows.jsonl")
    (tmp_path / "rows.jsonl").write_text(lines, encoding="utf-8")
    return spec


def test_two_nan_example_ids_are_duplicates(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _jsonl_spec(tmp_path, '{"id": NaN, "task": "a", "x": 1}\n{"id": NaN, "task": "a", "x": 0}\n')
    _assert_bad_input(gatekit("check", spec), "rows.jsonl")


def test_a_lone_surrogate_in_jsonl_is_located_bad_input(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _jsonl_spec(tmp_path, '{"task": "a", "x": 1}\n{"task": "\\ud800", "x": 1}\n')
    _assert_bad_input(gatekit("check", spec), "rows.jsonl:2:")


def test_a_huge_integer_in_a_mixed_jsonl_column_is_not_an_internal_error(tmp_path: Path, gatekit: GatekitRun) -> None:
    lines = '{"task": "a", "x": 100000000000000000000}\n{"task": null, "x": 1}\n{"task": "b", "x": "s"}\n'
    lines += '{"task": true, "x": 1}\n'
    run = gatekit("check", _jsonl_spec(tmp_path, lines))
    assert run.code in (2, 3), run.err
    assert "Traceback" not in run.err


def test_a_metric_named_like_markup_prints_as_written(tmp_path: Path, gatekit: GatekitRun) -> None:
    text = MINIMAL_SPEC.replace("metric: accuracy", 'metric: "[/x]"')
    spec = _spec(tmp_path, text, 'model: m\nmetrics:\n  "[/x]":\n    all: 0.9\n')
    run = gatekit("check", spec, "--width", "100")
    assert run.code == 0, run.err
    assert "acc · [/x]" in run.out


def test_verify_with_a_path_component_too_long_for_the_os_is_unreadable(tmp_path: Path, gatekit: GatekitRun) -> None:
    long_uri = "x" * 300 + "/model.bin"
    text = MINIMAL_SPEC.replace("uri: s3://m,", f"uri: {long_uri},")
    run = gatekit("verify", _spec(tmp_path, text))
    assert run.code == 3, run.err
    assert "Traceback" not in run.err
    assert "UNREADABLE" in run.out


def test_stdout_on_a_full_disk_is_bad_output_not_a_crash(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", "from gatekit.cli import run; run()", "check", str(spec), "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr


# --------------------------------------------------------------------------------- terminal and log injection


def test_a_rich_link_in_a_metric_name_is_text_not_a_hyperlink(tmp_path: Path, gatekit: GatekitRun) -> None:
    name = "[link=https://evil.example]acc[/link] [bold]b"
    text = MINIMAL_SPEC.replace("metric: accuracy", f'metric: "{name}"')
    spec = _spec(tmp_path, text, f'model: m\nmetrics:\n  "{name}":\n    all: 0.9\n')
    run = gatekit("check", spec, "--color", "--width", "200")
    assert "\x1b]8;" not in run.out
    assert name in run.out


CONTROLS = "a\x1b[31mred\x07\x00\x9b2J\x85z\u202eevil"


@pytest.mark.parametrize("fmt", ["table", "markdown", "github"])
def test_control_and_bidi_characters_in_names_are_shown_escaped(tmp_path: Path, gatekit: GatekitRun, fmt: str) -> None:
    quoted = json.dumps(CONTROLS)
    text = MINIMAL_SPEC.replace("    min: 0.5", '    slices: ["*"]\n    min: 0.95')
    spec = _spec(tmp_path, text, f"model: m\nmetrics:\n  accuracy:\n    all: 0.99\n    {quoted}: 0.9\n")
    run = gatekit("check", spec, "--format", fmt, "--width", "200")
    for raw in ("\x1b", "\x07", "\x00", "\x9b", "\x85", "\u202e"):
        assert raw not in run.out, (fmt, raw)
    assert "\\x1b" in run.out
    assert "\\u202e" in run.out


def test_verify_prints_uris_with_control_characters_escaped(tmp_path: Path, gatekit: GatekitRun) -> None:
    text = MINIMAL_SPEC.replace("uri: s3://m,", 'uri: "s3://m\\e]8;;https://evil.example\\a",')
    run = gatekit("verify", _spec(tmp_path, text))
    assert "\x1b" not in run.out
    assert "\x07" not in run.out
    assert "s3://m\\x1b]8;;https://evil.example\\x07" in run.out


# ----------------------------------------------------------------------------------------------- filesystem


def test_output_over_a_fifo_is_refused_and_the_fifo_kept(tmp_path: Path, gatekit: GatekitRun) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    run = gatekit("check", _spec(tmp_path), "--output", fifo)
    _assert_bad_input(run, "out.fifo")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_report_over_a_character_device_is_refused_and_the_device_kept(tmp_path: Path, gatekit: GatekitRun) -> None:
    device = tmp_path / "full"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    run = gatekit("check", _spec(tmp_path), "--report", f"junit={device}")
    _assert_bad_input(run, "full")
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_output_through_a_symlink_to_a_stream_is_refused_and_the_link_kept(tmp_path: Path) -> None:
    link = tmp_path / "err"
    link.symlink_to("/proc/self/fd/2")  # in the subprocess, its stderr: a pipe
    done = _check_in_subprocess(_spec(tmp_path), "--output", str(link))
    assert done.returncode == 2, done.stderr
    assert "is not a regular file" in done.stderr
    assert link.is_symlink()


def test_output_over_a_directory_is_refused(tmp_path: Path, gatekit: GatekitRun) -> None:
    (tmp_path / "out").mkdir()
    _assert_bad_input(gatekit("check", _spec(tmp_path), "--output", tmp_path / "out"), "out")


def test_output_through_a_symlink_to_a_regular_file_writes_the_target(tmp_path: Path, gatekit: GatekitRun) -> None:
    target = tmp_path / "reports" / "real.json"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "report.json"
    link.symlink_to(target)
    run = gatekit("check", _spec(tmp_path), "--format", "json", "--output", link)
    assert run.code == 0, run.err
    assert link.is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["verdict"] == "ship"
    assert [p.name for p in target.parent.iterdir()] == ["real.json"]


@pytest.fixture
def umask_022() -> Any:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_written_files_honour_the_umask(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _spec(tmp_path)
    assert gatekit("check", spec, "--output", tmp_path / "report.txt").code == 0
    assert gatekit("lock", spec).code == 0
    assert gatekit("init", tmp_path / "new.yaml").code == 0
    for name in ("report.txt", "gate.yaml.lock", "new.yaml"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gatekit.integrity import atomic

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(tmp_path / "report.txt", "x")
    assert list(tmp_path.iterdir()) == []


def _check_in_subprocess(spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from gatekit.cli import run; run()", "check", str(spec), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_fifo_lock_file_is_bad_input_not_a_hang(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    os.mkfifo(tmp_path / "gate.yaml.lock")
    done = _check_in_subprocess(spec)
    assert done.returncode == 2, done.stderr
    assert "gate.yaml.lock" in done.stderr
    assert "is not a regular file" in done.stderr


def test_a_lock_file_linked_to_dev_zero_is_bad_input(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "gate.yaml.lock").symlink_to("/dev/zero")
    done = _check_in_subprocess(spec)
    assert done.returncode == 2, done.stderr
    assert "is not a regular file" in done.stderr


def test_a_huge_sparse_lock_file_is_refused_by_size(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _spec(tmp_path)
    with (tmp_path / "gate.yaml.lock").open("wb") as f:
        f.truncate(1 << 30)
    run = gatekit("check", spec)
    _assert_bad_input(run, "gate.yaml.lock")
    assert "the limit is" in run.err


def _mount_read_only(source: Path, view: Path) -> bool:
    """Bind-mount `source` read-only at `view` (root on Linux); False where that is not allowed."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    run = [["mount", "--bind", str(source), str(view)], ["mount", "-o", "remount,ro,bind", str(view)]]
    for command in run:
        if subprocess.run(command, capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True, check=False)
            return False
    return True


def test_a_wal_ledger_on_a_read_only_filesystem_can_be_read(tmp_path: Path, gatekit: GatekitRun) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "ro").mkdir()
    assert gatekit("check", spec, "--ledger", tmp_path / "src" / "ledger.db").code == 0
    if not _mount_read_only(tmp_path / "src", tmp_path / "ro"):
        pytest.skip("a read-only bind mount needs root on Linux")
    try:
        run = gatekit("history", "--ledger", tmp_path / "ro" / "ledger.db")
    finally:
        subprocess.run(["umount", str(tmp_path / "ro")], capture_output=True, check=False)
    assert run.code == 0, run.err
    assert "SHIP" in run.out


def test_a_ledger_sqlite_cannot_open_for_writing_is_read_read_only(
    tmp_path: Path, gatekit: GatekitRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where no read-only mount can be made: SQLite refusing every open but a read-only URI, as it does there.
    spec = _spec(tmp_path)
    ledger = tmp_path / "ledger.db"
    assert gatekit("check", spec, "--ledger", ledger).code == 0
    real_connect = sqlite3.connect

    def read_only_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if not kwargs.get("uri") or "mode=ro" not in str(database):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only_connect)
    run = gatekit("history", "--ledger", ledger)
    assert run.code == 0, run.err
    assert "SHIP" in run.out


def test_only_gatekit_errors_escape_the_api_for_a_results_file_of_binary_garbage(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    for name, content in [("c.yaml", os.urandom(4096)), ("c.json", b"\xff\xfe{\x00"), ("c.jsonl", b"\x00\x01\n")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(GatekitError):
            check(spec, candidate=tmp_path / name)


def test_a_fifo_in_place_of_the_spec_or_results_is_bad_input_not_a_hang(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    os.mkfifo(tmp_path / "fifo.yaml")
    done = _check_in_subprocess(spec, "--candidate", str(tmp_path / "fifo.yaml"))
    assert done.returncode == 2, done.stderr
    assert "fifo.yaml: the file is not a regular file" in done.stderr


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("    all: 0.9\n    all: 0.8\n", "duplicate key 'all'"),
        ("    all: &a 0.9\n    b: *a\n", "anchors and aliases are not supported"),
        ("    all: yes\n", "read differently by YAML 1.1 and 1.2"),
        ("    all: !!float nope\n", "'nope' is not a valid float"),
        ("    all: " + "[" * 70 + "]" * 70 + "\n", "nesting deeper than 64 levels"),
        ("    all: 1.0e999\n", "beyond the range of a float"),
    ],
)
def test_a_large_yaml_file_read_by_libyaml_is_as_strict_as_a_small_one(
    tmp_path: Path, gatekit: GatekitRun, snippet: str, message: str
) -> None:
    from gatekit.spec.yamlio import C_SCANNER_FROM

    padding = "# " + "x" * C_SCANNER_FROM + "\n"
    for name, text in [("small.yaml", ""), ("large.yaml", padding)]:
        body = text + "model: m\nmetrics:\n  accuracy:\n" + snippet
        spec = _spec(tmp_path, candidate=body, name=name)
        run = gatekit("check", spec)
        line = 4 + body.count("\n", 0, len(text))
        _assert_bad_input(run, f"{name}:")
        assert message in run.err, run.err
        assert f"{name}:{line}:" in run.err or f"{name}:{line + 1}:" in run.err, run.err


def test_a_yaml_results_file_over_the_yaml_limit_asks_for_json(
    tmp_path: Path, gatekit: GatekitRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gatekit.spec import yamlio

    monkeypatch.setattr(yamlio, "YAML_MAX_BYTES", 1 << 20)
    body = CANDIDATE + "".join(f"    s{i:07d}: 0.9\n" for i in range(80_000))
    run = gatekit("check", _spec(tmp_path, candidate=body))
    _assert_bad_input(run, "candidate.yaml:")
    assert "over the 1 MiB YAML limit" in run.err
    assert "write these results as JSON (.json) or as a per-example table" in run.err


def test_json_text_saved_as_yaml_is_read_as_the_same_data(tmp_path: Path) -> None:
    document = {"model": "m", "metrics": {"accuracy": {"all": {"value": 0.9, "n": 100}, "b": 0.4}}}
    as_yaml = _spec(tmp_path, candidate=json.dumps(document))
    assert check(as_yaml).gates[0].observed == 0.9
    # NaN is a number to Python's json and a string to YAML: such text is read as YAML, and refused there.
    (tmp_path / "candidate.yaml").write_text(json.dumps(document).replace("0.4", "NaN"), encoding="utf-8")
    with pytest.raises(GatekitError, match=r"metrics\.accuracy\.b"):
        check(as_yaml)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("log.eval", b"PK\x03\x04 not really a zip archive"),
        ("rows.parquet", b"PAR1 truncated"),
        ("results.json", b'{"results": {"task": {"acc,none": 0.5}}, "n-samples": {"task": {"effective": 1e999}}}'),
    ],
)
def test_a_damaged_harness_file_is_located_bad_input(
    tmp_path: Path, gatekit: GatekitRun, name: str, content: bytes
) -> None:
    spec = _table_spec(tmp_path, name)
    (tmp_path / name).write_bytes(content)
    run = gatekit("check", spec)
    _assert_bad_input(run, name)


def test_a_bad_cell_in_one_block_of_a_large_csv_is_still_counted(tmp_path: Path) -> None:
    # pyarrow reads a CSV in blocks with a dictionary each; numbers are decoded per block's dictionary.
    rows = ["1"] * 600_000 + ["oops"] + ["0"] * 10
    (tmp_path / "rows.csv").write_text("task,x\n" + "".join(f"a,{x}\n" for x in rows), encoding="utf-8")
    verdict = check(_table_spec(tmp_path, "rows.csv"))
    assert verdict.verdict != "ship"
    assert [(o.slice, o.status) for o in verdict.gates] == [("all", "missing"), ("task=a", "missing")]
    assert "1 of 600011 rows has a bad 'x' value" in (verdict.gates[1].reason or "")
    assert "first at line 600002" in (verdict.gates[1].reason or "")
