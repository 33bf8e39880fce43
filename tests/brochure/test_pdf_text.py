"""The PDF read back as a person's reader would: poppler's text, in all six languages."""

from __future__ import annotations

import re
import subprocess
import unicodedata
import zlib
from datetime import date
from pathlib import Path

import pytest

from scheduler.brochure.labels import BROCHURE_LABELS, LANGUAGES, region_name
from scheduler.rendering import formatting
from tests.brochure.conftest import LISTED, NOT_LISTED, ROWS, page_count, pdf_text

_BIDI_MARKS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
TITLES = {r.id: r.title for r in ROWS}


def norm(text: str) -> str:
    """NFKC (Arabic presentation forms back to letters, no-break spaces to spaces), without
    the invisible bidi marks (which a text extractor never returns), one space between words."""
    text = _BIDI_MARKS.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return norm(text).split()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_titles_come_back_whole_and_arabic_word_by_word(pdfs: dict[str, Path], lang: str) -> None:
    text = norm(pdf_text(pdfs[lang]))
    for code in ("AF-001", "CI-004"):  # Latin and Cyrillic titles: whole
        assert norm(TITLES[code]) in text, (lang, code)
    assert TITLES["AP-003"] in text.replace(" ", "")  # Chinese, whole
    for code in ("AR-002", "AF-005"):  # Arabic: every word, Latin fragments unreversed
        for word in words(TITLES[code]):
            assert word in text, (lang, code, word)
    for code in LISTED:
        assert code in text
    for code in NOT_LISTED:
        assert code not in text, f"{code} is not for Africa in 2027"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_labels_dates_and_fees_in_the_language(pdfs: dict[str, Path], lang: str) -> None:
    text = norm(pdf_text(pdfs[lang]))
    labels = BROCHURE_LABELS[lang]
    expected = [
        labels["courses"], labels["index"], labels["contents"], region_name("Africa", lang),
        formatting.money(1200, lang, "free"),
        formatting.day(date(2027, 2, 15), lang),  # AF-001's registration deadline
    ]
    for phrase in expected:
        if lang == "ar":
            assert all(w in text for w in words(phrase)), (lang, phrase)
        else:
            assert norm(phrase) in text, (lang, phrase)


def test_arabic_keeps_latin_codes_in_reading_order(pdfs: dict[str, Path]) -> None:
    text = norm(pdf_text(pdfs["ar"]))
    assert "IMT-2020" in text and "2020-IMT" not in text
    assert "5G" in text and "G5" not in text


def test_table_of_contents_gives_the_pages_where_months_start(pdfs: dict[str, Path]) -> None:
    path = pdfs["en"]
    toc = norm(pdf_text(path, page=2))
    heading = formatting.day(date(2027, 3, 1), "en", "MMMM y")  # "March 2027"
    found = re.search(rf"{heading}\W*(\d+)", toc)
    assert found, toc
    page = int(found.group(1))
    assert heading in norm(pdf_text(path, page=page))
    for earlier in range(3, page):  # after the contents, the month starts on that page
        assert heading not in norm(pdf_text(path, page=earlier))


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_a4_tagged_with_language_bookmarks_and_only_the_noto_fonts(
    pdfs: dict[str, Path], lang: str
) -> None:
    path = pdfs[lang]
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    assert "Tagged:          yes" in info
    assert "(A4)" in info
    assert page_count(path) >= 5
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    families = {line.split()[0].split("+", 1)[-1] for line in fonts}
    assert families and all(f.startswith("Noto-") for f in families), families
    if lang == "zh":
        assert any("CJK-SC" in f for f in families)
    if lang == "ar":
        assert any("Arabic" in f for f in families)
    outline = subprocess.run(["pdftohtml", "-xml", "-stdout", "-i", "-q", str(path)],
                             check=True, capture_output=True, text=True).stdout
    assert "<outline>" in outline
    assert norm(BROCHURE_LABELS[lang]["courses"]) in norm(outline)
    assert f"/Lang ({lang})".encode() in catalog(path)
    structure = subprocess.run(["pdfinfo", "-struct", str(path)], check=True,
                               capture_output=True, text=True).stdout
    assert "H1" in structure and "H2" in structure


def catalog(path: Path) -> bytes:
    """The PDF's document catalog, from the compressed object stream that holds it."""
    raw = path.read_bytes()
    for m in re.finditer(rb"stream\r?\n", raw):
        try:
            data = zlib.decompressobj().decompress(raw[m.end():])
        except zlib.error:
            continue
        start = data.find(b"/Type /Catalog")
        if start >= 0:
            return data[start:start + 2000]
    raise AssertionError("no document catalog found")
