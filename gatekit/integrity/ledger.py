"""The decision ledger: every recorded `gatekit check`, append-only, in one SQLite file.

Where it is: ``--ledger PATH``, else the ``GATEKIT_LEDGER`` environment variable, else the spec's ``ledger:``
(relative to the spec file), else ``.gatekit/ledger.db`` in the working directory. `check` records when a
ledger is configured (any of the first three) or ``--record`` is given; ``--no-record`` never records. The
commands that read it (`history`, `show`, `rollback-target`) look in the same order, the spec's ``ledger:``
when they are given the spec with ``--spec``.

Tables (query them with any SQLite client):

* ``decisions``: one row per check: ``id`` (increasing), ``recorded_at`` (UTC ISO 8601), ``gatekit_version``,
  ``spec_name``, ``spec_path``, ``spec_digest``, ``lock_status`` and ``lock_events``, candidate and baseline
  ``*_model``, ``*_path`` and ``*_sha256`` (digest of the results file), ``verdict``, ``exit_code``,
  ``summary``, ``reasons_json``, ``rollback_manifest_json`` (the spec's manifest as written) and
  ``verdict_json`` (the whole verdict; `gatekit show` re-renders it in any report format).
* ``gate_rows``: every (gate, slice, bound) check of a decision, keyed by ``(decision_id, position)``.
* ``waivers``: every `gatekit waive`: ``id``, ``recorded_at``, ``spec_name``, ``spec_digest``,
  ``results_sha256`` (of the candidate results it accepts), ``subject`` (``gate_id[slice].bound``),
  ``waived_by``, ``reason``, ``expires`` (YYYY-MM-DD, valid through that day).
* ``waivers_applied``: which waivers each decision applied, keyed by ``(decision_id, waiver_id)``.

The waiver tables were added without changing the schema version: a ledger written before them gains them
on its next write, and an older gatekit still reads and writes the decisions. All tables refuse UPDATE and
DELETE (triggers). That guards against accidents, not against someone who can
write the file: they can drop a trigger. Each decision is written in one transaction, so a crash leaves the
whole record or none of it; the file is in WAL mode with a busy timeout, so CI jobs can record at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekit.errors import ArtifactError, Diagnostic, LedgerError

if TYPE_CHECKING:
    from gatekit.decide.verdict import Verdict
    from gatekit.decide.waivers import Waiver

DEFAULT_LEDGER = Path(".gatekit") / "ledger.db"
LEDGER_ENV = "GATEKIT_LEDGER"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    gatekit_version TEXT NOT NULL,
    spec_name TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    spec_digest TEXT NOT NULL,
    lock_status TEXT,
    lock_events INTEGER NOT NULL,
    candidate_model TEXT NOT NULL,
    candidate_path TEXT NOT NULL,
    candidate_sha256 TEXT,
    baseline_model TEXT,
    baseline_path TEXT,
    baseline_sha256 TEXT,
    verdict TEXT NOT NULL CHECK (verdict IN ('ship', 'stop', 'revise')),
    exit_code INTEGER NOT NULL,
    summary TEXT NOT NULL,
    reasons_json TEXT NOT NULL,
    rollback_manifest_json TEXT NOT NULL,
    verdict_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_spec ON decisions (spec_name, verdict, id);
CREATE TABLE IF NOT EXISTS gate_rows (
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    position INTEGER NOT NULL,
    gate_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    slice TEXT NOT NULL,
    bound TEXT NOT NULL,
    on_fail TEXT NOT NULL,
    status TEXT NOT NULL,
    observed REAL,
    baseline REAL,
    threshold REAL,
    margin REAL,
    n INTEGER,
    reason TEXT NOT NULL,
    PRIMARY KEY (decision_id, position)
);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS gate_rows_no_update BEFORE UPDATE ON gate_rows
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS gate_rows_no_delete BEFORE DELETE ON gate_rows
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
"""

_WAIVER_SCHEMA = """
CREATE TABLE IF NOT EXISTS waivers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    spec_name TEXT NOT NULL,
    spec_digest TEXT NOT NULL,
    results_sha256 TEXT NOT NULL,
    subject TEXT NOT NULL,
    waived_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS waivers_by_spec ON waivers (spec_name, id);
CREATE TABLE IF NOT EXISTS waivers_applied (
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    waiver_id INTEGER NOT NULL REFERENCES waivers (id),
    subject TEXT NOT NULL,
    PRIMARY KEY (decision_id, waiver_id)
);
CREATE TRIGGER IF NOT EXISTS waivers_no_update BEFORE UPDATE ON waivers
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS waivers_no_delete BEFORE DELETE ON waivers
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS waivers_applied_no_update BEFORE UPDATE ON waivers_applied
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS waivers_applied_no_delete BEFORE DELETE ON waivers_applied
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
"""


@dataclass(frozen=True)
class DecisionRecord:
    """One recorded decision, as `history`, `show` and `rollback-target` read it."""

    id: int
    recorded_at: str
    gatekit_version: str
    spec_name: str
    spec_path: str
    spec_digest: str
    lock_status: str | None
    candidate_model: str
    candidate_sha256: str | None
    baseline_model: str | None
    verdict: str
    summary: str
    rollback_manifest: dict[str, Any]
    verdict_json: str


def resolve_ledger(
    explicit: Path | None,
    spec_setting: Path | None,
    record: bool | None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """Where `check` records, or None for not at all (see the module docstring for the order)."""
    if record is False:
        return None
    env = (environ if environ is not None else os.environ).get(LEDGER_ENV) or None
    configured = explicit or (Path(env) if env else None) or spec_setting
    if configured is not None:
        return configured
    return DEFAULT_LEDGER if record else None


def ledger_for_reading(
    explicit: Path | None,
    spec_setting: Path | Callable[[], Path | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The ledger `history`, `show` and `rollback-target` read, found in `check`'s order: --ledger,
    GATEKIT_LEDGER, the `ledger:` of the spec given with --spec, or the default. `spec_setting` may be a
    function that reads the spec: it is called only when the first two are unset, so that an error in a spec
    that does not decide never blocks reading a ledger named otherwise."""
    env = (environ if environ is not None else os.environ).get(LEDGER_ENV) or None
    if explicit is not None:
        return explicit
    if env:
        return Path(env)
    return (spec_setting() if callable(spec_setting) else spec_setting) or DEFAULT_LEDGER


def _fail(path: Path, action: str, error: sqlite3.Error | OSError) -> LedgerError:
    return LedgerError([Diagnostic(f"cannot {action} the decision ledger: {error}", str(path))])


@contextmanager
def _connect(path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    try:
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        else:
            if not path.is_file():
                raise LedgerError.at("no decision ledger here (record one with `gatekit check --record`)", str(path))
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            connection.execute("PRAGMA query_only=ON")
    except (sqlite3.Error, OSError) as e:
        raise _fail(path, "open", e) from e
    try:
        yield connection
    finally:
        connection.close()


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL once (the mode persists in the file).

    Changing the journal mode needs an exclusive lock, and SQLite can refuse it with "database is locked"
    at once, without waiting on the busy timeout, while another process opens the same new file: two CI jobs
    creating the ledger together. That refusal is retried until the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _prepare(connection: sqlite3.Connection) -> None:
    # WAL lets readers and one writer work at once; FULL sync makes a committed record survive a power cut.
    _enable_wal(connection)
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"the decision ledger has schema version {version}; this gatekit writes version {SCHEMA_VERSION}"
            )
        if version < SCHEMA_VERSION:
            for statement in _SCHEMA.split(";\n"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'waivers_applied'").fetchone() is None:
            for statement in _WAIVER_SCHEMA.split(";\n"):
                if statement.strip():
                    connection.execute(statement)
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _results_sha256(path: str | None) -> str | None:
    if path is None:
        return None
    from gatekit.integrity.artifacts import digest_path

    try:
        return digest_path(Path(path))
    except ArtifactError:
        return None


def record_decision(
    path: Path,
    verdict: Verdict,
    *,
    spec_digest: str,
    rollback_manifest: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> int:
    """Append one decision (and its gate rows) in a single transaction; returns its id."""
    recorded_at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()
    lock = verdict.lock
    row = {
        "recorded_at": recorded_at,
        "gatekit_version": verdict.gatekit_version,
        "spec_name": verdict.spec.name,
        "spec_path": verdict.spec.path,
        "spec_digest": spec_digest,
        "lock_status": lock.status if lock is not None else None,
        "lock_events": len(lock.events) if lock is not None else 0,
        "candidate_model": verdict.candidate.model,
        "candidate_path": verdict.candidate.path,
        "candidate_sha256": _results_sha256(verdict.candidate.path),
        "baseline_model": verdict.baseline.model if verdict.baseline else None,
        "baseline_path": verdict.baseline.path if verdict.baseline else None,
        "baseline_sha256": _results_sha256(verdict.baseline.path if verdict.baseline else None),
        "verdict": verdict.verdict,
        "exit_code": verdict.exit_code,
        "summary": verdict.summary,
        "reasons_json": json.dumps([r.model_dump(mode="json") for r in verdict.reasons]),
        "rollback_manifest_json": json.dumps(dict(rollback_manifest), sort_keys=False),
        "verdict_json": verdict.model_dump_json(),
    }
    gate_rows = [
        (
            i,
            o.id,
            o.metric,
            o.slice,
            o.bound,
            o.on_fail,
            o.status,
            o.observed,
            o.baseline,
            o.threshold,
            o.margin,
            o.n,
            o.reason,
        )
        for i, o in enumerate(verdict.gates)
    ]
    with _connect(path, write=True) as connection:
        try:
            _prepare(connection)
            try:
                columns = ", ".join(row)
                cursor = connection.execute(
                    f"INSERT INTO decisions ({columns}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
                decision_id = cursor.lastrowid
                assert decision_id is not None
                _insert_gate_rows(connection, decision_id, gate_rows)
                connection.executemany(
                    "INSERT INTO waivers_applied (decision_id, waiver_id, subject) VALUES (?, ?, ?)",
                    [(decision_id, w.waiver_id, w.subject) for w in verdict.waivers],
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _fail(path, "write to", e) from e
    return decision_id


def results_sha256(path: str | Path | None) -> str | None:
    """The digest `decisions.*_sha256` and `waivers.results_sha256` hold: `sha256:` and 64 hex digits."""
    return _results_sha256(str(path) if path is not None else None)


def record_waiver(
    path: Path,
    *,
    spec_name: str,
    spec_digest: str,
    results_sha256: str,
    subject: str,
    by: str,
    reason: str,
    expires: dt.date,
    now: dt.datetime | None = None,
) -> int:
    """Append one waiver; returns its id."""
    recorded_at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()
    with _connect(path, write=True) as connection:
        try:
            _prepare(connection)
            try:
                cursor = connection.execute(
                    "INSERT INTO waivers (recorded_at, spec_name, spec_digest, results_sha256, subject, waived_by, "
                    "reason, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (recorded_at, spec_name, spec_digest, results_sha256, subject, by, reason, expires.isoformat()),
                )
                waiver_id = cursor.lastrowid
                assert waiver_id is not None
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _fail(path, "write to", e) from e
    return waiver_id


def read_waivers(path: Path, spec_name: str) -> list[Waiver]:
    """The waivers recorded for a spec name (any digest: the rules ignore the others with a note); none when
    the ledger does not exist or predates waivers."""
    from gatekit.decide.waivers import Waiver

    if not path.is_file():
        return []
    with _connect(path, write=False) as connection:
        try:
            if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'waivers'").fetchone() is None:
                return []
            rows = connection.execute(
                "SELECT id, spec_name, subject, spec_digest, results_sha256, waived_by, reason, expires, recorded_at "
                "FROM waivers WHERE spec_name = ? ORDER BY id",
                (spec_name,),
            ).fetchall()
        except sqlite3.Error as e:
            raise _fail(path, "read", e) from e
    return [
        Waiver(
            id=r[0],
            spec_name=r[1],
            subject=r[2],
            spec_digest=r[3],
            results_sha256=r[4],
            by=r[5],
            reason=r[6],
            expires=dt.date.fromisoformat(r[7]),
            recorded_at=r[8],
        )
        for r in rows
    ]


def _insert_gate_rows(connection: sqlite3.Connection, decision_id: int, rows: list[tuple[Any, ...]]) -> None:
    connection.executemany(
        "INSERT INTO gate_rows (decision_id, position, gate_id, metric, slice, bound, on_fail, status, "
        "observed, baseline, threshold, margin, n, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(decision_id, *r) for r in rows],
    )


_SELECT = (
    "SELECT id, recorded_at, gatekit_version, spec_name, spec_path, spec_digest, lock_status, candidate_model, "
    "candidate_sha256, baseline_model, verdict, summary, rollback_manifest_json, verdict_json FROM decisions"
)


def _record(row: tuple[Any, ...]) -> DecisionRecord:
    values = list(row)
    values[12] = json.loads(values[12])
    return DecisionRecord(*values)


def _query(path: Path, sql: str, parameters: tuple[Any, ...]) -> list[DecisionRecord]:
    with _connect(path, write=False) as connection:
        try:
            return [_record(r) for r in connection.execute(sql, parameters).fetchall()]
        except sqlite3.Error as e:
            raise _fail(path, "read", e) from e


def history(path: Path, name: str | None = None, limit: int | None = None) -> list[DecisionRecord]:
    """Recorded decisions, newest first; only those under gate `name` when given."""
    where, parameters = (" WHERE spec_name = ?", (name,)) if name is not None else ("", ())
    sql = f"{_SELECT}{where} ORDER BY id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return _query(path, sql, parameters)


def get_decision(path: Path, decision_id: int) -> DecisionRecord:
    found = _query(path, f"{_SELECT} WHERE id = ?", (decision_id,))
    if not found:
        raise LedgerError.at(f"no decision #{decision_id} in the ledger", str(path))
    return found[0]


def last_shipped(path: Path, name: str) -> DecisionRecord:
    """The newest decision under gate `name` whose verdict was ship."""
    found = _query(path, f"{_SELECT} WHERE spec_name = ? AND verdict = 'ship' ORDER BY id DESC LIMIT 1", (name,))
    if not found:
        recorded = _query(path, f"{_SELECT} WHERE spec_name = ? LIMIT 1", (name,))
        why = "no checkpoint has shipped under it yet" if recorded else "no decision is recorded under that name"
        raise LedgerError.at(f"no rollback target for gate {name!r}: {why}", str(path))
    return found[0]


def earlier_looks(path: Path, spec_digest: str, candidate_model: str) -> list[tuple[int, dict[str, int]]]:
    """The recorded decisions on `candidate_model` under the spec with `spec_digest`, oldest first, each with
    the examples it saw per gated cell (`metric[slice]` -> n): the looks `gatekit.decide.sequential`
    counts. None recorded (or no ledger file yet): an empty list."""
    if not path.is_file():
        return []
    with _connect(path, write=False) as connection:
        try:
            # A file another check has just created may have no tables yet: nothing recorded, no looks.
            if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'gate_rows'").fetchone() is None:
                return []
            rows = connection.execute(
                "SELECT d.id, g.metric, g.slice, g.n FROM decisions d LEFT JOIN gate_rows g ON g.decision_id = d.id "
                "WHERE d.spec_digest = ? AND d.candidate_model = ? ORDER BY d.id, g.position",
                (spec_digest, candidate_model),
            ).fetchall()
        except sqlite3.Error as e:
            raise _fail(path, "read", e) from e
    looks: dict[int, dict[str, int]] = {}
    for decision_id, metric, slice_name, n in rows:
        sizes = looks.setdefault(decision_id, {})
        if metric is not None and n is not None:
            sizes[f"{metric}[{slice_name}]"] = int(n)
    return list(looks.items())


LEDGER_BASELINES = ("last-ship",)
"""What `--baseline ledger:NAME` can name: `last-ship`, the results of the newest checkpoint that shipped."""


def last_shipped_results(path: Path, name: str) -> Path:
    """The results file of the newest checkpoint that shipped under gate `name`, verified against the SHA-256
    the ledger recorded for it. A file that is gone, unreadable or changed since is a `LedgerError` (exit 2):
    a baseline that is not the one that shipped must never stand in for it."""
    with _connect(path, write=False) as connection:
        try:
            row = connection.execute(
                "SELECT id, candidate_path, candidate_sha256 FROM decisions "
                "WHERE spec_name = ? AND verdict = 'ship' ORDER BY id DESC LIMIT 1",
                (name,),
            ).fetchone()
        except sqlite3.Error as e:
            raise _fail(path, "read", e) from e
    if row is None:
        raise LedgerError.at(f"no checkpoint has shipped under gate {name!r}: no baseline ledger:last-ship", str(path))
    decision_id, results_path, recorded = row
    where = f"decision #{decision_id}'s results {results_path}"
    if recorded is None:
        raise LedgerError.at(f"{where}: the ledger recorded no SHA-256 for them, so they cannot be verified", str(path))
    from gatekit.integrity.artifacts import digest_path

    results = Path(results_path)
    if not results.is_file():
        raise LedgerError.at(f"{where}: the file is missing (ledger:last-ship needs it as it shipped)", str(path))
    try:
        actual = digest_path(results)
    except ArtifactError as e:
        raise LedgerError.at(f"{where}: cannot be read to verify them ({e})", str(path)) from e
    if actual != recorded:
        raise LedgerError.at(
            f"{where}: the file changed since it shipped (recorded {recorded}, now {actual})", str(path)
        )
    return results
