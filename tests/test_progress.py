"""The progress line: on a terminal's stderr only, never in a CI log, and erased before the report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gatekit import progress
from gatekit.api import run_check

ERASE = "\r\x1b[K"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    for name in ("CI", "GATEKIT_NO_PROGRESS", "TERM"):
        monkeypatch.delenv(name, raising=False)
    stderr = Terminal()
    # Not sys.stderr itself: pytest puts its own capture back there between a fixture and the test.
    monkeypatch.setattr(progress, "_stderr", lambda: stderr)
    return stderr


def test_a_step_is_shown_in_place_and_erased(tty: Terminal) -> None:
    progress.stage("reading a.parquet")
    progress.stage("deciding")
    progress.clear()

    assert tty.getvalue() == f"{ERASE}gatekit: reading a.parquet ...{ERASE}gatekit: deciding ...{ERASE}"


@pytest.mark.parametrize(("variable", "value"), [("CI", "true"), ("GATEKIT_NO_PROGRESS", "1"), ("TERM", "dumb")])
def test_nothing_is_shown_when_told_not_to(
    tty: Terminal, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    progress.stage("reading a.parquet")
    progress.clear()

    assert tty.getvalue() == ""


def test_nothing_is_shown_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    stderr = io.StringIO()
    monkeypatch.setattr(progress, "_stderr", lambda: stderr)

    progress.stage("reading a.parquet")
    progress.clear()

    assert stderr.getvalue() == ""


def test_clear_without_a_line_writes_nothing(tty: Terminal) -> None:
    progress.clear()

    assert tty.getvalue() == ""


def test_a_check_on_tables_shows_reading_aggregating_deciding_then_erases(tty: Terminal, tmp_path: Path) -> None:
    for side in ("candidate", "baseline"):
        lines = "".join(f'{{"correct": {str(i % 3 > 0).lower()}}}\n' for i in range(40))
        (tmp_path / f"{side}.jsonl").write_text(lines, encoding="utf-8")
    (tmp_path / "gate.yaml").write_text(
        """\
version: 1
name: progress
hypothesis: {statement: s, stage: other, improves: accuracy, owner: o, written: 2026-01-01}
candidate: candidate.jsonl
baseline: baseline.jsonl
metrics:
  accuracy: {from: {column: correct, aggregate: rate}, higher_is_better: true}
gates:
  - {id: floor, metric: accuracy, slices: ["*"], min: 0.1}
rollback: {}
""",
        encoding="utf-8",
    )

    run_check(tmp_path / "gate.yaml", record=False)

    shown = tty.getvalue()
    steps = [part.removesuffix(" ...") for part in shown.split(ERASE) if part]
    assert sorted(steps[:4]) == [
        "gatekit: aggregating baseline.jsonl (40 rows)",
        "gatekit: aggregating candidate.jsonl (40 rows)",
        "gatekit: reading baseline.jsonl",
        "gatekit: reading candidate.jsonl",
    ]
    assert steps[4:] == ["gatekit: deciding"]
    assert shown.endswith(ERASE)
