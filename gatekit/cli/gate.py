"""The commands about one gate: check, validate, init, schema, lock and verify."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from gatekit.cli._app import STAGE_TEMPLATES, _count, _print_error, _render_options, app, write_stdout
from gatekit.errors import Diagnostic, GatekitError, SpecError, UsageError
from gatekit.exit_codes import ExitCode

if TYPE_CHECKING:
    from gatekit.sources.load import LoadedSpec


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="The gate spec (YAML).", show_default=False, metavar="SPEC")],
    candidate: Annotated[
        Optional[Path], typer.Option(help="Candidate results; overrides `candidate:` in the spec.")  # noqa: UP045
    ] = None,
    baseline: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Baseline results; overrides `baseline:` in the spec. ledger:last-ship: the results of the last "
            "checkpoint that shipped under this gate, verified against the ledger's SHA-256."
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="Report format: table, json, junit, markdown, github or html.")
    ] = "table",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report here (atomically) instead of stdout.")  # noqa: UP045
    ] = None,
    width: Annotated[Optional[int], typer.Option(min=60, help="Table width in columns (at least 60).")] = None,  # noqa: UP045
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
        typer.Option(
            help="Read the candidate as this format instead of detecting it (`gatekit inspect --input-format`)."
        ),
    ] = None,
    baseline_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Read the baseline as this format instead of detecting it."),
    ] = None,
    exit_codes: Annotated[
        str,
        typer.Option(
            "--exit-codes",
            help="gatekit (0 ship, 3 revise, 4 stop, 2 invalid) or bisect, for `git bisect run`: 0 ship, "
            "1 a check failed, 125 inconclusive (skip), 128 invalid input or internal error (abort).",
        ),
    ] = "gatekit",
    candidate_model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The model or provider to read from a candidate file holding several (promptfoo)."),
    ] = None,
    baseline_model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The model or provider to read from the baseline file."),
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
    review: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--review",
            metavar="FILE",
            help="Write the review queue (examples that regressed, scorer disagreements) to FILE: .jsonl or .csv.",
            show_default=False,
        ),
    ] = None,
) -> int:
    """Evaluate the candidate against the spec and print the verdict. Exit 0 ship, 3 revise, 4 stop."""
    from gatekit.api import run_check
    from gatekit.memory import keep_freed_memory
    from gatekit.report import RenderOptions, get_renderer, parse_report_targets, printable

    if exit_codes not in ("gatekit", "bisect"):
        raise UsageError(f"unknown --exit-codes {exit_codes!r}; choose gatekit or bisect")
    if output is not None and str(output) == "-":
        output = None  # `--output -` is stdout, as for --report
    # Unknown formats and clashing paths are usage errors before any work is done.
    renderer = get_renderer(format)
    targets = parse_report_targets(report or [], output)
    if review is not None:
        from gatekit.report.review_file import review_format

        review_fmt = review_format(review)
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
        candidate_model=candidate_model,
        baseline_model=baseline_model,
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
    from gatekit.integrity.atomic import write_atomic

    if output is not None:
        write_atomic(output, main_report)
        typer.echo(printable(f"{verdict.summary} (report: {output})"), err=True)
    elif stdout_taken:
        sys.stderr.write(main_report)
    else:
        write_stdout(main_report)
    for target, text in extra:
        if target.path is None:
            write_stdout(text)
        else:
            write_atomic(target.path, text)
            typer.echo(f"wrote {target.format} report: {target.path}", err=True)
    if review is not None:
        from gatekit.report.review_file import render_review, review_rows

        write_atomic(review, render_review(verdict, review_fmt))
        typer.echo(printable(f"wrote review queue: {review} ({len(review_rows(verdict))} examples)"), err=True)
    if exit_codes == "bisect":
        from gatekit.decide.lineage import bisect_exit_code

        return bisect_exit_code(verdict)
    return verdict.exit_code


@app.command()
def validate(
    specs: Annotated[list[Path], typer.Argument(help="Gate specs to validate.", show_default=False, metavar="SPEC...")],
    strict: Annotated[bool, typer.Option(help="Treat an incomplete rollback manifest as an error.")] = False,
    candidate: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="A results file: also check that the spec's derived metrics and slices name its columns."),
    ] = None,
    candidate_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Read the --candidate as this format instead of detecting it."),
    ] = None,
    baseline: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="The baseline `check --baseline` will get: relative bounds need no `baseline:`."),
    ] = None,
) -> int:
    """Check gate specs before any results exist. Exit 0 if all are valid, 2 otherwise."""
    from gatekit.decide.rollback import check_manifest
    from gatekit.sources.load import load_spec
    from gatekit.spec.checks import spec_findings

    failed = False
    for path in specs:
        try:
            loaded = load_spec(path, baseline_given=baseline is not None)
            findings = spec_findings(loaded.spec, loaded.document)
            if candidate is not None and not findings:
                findings = _candidate_findings(loaded, candidate, candidate_format)
            if baseline is not None and not findings:
                findings = _candidate_findings(loaded, baseline, None)
            if findings:
                raise SpecError(findings)
        except GatekitError as e:
            _print_error(e)
            failed = True
            continue
        from gatekit.cli.plan import spec_plan_section

        blocked, plan_summary = spec_plan_section(loaded)
        if blocked:
            _print_error(SpecError(blocked))
            failed = True
            continue
        gates = loaded.spec.gates
        checks = sum(len(g.bounds()) for g in gates)
        typer.echo(f"{path}: valid ({_count(len(gates), 'gate')}, {_count(checks, 'bound')})")
        if plan_summary is not None:
            typer.echo(plan_summary)
        for entry in check_manifest(loaded.spec):
            if entry.required and entry.status not in ("pinned", "not_required"):
                typer.echo(f"{path}: warning: rollback.{entry.name}: {entry.reason}", err=True)
                failed = failed or strict
    return int(ExitCode.INVALID_INPUT if failed else ExitCode.SHIP)


def _candidate_findings(loaded: LoadedSpec, candidate: Path, fmt: str | None) -> list[Diagnostic]:
    """The spec's columns missing from a results table (the candidate or the baseline); a harness or gatekit
    file is read in full instead, so a problem with it is reported where it is."""
    from gatekit.sources.load import load_results, table_column_names
    from gatekit.spec.checks import table_column_findings

    columns = table_column_names(candidate, fmt)
    if columns is None:
        load_results(candidate, loaded.spec, fmt)
        return []
    return table_column_findings(loaded.spec, loaded.document, columns, str(candidate))


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
        write_stdout(text)
        return 0
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; use --force to overwrite it")
    from gatekit.integrity.atomic import write_atomic

    write_atomic(path, text)
    typer.echo(f"wrote {path} ({stage}); edit it, then run: gatekit validate {path}", err=True)
    return 0


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the schema here.")] = None,  # noqa: UP045
    verdict: Annotated[
        bool, typer.Option("--verdict", help="The schema of the verdict (`check --format json`) instead.")
    ] = False,
    comparison: Annotated[
        bool, typer.Option("--comparison", help="The schema of `compare --format json` instead.")
    ] = False,
) -> int:
    """Print the JSON Schema of the gate spec (for editors: `# yaml-language-server: $schema=...`).

    With --verdict, the schema of the JSON verdict: versioned by `schema_version`, changed only by additions.
    """
    import json

    from gatekit.spec.json_schema import json_schema

    if verdict and comparison:
        raise UsageError("give --verdict or --comparison, not both")
    if comparison:
        from gatekit.decide.compare import Comparison

        document = json_schema(Comparison)
    elif verdict:
        from gatekit.decide.verdict import Verdict

        document = json_schema(Verdict)
    else:
        from gatekit.spec.model import Spec

        document = json_schema(Spec)
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from gatekit.integrity.atomic import write_atomic

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
    from gatekit.integrity.lock import lock_path_for, lock_spec
    from gatekit.sources.load import load_spec

    # A spec may leave its baseline to `check --baseline`: locking does not need one.
    loaded = load_spec(spec, baseline_given=True)
    from gatekit.cli.plan import spec_plan_section

    blocked, plan_summary = spec_plan_section(loaded)
    if blocked:
        # Pre-registering a gate that cannot pass at its planned n would lock in a release that never ships.
        raise SpecError(blocked)
    lock_file, added = lock_spec(loaded.spec, loaded.path)
    if plan_summary is not None:
        typer.echo(f"{plan_summary}; the plan's n is pre-registered with the spec", err=True)
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
    write_stdout(event.digest + "\n")
    return 0


@app.command()
def verify(
    spec: Annotated[Path, typer.Argument(help="The gate spec whose rollback manifest to verify.", show_default=False)],
) -> int:
    """Verify the rollback artifacts: local files and folders against their digests, git revisions in their
    repositories. Remote uris and images are checked for form only. Exit 0 if none is missing, mismatched or
    unreadable, 3 otherwise."""
    from gatekit.integrity.artifacts import verify_manifest
    from gatekit.outcomes import FAILED_VERIFICATION
    from gatekit.sources.load import load_spec

    loaded = load_spec(spec, baseline_given=True)
    checked = verify_manifest(loaded.spec, loaded.path.parent)
    from gatekit.text import printable

    for v in checked:
        write_stdout(printable(f"{v.name:<18} {v.status.upper().replace('_', ' '):<13} {v.uri}") + "\n")
        write_stdout(printable(f"{'':<18} {v.message}") + "\n")
    failed = [v.name for v in checked if v.status in FAILED_VERIFICATION]
    if failed:
        typer.echo(f"{spec}: {_count(len(failed), 'artifact')} failed verification: {', '.join(failed)}", err=True)
        return int(ExitCode.REVISE)
    typer.echo(f"{spec}: no artifact missing or mismatched ({len(checked)} manifest entries checked)", err=True)
    return int(ExitCode.SHIP)
