"""What a regional brochure lists: the region's centres and the courses of the year.

A course belongs to a region's brochure when it is held in that region, or when it is
online (instructor-led or self-paced): those reach every region. A course belongs to a
year when it runs on any day of it; one that began the year before is listed in January.
Cancelled courses are left out. The result is plain, picklable data, so the all-regions
runner queries once and renders in other processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.errors import InputError
from scheduler.ingest import fields
from scheduler.ingest.records import CourseRecord
from scheduler.models import Centre, Course

ONLINE_MODES = ("online_instructor", "online_self_paced")


@dataclass(frozen=True)
class CentreEntry:
    name: str
    country: str
    topics: tuple[str, ...]
    website: str | None


@dataclass(frozen=True)
class BrochureContent:
    region: str
    year: int
    centres: tuple[CentreEntry, ...]
    courses: tuple[CourseRecord, ...]  # by start date, then title


def canonical_region(region: str) -> str:
    """`africa` → `Africa`; raises `InputError` naming the six regions otherwise."""
    try:
        return fields.region(region)
    except fields.FieldError as exc:
        raise InputError([f"--region: {exc}"]) from None


def load_content(session: Session, region: str, year: int) -> BrochureContent:
    """The brochure's content; `InputError` for an unknown region or a year with no course."""
    region = canonical_region(region)
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.scalars(
        select(Course)
        .where(
            or_(Course.region == region, Course.mode.in_(ONLINE_MODES)),
            Course.status != "cancelled",
            Course.start_date <= last,
            Course.end_date >= first,
        )
        .order_by(Course.start_date, Course.title, Course.id)
    ).all()
    if not rows:
        raise InputError([f"--year: no course in {region} in {year}"])
    centres = session.scalars(
        select(Centre).where(Centre.region == region).order_by(Centre.name)).all()
    return BrochureContent(
        region=region,
        year=year,
        centres=tuple(_centre(c) for c in centres),
        courses=tuple(CourseRecord.of_stored(c) for c in rows),
    )


def _centre(c: Centre) -> CentreEntry:
    # `website` arrives with the centres import of the administrations branch; until then
    # a centre has none and the brochure lists it without.
    website = getattr(c, "website", None)
    return CentreEntry(name=c.name, country=c.country or "", topics=tuple(c.topics or ()),
                       website=str(website) if website else None)
