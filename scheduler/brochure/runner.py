"""Every region × language of a year, in parallel processes.

The content of each region is queried once, here; the rendering, which is the costly
part (WeasyPrint lays out and draws each PDF), runs in a pool of processes that need no
database. One brochure failing (a missing glyph) does not stop the others.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.brochure.content import BrochureContent, load_content
from scheduler.brochure.labels import LANGUAGES
from scheduler.brochure.service import BrochureResult, check_language, write_brochure
from scheduler.errors import InputError
from scheduler.ingest.fields import REGIONS

if TYPE_CHECKING:
    from scheduler.app import App


@dataclass
class AllSummary:
    built: list[BrochureResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # regions with no course that year
    failed: list[str] = field(default_factory=list)  # "region lang: reason"


def file_stem(region: str, year: int, lang: str) -> str:
    """`africa-2027-ar`, `arab-states-2027-en`."""
    return f"{region.lower().replace(' ', '-')}-{year}-{lang}"


def _build_one(
    content: BrochureContent, lang: str, out_dir: Path, formats: tuple[str, ...]
) -> list[BrochureResult]:
    stem = file_stem(content.region, content.year, lang)
    return [write_brochure(content, lang, out_dir / f"{stem}{fmt}", fmt) for fmt in formats]


def build_all(
    app: App, year: int, out_dir: Path, *, languages: Sequence[str] = LANGUAGES,
    regions: Sequence[str] = REGIONS, formats: tuple[str, ...] = (".pdf", ".html"),
    workers: int | None = None,
) -> AllSummary:
    """Write `{region}-{year}-{lang}.pdf` and `.html` for every region and language into
    `out_dir` (created). A region without any course that year is skipped; `InputError`
    when no region has one (nothing is written then)."""
    for lang in languages:
        check_language(lang)
    summary = AllSummary()
    contents: list[BrochureContent] = []
    with app.sessions() as session:
        for region in regions:
            try:
                contents.append(load_content(session, region, year))
            except InputError:
                summary.skipped.append(region)
    if not contents:
        raise InputError([f"--year: no course in any region in {year}"])
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, str, Future[list[BrochureResult]]]] = []
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for content in contents:
            for lang in languages:
                jobs.append((content.region, lang,
                             pool.submit(_build_one, content, lang, out_dir, formats)))
        for region, lang, job in jobs:
            try:
                summary.built.extend(job.result())
            except Exception as exc:  # one brochure's failure is reported, not fatal
                summary.failed.append(f"{region} {lang}: {exc}")
    return summary
