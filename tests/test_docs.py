"""The front page and the docs site: short, linked, built without a broken link, and true to the code."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT, Run

README = ROOT / "README.md"


def _nav_pages() -> list[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return [page for entry in config["nav"] for page in entry.values()]


def test_the_readme_is_under_8_kb() -> None:
    assert len(README.read_bytes()) < 8 * 1024


def test_every_docs_page_is_in_the_nav_and_linked_from_the_readme() -> None:
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    linked = set(re.findall(r"\]\(docs/([^)#]+\.md)", README.read_text(encoding="utf-8")))

    assert sorted(_nav_pages()) == pages
    assert sorted(linked) == pages


def test_the_readme_links_only_to_files_that_exist() -> None:
    targets = re.findall(r"\]\((?!https?:)([^)#]+)", README.read_text(encoding="utf-8"))

    assert [t for t in targets if not (ROOT / t).exists()] == []


def test_the_worked_example_shows_real_output(gatekit: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.findall(r"```console\n(.*?)```", text, re.S)[0]
    shown = [line for line in block.splitlines() if line not in ("...", "4") and not line.startswith("$ ")]
    monkeypatch.chdir(ROOT)

    result = gatekit("check", EXAMPLE / "gate.yaml", "--candidate", EXAMPLE / "candidate-regressed.yaml", "--no-color")
    output = [line.rstrip() for line in result.out.splitlines()]

    assert result.code == 4
    assert [line for line in shown if line not in output] == []


def test_the_review_queue_example_shows_real_output(
    gatekit: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.findall(r"```console\n(.*?)```", text, re.S)[1]
    shown = [line for line in block.splitlines() if line.startswith("review ")]
    queue_head = block.split("$ head -c 150 review.jsonl\n", 1)[1].strip()
    monkeypatch.chdir(ROOT)

    review = tmp_path / "review.jsonl"
    result = gatekit("check", EXAMPLE / "per-example" / "gate.yaml", "--review", review, "--no-color", "--no-record")
    output = [line.rstrip() for line in result.out.splitlines()]

    assert len(shown) == 2
    assert [line for line in shown if line not in output] == []
    assert review.read_text(encoding="utf-8")[:150].strip() == queue_head


def test_the_docs_build_strictly(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert build.returncode == 0, build.stderr
