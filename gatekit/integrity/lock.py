"""Pre-registration: the digest of a gate spec, the lock file that records it, and how a check judges both.

**The spec digest** is ``sha256:`` + the SHA-256 of the spec's *canonical content*: the validated spec model
dumped as JSON with sorted keys, no whitespace, and fields left at their default omitted. So comments,
blank lines, key order, quoting, ``1`` vs ``1.0`` and writing out a default (``on_fail: revise``) do not
change the digest; any change of meaning does (a threshold, a slice, a description, a rollback pin). Omitting
defaults also keeps old digests valid when a newer gatekit adds an optional spec field.

**The lock file** sits beside the spec (``gate.yaml`` -> ``gate.yaml.lock``) and is committed with it. It is
JSON holding a list of lock events, oldest first; each event records the digest, the time, the gatekit
version and, when the spec is in a git repository, the last commit that touched it. Re-locking appends an
event, so a re-lock is never silent.

**What a lock proves.** A lock proves *content*, not *time*: git commit dates and the lock's own time are
set by whoever writes them (``git commit --date``, ``GIT_COMMITTER_DATE``, a clock). Time is only as good as
an outside witness: a merge through a protected branch, a signed tag, or the digest embedded in results
that an evaluation pipeline wrote (``gate_digest``; see `gate_digest_from`).

`spec_digest`, `assess_lock` and `assess_provenance` are pure; `read_lock`, `lock_spec` and `git_commit_of`
do the file and git I/O and are called by the CLI and `gatekit.api`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekit import __version__
from gatekit.errors import LockError, OutputError
from gatekit.outcomes import LockEvent, LockReport, ResultsProvenance
from gatekit.spec.jsonio import parse_json
from gatekit.spec.model import SHA256_DIGEST, Spec

LOCK_VERSION = 1
CANONICAL_FORM = "gatekit-spec-json-v1"
"""The name of the canonicalization above, stored in the lock so a future change of it can be told apart."""
LOCK_SUFFIX = ".lock"
GATE_DIGEST_KEYS: tuple[str, ...] = ("gate_digest", "gatekit_gate_digest")
"""Keys under which results (or a harness's metadata) name the digest of the gate they were produced under."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LockFile(_Record):
    """The lock file's content: every lock event, oldest first."""

    lock_version: Literal[1] = 1
    canonical_form: str = CANONICAL_FORM
    spec: str
    """The spec's file name, for a human reading the lock."""
    events: tuple[LockEvent, ...] = Field(min_length=1)


def spec_digest(spec: Spec) -> str:
    """The digest of a spec's canonical content (see the module docstring). Pure."""
    content = spec.model_dump(mode="json", exclude_defaults=True)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def lock_path_for(spec_path: Path) -> Path:
    """Where the lock of `spec_path` lives: beside it, with `.lock` appended (gate.yaml -> gate.yaml.lock)."""
    return spec_path.with_name(spec_path.name + LOCK_SUFFIX)


def gate_digest_from(metadata: Mapping[str, Any] | None) -> str | None:
    """The gate digest a harness wrote into its results' metadata, if any: the hook for results adapters.

    An evaluation pipeline runs ``gatekit lock gate.yaml`` (which prints the digest) and passes it to the
    harness, which stores it in whatever free-form metadata its format has. An adapter calls this on that
    mapping and puts the answer in `Results.gate_digest`. Looks for `gate_digest` or `gatekit_gate_digest`
    at the top level, then inside a nested `metadata`, `config` or `gatekit` mapping; the first string wins.
    Returns the value as written (not validated): a malformed digest is reported as a mismatch, not dropped.
    """
    if not metadata:
        return None
    for key in GATE_DIGEST_KEYS:
        value = metadata.get(key)
        if isinstance(value, str):
            return value
    for nested in ("gatekit", "metadata", "config"):
        inner = metadata.get(nested)
        if isinstance(inner, Mapping):
            for key in ("digest", *GATE_DIGEST_KEYS) if nested == "gatekit" else GATE_DIGEST_KEYS:
                value = inner.get(key)
                if isinstance(value, str):
                    return value
    return None


def _as_utc(moment: dt.datetime) -> dt.datetime:
    # A `created` without an offset is read as UTC: harnesses usually write UTC without saying so.
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def _when(moment: dt.datetime) -> str:
    return _as_utc(moment).strftime("%Y-%m-%d %H:%M:%SZ")


def _short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 20 else digest


def assess_lock(
    lock: LockFile | None,
    current_digest: str,
    *,
    lock_path: str,
    results_created: dt.datetime | None,
    required: bool,
) -> LockReport:
    """Judge the spec as evaluated against its lock file and the results' `created` time. Pure.

    The lock in force when the results were produced is the last event at or before `created`; it must
    hold the current digest, and the current digest must be the latest event's.
    """
    base: dict[str, Any] = {
        "lock_path": lock_path,
        "spec_digest": current_digest,
        "required": required,
        "results_created": results_created,
    }
    if lock is None:
        hint = f"not locked: run `gatekit lock` to pre-register it (a lock would be {lock_path})"
        return LockReport(status="unlocked", message=hint + ("; the spec requires a lock" if required else ""), **base)
    events = lock.events
    base["events"] = events
    latest = events[-1]
    relocks = f" (re-locked {len(events) - 1} time{'s' if len(events) > 2 else ''})" if len(events) > 1 else ""
    if latest.digest != current_digest:
        return LockReport(
            status="changed",
            message=(
                f"gate changed after the fact: the spec was edited after it was locked at {_when(latest.locked_at)} "
                f"(locked {_short(latest.digest)}, now {_short(current_digest)}); re-lock it and re-run the evaluation"
            ),
            **base,
        )
    if results_created is None:
        return LockReport(
            status="locked",
            message=(
                f"locked at {_when(latest.locked_at)}{relocks}; the results carry no `created` time, "
                "so whether the lock came first cannot be checked"
            ),
            **base,
        )
    created = _as_utc(results_created)
    in_force = [e for e in events if _as_utc(e.locked_at) <= created]
    if not in_force:
        return LockReport(
            status="locked_after_results",
            message=(
                f"gate changed after the fact: the spec was first locked at {_when(events[0].locked_at)}, after the "
                f"candidate results were produced at {_when(created)}"
            ),
            **base,
        )
    if in_force[-1].digest != current_digest:
        return LockReport(
            status="locked_after_results",
            message=(
                f"gate changed after the fact: when the results were produced ({_when(created)}) the lock in force "
                f"was {_short(in_force[-1].digest)} (locked at {_when(in_force[-1].locked_at)}); this spec was "
                f"locked at {_when(latest.locked_at)}, after the results"
            ),
            **base,
        )
    return LockReport(
        status="locked",
        message=f"locked at {_when(in_force[-1].locked_at)}{relocks}, before the results ({_when(created)})",
        **base,
    )


def assess_provenance(current_digest: str, results_digest: str | None) -> ResultsProvenance:
    """Do the candidate results name this gate? Pure."""
    if results_digest is None:
        return ResultsProvenance(
            status="not_named",
            spec_digest=current_digest,
            results_digest=None,
            message="the results do not name their gate (`gate_digest`); embedding it is the strongest proof",
        )
    if results_digest == current_digest:
        return ResultsProvenance(
            status="matches",
            spec_digest=current_digest,
            results_digest=results_digest,
            message="results produced under this gate",
        )
    what = "" if SHA256_DIGEST.match(results_digest) else " (not a sha256: digest)"
    return ResultsProvenance(
        status="mismatch",
        spec_digest=current_digest,
        results_digest=results_digest,
        message=(
            f"the results were produced under another gate: they name {_short(results_digest)}{what}, "
            f"this spec is {_short(current_digest)}"
        ),
    )


def read_lock(path: Path) -> LockFile | None:
    """The lock file at `path`, or None when there is none. A malformed lock is a `LockError`.

    Read as a small metadata file (`safe_read`): a FIFO, device or huge file in its place is an error."""
    from gatekit.safe_read import METADATA_MAX_BYTES, read_small_file

    raw = read_small_file(path, max_bytes=METADATA_MAX_BYTES, error=LockError, what="lock file")
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LockError.at(f"the lock file is not UTF-8: {e.reason}", str(path)) from e
    try:
        data = parse_json(text, str(path), LockError)
    except LockError as e:
        # "the lock file is not valid JSON: ..." / "the lock file is malformed: duplicate key ..."
        raise LockError(
            [
                replace(
                    d,
                    message=(
                        "the lock file is "
                        if d.message.startswith("not valid JSON")
                        else "the lock file is malformed: "
                    )
                    + d.message,
                )
                for d in e.diagnostics
            ]
        ) from None
    try:
        return LockFile.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise LockError.at(f"the lock file is malformed: {first['msg']}", str(path), field=field) from e


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit_of(path: Path) -> tuple[str | None, bool | None]:
    """(last commit that touched `path`, whether `path` has uncommitted changes); (None, None) outside git.

    Best effort: no git, no repository or an untracked file all give (None, None) rather than an error.
    """
    folder, name = path.resolve().parent, path.name
    commit = _git(["log", "-1", "--format=%H", "--", name], folder)
    if not commit:
        return None, None
    status = _git(["status", "--porcelain", "--", name], folder)
    return commit, (bool(status) if status is not None else None)


def lock_spec(spec: Spec, spec_path: Path, *, now: dt.datetime | None = None) -> tuple[LockFile, bool]:
    """Record a lock event for `spec` in its lock file; returns (the lock file, whether an event was added).

    Locking a spec whose digest is already the latest event's adds nothing: the lock still holds.
    """
    path = lock_path_for(spec_path)
    existing = read_lock(path)
    digest = spec_digest(spec)
    if existing is not None and existing.events[-1].digest == digest:
        return existing, False
    commit, modified = git_commit_of(spec_path)
    event = LockEvent(
        digest=digest,
        locked_at=_as_utc(now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0),
        gatekit_version=__version__,
        git_commit=commit,
        git_spec_modified=modified,
    )
    events = (*existing.events, event) if existing is not None else (event,)
    lock = LockFile(spec=spec_path.name, events=events)
    from gatekit.integrity.atomic import write_atomic

    try:
        write_atomic(path, lock.model_dump_json(indent=2) + "\n")
    except OutputError as e:
        cause = e.__cause__
        detail = getattr(cause, "strerror", None) or str(cause or e)
        raise LockError.at(f"cannot write the lock file: {detail}", str(path)) from e
    return lock, True
