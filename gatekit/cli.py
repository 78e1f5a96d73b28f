"""The command line. It parses arguments, calls the core and maps outcomes to exit codes; nothing else.

Exit codes (`gatekit.exit_codes.ExitCode`): 0 ship, 3 revise, 4 stop, 2 invalid input or usage,
1 internal error. Bad input never prints a traceback; `main` is the one place that turns errors into
messages on stderr.
"""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from gatekit import __version__
from gatekit.errors import GatekitError, UsageError
from gatekit.exit_codes import ExitCode

app = typer.Typer(
    name="gatekit",
    help="Hold a checkpoint to the release gate written before its run: ship, stop or revise.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

STAGE_TEMPLATES = (
    "pretraining",
    "sft",
    "preference",
    "quantization",
    "adapter",
    "vendor-selection",
    "serving",
    "other",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gatekit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """gatekit: release gates for ML/LLM checkpoints."""


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _render_options(width: int | None, color: bool | None) -> object:
    from gatekit.report import RenderOptions

    terminal = _stdout_is_terminal()
    if color is None:
        color = terminal and "NO_COLOR" not in os.environ
    if width is None:
        width = shutil.get_terminal_size((120, 24)).columns if terminal else 120
    return RenderOptions(width=max(width, 60), color=color)


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="The gate spec (YAML).", show_default=False, metavar="SPEC")],
    candidate: Annotated[
        Optional[Path], typer.Option(help="Candidate results; overrides `candidate:` in the spec.")  # noqa: UP045
    ] = None,
    baseline: Annotated[
        Optional[Path], typer.Option(help="Baseline results; overrides `baseline:` in the spec.")  # noqa: UP045
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="Report format: table, json, junit, markdown, github or html.")
    ] = "table",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report here (atomically) instead of stdout.")  # noqa: UP045
    ] = None,
    width: Annotated[Optional[int], typer.Option(help="Table width in columns.")] = None,  # noqa: UP045
    color: Annotated[Optional[bool], typer.Option("--color/--no-color", help="Colour the table.")] = None,  # noqa: UP045
    verify_artifacts: Annotated[
        bool, typer.Option(help="Also hash local rollback artifacts and look up git revisions; mismatches revise.")
    ] = False,
    record: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--record/--no-record",
            help="Record the decision in the ledger. Default: record when a ledger is configured "
            "(--ledger, GATEKIT_LEDGER or the spec's `ledger:`).",
            show_default=False,
        ),
    ] = None,
    ledger: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="The decision ledger (SQLite) to record into; default $GATEKIT_LEDGER, else the spec's `ledger:`; "
            "with --record and none of these, .gatekit/ledger.db.",
            show_default=False,
        ),
    ] = None,
    candidate_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Read the candidate as this format instead of detecting it (as in `gatekit inspect`)."),
    ] = None,
    baseline_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Read the baseline as this format instead of detecting it."),
    ] = None,
    report: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--report",
            metavar="FORMAT=PATH",
            help="Also write a report in FORMAT to PATH (atomically), e.g. junit=out/gates.xml; repeatable. "
            "PATH '-' is stdout; the --format report then goes to stderr (or --output).",
        ),
    ] = None,
) -> int:
    """Evaluate the candidate against the spec and print the verdict. Exit 0 ship, 3 revise, 4 stop."""
    from gatekit.api import run_check
    from gatekit.memory import keep_freed_memory
    from gatekit.report import RenderOptions, get_renderer, parse_report_targets, printable

    # Unknown formats and clashing paths are usage errors before any work is done.
    renderer = get_renderer(format)
    targets = parse_report_targets(report or [], output)
    keep_freed_memory()
    run = run_check(
        spec,
        candidate=candidate,
        baseline=baseline,
        verify_artifacts=verify_artifacts,
        record=record,
        ledger=ledger,
        candidate_format=candidate_format,
        baseline_format=baseline_format,
    )
    verdict = run.verdict
    if run.decision_id is not None:
        typer.echo(f"recorded decision #{run.decision_id} in {run.ledger}", err=True)
    stdout_taken = any(t.path is None for t in targets)
    options = _render_options(width, color if output is None and not stdout_taken else bool(color))
    main_report = renderer(verdict, options)  # type: ignore[arg-type]
    # Files are for machines and diffs: fixed width unless asked, never colour.
    file_options = RenderOptions(width=max(width or 120, 60), color=False)
    extra = [(t, get_renderer(t.format)(verdict, file_options)) for t in targets]
    from gatekit.atomic import write_atomic

    if output is not None:
        write_atomic(output, main_report)
        typer.echo(printable(f"{verdict.summary} (report: {output})"), err=True)
    elif stdout_taken:
        sys.stderr.write(main_report)
    else:
        sys.stdout.write(main_report)
    for target, text in extra:
        if target.path is None:
            sys.stdout.write(text)
        else:
            write_atomic(target.path, text)
            typer.echo(f"wrote {target.format} report: {target.path}", err=True)
    return verdict.exit_code


@app.command()
def validate(
    specs: Annotated[list[Path], typer.Argument(help="Gate specs to validate.", show_default=False, metavar="SPEC...")],
    strict: Annotated[bool, typer.Option(help="Treat an incomplete rollback manifest as an error.")] = False,
) -> int:
    """Check gate specs before any results exist. Exit 0 if all are valid, 2 otherwise."""
    from gatekit.load import load_spec
    from gatekit.rollback import check_manifest

    failed = False
    for path in specs:
        try:
            loaded = load_spec(path)
        except GatekitError as e:
            _print_error(e)
            failed = True
            continue
        gates = loaded.spec.gates
        checks = sum(len(g.bounds()) for g in gates)
        typer.echo(f"{path}: valid ({_count(len(gates), 'gate')}, {_count(checks, 'bound')})")
        for entry in check_manifest(loaded.spec):
            if entry.required and entry.status not in ("pinned", "not_required"):
                typer.echo(f"{path}: warning: rollback.{entry.name}: {entry.reason}", err=True)
                failed = failed or strict
    return int(ExitCode.INVALID_INPUT if failed else ExitCode.SHIP)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the spec; '-' for stdout.")] = Path("gate.yaml"),
    stage: Annotated[str, typer.Option(help="The run's stage: " + ", ".join(STAGE_TEMPLATES) + ".")] = "sft",
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> int:
    """Write a commented starter spec for a stage. It validates as written; fill in the TODOs."""
    from importlib.resources import files

    if stage not in STAGE_TEMPLATES:
        raise UsageError(f"unknown stage {stage!r}; choose one of: {', '.join(STAGE_TEMPLATES)}")
    import datetime as dt
    import re

    text = files("gatekit").joinpath("gates").joinpath(f"{stage}.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(  written: )\d{4}-\d{2}-\d{2}", rf"\g<1>{dt.date.today().isoformat()}", text, count=1)
    if str(path) == "-":
        sys.stdout.write(text)
        return 0
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; use --force to overwrite it")
    from gatekit.atomic import write_atomic

    write_atomic(path, text)
    typer.echo(f"wrote {path} ({stage}); edit it, then run: gatekit validate {path}", err=True)
    return 0


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the schema here.")] = None,  # noqa: UP045
    verdict: Annotated[
        bool, typer.Option("--verdict", help="The schema of the verdict (`check --format json`) instead.")
    ] = False,
) -> int:
    """Print the JSON Schema of the gate spec (for editors: `# yaml-language-server: $schema=...`).

    With --verdict, the schema of the JSON verdict: versioned by `schema_version`, changed only by additions.
    """
    import json

    from gatekit.json_schema import json_schema

    if verdict:
        from gatekit.verdict import Verdict

        document = json_schema(Verdict)
    else:
        from gatekit.spec import Spec

        document = json_schema(Spec)
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from gatekit.atomic import write_atomic

        write_atomic(output, text)
    return 0


@app.command()
def lock(
    spec: Annotated[Path, typer.Argument(help="The gate spec to lock.", show_default=False)],
) -> int:
    """Pre-register a gate spec: record its digest in SPEC.lock (commit both). Prints the digest on stdout.

    Give the digest to the evaluation so its results name their gate (`gate_digest`). Locking an edited
    spec again appends to the lock's history, and the report shows the re-lock.
    """
    from gatekit.load import load_spec
    from gatekit.lock import lock_path_for, lock_spec

    loaded = load_spec(spec)
    lock_file, added = lock_spec(loaded.spec, loaded.path)
    event = lock_file.events[-1]
    lock_path = lock_path_for(loaded.path)
    if not added:
        when = event.locked_at.strftime("%Y-%m-%d %H:%M:%SZ")
        typer.echo(f"{spec} is unchanged since it was locked at {when}; {lock_path} not modified", err=True)
    elif len(lock_file.events) > 1:
        typer.echo(
            f"re-locked {spec} in {lock_path} (lock event {len(lock_file.events)}; the report will show it); "
            "commit both",
            err=True,
        )
    else:
        typer.echo(f"locked {spec} in {lock_path}; commit both", err=True)
    sys.stdout.write(event.digest + "\n")
    return 0


@app.command()
def verify(
    spec: Annotated[Path, typer.Argument(help="The gate spec whose rollback manifest to verify.", show_default=False)],
) -> int:
    """Verify the rollback artifacts: local files and folders against their digests, git revisions in their
    repositories. Remote uris and images are checked for form only. Exit 0 if none is missing, mismatched or
    unreadable, 3 otherwise."""
    from gatekit.artifacts import FAILED_VERIFICATION, verify_manifest
    from gatekit.load import load_spec

    loaded = load_spec(spec)
    checked = verify_manifest(loaded.spec, loaded.path.parent)
    for v in checked:
        typer.echo(f"{v.name:<18} {v.status.upper().replace('_', ' '):<13} {v.uri}")
        typer.echo(f"{'':<18} {v.message}")
    failed = [v.name for v in checked if v.status in FAILED_VERIFICATION]
    if failed:
        typer.echo(f"{spec}: {_count(len(failed), 'artifact')} failed verification: {', '.join(failed)}", err=True)
        return int(ExitCode.REVISE)
    typer.echo(f"{spec}: no artifact missing or mismatched ({len(checked)} manifest entries checked)", err=True)
    return int(ExitCode.SHIP)


_LEDGER_OPTION = typer.Option(
    "--ledger",
    help="The decision ledger; default $GATEKIT_LEDGER, else the --spec's `ledger:`, else .gatekit/ledger.db.",
    show_default=False,
)
_SPEC_LEDGER_OPTION = typer.Option(
    "--spec", help="A gate spec: read the ledger its `ledger:` names, as `gatekit check` records.", show_default=False
)


def _ledger_to_read(ledger: Path | None, spec: Path | None) -> Path:
    from gatekit import ledger as ledger_db

    def spec_ledger() -> Path | None:
        from gatekit.load import load_spec  # the spec's models, only when the spec decides

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

    from gatekit import ledger as ledger_db

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
        typer.echo(f"#{d.id:<5} {d.recorded_at[:19]}Z  {d.verdict.upper():<6}  {d.spec_name}  {d.candidate_model}")
        typer.echo(f"       {d.summary}")
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

    from gatekit import ledger as ledger_db

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
    width: Annotated[Optional[int], typer.Option(help="Table width in columns.")] = None,  # noqa: UP045
    color: Annotated[Optional[bool], typer.Option("--color/--no-color", help="Colour the table.")] = None,  # noqa: UP045
) -> int:
    """One recorded decision in full, re-rendered from the verdict stored in the ledger."""
    from pydantic import ValidationError

    from gatekit import ledger as ledger_db
    from gatekit.errors import LedgerError
    from gatekit.report import get_renderer
    from gatekit.verdict import Verdict

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


@app.command("inspect")
def inspect_results(
    path: Annotated[Path, typer.Argument(help="A results file: table, harness output or gatekit YAML/JSON.")],
    spec: Annotated[
        Optional[Path], typer.Option(help="Compute the spec's derived metrics and slices too.")  # noqa: UP045
    ] = None,
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="Force the input format instead of detecting it (see gatekit.adapters)."),
    ] = None,
) -> int:
    """Show what gatekit sees in a results file: columns, metrics, slices and n, so gates use real names."""
    from gatekit.inspect_view import describe
    from gatekit.memory import keep_freed_memory

    keep_freed_memory()
    sys.stdout.write(describe(path, spec, format))
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _print_error(error: GatekitError) -> None:
    for diagnostic in error.diagnostics:
        typer.echo(f"error: {diagnostic.format()}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code. The only place errors become messages."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="gatekit", standalone_mode=False)
    except GatekitError as e:
        _print_error(e)
        return int(ExitCode.INVALID_INPUT)
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return int(ExitCode.INVALID_INPUT)
    except typer.TyperException as e:
        # Usage errors (missing argument, bad option value): typer's vendored click exceptions.
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every usage error typer raises can show itself
            typer.echo(f"error: {e}", err=True)
        return int(ExitCode.INVALID_INPUT)
    except BrokenPipeError:
        # `gatekit check ... | head`: the reader went away; the verdict is unaffected, but there is no one to tell.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.INTERNAL_ERROR)
    except Exception:
        typer.echo(
            "gatekit: internal error (a bug in gatekit, not in your input). Please report it with the traceback below.",
            err=True,
        )
        traceback.print_exc()
        return int(ExitCode.INTERNAL_ERROR)
    return int(result or 0)


def run() -> None:
    """Console-script entry point.

    It ends the process without the interpreter's teardown, which after a check spends 0.05 s finalising
    numpy, pyarrow and pydantic module by module for an address space the kernel frees anyway. Everything
    a normal exit does for others still happens first: the atexit handlers run (coverage, logging) and the
    standard streams are flushed. A report that cannot be flushed is never a pass."""
    import atexit

    code = main()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # pragma: no cover - an interpreter without it exits the usual way
        sys.exit(code)
    run_exit_handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = code or int(ExitCode.INTERNAL_ERROR)
    os._exit(code)
