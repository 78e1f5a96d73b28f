"""The distribution's name and the Action's default install: the name `gatekit` on PyPI is another program."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from gatekit import __version__

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "gatekit-release"

tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_distribution_is_gatekit_release_and_the_command_stays_gatekit() -> None:
    project = _pyproject()["project"]
    assert project["name"] == DISTRIBUTION  # type: ignore[index]
    assert project["scripts"] == {"gatekit": "gatekit.cli:run"}  # type: ignore[index]


def test_the_license_is_an_spdx_string_so_setuptools_does_not_warn() -> None:
    pyproject = _pyproject()
    assert pyproject["project"]["license"] == "Apache-2.0"  # type: ignore[index]
    (requirement,) = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]  # type: ignore[index]
    lower = re.fullmatch(r"setuptools>=(\d+)", requirement)
    assert lower is not None
    assert int(lower.group(1)) >= 77  # the first setuptools that reads an SPDX `license` string


def test_the_action_installs_this_version_of_this_distribution_by_default() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["inputs"]["package"]["default"] == f"{DISTRIBUTION}=={__version__}"


def test_every_install_snippet_in_the_docs_names_the_distribution() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    installs = [
        (page.name, line.strip())
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if re.search(r"pip install\s+(?!-)", line) and "gatekit" in line
    ]
    wrong = [(page, line) for page, line in installs if not re.search(rf"{DISTRIBUTION}==\d", line)]
    assert wrong == []
