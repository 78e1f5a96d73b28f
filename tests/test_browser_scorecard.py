"""The HTML scorecard in a real browser (headless Chromium): the verdict and the failing cell are rendered,
the stop banner is red in the screenshot, and the page makes no network request.

Chromium is found on PATH (`chromium`, Debian's package). Without it the tests skip locally, but FAIL when
CI=true: the CI image installs it (`apt-get install -y chromium`), so a missing browser there is a broken build,
not a reason to report green. The screenshot stays in the test's tmp folder (`scorecard.png`) for a human look.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from gatekit.report import RenderOptions, render
from tests.test_report_golden import example_verdict

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STOP_RED = (0xCF, 0x22, 0x2E)
"""`--fail` in the scorecard's CSS: the stop banner's background."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "headless Chromium not found on PATH (Debian: apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the browser test")
        pytest.skip(message)
    return found


def run_chromium(tmp_path: Path, name: str, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run Chromium on `page` with its own profile and a NetLog of every request, under tmp_path/name*."""
    command = [
        chromium(),
        *FLAGS,
        f"--user-data-dir={tmp_path / (name + '-profile')}",
        f"--log-net-log={tmp_path / (name + '-netlog.json')}",
        *extra,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def page_requests(netlog: Path) -> list[str]:
    """URLs the page asked for. Chromium's own background requests have no initiator ("not an origin");
    a file:// page's requests have the opaque origin "null"."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    params = [event.get("params", {}) for event in log["events"] if event["type"] == start_job]
    return [
        p["url"]
        for p in params
        if "url" in p and p.get("initiator") != "not an origin" and not p["url"].startswith(("file:", "data:"))
    ]


def png_pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    """The RGB of one pixel of an 8-bit RGB(A), non-interlaced PNG (what Chromium writes): no image library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, _height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", png[16:29])
    assert (depth, colour, interlace) in {(8, 2, 0), (8, 6, 0)}
    channels = 3 if colour == 2 else 4
    data, pos = b"", 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    for row in range(y + 1):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        previous = line
    r, g, b = previous[x * channels : x * channels + 3]
    return (r, g, b)


@pytest.fixture
def scorecard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    page = tmp_path / "scorecard.html"
    page.write_text(render(example_verdict("regressed", monkeypatch), "html", RenderOptions()), encoding="utf-8")
    return page


def test_browser_renders_the_verdict_and_the_failing_cell(scorecard: Path, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path, "dom", scorecard, "--dump-dom").stdout

    assert (
        '<h1 class="decision">STOP</h1>' in dom,
        '<div class="st">fail</div><div class="obs">0.120</div>' in dom,
    ) == (
        True,
        True,
    )


def test_screenshot_shows_the_red_stop_banner(scorecard: Path, tmp_path: Path) -> None:
    shot = tmp_path / "scorecard.png"
    run_chromium(tmp_path, "shot", scorecard, f"--screenshot={shot}", "--window-size=1280,2000")
    png = shot.read_bytes()

    size = struct.unpack(">II", png[16:24])

    assert (size, png_pixel(png, 1150, 40)) == ((1280, 2000), STOP_RED)


def test_scorecard_makes_no_network_request(scorecard: Path, tmp_path: Path) -> None:
    run_chromium(tmp_path, "net", scorecard, "--dump-dom")

    assert page_requests(tmp_path / "net-netlog.json") == []


def test_network_check_sees_a_page_that_does_request(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<!DOCTYPE html><img src="http://example.invalid/pixel.png">', encoding="utf-8")

    run_chromium(tmp_path, "leak", leaky, "--dump-dom")

    assert page_requests(tmp_path / "leak-netlog.json") == ["http://example.invalid/pixel.png"]


MANY_SLICES = 40
LAYOUT_PROBE = """<script>
addEventListener("load", () => {
  const page = document.documentElement;
  const box = document.querySelector(".grid-box") || document.querySelector("table.grid");
  const section = document.getElementById("gates").getBoundingClientRect();
  const grid = box.getBoundingClientRect();
  document.body.dataset.layout = JSON.stringify({
    viewport: page.clientWidth, page: page.scrollWidth,
    box_inside_section: grid.left >= section.left && grid.right <= section.right,
    box_scrolls: box.scrollWidth > box.clientWidth,
  });
});
</script>"""
"""Measures the laid-out page. Only the test's copy runs it: the scorecard itself forbids scripts (its CSP)."""


@pytest.fixture
def wide_scorecard(tmp_path: Path) -> Path:
    """A scorecard whose gates x slices grid has `MANY_SLICES` slice columns besides `all`."""
    from tests.conftest import MINIMAL_SPEC

    (tmp_path / "gate.yaml").write_text(
        MINIMAL_SPEC.lstrip("\n").replace("    min: 0.5\n", "    slices: ['*']\n    min: 0.5\n"), encoding="utf-8"
    )
    slices = "".join(f"    language=lang-{i:02d}: {{value: 0.9, n: 1000}}\n" for i in range(MANY_SLICES))
    (tmp_path / "candidate.yaml").write_text(
        f"model: m\nmetrics:\n  accuracy:\n    all: {{value: 0.9, n: 40000}}\n{slices}", encoding="utf-8"
    )
    (tmp_path / "baseline.yaml").write_text(
        "model: b\nmetrics:\n  accuracy:\n    all: {value: 0.8}\n", encoding="utf-8"
    )
    from gatekit.api import check

    page = tmp_path / "wide.html"
    page.write_text(render(check(tmp_path / "gate.yaml"), "html", RenderOptions()), encoding="utf-8")
    return page


def test_a_grid_of_many_slices_scrolls_inside_its_own_box_at_1280_px(wide_scorecard: Path, tmp_path: Path) -> None:
    html = wide_scorecard.read_text(encoding="utf-8")
    assert html.count("language=lang-") == MANY_SLICES
    probe = tmp_path / "wide-probe.html"
    probe.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace(
            "</body>", LAYOUT_PROBE + "</body>"
        ),
        encoding="utf-8",
    )
    run_chromium(
        tmp_path, "wide-shot", wide_scorecard, f"--screenshot={tmp_path / 'wide.png'}", "--window-size=1280,1400"
    )

    dom = run_chromium(tmp_path, "wide", probe, "--dump-dom", "--window-size=1280,1400").stdout
    layout = json.loads(html_unescape(re.search(r'data-layout="([^"]*)"', dom).group(1)))  # type: ignore[union-attr]

    # The viewport is 1280 px less the page's vertical scroll bar; nothing may be wider than it.
    assert (1240 <= layout["viewport"] <= 1280, layout["page"] - layout["viewport"]) == (True, 0)
    assert (layout["box_inside_section"], layout["box_scrolls"]) == (True, True)


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)
