"""`herald brochure`: the files it writes, and bad input refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.brochure.conftest import ROWS, Row, write_catalogue
from tests.conftest import Project


@pytest.fixture
def imported(project: Project, tmp_path: Path) -> Project:
    write_catalogue(tmp_path / "courses.csv", ROWS)
    assert project.run("courses", "import", str(tmp_path / "courses.csv")).code == 0
    return project


def test_html_brochure_in_arabic(imported: Project, tmp_path: Path) -> None:
    out = tmp_path / "out" / "africa-ar.html"
    out.parent.mkdir()
    result = imported.run("brochure", "--region", "africa", "--year", "2027", "--lang", "ar",
                          "--out", str(out))
    assert result.code == 0, result.err
    assert str(out) in result.out and "5 courses" in result.out
    html = out.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    assert '<bdi dir="ltr">IMT-2020</bdi>' in html  # a Latin fragment in an Arabic title
    assert '<bdi class="code" dir="ltr">AF-001</bdi>' in html
    assert "data:image/svg+xml" not in html  # QR codes are for paper
    assert "Europe Only Classroom Course" not in html
    assert [p.name for p in out.parent.iterdir()] == ["africa-ar.html"]  # no temp file left


def test_all_regions_in_one_language(imported: Project, tmp_path: Path) -> None:
    out = tmp_path / "all"
    result = imported.run("brochure", "--all", "--year", "2027", "--lang", "zh",
                          "--out-dir", str(out), "--workers", "2")
    assert result.code == 0, result.err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{stem}-2027-zh.{ext}" for ext in ("html", "pdf") for stem in (
        "africa", "americas", "arab-states", "asia-pacific", "cis", "europe"))
    assert "12 files written" in result.out
    assert (out / "cis-2027-zh.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "Atlantis", "--year", "2027"], "--region: 'Atlantis' is not a region"),
        (["--region", "Africa", "--year", "2027", "--lang", "de"],
         "--lang: 'de' is not a brochure language"),
        (["--region", "Africa", "--year", "2031"], "--year: no course in Africa in 2031"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    imported: Project, tmp_path: Path, args: list[str], message: str
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = imported.run("brochure", *args, "--out", str(out_dir / "b.pdf"))
    assert result.code == 2
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert list(out_dir.iterdir()) == []


def test_bad_output_name_and_all_without_out_dir(imported: Project, tmp_path: Path) -> None:
    r = imported.run("brochure", "--region", "Africa", "--year", "2027",
                     "--out", str(tmp_path / "b.docx"))
    assert r.code == 2 and "must end in .html or .pdf" in r.err
    r = imported.run("brochure", "--all", "--year", "2027", "--out", str(tmp_path / "b.pdf"))
    assert r.code == 2 and "--out-dir" in r.err
    assert not (tmp_path / "b.pdf").exists()


@pytest.mark.parametrize(
    ("character", "message"),
    [("\ue000", "no font of the brochure has a glyph for '\\ue000' (U+E000)"),
     ("😀", "a font the system fell back to")],
)
def test_a_character_no_brochure_font_has_fails_the_build(
    project: Project, tmp_path: Path, character: str, message: str
) -> None:
    row = Row("AF-900", f"Glyph check {character} course", "Some Centre", "Kenya", "Africa",
              "testing", "face_to_face", "2027-05-03", "2027-05-07", "2027-04-12", "100",
              location="Nairobi, Kenya")
    write_catalogue(tmp_path / "courses.csv", [row])
    assert project.run("courses", "import", str(tmp_path / "courses.csv")).code == 0
    out = tmp_path / "out"
    out.mkdir()
    result = project.run("brochure", "--region", "Africa", "--year", "2027",
                         "--out", str(out / "b.pdf"))
    assert result.code == 1
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert list(out.iterdir()) == []
