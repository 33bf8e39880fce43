"""Courses from CSV: the columns of DESIGN.md "Input formats", one course per row."""

from __future__ import annotations

import io

from scheduler.ingest.csvfile import CsvRows, utf8_lines
from scheduler.ingest.records import (
    COURSE_COLUMNS,
    CourseRecord,
    Problems,
    UniqueIds,
    build_course,
)


def read_courses_csv(data: bytes, name: str) -> list[CourseRecord]:
    """Parse and validate a courses CSV; raise `InputError` listing every bad row.

    `name` is how messages name the file (`courses.csv:7: start_date: ...`).
    """
    problems = Problems()
    rows = CsvRows(utf8_lines(io.BytesIO(data), name), name, COURSE_COLUMNS, problems)
    records: list[CourseRecord] = []
    ids = UniqueIds()
    for line, row in rows:
        where = f"{name}:{line}"
        record = build_course(row, where, problems)
        if ids.check(row.get("id"), where, f"line {line}", problems) and record is not None:
            records.append(record)
    problems.raise_if_any()
    return records
