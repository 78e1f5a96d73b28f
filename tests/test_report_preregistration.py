"""The Markdown and HTML reports show what the table's Pre-registration block shows: lock state and spec digest."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekit.api import check
from gatekit.report import RenderOptions, render
from tests.conftest import EXAMPLE, Run


@pytest.fixture
def locked_example(tmp_path: Path, gatekit: Callable[..., Run]) -> tuple[Path, str]:
    """A copy of the example, locked; returns the spec and its digest."""
    for name in ("gate.yaml", "baseline.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    # Without `created:` the lock, made now, cannot be later than the results.
    candidate = (EXAMPLE / "candidate-good.yaml").read_text(encoding="utf-8")
    (tmp_path / "candidate-good.yaml").write_text(
        "".join(line for line in candidate.splitlines(keepends=True) if not line.startswith("created:")),
        encoding="utf-8",
    )
    locked = gatekit("lock", tmp_path / "gate.yaml")
    assert locked.code == 0
    return tmp_path / "gate.yaml", locked.out.strip()


def test_markdown_shows_the_lock_state_and_the_digest(locked_example: tuple[Path, str]) -> None:
    spec, digest = locked_example

    markdown = render(check(spec), "markdown", RenderOptions())

    assert "### Pre-registration\n\n- lock: **locked**: " in markdown
    assert f"\n- spec digest: `{digest}`\n" in markdown


def test_html_shows_the_lock_state_and_the_digest(locked_example: tuple[Path, str]) -> None:
    spec, digest = locked_example

    html = render(check(spec), "html", RenderOptions())

    assert '<dt>lock</dt><dd><span class="badge locked">locked</span>' in html
    assert f'<dt>spec digest</dt><dd class="wrap mono">{digest}</dd>' in html


def test_an_edited_spec_shows_changed(locked_example: tuple[Path, str]) -> None:
    spec, _ = locked_example
    spec.write_text(spec.read_text(encoding="utf-8").replace("min: 0.95", "min: 0.9", 1), encoding="utf-8")

    verdict = check(spec)

    assert "- lock: **changed**: " in render(verdict, "markdown", RenderOptions())
    assert '<span class="badge changed">changed</span>' in render(verdict, "html", RenderOptions())
