"""What a region's brochure lists, the topic index, Latin isolation, and the all-regions run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scheduler.brochure.content import _centre, load_content
from scheduler.brochure.html import isolate_latin, render_html
from scheduler.brochure.runner import build_all
from tests.brochure.conftest import Catalogue


def test_region_lists_its_courses_and_every_online_one(catalogue: Catalogue) -> None:
    app = catalogue.app()
    try:
        with app.sessions() as session:
            africa = load_content(session, "Africa", 2027)
            europe = load_content(session, "Europe", 2027)
    finally:
        app.close()
    assert [c.id for c in africa.courses] == ["AP-003", "AF-001", "AR-002", "CI-004", "AF-005"]
    assert {c.id for c in europe.courses} == {"AP-003", "AR-002", "CI-004", "EU-006"}
    assert [c.name for c in africa.centres] == [
        "African Advanced Level Telecommunications Institute (AFRALTI)"]


def test_centre_website_shown_when_the_centres_table_has_one(catalogue: Catalogue) -> None:
    centre: Any = SimpleNamespace(name="C", country="Kenya", topics=["5g"],
                                  website="https://c.example")
    assert _centre(centre).website == "https://c.example"
    del centre.website  # before the administrations branch adds the column
    assert _centre(centre).website is None


def test_months_and_topic_index(catalogue: Catalogue) -> None:
    app = catalogue.app()
    try:
        with app.sessions() as session:
            content = load_content(session, "Africa", 2027)
    finally:
        app.close()
    html = render_html(content, "fr", for_print=True)
    for month in ("Février 2027", "Mars 2027", "Avril 2027", "Septembre 2027", "Octobre 2027"):
        assert f'<h3 class="month-heading">{month}</h3>' in html
    index = html[html.index('id="index"'):]
    assert index.index("5G") < index.index("Cybersecurity") < index.index("Spectrum management")
    assert html.count("data:image/svg+xml") == 5  # one QR code per course, on paper


def test_latin_runs_isolated_in_arabic_text() -> None:
    assert str(isolate_latin("شبكات 5G و IMT-2020 (ITU-T X.509) اليوم")) == (
        'شبكات <bdi dir="ltr">5G</bdi> و <bdi dir="ltr">IMT-2020 (ITU-T X.509)</bdi> اليوم')
    escaped = str(isolate_latin("نص <script>"))
    assert "<script" not in escaped and "&lt;" in escaped


def test_all_regions_and_languages_in_parallel(catalogue: Catalogue, tmp_path: Path) -> None:
    app = catalogue.app()
    try:
        summary = build_all(app, 2027, tmp_path / "all", languages=("en", "ar"),
                            formats=(".html",), workers=2)
    finally:
        app.close()
    assert not summary.failed and not summary.skipped
    names = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert len(names) == 12 and "arab-states-2027-ar.html" in names
