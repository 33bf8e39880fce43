"""The HTML report in headless Chromium: it renders without console errors in the six
languages, and axe-core (4.x, installed with npm into pytest's cache) finds no violation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from scheduler import events
from scheduler.db import ensure_schema
from scheduler.reporting.labels import LANGUAGES
from tests import browser as browser_harness
from tests.conftest import Project


@pytest.fixture(scope="module")
def axe_script(request: pytest.FixtureRequest) -> str:
    return browser_harness.axe_source(request.config)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with browser_harness.chrome(tmp_path_factory.mktemp("chromium-profile"),
                                "--window-size=1200,1600", console_log=True) as driver:
        yield driver


def _fill(project: Project) -> None:
    """Events over two regions, three months, two networks and some interest."""
    engine = project.engine()
    ensure_schema(engine)
    tags = [("Africa", "AFRALTI", "A1"), ("Europe", "Centre <b>&</b> Co", "E1")]
    with Session(engine) as s, s.begin():
        for month in (1, 2, 3):
            at = datetime(2027, month, 10, tzinfo=UTC)
            for n, (region, centre, course) in enumerate(tags):
                common: dict[str, Any] = {
                    "channel": "email", "campaign": "announce", "region": region,
                    "centre": centre, "course": course, "medium": "email"}
                for i in range(10 * (n + 1) * month):
                    events.record(s, "sent", at=at, person=f"p{i}", **common)
                    if i % 3 == 0:
                        events.record(s, "clicked", at=at, person=f"p{i}", **common)
                events.record(s, "interest", at=at, person=f"k{month}", amount=4, **common)
            for network in ("mastodon", "bluesky"):
                events.record(s, "sent", at=at, channel=network, medium="social",
                              course="A1", region="Africa", centre="AFRALTI")
                for kind in ("likes", "reposts", "replies"):  # `herald engagement fetch`
                    events.record(s, "engagement", at=at, channel=network, medium="social",
                                  course="A1", category=kind, amount=month)
    engine.dispose()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_page_renders_cleanly_and_passes_axe(
    project: Project, browser: Any, axe_script: str, lang: str, tmp_path: Path,
) -> None:
    _fill(project)
    page = tmp_path / f"report-{lang}.html"
    r = project.run("report", "--html", str(page), "--lang", lang, now="2027-04-01T00:00:00Z")
    assert r.code == 0, r.err
    browser.get_log("browser")  # forget what earlier pages logged
    browser.get(page.as_uri())
    assert browser.find_element("tag name", "h1").text
    assert browser.execute_script("return document.documentElement.dir") == (
        "rtl" if lang == "ar" else "ltr")
    assert len(browser.find_elements("css selector", "svg[role=img] title")) == 4
    # The escaped centre name is shown as text, never as markup.
    assert "Centre <b>&</b> Co" in browser.find_element("tag name", "body").text
    social = browser.find_element("id", "s-social").find_element("xpath", "..").text
    assert "mastodon" in social and "bluesky" in social and "6" in social  # likes: 1+2+3
    browser.save_screenshot(str(tmp_path / f"report-{lang}.png"))
    assert (tmp_path / f"report-{lang}.png").stat().st_size > 10_000
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    browser.execute_script(axe_script)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
        ".then(r => done(r.violations.map(v => [v.id, v.nodes.length, v.help])))"
        ".catch(e => done([['axe-error', 0, String(e)]]));")
    assert result == []
