"""The decision ledger: recording, append-only, concurrent writers, and the commands that read it."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gatekit.api import check, run_check
from gatekit.decide.verdict import Verdict
from gatekit.errors import LedgerError
from gatekit.integrity import ledger

from .conftest import EXAMPLE, MINIMAL_SPEC, Run

Write = Callable[[str, str], Path]
Gatekit = Callable[..., Run]


@pytest.fixture
def gate(write: Write) -> Path:
    write("candidate.yaml", "model: cand\nmetrics: {accuracy: {all: 0.9}}\n")
    write("baseline.yaml", "model: base\nmetrics: {accuracy: {all: 0.8}}\n")
    return write("gate.yaml", MINIMAL_SPEC)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the incident-bot example (no lock file), so tests can edit it."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "incident-bot")) / "gate.yaml"


@pytest.fixture(autouse=True)
def _no_ledger_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ledger.LEDGER_ENV, raising=False)


def count(db: Path, table: str = "decisions") -> int:
    with sqlite3.connect(db) as connection:
        n: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return n


def test_check_records_when_a_ledger_is_given(gate: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    result = gatekit("check", gate, "--ledger", db, "--format", "json")
    assert (result.code, result.err, count(db), count(db, "gate_rows")) == (
        0,
        f"recorded decision #1 in {db}\n",
        1,
        1,
    )


def test_check_records_nothing_by_default(gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_check(gate)
    assert (run.decision_id, (tmp_path / ".gatekit").exists()) == (None, False)


def test_record_flag_uses_the_default_ledger(gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_check(gate, record=True)
    assert (run.ledger, count(tmp_path / ".gatekit" / "ledger.db")) == (Path(".gatekit/ledger.db"), 1)


def test_environment_variable_turns_recording_on(gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ledger.LEDGER_ENV, str(tmp_path / "env.db"))
    run_check(gate)
    assert count(tmp_path / "env.db") == 1


def test_no_record_wins_over_a_configured_ledger(gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ledger.LEDGER_ENV, str(tmp_path / "env.db"))
    run_check(gate, record=False)
    assert not (tmp_path / "env.db").exists()


def test_spec_ledger_is_relative_to_the_spec(write: Write, gate: Path) -> None:
    write("gate.yaml", MINIMAL_SPEC + "ledger: decisions/ledger.db\n")
    run = run_check(gate)
    assert (run.ledger, count(gate.parent / "decisions" / "ledger.db")) == (gate.parent / "decisions" / "ledger.db", 1)


def test_ledger_refuses_update(gate: Path, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    run_check(gate, ledger=db)
    with sqlite3.connect(db) as connection, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE decisions SET verdict = 'ship'")


def test_ledger_refuses_delete(gate: Path, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    run_check(gate, ledger=db)
    with sqlite3.connect(db) as connection, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM gate_rows")


def test_a_failure_mid_record_leaves_no_partial_record(
    gate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "ledger.db"
    run_check(gate, ledger=db)

    def crash(*_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ledger, "_insert_gate_rows", crash)
    with pytest.raises(LedgerError, match="disk I/O error"):
        run_check(gate, ledger=db)
    assert (count(db), count(db, "gate_rows")) == (1, 1)


def test_record_stores_the_results_file_digests(gate: Path, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    run_check(gate, ledger=db)
    with sqlite3.connect(db) as connection:
        row = connection.execute("SELECT candidate_sha256, baseline_sha256 FROM decisions").fetchone()
    expected = tuple(
        "sha256:" + hashlib.sha256((gate.parent / name).read_bytes()).hexdigest()
        for name in ("candidate.yaml", "baseline.yaml")
    )
    assert row == expected


WRITER = """
import sys
from pathlib import Path
from gatekit.api import run_check
for _ in range(int(sys.argv[3])):
    run_check(sys.argv[1], ledger=Path(sys.argv[2]))
"""


def test_two_processes_recording_at_once_keep_every_record(gate: Path, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(gate), str(db), "200"], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    errors = [w.communicate()[1] for w in writers]
    assert ([w.returncode for w in writers], errors) == ([0, 0], [b"", b""])
    with sqlite3.connect(db) as connection:
        ids = [r[0] for r in connection.execute("SELECT id FROM decisions ORDER BY id")]
        verdicts = [Verdict.model_validate_json(r[0]) for r in connection.execute("SELECT verdict_json FROM decisions")]
        rows = connection.execute("SELECT count(*) FROM gate_rows").fetchone()[0]
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    assert (ids, [v.verdict for v in verdicts], rows, integrity) == (list(range(1, 401)), ["ship"] * 400, 400, "ok")


def test_history_lists_newest_first(example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    gatekit("check", example, "--ledger", db)
    gatekit("check", example, "--ledger", db, "--candidate", example.parent / "candidate-regressed.yaml")
    result = gatekit("history", "--ledger", db, "incident-bot-sft-v3")
    heads = [line.split()[0::2] for line in result.out.splitlines() if line.startswith("#")]
    assert (result.code, heads) == (
        0,
        [["#2", "STOP", "incident-bot-sft-v3-alt"], ["#1", "SHIP", "incident-bot-sft-v3"]],
    )


def test_rollback_target_is_the_last_shipped_checkpoint(example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    assert gatekit("check", example, "--ledger", db).code == 0
    # The next candidate's manifest points at its own checkpoint; it stops, so it is no rollback target.
    text = example.read_text()
    example.write_text(text.replace("s3://models/incident-bot/sft-v3/", "s3://models/incident-bot/sft-v4/"))
    regressed = example.parent / "candidate-regressed.yaml"
    assert gatekit("check", example, "--ledger", db, "--candidate", regressed).code == 4
    result = gatekit("rollback-target", "incident-bot-sft-v3", "--ledger", db)
    target = yaml.safe_load(result.out)
    assert (result.code, target["decision"], target["candidate"], target["rollback"]["checkpoint"]) == (
        0,
        1,
        "incident-bot-sft-v3",
        {
            "uri": "s3://models/incident-bot/sft-v3/",
            "digest": "sha256:290d0f92c5264c1587778126656f96bf438b048b9e1233f7122108ad4cfb3fa3",
        },
    )


def test_rollback_target_as_json_matches_yaml(example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    gatekit("check", example, "--ledger", db)
    as_yaml = yaml.safe_load(gatekit("rollback-target", "incident-bot-sft-v3", "--ledger", db).out)
    as_json = json.loads(gatekit("rollback-target", "incident-bot-sft-v3", "--ledger", db, "-f", "json").out)
    assert as_json == as_yaml


def test_rollback_target_without_a_ship_fails_clearly(example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    gatekit("check", example, "--ledger", db, "--candidate", example.parent / "candidate-regressed.yaml")
    result = gatekit("rollback-target", "incident-bot-sft-v3", "--ledger", db)
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"error: {db}: no rollback target for gate 'incident-bot-sft-v3': no checkpoint has shipped under it yet\n",
    )


def test_reading_a_ledger_that_does_not_exist_fails_clearly(tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "none.db"
    result = gatekit("history", "--ledger", db)
    assert (result.code, result.err, db.exists()) == (
        2,
        f"error: {db}: no decision ledger here (record one with `gatekit check --record`)\n",
        False,
    )


def test_show_re_renders_the_recorded_verdict(example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    original = check(example, candidate=example.parent / "candidate-regressed.yaml", record=True, ledger=db)
    result = gatekit("show", "1", "--ledger", db, "--format", "json")
    assert (result.code, result.out) == (0, original.model_dump_json(indent=2) + "\n")


def test_show_renders_a_table(example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    gatekit("check", example, "--ledger", db)
    result = gatekit("show", "1", "--ledger", db, "--width", "120", "--no-color")
    assert (result.code, result.out.splitlines()[-1]) == (
        0,
        " SHIP  SHIP: all 16 gate checks passed, the budget held and the rollback manifest is complete",
    )


def test_show_of_an_unknown_id_fails_clearly(gate: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    run_check(gate, ledger=db)
    result = gatekit("show", "7", "--ledger", db)
    assert (result.code, result.err) == (2, f"error: {db}: no decision #7 in the ledger\n")


def test_history_as_json_filters_by_gate(gate: Path, example: Path, tmp_path: Path, gatekit: Gatekit) -> None:
    db = tmp_path / "ledger.db"
    gatekit("check", example, "--ledger", db)
    gatekit("check", gate, "--ledger", db)
    result = gatekit("history", "tiny", "--ledger", db, "--format", "json")
    rows = json.loads(result.out)
    assert (result.code, [(r["id"], r["spec"], r["verdict"], r["lock"]) for r in rows]) == (
        0,
        [(2, "tiny", "ship", "unlocked")],
    )


# --- which ledger the reading commands read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "env", "spec_setting", "expected"),
    [
        ("cli.db", "env.db", "spec.db", "cli.db"),
        (None, "env.db", "spec.db", "env.db"),
        (None, None, "spec.db", "spec.db"),
        (None, "", "spec.db", "spec.db"),  # an empty variable is no setting
        (None, None, None, str(ledger.DEFAULT_LEDGER)),
    ],
)
def test_reading_commands_find_the_ledger_in_checks_order(
    explicit: str | None, env: str | None, spec_setting: str | None, expected: str
) -> None:
    environ = {} if env is None else {ledger.LEDGER_ENV: env}
    found = ledger.ledger_for_reading(
        Path(explicit) if explicit else None, Path(spec_setting) if spec_setting else None, environ
    )
    assert found == Path(expected)


@pytest.mark.parametrize(
    ("command", "expected_out"),
    [
        (["history", "--format", "json"], '"spec": "tiny"'),
        (["show", "1", "--format", "json"], '"verdict": "ship"'),
        (["rollback-target", "tiny", "--format", "json"], '"decision": 1'),
    ],
)
def test_reading_commands_read_the_ledger_a_spec_names(
    command: list[str], expected_out: str, write: Write, gate: Path, gatekit: Gatekit
) -> None:
    write("gate.yaml", MINIMAL_SPEC + "ledger: decisions/ledger.db\n")
    assert gatekit("check", gate).code == 0  # recorded next to the spec, not in .gatekit/

    result = gatekit(*command, "--spec", gate)

    assert (result.code, expected_out in result.out, result.err) == (0, True, "")


def test_a_spec_without_a_ledger_leaves_the_default(
    gate: Path, tmp_path: Path, gatekit: Gatekit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = gatekit("history", "--spec", gate)

    assert (result.code, result.err) == (
        2,
        f"error: {ledger.DEFAULT_LEDGER}: no decision ledger here (record one with `gatekit check --record`)\n",
    )


def test_an_invalid_spec_given_to_a_reading_command_is_reported(write: Write, gatekit: Gatekit) -> None:
    bad = write("bad.yaml", "version: 1\nname: [not, a, name]\n")

    result = gatekit("history", "--spec", bad)

    assert (result.code, result.out, str(bad) in result.err) == (2, "", True)


def test_a_spec_that_does_not_decide_the_ledger_is_not_read(
    write: Write, gate: Path, tmp_path: Path, gatekit: Gatekit
) -> None:
    db = tmp_path / "ledger.db"
    run_check(gate, ledger=db)
    broken = write("broken.yaml", "version: 1\nname: [not, a, name]\n")

    result = gatekit("history", "--ledger", db, "--spec", broken, "--format", "json")

    assert (result.code, '"spec": "tiny"' in result.out, result.err) == (0, True, "")
