"""Page images (poppler's pdftoppm): cover and course pages are drawn, Arabic runs right to left."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.brochure.conftest import page_count, pdf_text


def render(pdf: Path, page: int, out: Path) -> Image.Image:
    prefix = out / f"{pdf.stem}-{page}"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", "-f", str(page), "-l",
                    str(page), str(pdf), str(prefix)], check=True)
    return Image.open(f"{prefix}.png").convert("L")


def ink(image: Image.Image) -> list[tuple[int, int]]:
    """The dark pixels: (x, y)."""
    width = image.width
    return [(i % width, i // width) for i, v in enumerate(image.tobytes()) if v < 140]


def first_page_with(pdf: Path, needle: str) -> int:
    for page in range(3, page_count(pdf) + 1):
        if needle in pdf_text(pdf, page):
            return page
    raise AssertionError(f"{needle} on no page")


@pytest.mark.parametrize("lang", ["ar", "zh", "en"])
def test_cover_and_a_course_page_are_drawn(
    pdfs: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    pdf = pdfs[lang]
    for page in (1, first_page_with(pdf, "AF-001")):
        image = render(pdf, page, tmp_path)
        share = len(ink(image)) / (image.width * image.height)
        assert 0.002 < share < 0.5, (lang, page, share)


def heading_centre(pdf: Path, tmp_path: Path) -> float:
    """Where, from 0 (left) to 1 (right), the ink at the top of a course page sits (the
    month heading, the first course's code and title), rules left out."""
    image = render(pdf, first_page_with(pdf, "AF-001"), tmp_path)
    top, bottom = int(image.height * 0.06), int(image.height * 0.16)
    rows: dict[int, list[int]] = {}
    for x, y in ink(image):
        if top <= y < bottom:
            rows.setdefault(y, []).append(x)
    xs = [x for row in rows.values() if len(row) < image.width * 0.6 for x in row]
    assert xs, "no heading ink"
    return sum(xs) / len(xs) / image.width


def test_arabic_pages_run_right_to_left(pdfs: dict[str, Path], tmp_path: Path) -> None:
    assert heading_centre(pdfs["ar"], tmp_path) > 0.6
    assert heading_centre(pdfs["en"], tmp_path) < 0.4
    assert heading_centre(pdfs["zh"], tmp_path) < 0.4
