"""Writing validated course records: upsert by id, change detection, cancellations.

A source may be partial (one centre's feed, one year's catalogue), so a course that a
source no longer lists is left as it is: never deleted, never cancelled. A course is
withdrawn by listing it with status `cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from scheduler import outbox
from scheduler.ingest.centres import import_centres, upsert_centres_from_courses
from scheduler.ingest.records import CourseRecord
from scheduler.models import Course, CourseTerm

__all__ = ["ImportSummary", "import_centres", "import_courses"]

T = TypeVar("T")
CHUNK = 500  # ids per IN (...) list: far below every database's parameter limit
ROWS_STEP = 1_000  # records between two progress reports
_FIELDS = ("title", "coe", "country", "region", "mode", "location", "start_date", "end_date",
           "registration_deadline", "fee_usd", "url", "status", "description")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class ImportSummary:
    """Course ids by what the import did to them.

    `cancelled` holds courses that were open and are now cancelled (a course first seen
    already cancelled is only `added`); `updated` every other change.
    `deliveries_cancelled` counts outbox rows withdrawn because their course is cancelled.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    deliveries_cancelled: int = 0

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "cancelled": len(self.cancelled),
                "deliveries_cancelled": self.deliveries_cancelled}


def _course_values(record: CourseRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["topics"] = list(record.topics)
    values["languages"] = list(record.languages)
    return values


def _terms(record: CourseRecord) -> list[dict[str, str]]:
    rows = [{"course_id": record.id, "kind": "topic", "value": key}
            for key in record.topic_keys]
    rows += [{"course_id": record.id, "kind": "language", "value": code}
             for code in record.languages]
    return rows


def import_courses(
    session: Session, records: Sequence[CourseRecord], *, now: datetime,
    on_rows: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Upsert `records` (already validated, ids unique) in one transaction.

    New courses get `first_seen_at = now` (on_publish timing counts from it); a changed
    course (its content hash differs) is rewritten and its matching terms replaced; a
    course listed as cancelled has its pending and retrying deliveries cancelled, each
    with a `cancelled` delivery event. Centres named by the courses are created if
    unknown.

    Runs in the caller's transaction (`with session.begin(): ...`) and only flushes: the
    caller commits, and an exception leaves nothing written once it rolls back.
    `on_rows(n)` (progress) is told of each `ROWS_STEP` records written, and of the rest.
    """
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("course records must have unique ids")
    summary = ImportSummary()
    existing: dict[str, Course] = {}
    for chunk in chunks(ids):
        existing.update(
            (c.id, c) for c in session.scalars(select(Course).where(Course.id.in_(chunk))))
    changed: list[CourseRecord] = []
    for done, record in enumerate(records, 1):
        if on_rows is not None and done % ROWS_STEP == 0:
            on_rows(ROWS_STEP)
        digest = record.content_hash()
        course = existing.get(record.id)
        if course is None:
            session.add(Course(id=record.id, **_course_values(record), content_hash=digest,
                               first_seen_at=now, updated_at=now))
            summary.added.append(record.id)
        elif course.content_hash == digest:
            summary.unchanged.append(record.id)
            continue
        else:
            newly_cancelled = record.status == "cancelled" and course.status != "cancelled"
            for name, value in _course_values(record).items():
                setattr(course, name, value)
            course.content_hash = digest
            course.updated_at = now
            (summary.cancelled if newly_cancelled else summary.updated).append(record.id)
        changed.append(record)
    session.flush()
    _replace_terms(session, changed, existing)
    summary.deliveries_cancelled = outbox.cancel_for_course(
        session, [r.id for r in records if r.status == "cancelled"], now=now)
    upsert_centres_from_courses(session, records)
    session.flush()
    if on_rows is not None and len(records) % ROWS_STEP:
        on_rows(len(records) % ROWS_STEP)
    return summary


def _replace_terms(
    session: Session, changed: Sequence[CourseRecord], existing: dict[str, Course]
) -> None:
    stale = [r.id for r in changed if r.id in existing]
    for chunk in chunks(stale):
        session.execute(delete(CourseTerm).where(CourseTerm.course_id.in_(chunk)))
    rows = [term for record in changed for term in _terms(record)]
    for part in chunks(rows, 10_000):
        session.execute(insert(CourseTerm), list(part))
