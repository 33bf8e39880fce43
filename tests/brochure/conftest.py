"""A small multilingual catalogue and its Africa 2027 brochures, built once per session.

Titles in Latin, Arabic (with `5G` and `IMT-2020` inside), Chinese and Cyrillic script;
courses that must not be listed (another region's classroom course, a cancelled one,
one of the next year) sit beside those that must.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scheduler.app import App
from scheduler.brochure import build_brochure
from scheduler.brochure.labels import LANGUAGES
from scheduler.cli import main

COLUMNS = ["id", "title", "coe", "country", "region", "topics", "languages", "mode",
           "location", "start_date", "end_date", "registration_deadline", "fee_usd", "url",
           "status"]
AFRALTI = "African Advanced Level Telecommunications Institute (AFRALTI)"


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    coe: str
    country: str
    region: str
    topics: str
    mode: str
    start: str
    end: str
    deadline: str
    fee: str
    status: str = "open"
    languages: str = "en"
    location: str = ""


ROWS = [
    Row("AF-001", "Spectrum Monitoring Hands-on Workshop", AFRALTI, "Kenya", "Africa",
        "spectrum management", "face_to_face", "2027-03-08", "2027-03-12", "2027-02-15",
        "1200", location="Nairobi, Kenya"),
    Row("AR-002", "أساسيات شبكات 5G للجهات التنظيمية", "Arab Regional Training Centre",
        "Egypt", "Arab States", "5G;policy and regulation", "online_instructor",
        "2027-04-05", "2027-04-30", "2027-03-22", "450", languages="ar;en"),
    Row("AP-003", "数字包容与宽带接入", "Asia-Pacific Digital Centre", "China",
        "Asia-Pacific", "digital inclusion", "online_self_paced", "2027-02-01",
        "2027-12-15", "2027-11-30", "0", languages="zh"),
    Row("CI-004", "Кибербезопасность для регуляторов", "CIS Cyber Centre",
        "Russian Federation", "CIS", "cybersecurity", "online_instructor", "2027-09-06",
        "2027-09-24", "2027-08-23", "300", languages="ru"),
    Row("AF-005", "مقدمة إلى شبكات IMT-2020 في أفريقيا", AFRALTI, "Kenya", "Africa",
        "5G;network infrastructure", "blended", "2027-10-04", "2027-10-29", "2027-09-13",
        "850", languages="ar;fr", location="Nairobi, Kenya"),
    Row("EU-006", "Europe Only Classroom Course", "European Centre", "Spain", "Europe",
        "policy and regulation", "face_to_face", "2027-05-03", "2027-05-07",
        "2027-04-12", "900", location="Madrid, Spain"),
    Row("AF-007", "Cancelled Africa Course", AFRALTI, "Kenya", "Africa",
        "spectrum management", "face_to_face", "2027-06-07", "2027-06-11", "2027-05-17",
        "700", status="cancelled", location="Nairobi, Kenya"),
    Row("AF-008", "Next Year Africa Course", AFRALTI, "Kenya", "Africa",
        "spectrum management", "face_to_face", "2028-03-06", "2028-03-10", "2028-02-14",
        "700", location="Nairobi, Kenya"),
]
LISTED = ["AF-001", "AR-002", "AP-003", "CI-004", "AF-005"]
NOT_LISTED = ["EU-006", "AF-007", "AF-008"]


def write_catalogue(path: Path, rows: list[Row]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r.id, r.title, r.coe, r.country, r.region, r.topics, r.languages,
                        r.mode, r.location or "Online", r.start, r.end, r.deadline, r.fee,
                        f"https://academy.itu.int/training-courses/{r.id.lower()}", r.status])


@dataclass(frozen=True)
class Catalogue:
    root: Path
    db_url: str

    def app(self) -> App:
        return App(self.root / "config", self.db_url)


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    root = tmp_path_factory.mktemp("brochure")
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", root / "config")
    write_catalogue(root / "courses.csv", ROWS)
    db_url = f"sqlite:///{root / 'herald.db'}"
    code = main(["--config-dir", str(root / "config"), "--db", db_url,
                 "--now", "2027-01-04T09:00:00Z", "courses", "import", str(root / "courses.csv")])
    assert code == 0
    return Catalogue(root, db_url)


@pytest.fixture(scope="session")
def pdfs(catalogue: Catalogue) -> Iterator[dict[str, Path]]:
    """The Africa 2027 brochure as PDF in each of the six languages."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed (scripts/install-system-packages.sh)")
    out = catalogue.root / "pdf"
    out.mkdir()
    app = catalogue.app()
    try:
        yield {lang: build_brochure(app, "Africa", 2027, lang, out / f"africa-{lang}.pdf").path
               for lang in LANGUAGES}
    finally:
        app.close()


def pdf_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
