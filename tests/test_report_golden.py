"""Golden files: every report format, on both example candidates, byte for byte.

Regenerate after an intended change to a renderer or to the verdict (a new field, a new gatekit version):

    GATEKIT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report_golden.py

then review `git diff tests/golden/`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.decide.verdict import Verdict
from gatekit.report import FORMATS, RenderOptions, render

from .conftest import ROOT

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GATEKIT_UPDATE_GOLDEN") == "1"
OPTIONS = RenderOptions(width=160, color=False)
"""The table is pinned to 160 columns without colour so it does not depend on the terminal."""

CANDIDATES = {"good": "candidate-good.yaml", "regressed": "candidate-regressed.yaml"}
SUFFIX = {
    "table": "table.txt",
    "json": "json",
    "junit": "junit.xml",
    "markdown": "md",
    "github": "github.txt",
    "html": "html",
}


def example_verdict(candidate: str, monkeypatch: pytest.MonkeyPatch) -> Verdict:
    """The example's verdict, with paths relative to the repository root as a user would type them."""
    monkeypatch.chdir(ROOT)
    return check("examples/incident-bot/gate.yaml", candidate=f"examples/incident-bot/{CANDIDATES[candidate]}")


def test_every_format_has_a_golden_suffix() -> None:
    assert sorted(SUFFIX) == sorted(FORMATS)


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
@pytest.mark.parametrize("candidate", sorted(CANDIDATES))
def test_report_matches_golden_file(candidate: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = render(example_verdict(candidate, monkeypatch), fmt, OPTIONS)
    golden = GOLDEN / f"{candidate}.{SUFFIX[fmt]}"
    if UPDATE:
        golden.write_text(text, encoding="utf-8", newline="\n")
    assert text == golden.read_text(encoding="utf-8"), f"{golden.name} differs; see the module docstring to update"


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_report_is_deterministic_and_has_no_absolute_path(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = render(example_verdict("regressed", monkeypatch), fmt, OPTIONS)
    second = render(example_verdict("regressed", monkeypatch), fmt, OPTIONS)
    assert (first == second, str(ROOT) in first) == (True, False)
