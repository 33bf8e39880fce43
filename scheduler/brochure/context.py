"""From the brochure's content to what its template prints, in one language.

Grouping (months, the topic index), the labels and the QR codes are decided here, so the
template only lays out. Dates, fees and language names are formatted by the shared
template filters (Babel), which read `lang` and `t` from this context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import segno
from babel.dates import format_skeleton

from scheduler.brochure.content import ONLINE_MODES, BrochureContent
from scheduler.brochure.labels import BROCHURE_LABELS, region_name
from scheduler.ingest.records import CourseRecord
from scheduler.rendering import formatting
from scheduler.rendering.labels import Labels

# The fonts the project installs (Debian fonts-noto-core, fonts-noto-cjk), named one by one,
# the language's own script first: a glyph none of them has fails the build.
_LATIN = '"Noto Sans"'
_ARABIC = '"Noto Naskh Arabic", "Noto Sans Arabic"'
_CJK = '"Noto Sans CJK SC"'
FONT_FAMILIES = frozenset(
    {"Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic", "Noto Sans CJK SC"})
FONT_STACKS = {
    "ar": f"{_ARABIC}, {_LATIN}, {_CJK}",
    "zh": f"{_CJK}, {_LATIN}, {_ARABIC}",
}
DEFAULT_FONT_STACK = f"{_LATIN}, {_ARABIC}, {_CJK}"


@dataclass(frozen=True)
class Listed:
    """A course as the brochure lists it: its anchor and, for print, its QR code."""

    course: CourseRecord
    anchor: str
    qr: str | None

    @property
    def open_to_all(self) -> bool:
        """Online: listed in every region's brochure."""
        return self.course.mode in ONLINE_MODES


@dataclass(frozen=True)
class Month:
    anchor: str
    heading: str
    courses: tuple[Listed, ...]


@dataclass(frozen=True)
class Topic:
    name: str
    courses: tuple[Listed, ...]


@lru_cache(maxsize=8192)
def qr_data_uri(url: str) -> str:
    """The URL as a QR code: an SVG of paths (no text), as a data URI for an <img>."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=0, dark="#1d1d1b"))


def month_heading(first_day: date, lang: str) -> str:
    text = format_skeleton("yMMMM", first_day, locale=formatting.locale(lang))
    return text[:1].upper() + text[1:]


def build_context(
    content: BrochureContent, lang: str, shared: Labels, *, for_print: bool
) -> dict[str, Any]:
    """The template context of `content` in `lang`; `for_print` adds the QR codes."""
    region = region_name(content.region, lang)
    year = str(content.year)
    words = {k: v.format(region=region, year=year) for k, v in BROCHURE_LABELS[lang].items()}
    t = {**shared.get(lang), **words}
    listed = [
        Listed(course=c, anchor=f"course-{i}", qr=qr_data_uri(c.url) if for_print else None)
        for i, c in enumerate(content.courses, start=1)
    ]
    return {
        "lang": lang,
        "dir": formatting.direction(lang),
        "t": t,
        "region": region,
        "year": year,
        "font_stack": FONT_STACKS.get(lang, DEFAULT_FONT_STACK),
        "for_print": for_print,
        "centres": content.centres,
        "months": _months(listed, content.year, lang),
        "topics": _topics(listed),
    }


def _months(listed: list[Listed], year: int, lang: str) -> list[Month]:
    by_month: dict[int, list[Listed]] = {}
    for item in listed:
        start = item.course.start_date
        by_month.setdefault(start.month if start.year == year else 1, []).append(item)
    return [
        Month(anchor=f"month-{m:02d}", heading=month_heading(date(year, m, 1), lang),
              courses=tuple(items))
        for m, items in sorted(by_month.items())
    ]


def _topics(listed: list[Listed]) -> list[Topic]:
    """Each topic (first spelling met, case ignored, first letter capitalised here: CSS
    `::first-letter` would split the letter off its bidi isolate) with its courses."""
    names: dict[str, str] = {}
    entries: dict[str, list[Listed]] = {}
    for item in listed:
        for topic in item.course.topics:
            key = " ".join(topic.casefold().split())
            names.setdefault(key, topic[:1].upper() + topic[1:])
            entries.setdefault(key, []).append(item)
    return [Topic(name=names[k], courses=tuple(entries[k])) for k in sorted(entries)]
