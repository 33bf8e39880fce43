"""The brochure as PDF: WeasyPrint over the same HTML, failing on any missing glyph.

WeasyPrint (>= 67) logs a warning on its `weasyprint` logger each time a character has no
glyph in any font (it draws `.notdef`, an empty box). A brochure must never show one, so
those warnings are collected while the PDF is drawn and turned into `MissingGlyphError`;
a character the named Noto fonts lack but some other system font has (DejaVu's emoji) is
refused too (`ForeignFontError`): the brochure uses only the fonts the project installs.
The PDF is tagged for accessibility (PDF/UA-1: structure tags, the document language from
`<html lang>`, the title from `<title>`); bookmarks come from the CSS `bookmark-level`s.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from weasyprint import HTML

from scheduler.brochure.context import FONT_FAMILIES
from scheduler.rendering.renderer import default_templates_dir

PDF_VARIANT = "pdf/ua-1"
_NOTDEF = re.compile(r"\.notdef glyph")


class MissingGlyphError(Exception):
    """Characters no font of the brochure's stack can draw."""

    def __init__(self, characters: list[str]) -> None:
        self.characters = characters
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in characters[:10])
        more = f" and {len(characters) - 10} more" if len(characters) > 10 else ""
        super().__init__(f"no font of the brochure has a glyph for {shown}{more}")


class ForeignFontError(MissingGlyphError):
    """Characters the named fonts lack, drawn by a font the system chose instead."""

    def __init__(self, families: list[str]) -> None:
        self.characters = []
        self.families = families
        Exception.__init__(self, "characters none of the brochure's fonts has were drawn with "
                           f"{', '.join(families)}, a font the system fell back to")


class _GlyphWatch(logging.Filter):
    """Collects the `.notdef` warnings and keeps them off the log: the error says it all."""

    def __init__(self) -> None:
        super().__init__()
        self.missing: dict[str, None] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not _NOTDEF.search(str(record.msg)):
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        self.missing.setdefault(str(args[0]) if args else "?", None)
        return False


@contextmanager
def _watch_glyphs() -> Iterator[_GlyphWatch]:
    logger = logging.getLogger("weasyprint")
    watch = _GlyphWatch()
    logger.addFilter(watch)
    # The warning must be emitted even when the process logs only errors.
    previous = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield watch
    finally:
        logger.removeFilter(watch)
        logger.setLevel(previous)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def html_to_pdf(html: str) -> RenderedPdf:
    """The PDF of `html` (the brochure rendered `for_print`); `MissingGlyphError` if any
    character was drawn as `.notdef`."""
    base = default_templates_dir() / "brochure"
    with _watch_glyphs() as watch:
        document = HTML(string=html, base_url=str(base), media_type="print").render(
            pdf_variant=PDF_VARIANT, pdf_tags=True)
        data = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)
    if watch.missing:
        raise MissingGlyphError(list(watch.missing))
    foreign = sorted({f.family for f in document.fonts.values()} - FONT_FAMILIES)
    if foreign:
        raise ForeignFontError(foreign)
    assert data is not None
    return RenderedPdf(data=data, pages=len(document.pages))
