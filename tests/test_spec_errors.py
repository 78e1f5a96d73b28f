"""Bad gate specs: each is exit 2 with one precise `file:line:col: field: message` diagnostic, never a verdict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_SPEC, Run

GATE = "  - id: acc\n    metric: accuracy\n    min: 0.5\n"


def _edit(old: str, new: str) -> str:
    spec = MINIMAL_SPEC.lstrip("\n")
    assert old in spec, old
    return spec.replace(old, new, 1)


CASES = [
    pytest.param(
        _edit(GATE, GATE + "    min: 0.6\n"),
        "spec.yaml:15:5: duplicate key 'min' (first defined at line 14); YAML would silently keep only the last one",
        id="duplicate-key",
    ),
    pytest.param(
        _edit(GATE, GATE + "  - id: acc\n    metric: other\n    max: 1\n"),
        "spec.yaml:15:9: gates[1].id: duplicate gate id 'acc': gates[0] already uses it",
        id="duplicate-gate-id",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    min: 0.5\n    on_fail: yes\n"),
        "spec.yaml:15:14: 'yes' is read differently by YAML 1.1 and 1.2 tools",
        id="yaml11-bool-yes",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max: off\n"),
        "spec.yaml:14:10: 'off' is read differently by YAML 1.1 and 1.2 tools",
        id="yaml11-bool-off",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    min: 0.5\n    slices: [NO, SE]\n"),
        "spec.yaml:15:14: 'NO' is read differently by YAML 1.1 and 1.2 tools",
        id="norway-slice",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max: 010\n"),
        "spec.yaml:14:10: '010' is read differently by YAML 1.1 and 1.2 tools",
        id="yaml11-octal",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max: 1:30\n"),
        "spec.yaml:14:10: '1:30' is read differently by YAML 1.1 and 1.2 tools",
        id="yaml11-base60",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max: 1_000\n"),
        "spec.yaml:14:10: '1_000' is read differently by YAML 1.1 and 1.2 tools",
        id="digit-separator",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    min: .nan\n"),
        "spec.yaml:14:10: gates[0].min: must be a finite number (not NaN or infinity)",
        id="nan-bound",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max: .inf\n"),
        "spec.yaml:14:10: gates[0].max: must be a finite number (not NaN or infinity)",
        id="inf-bound",
    ),
    pytest.param(
        _edit("    min: 0.5\n", '    min: "0.95"\n'),
        "spec.yaml:14:10: gates[0].min: Input should be a valid number "
        "(got the string '0.95'; write the number without quotes)",
        id="quoted-number",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    min: true\n"),
        "spec.yaml:14:10: gates[0].min: Input should be a valid number (got bool)",
        id="bool-as-number",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max_increse: 0.1\n"),
        "spec.yaml:14:5: gates[0].max_increse: unknown field (did you mean 'max_increase'?)",
        id="typo-in-bound",
    ),
    pytest.param(
        _edit("name: tiny\n", "name: tiny\nowner: me\n"),
        "spec.yaml:3:1: owner: unknown field",
        id="unknown-top-level-key",
    ),
    pytest.param(
        _edit("    min: 0.5\n", ""),
        "spec.yaml:12:5: gates[0]: gate 'acc' has no bound: give at least one of min, max, max_increase, "
        "max_decrease, max_increase_pct, max_decrease_pct",
        id="gate-without-bound",
    ),
    pytest.param(
        _edit("baseline: baseline.yaml\n", "").replace("    min: 0.5\n", "    max_increase: 0.01\n"),
        "spec.yaml:13:19: gates[0].max_increase: max_increase compares with a baseline, "
        "but the spec names no `baseline` results file (set `baseline:`, or give --baseline FILE)",
        id="relative-bound-without-baseline",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    max_increase: -0.01\n"),
        "spec.yaml:14:19: gates[0].max_increase: Input should be greater than or equal to 0",
        id="negative-margin",
    ),
    pytest.param(
        _edit("    min: 0.5\n", "    min: 0.9\n    max: 0.8\n"),
        "spec.yaml:12:5: gates[0]: gate 'acc' can never pass: min 0.9 is above max 0.8",
        id="min-above-max",
    ),
    pytest.param(
        _edit("gates:\n", "metrics:\n  accuracy: {kind: proportion}\ngates:\n").replace("min: 0.5", "min: 95"),
        "spec.yaml:16:10: gates[0].min: accuracy is a proportion (0 to 1) but min is 95.0; for 95% write 0.95",
        id="percent-on-a-rate",
    ),
    pytest.param(
        _edit("version: 1", "version: 2"),
        "spec.yaml:1:10: version: unsupported spec version 2: this gatekit reads version 1",
        id="unsupported-version",
    ),
    pytest.param(
        _edit("  owner: me\n", ""),
        "spec.yaml:4:3: hypothesis.owner: required field is missing",
        id="missing-field",
    ),
    pytest.param(
        _edit("  stage: other", "  stage: finetune"),
        "spec.yaml:5:10: hypothesis.stage: Input should be 'pretraining', 'sft', 'preference', 'quantization', "
        "'adapter', 'vendor-selection', 'serving' or 'other'",
        id="unknown-stage",
    ),
    pytest.param(
        _edit("  statement: The change improves accuracy.", "  statement: '   '"),
        "spec.yaml:4:14: hypothesis.statement: String should have at least 1 character",
        id="blank-statement",
    ),
    pytest.param(
        _edit("  written: 2026-01-01", "  written: 2999-01-01"),
        "spec.yaml:8:12: hypothesis.written: the hypothesis cannot be written in the future (2999-01-01)",
        id="written-in-future",
    ),
    pytest.param(
        _edit("    min: 0.5\n", '    min: 0.5\n    slices: ["*", harmless]\n'),
        'spec.yaml:15:13: gates[0].slices: "*" already means every slice: list it alone',
        id="star-with-names",
    ),
    pytest.param(
        _edit("  - id: acc", "  - id: 'bad id!'"),
        "spec.yaml:12:9: gates[0].id: String should match pattern",
        id="bad-gate-id",
    ),
    pytest.param(
        _edit("rollback:\n", "rollback:\n  require: [weights]\n"),
        "spec.yaml:16:13: rollback.require[0]: Input should be 'checkpoint', 'tokenizer'",
        id="unknown-rollback-entry",
    ),
    pytest.param(
        _edit("gates:\n  - id: acc\n    metric: accuracy\n    min: 0.5\n", "gates: []\n"),
        "spec.yaml:11:8: gates: a spec needs at least one gate",
        id="no-gates",
    ),
    pytest.param(
        "a: &x [1, 2]\nb: *x\n",
        "spec.yaml:2:4: anchors and aliases are not supported: write the value out",
        id="alias",
    ),
    pytest.param(
        "version: 1\n<<: {name: x}\n",
        "spec.yaml:2:1: merge keys ('<<') are not supported: write the keys out",
        id="merge-key",
    ),
    pytest.param(
        "!!python/object/apply:os.system ['touch pwned']\n",
        "spec.yaml:1:1: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
        id="python-tag",
    ),
    pytest.param("", "spec.yaml: the file is empty (no YAML document)", id="empty-file"),
    pytest.param("# just a comment\n", "spec.yaml: the file is empty (no YAML document)", id="comments-only"),
    pytest.param(
        "- version: 1\n",
        "spec.yaml:1:1: a gate spec must be a mapping of keys (version, name, hypothesis, gates, ...), not a list",
        id="top-level-list",
    ),
    pytest.param(
        "version: 1\n---\nversion: 1\n",
        "spec.yaml:2:1: expected a single document in the stream but found another document",
        id="two-documents",
    ),
    pytest.param(
        "version: 1\nhypothesis:\n\tstage: sft\n",
        "spec.yaml:3:1: a tab character: YAML indents with spaces only; replace the tab with spaces "
        "(YAML: while scanning for the next token found character '\\t' that cannot start any token)",
        id="tab-indentation",
    ),
    pytest.param("[" * 10_000, "spec.yaml:1:65: nesting deeper than 64 levels", id="deep-nesting"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_bad_spec_is_invalid_input_with_location(
    text: str, expected: str, gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(text, encoding="utf-8")

    result = gatekit("validate", "spec.yaml")

    assert result.code == 2
    assert result.out == ""
    first_line = result.err.splitlines()[0]
    assert first_line.startswith("error: " + expected)
    assert "Traceback" not in result.err


def test_python_tag_runs_nothing(gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text("!!python/object/apply:os.system ['touch pwned']\n", encoding="utf-8")

    gatekit("validate", "spec.yaml")

    assert not Path("pwned").exists()


def test_alias_bomb_is_refused_before_expansion(
    gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    levels += [
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    Path("spec.yaml").write_text("\n".join(levels) + "\n", encoding="utf-8")

    result = gatekit("validate", "spec.yaml")

    assert result.code == 2
    assert result.err == "error: spec.yaml:2:8: anchors and aliases are not supported: write the value out\n"


def test_invalid_utf8_names_line_and_column(
    gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_bytes(b"version: 1\nname: caf\xe9\n")

    result = gatekit("validate", "spec.yaml")

    assert (result.code, result.err) == (2, "error: spec.yaml:2:10: invalid UTF-8 byte 0xe9\n")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(lambda p: None, "error: spec.yaml: file not found\n", id="missing"),
        pytest.param(lambda p: p.mkdir(), "error: spec.yaml: is a directory, not a file\n", id="directory"),
    ],
)
def test_unreadable_spec(
    setup: Callable[[Path], None],
    expected: str,
    gatekit: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    setup(Path("spec.yaml"))

    result = gatekit("validate", "spec.yaml")

    assert (result.code, result.out, result.err) == (2, "", expected)


def test_every_error_in_a_spec_is_reported_at_once(
    gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(
        _edit("  owner: me\n", "").replace("    min: 0.5\n", "    min: 0.5\n    colour: red\n"), encoding="utf-8"
    )

    result = gatekit("validate", "spec.yaml")

    assert result.code == 2
    assert result.err.splitlines() == [
        "error: spec.yaml:4:3: hypothesis.owner: required field is missing",
        "error: spec.yaml:14:5: gates[0].colour: unknown field",
    ]


def test_unquoted_numeric_revision_asks_for_quotes(
    gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(_edit('"5555555555555555555555555555555555555555"', "1234567e89"), encoding="utf-8")

    result = gatekit("validate", "spec.yaml")

    assert result.code == 2
    assert result.err == (
        "error: spec.yaml:20:37: rollback.data_revision.revision: Input should be a valid string "
        "(got the number 1.234567e+95; put the value in quotes)\n"
    )


def test_scientific_notation_is_a_number(
    gatekit: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gatekit.sources.load import load_spec

    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(_edit("    min: 0.5\n", "    max: 1e-3\n"), encoding="utf-8")

    assert load_spec("spec.yaml").spec.gates[0].max == 0.001
