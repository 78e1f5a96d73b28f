"""The comparison's HTML report in headless Chromium (as the scorecard's): the recommendation and the frontier
plots render, the banner is green in the screenshot, and the page makes no network request. The screenshot
stays in the test's tmp folder (`compare.png`) for a human look."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from gatekit.api_compare import run_compare
from gatekit.report import RenderOptions
from gatekit.report.compare_html import render
from tests.test_browser_scorecard import page_requests, png_pixel, run_chromium

RUN = Path(__file__).parent.parent / "examples" / "checkpoints"
SHIP_GREEN = (0x1A, 0x7F, 0x37)
"""`--pass` in the report's CSS: the recommendation banner's background."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("compare") / "compare.html"
    comparison = run_compare(RUN / "gate.yaml", series=True, bisect=True)
    page.write_text(render(comparison, RenderOptions()), encoding="utf-8")
    return page


def test_browser_renders_the_recommendation_and_the_frontier_plots(report: Path, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path, "dom", report, "--dump-dom").stdout

    assert (
        '<h1 class="decision">Recommend step-3000</h1>' in dom,
        dom.count("<svg"),
        dom.count('data-standing="recommended"'),
        dom.count('data-standing="dominated"'),
    ) == (True, 3, 3, 6)


def test_screenshot_shows_the_green_recommendation_banner(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "compare.png"
    run_chromium(tmp_path, "shot", report, f"--screenshot={shot}", "--window-size=1280,1800")
    png = shot.read_bytes()

    assert (struct.unpack(">II", png[16:24]), png_pixel(png, 1150, 40)) == ((1280, 1800), SHIP_GREEN)


def test_compare_report_makes_no_network_request(report: Path, tmp_path: Path) -> None:
    run_chromium(tmp_path, "net", report, "--dump-dom")

    assert page_requests(tmp_path / "net-netlog.json") == []
