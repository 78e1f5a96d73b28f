"""Pre-registration: the spec digest, `gatekit lock`, and how `check` holds a spec to its lock and results."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.errors import LockError
from gatekit.integrity.lock import gate_digest_from, lock_path_for, lock_spec, read_lock, spec_digest
from gatekit.sources.load import load_spec

from .conftest import MINIMAL_SPEC, Run

Write = Callable[[str, str], Path]
Gatekit = Callable[..., Run]

BEFORE_RESULTS = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
RESULTS_CREATED = "2026-03-02T12:00:00Z"
AFTER_RESULTS = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def gate(write: Write) -> Path:
    """MINIMAL_SPEC with a passing candidate produced at RESULTS_CREATED."""
    write("candidate.yaml", f"model: cand\ncreated: {RESULTS_CREATED}\nmetrics: {{accuracy: {{all: 0.9}}}}\n")
    write("baseline.yaml", "model: base\nmetrics: {accuracy: {all: 0.8}}\n")
    return write("gate.yaml", MINIMAL_SPEC)


def lock_at(spec_path: Path, when: dt.datetime) -> None:
    lock_spec(load_spec(spec_path).spec, spec_path, now=when)


def edit_threshold(spec_path: Path) -> None:
    spec_path.write_text(spec_path.read_text().replace("min: 0.5", "min: 0.6"))


def test_digest_ignores_comments_whitespace_and_key_order(write: Write) -> None:
    original = write("a.yaml", MINIMAL_SPEC)
    reordered = write(
        "b.yaml",
        "# a comment\n\nname: tiny\nversion: 1\n" + MINIMAL_SPEC.replace("version: 1\nname: tiny\n", "", 1),
    )
    assert spec_digest(load_spec(original).spec) == spec_digest(load_spec(reordered).spec)


def test_digest_ignores_a_default_written_out(write: Write) -> None:
    original = write("a.yaml", MINIMAL_SPEC)
    explicit = write("b.yaml", MINIMAL_SPEC.replace("    min: 0.5\n", "    min: 0.5\n    on_fail: revise\n"))
    assert spec_digest(load_spec(original).spec) == spec_digest(load_spec(explicit).spec)


def test_digest_changes_with_a_threshold(write: Write) -> None:
    original = write("a.yaml", MINIMAL_SPEC)
    edited = write("b.yaml", MINIMAL_SPEC.replace("min: 0.5", "min: 0.51"))
    assert spec_digest(load_spec(original).spec) != spec_digest(load_spec(edited).spec)


def test_lock_command_prints_the_digest_and_writes_the_lock(gate: Path, gatekit: Gatekit) -> None:
    result = gatekit("lock", gate)
    digest = spec_digest(load_spec(gate).spec)
    assert (result.code, result.out, result.err) == (0, digest + "\n", f"locked {gate} in {gate}.lock; commit both\n")
    lock = read_lock(lock_path_for(gate))
    assert lock is not None
    assert [e.digest for e in lock.events] == [digest]


def test_locking_an_unchanged_spec_adds_no_event(gate: Path) -> None:
    lock_at(gate, BEFORE_RESULTS)
    lock_at(gate, AFTER_RESULTS)
    lock = read_lock(lock_path_for(gate))
    assert lock is not None
    assert [e.locked_at for e in lock.events] == [BEFORE_RESULTS]


def test_spec_locked_before_its_results_ships(gate: Path) -> None:
    lock_at(gate, BEFORE_RESULTS)
    verdict = check(gate)
    assert verdict.lock is not None
    assert (verdict.verdict, verdict.lock.status) == ("ship", "locked")


def test_spec_edited_after_its_lock_cannot_ship(gate: Path, gatekit: Gatekit) -> None:
    lock_at(gate, BEFORE_RESULTS)
    edit_threshold(gate)
    result = gatekit("check", gate, "--format", "json")
    verdict = json.loads(result.out)
    assert (result.code, verdict["verdict"], verdict["lock"]["status"]) == (3, "revise", "changed")
    assert [(r["kind"], r["status"]) for r in verdict["reasons"]] == [("lock", "changed")]
    assert verdict["reasons"][0]["message"].startswith("gate changed after the fact: the spec was edited after")


def test_spec_locked_after_its_results_is_flagged(gate: Path) -> None:
    lock_at(gate, AFTER_RESULTS)
    verdict = check(gate)
    assert [(r.kind, r.status, r.leads_to) for r in verdict.reasons] == [("lock", "locked_after_results", "revise")]
    assert verdict.reasons[0].message == (
        "gate changed after the fact: the spec was first locked at 2026-03-03 09:00:00Z, "
        "after the candidate results were produced at 2026-03-02 12:00:00Z"
    )


def test_relock_after_the_results_does_not_cover_an_edit(gate: Path) -> None:
    lock_at(gate, BEFORE_RESULTS)
    edit_threshold(gate)
    lock_at(gate, AFTER_RESULTS)
    verdict = check(gate)
    assert verdict.lock is not None
    assert (verdict.verdict, verdict.lock.status) == ("revise", "locked_after_results")


def test_relock_before_the_results_ships_and_shows_in_the_report(gate: Path, gatekit: Gatekit) -> None:
    lock_at(gate, BEFORE_RESULTS)
    edit_threshold(gate)
    lock_at(gate, BEFORE_RESULTS + dt.timedelta(hours=1))
    result = gatekit("check", gate, "--width", "160", "--no-color")
    assert result.code == 0
    lock_lines = [line.rstrip() for line in result.out.splitlines() if line.startswith(("lock", "spec digest"))]
    first, second = (e.digest for e in read_lock(lock_path_for(gate)).events)  # type: ignore[union-attr]
    assert lock_lines == [
        "lock           LOCKED      locked at 2026-03-01 10:00:00Z (re-locked 1 time), before the results "
        "(2026-03-02 12:00:00Z)",
        f"lock event 1               {first[:19]}…{first[-3:]} at 2026-03-01 09:00:00Z (gatekit 0.1.0)",
        f"lock event 2               {second[:19]}…{second[-3:]} at 2026-03-01 10:00:00Z (gatekit 0.1.0)",
        f"spec digest                {second}",
    ]


def test_required_lock_missing_asks_to_revise(write: Write, gate: Path) -> None:
    write("gate.yaml", MINIMAL_SPEC + "require_lock: true\n")
    verdict = check(gate)
    assert [(r.kind, r.status) for r in verdict.reasons] == [("lock", "unlocked")]


def test_missing_lock_alone_does_not_block_a_ship(gate: Path) -> None:
    verdict = check(gate)
    assert verdict.lock is not None
    assert (verdict.verdict, verdict.lock.status) == ("ship", "unlocked")


def test_results_naming_this_gate_are_reported_as_produced_under_it(write: Write, gate: Path) -> None:
    digest = spec_digest(load_spec(gate).spec)
    write("candidate.yaml", f"model: cand\ngate_digest: '{digest}'\nmetrics: {{accuracy: {{all: 0.9}}}}\n")
    verdict = check(gate)
    assert verdict.results_provenance is not None
    assert (verdict.verdict, verdict.results_provenance.status, verdict.results_provenance.message) == (
        "ship",
        "matches",
        "results produced under this gate",
    )


def test_results_naming_another_gate_ask_to_revise(write: Write, gate: Path) -> None:
    write("candidate.yaml", f"model: cand\ngate_digest: 'sha256:{'a' * 64}'\nmetrics: {{accuracy: {{all: 0.9}}}}\n")
    verdict = check(gate)
    assert [(r.kind, r.status, r.subject) for r in verdict.reasons] == [("provenance", "mismatch", "gate_digest")]


def test_hook_finds_a_digest_in_nested_harness_metadata() -> None:
    digest = "sha256:" + "b" * 64
    assert gate_digest_from({"config": {"model": "x"}, "metadata": {"gatekit_gate_digest": digest}}) == digest


def test_malformed_lock_file_is_invalid_input(gate: Path, gatekit: Gatekit) -> None:
    lock_path_for(gate).write_text('{"events": [\n  oops\n]}\n')
    result = gatekit("check", gate)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"error: {gate}.lock:2:3: the lock file is not valid JSON: Expecting value")


def test_read_lock_rejects_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml.lock"
    path.write_text('{"spec": "gate.yaml", "events": []}')
    with pytest.raises(LockError, match="the lock file is malformed"):
        read_lock(path)


def test_read_lock_rejects_a_repeated_key(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml.lock"
    path.write_text('{"spec": "gate.yaml", "spec": "other.yaml", "events": []}')
    with pytest.raises(LockError, match="the lock file is malformed: duplicate key 'spec'"):
        read_lock(path)


def test_lock_outside_git_records_no_commit(gate: Path) -> None:
    lock_at(gate, BEFORE_RESULTS)
    lock = read_lock(lock_path_for(gate))
    assert lock is not None
    assert (lock.events[0].git_commit, lock.events[0].git_spec_modified) == (None, None)


def test_lock_in_git_records_the_spec_commit(gate: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=gate.parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q")
    git("add", "gate.yaml")
    git("commit", "-q", "-m", "gate")
    lock_at(gate, BEFORE_RESULTS)
    lock = read_lock(lock_path_for(gate))
    assert lock is not None
    assert (lock.events[0].git_commit, lock.events[0].git_spec_modified) == (git("rev-parse", "HEAD"), False)
