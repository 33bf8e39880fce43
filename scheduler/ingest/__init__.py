"""Course ingest: one reader per format (CSV, JSON, iCalendar) → validated `CourseRecord`s,
then `import_courses` writes them (upsert by id, change detection, cancellations)."""

from __future__ import annotations

from scheduler.ingest.centres import import_centres
from scheduler.ingest.records import CourseRecord
from scheduler.ingest.source import read_source
from scheduler.ingest.store import ImportSummary, import_courses

__all__ = ["CourseRecord", "ImportSummary", "import_centres", "import_courses", "read_source"]
