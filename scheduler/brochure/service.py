"""Build one brochure into a file: the function the CLI and the distribution campaign call.

Nothing is half-written: the file is written beside its target under a temporary name and
renamed only once the whole brochure (and, for a PDF, every glyph) is good.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.brochure.content import BrochureContent, canonical_region, load_content
from scheduler.brochure.html import render_html
from scheduler.brochure.labels import LANGUAGES
from scheduler.brochure.pdf import html_to_pdf
from scheduler.errors import InputError

if TYPE_CHECKING:
    from scheduler.app import App

FORMATS = (".html", ".pdf")


@dataclass(frozen=True)
class BrochureResult:
    path: Path
    region: str
    year: int
    lang: str
    courses: int
    pages: int | None  # PDF only
    seconds: float  # rendering and writing this file


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InputError([f"--lang: {lang!r} is not a brochure language "
                          f"(one of {', '.join(LANGUAGES)})"])
    return lang


def check_output(out: Path) -> str:
    """The format `.html` or `.pdf` of `out`; its folder must exist."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputError([f"--out: {out}: the file name must end in .html or .pdf"])
    if not out.parent.is_dir():
        raise InputError([f"--out: {out}: folder {out.parent} does not exist"])
    return suffix


def build_brochure(app: App, region: str, year: int, lang: str, out: Path) -> BrochureResult:
    """Write the brochure of `region` and `year` in `lang` to `out` (.html or .pdf).

    Raises `InputError` (unknown region or language, no course that year, a bad `out`)
    before anything is written, and `MissingGlyphError` when a character cannot be drawn.
    """
    check_language(lang)
    suffix = check_output(out)
    region = canonical_region(region)
    with app.sessions() as session:
        content = load_content(session, region, year)
    return write_brochure(content, lang, out, suffix)


def write_brochure(content: BrochureContent, lang: str, out: Path, suffix: str) -> BrochureResult:
    """Render `content` in `lang` as `suffix` (`.html` or `.pdf`) into `out`, atomically."""
    started = time.perf_counter()
    html = render_html(content, lang, for_print=suffix == ".pdf")
    pages: int | None = None
    if suffix == ".pdf":
        pdf = html_to_pdf(html)
        data, pages = pdf.data, pdf.pages
    else:
        data = html.encode("utf-8")
    write_atomically(out, data)
    return BrochureResult(path=out, region=content.region, year=content.year, lang=lang,
                          courses=len(content.courses), pages=pages,
                          seconds=time.perf_counter() - started)


def write_atomically(path: Path, data: bytes) -> None:
    """`data` into `path` via a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
