"""The HTML scorecard: self-contained (no network, no scripts), autoescaped, the template shipped in the package."""

from __future__ import annotations

from html.parser import HTMLParser
from importlib.resources import files

import pytest

from gatekit.report import RenderOptions, render
from gatekit.report.html import TEMPLATE
from tests.report_support import verdict_of
from tests.test_report_golden import example_verdict

URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background", "manifest"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.url_attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.url_attributes += [(name, value or "") for name, value in attrs if name in URL_ATTRIBUTES]


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_template_is_package_data() -> None:
    assert files("gatekit.report").joinpath("templates", TEMPLATE).is_file()


def test_scorecard_references_nothing_outside_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    html = render(example_verdict("regressed", monkeypatch), "html", RenderOptions())

    tags = parse(html)

    assert (tags.url_attributes, {"script", "link", "iframe", "img", "object"} & set(tags.tags), "url(" in html) == (
        [],
        set(),
        False,
    )


def test_content_security_policy_forbids_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    html = render(example_verdict("good", monkeypatch), "html", RenderOptions())

    assert "content=\"default-src 'none'; style-src 'unsafe-inline';" in html


def test_a_slice_named_script_renders_as_text() -> None:
    gate = {"id": "acc", "metric": "accuracy", "slices": ["*"], "min": 0.5}
    verdict = verdict_of(gate, candidate={"accuracy": {"<script>alert(1)</script>": 0.4}})

    html = render(verdict, "html", RenderOptions())

    assert ("script" in parse(html).tags, "<th>&lt;script&gt;alert(1)&lt;/script&gt;</th>" in html) == (False, True)


def test_failing_cell_shows_observed_threshold_and_margin() -> None:
    verdict = verdict_of({"id": "acc", "metric": "accuracy", "min": 0.5}, candidate={"accuracy": {"all": 0.4}})

    html = render(verdict, "html", RenderOptions())

    assert (
        '<div class="st">fail</div><div class="obs">0.4</div><div class="sub">threshold 0.5</div>'
        '<div class="sub">margin -0.1</div>'
    ) in html
