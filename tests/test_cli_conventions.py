"""Command-line conventions: -h, shell completion, plain usage lines, one meaning per option name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import ROOT, Run

USAGE = {
    "check": "Usage: gatekit check [OPTIONS] SPEC",
    "validate": "Usage: gatekit validate [OPTIONS] SPEC...",
    "init": "Usage: gatekit init [OPTIONS] [PATH]",
    "schema": "Usage: gatekit schema [OPTIONS]",
    "lock": "Usage: gatekit lock [OPTIONS] SPEC",
    "verify": "Usage: gatekit verify [OPTIONS] SPEC",
    "inspect": "Usage: gatekit inspect [OPTIONS] PATH",
    "history": "Usage: gatekit history [OPTIONS] [NAME]",
    "rollback-target": "Usage: gatekit rollback-target [OPTIONS] NAME",
    "show": "Usage: gatekit show [OPTIONS] ID",
    "plan": "Usage: gatekit plan [OPTIONS] SPEC",
    "compare": "Usage: gatekit compare [OPTIONS] SPEC [RESULTS...]",
    "waive": "Usage: gatekit waive [OPTIONS] SPEC",
    "stats-sql": "Usage: gatekit stats-sql [OPTIONS] SPEC",
}


@pytest.mark.parametrize(("command", "usage"), USAGE.items(), ids=USAGE.keys())
def test_h_shows_a_plain_usage_line(command: str, usage: str, gatekit: Callable[..., Run]) -> None:
    result = gatekit(command, "-h")

    assert (result.code, result.out.splitlines()[0]) == (0, usage)
    assert ("{" in result.out, "<list[" in result.out) == (False, False)


def test_h_on_the_root_lists_every_command_and_completion(gatekit: Callable[..., Run]) -> None:
    result = gatekit("-h")

    assert result.code == 0
    listed = {line.split()[0] for line in result.out.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(USAGE)
    assert ("--install-completion" in result.out, "--show-completion" in result.out) == (True, True)


def test_show_completion_prints_a_script_for_the_shell(
    gatekit: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELL", "/bin/bash")

    result = gatekit("--show-completion", "bash")

    assert result.code == 0
    assert "_gatekit_completion()" in result.out
    assert "complete -o default -F _gatekit_completion gatekit" in result.out


FIXTURE = ROOT / "tests" / "fixtures" / "adapters" / "lm_eval_results.json"


@pytest.mark.parametrize("option", ["--input-format", "--format"])
def test_inspect_takes_the_input_format_under_both_spellings(option: str, gatekit: Callable[..., Run]) -> None:
    result = gatekit("inspect", option, "lm-eval", FIXTURE)

    assert (result.code, result.err) == (0, "")
    assert "gsm8k" in result.out


def test_inspect_rejects_two_different_input_formats(gatekit: Callable[..., Run]) -> None:
    result = gatekit("inspect", "--input-format", "lm-eval", "--format", "gatekit", FIXTURE)

    assert result.code == 2
    assert result.err == "error: <input>: give the input format once: --input-format (--format is its old spelling)\n"
