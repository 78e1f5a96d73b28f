"""The commands that read the decision ledger: history, rollback-target and show."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gatekit import __version__
from gatekit.cli._app import _render_options, app
from gatekit.errors import UsageError
from gatekit.text import printable

_LEDGER_OPTION = typer.Option(
    "--ledger",
    help="The decision ledger; default $GATEKIT_LEDGER, else the --spec's `ledger:`, else .gatekit/ledger.db.",
    show_default=False,
)
_SPEC_LEDGER_OPTION = typer.Option(
    "--spec", help="A gate spec: read the ledger its `ledger:` names, as `gatekit check` records.", show_default=False
)


def _ledger_to_read(ledger: Path | None, spec: Path | None) -> Path:
    from gatekit.integrity import ledger as ledger_db

    def spec_ledger() -> Path | None:
        from gatekit.sources.load import load_spec  # the spec's models, only when the spec decides

        return load_spec(spec).ledger() if spec is not None else None

    return ledger_db.ledger_for_reading(ledger, spec_ledger)


@app.command()
def history(
    name: Annotated[Optional[str], typer.Argument(help="Only decisions under this gate (spec name).")] = None,  # noqa: UP045
    ledger: Annotated[Optional[Path], _LEDGER_OPTION] = None,  # noqa: UP045
    spec: Annotated[Optional[Path], _SPEC_LEDGER_OPTION] = None,  # noqa: UP045
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many decisions.")] = 50,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> int:
    """Recorded decisions, newest first, with their verdicts."""
    import json

    from gatekit.integrity import ledger as ledger_db

    if format not in ("table", "json"):
        raise UsageError(f"unknown history format {format!r}; choose table or json")
    path = _ledger_to_read(ledger, spec)
    decisions = ledger_db.history(path, name, limit)
    if format == "json":
        rows = [
            {
                "id": d.id,
                "recorded_at": d.recorded_at,
                "spec": d.spec_name,
                "spec_digest": d.spec_digest,
                "lock": d.lock_status,
                "candidate": d.candidate_model,
                "baseline": d.baseline_model,
                "verdict": d.verdict,
                "summary": d.summary,
            }
            for d in decisions
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not decisions:
        typer.echo(f"no decisions recorded{f' under {name!r}' if name else ''} in {path}", err=True)
    for d in decisions:
        typer.echo(
            printable(f"#{d.id:<5} {d.recorded_at[:19]}Z  {d.verdict.upper():<6}  {d.spec_name}  {d.candidate_model}")
        )
        typer.echo(printable(f"       {d.summary}"))
    return 0


@app.command("rollback-target")
def rollback_target(
    name: Annotated[str, typer.Argument(help="The gate (spec name).", show_default=False)],
    ledger: Annotated[Optional[Path], _LEDGER_OPTION] = None,  # noqa: UP045
    spec: Annotated[Optional[Path], _SPEC_LEDGER_OPTION] = None,  # noqa: UP045
    format: Annotated[str, typer.Option("--format", "-f", help="yaml or json.")] = "yaml",
) -> int:
    """The rollback manifest of the last checkpoint that shipped under gate NAME, for a deploy script.

    Exit 2 with a message when nothing has shipped under it.
    """
    import json

    from gatekit.integrity import ledger as ledger_db

    if format not in ("yaml", "json"):
        raise UsageError(f"unknown rollback-target format {format!r}; choose yaml or json")
    decision = ledger_db.last_shipped(_ledger_to_read(ledger, spec), name)
    target = {
        "decision": decision.id,
        "recorded_at": decision.recorded_at,
        "spec": decision.spec_name,
        "spec_digest": decision.spec_digest,
        "candidate": decision.candidate_model,
        "rollback": decision.rollback_manifest,
    }
    if format == "json":
        sys.stdout.write(json.dumps(target, indent=2) + "\n")
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(target, sort_keys=False, allow_unicode=True))
    return 0


@app.command()
def show(
    decision_id: Annotated[int, typer.Argument(metavar="ID", help="The decision's id (see `gatekit history`).")],
    ledger: Annotated[Optional[Path], _LEDGER_OPTION] = None,  # noqa: UP045
    spec: Annotated[Optional[Path], _SPEC_LEDGER_OPTION] = None,  # noqa: UP045
    format: Annotated[str, typer.Option("--format", "-f", help="Any report format (table, json, ...).")] = "table",
    width: Annotated[Optional[int], typer.Option(min=60, help="Table width in columns (at least 60).")] = None,  # noqa: UP045
    color: Annotated[Optional[bool], typer.Option("--color/--no-color", help="Colour the table.")] = None,  # noqa: UP045
) -> int:
    """One recorded decision in full, re-rendered from the verdict stored in the ledger."""
    from pydantic import ValidationError

    from gatekit.decide.verdict import Verdict
    from gatekit.errors import LedgerError
    from gatekit.integrity import ledger as ledger_db
    from gatekit.report import get_renderer

    renderer = get_renderer(format)
    path = _ledger_to_read(ledger, spec)
    decision = ledger_db.get_decision(path, decision_id)
    try:
        verdict = Verdict.model_validate_json(decision.verdict_json)
    except ValidationError as e:
        raise LedgerError.at(
            f"decision #{decision_id} was recorded by gatekit {decision.gatekit_version} and cannot be read by "
            f"gatekit {__version__}: {e.errors()[0]['msg']}",
            str(path),
        ) from e
    sys.stdout.write(renderer(verdict, _render_options(width, color)))  # type: ignore[arg-type]
    return 0
