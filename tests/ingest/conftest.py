"""Fixtures for the ingest tests: a fresh SQLite database and course-file builders."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, SessionTransaction

from scheduler.models import Base

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
HEADER = ("id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
          "registration_deadline,fee_usd,url")
GOOD = {
    "id": "T-1", "title": "Spectrum basics", "coe": "Test Centre", "country": "Kenya",
    "region": "Africa", "topics": "spectrum management;Policy and Regulation",
    "languages": "en;fr", "mode": "online_instructor", "location": "Online",
    "start_date": "2027-03-01", "end_date": "2027-03-05",
    "registration_deadline": "2027-02-15", "fee_usd": "400",
    "url": "https://academy.example.org/c/1",
}


def csv_row(**overrides: str) -> str:
    """One CSV line of GOOD with fields replaced (values are written verbatim)."""
    row = {**GOOD, **overrides}
    return ",".join(row[col] for col in HEADER.split(","))


def course_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def tx(session: Session) -> SessionTransaction:
    """A fresh write transaction, ending the read transaction a test's queries began."""
    if session.in_transaction():
        session.commit()
    return session.begin()


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table: a failed import must leave these exactly as they were."""
    session.rollback()  # a fresh snapshot
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables}
