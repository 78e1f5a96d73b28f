"""YAML syntax errors say what the mistake most likely is, in plain words, at its line and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, Run

CASES = {
    "tab": (
        "version: 1\nname: x\nhypothesis:\n\tstage: sft\n",
        "4:1: a tab character: YAML indents with spaces only; replace the tab with spaces "
        "(YAML: while scanning for the next token found character '\\t' that cannot start any token)",
    ),
    "list item indented one space less": (
        "gates:\n  - id: a\n    metric: x\n  min: 1\n",
        "4:3: the indentation does not line up: keys of one mapping, and the items of one list, start in the "
        "same column (compare this line with the ones above it); a value with ': ' in it needs quotes "
        "(YAML: while parsing a block collection expected <block end>, but found '?')",
    ),
    "key indented one space more": (
        "version: 1\n name: x\n",
        "2:6: the indentation does not line up: keys of one mapping, and the items of one list, start in the "
        "same column (compare this line with the ones above it); a value with ': ' in it needs quotes "
        "(YAML: mapping values are not allowed here)",
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_a_spec_syntax_error_has_a_plain_hint_at_its_place(
    text: str, expected: str, gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", text)

    result = gatekit("validate", path)

    assert (result.code, result.out, result.err) == (2, "", f"error: {path}:{expected}\n")


def test_json_lines_read_as_yaml_suggest_the_jsonl_format(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    rows = write("rows.txt", '{"id": 1, "correct": true}\n{"id": 2, "correct": false}\n')

    result = gatekit("check", EXAMPLE / "gate.yaml", "--candidate", rows)

    assert result.code == 2
    assert result.err == (
        f"error: {rows}:2:1: this looks like JSON Lines (one JSON object per line), not YAML: name the file "
        ".jsonl, or give --candidate-format jsonl (--baseline-format jsonl) "
        "(YAML: expected '<document start>', but found '{')\n"
    )


def test_an_error_without_a_known_cause_keeps_the_yaml_message(
    gatekit: Callable[..., Run], write: Callable[[str, str], Path]
) -> None:
    path = write("gate.yaml", "name: [a, b\n")

    result = gatekit("validate", path)

    assert result.code == 2
    assert result.err.startswith(f"error: {path}:2:1: while parsing a flow sequence")
