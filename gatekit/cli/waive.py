"""`gatekit waive`: record that a named owner accepts one check of one spec on one set of results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from gatekit.cli._app import app
from gatekit.errors import UsageError


@app.command()
def waive(
    spec: Annotated[Path, typer.Argument(help="The gate spec.", show_default=False, metavar="SPEC")],
    check: Annotated[
        str, typer.Option("--check", help="The check to accept: 'gate_id[slice].bound'.", show_default=False)
    ],
    by: Annotated[str, typer.Option("--by", help="Who accepts the risk (a name).", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Why the risk is accepted.", show_default=False)],
    expires: Annotated[
        str, typer.Option("--expires", help="Last day the waiver holds (YYYY-MM-DD, UTC).", show_default=False)
    ],
    candidate: Annotated[
        Optional[Path], typer.Option(help="Candidate results; overrides `candidate:` in the spec.")  # noqa: UP045
    ] = None,
    baseline: Annotated[
        Optional[Path], typer.Option(help="Baseline results; overrides `baseline:` in the spec.")  # noqa: UP045
    ] = None,
    ledger: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="The ledger to record into (default: as for `check --record`).", show_default=False),
    ] = None,
) -> int:
    """Record a waiver in the ledger, bound to the spec's digest and the results' SHA-256 (candidate and baseline).

    A waiver accepts an inconclusive or missing check, or a failing check of an `on_fail: revise` gate; never
    a failing `on_fail: stop` gate or a budget line. `check` applies it to that spec and those results only,
    until it expires, and lists it in every report.
    """
    from gatekit.decide.waivers import SUBJECT, refusal

    if SUBJECT.match(check) is None:
        raise UsageError(
            f"--check {check!r}: name one gate check as gate_id[slice].bound (budget lines cannot be waived)"
        )
    try:
        until = dt.date.fromisoformat(expires)
    except ValueError:
        raise UsageError(f"--expires {expires!r}: give a date as YYYY-MM-DD") from None
    today = dt.datetime.now(dt.timezone.utc).date()
    if until < today:
        raise UsageError(f"--expires {expires}: that day has passed (today is {today.isoformat()} UTC)")
    if not by.strip() or not reason.strip():
        raise UsageError("--by and --reason must name who accepts the risk and why")

    from gatekit.api import run_check, waiver_results_key
    from gatekit.integrity.ledger import record_waiver, resolve_ledger
    from gatekit.integrity.lock import spec_digest
    from gatekit.sources.load import load_spec

    loaded = load_spec(spec)
    verdict = run_check(spec, candidate=candidate, baseline=baseline, record=False, ledger=ledger).verdict
    subjects = [f"{o.id}[{o.slice}].{o.bound}" for o in verdict.gates]
    if check not in subjects:
        from gatekit.names import did_you_mean

        raise UsageError(f"--check {check!r} is not a check of {spec}{did_you_mean(check, subjects)}")
    already = next((w for w in verdict.waivers if w.subject == check), None)
    if already is not None:
        raise UsageError(f"{check} is already waived by waiver #{already.waiver_id} (by {already.by})")
    refused = refusal(next((r for r in verdict.reasons if r.kind == "gate" and r.subject == check), None), check)
    if refused is not None:
        raise UsageError(f"cannot waive: {refused}")
    # Bound to the baseline too: a check against a baseline is decided by both files.
    sha256 = waiver_results_key(verdict.candidate.path, verdict.baseline.path if verdict.baseline else None)
    if sha256 is None:
        raise UsageError.at("cannot hash the results to bind the waiver to them", verdict.candidate.path)
    path = resolve_ledger(ledger, loaded.ledger(), True)
    assert path is not None
    waiver_id = record_waiver(
        path,
        spec_name=loaded.spec.name,
        spec_digest=spec_digest(loaded.spec),
        results_sha256=sha256,
        subject=check,
        by=by.strip(),
        reason=reason.strip(),
        expires=until,
    )
    from gatekit.report import printable

    typer.echo(
        printable(
            f"recorded waiver #{waiver_id} in {path}: {check} accepted by {by.strip()} through {until.isoformat()} "
            f"for spec {loaded.spec.name} as it is now and candidate {verdict.candidate.path} ({sha256})"
        ),
        err=True,
    )
    return 0
