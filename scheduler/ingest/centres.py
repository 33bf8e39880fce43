"""The centres (formerly CoEs): the demo/coes.csv import, and centres named by courses.

Centre topics are stored as matching keys (trimmed, lower case).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.ingest import fields as f
from scheduler.ingest.csvfile import file_rows
from scheduler.ingest.records import Problems
from scheduler.models import Centre

if TYPE_CHECKING:
    from scheduler.ingest.records import CourseRecord

CENTRE_COLUMNS = ("name", "country", "region", "topics")


@dataclass(frozen=True)
class CentreRecord:
    name: str
    country: str
    region: str
    topics: tuple[str, ...]
    focal_email: str | None = None  # None: the file has no focal_point_email column
    focal_name: str | None = None
    website: str | None = None
    language: str | None = None

    def optional(self) -> dict[str, object]:
        """The optional columns the file had, as Centre attributes."""
        values = {"focal_email": self.focal_email, "focal_name": self.focal_name,
                  "website": self.website, "language": self.language}
        out: dict[str, object] = {k: v for k, v in values.items() if v is not None}
        if "focal_email" in out:
            out["focal_email"] = out["focal_email"] or None
        if out.get("language") == "":
            out["language"] = "en"
        return out


@dataclass
class CentreImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def read_centres_csv(path: str | Path) -> list[CentreRecord]:
    """Read `name,country,region,topics` and the optional `website,focal_point_name,
    focal_point_email,language` (`focal_email` is read as `focal_point_email`); raise
    `InputError` with every bad row."""
    name = str(path)
    problems = Problems()
    rows = file_rows(path, CENTRE_COLUMNS, problems)
    focal_col = next((c for c in ("focal_point_email", "focal_email") if c in rows.columns), None)
    records: list[CentreRecord] = []
    first: dict[str, int] = {}
    for line, row in rows:
        where = f"{name}:{line}"
        values: dict[str, object] = {}
        ok = True
        parsers: dict[str, Callable[[object], object]] = {
            "name": lambda v: f.text(v, required=True, max_len=f.NAME_MAX),
            "country": lambda v: f.text(v, max_len=100),
            "region": f.region,
            "topics": lambda v: tuple(dict.fromkeys(f.norm(t) for t in f.topics(v))),
        }
        optional: dict[str, tuple[str, Callable[[object], object]]] = {
            "website": ("website", lambda v: f.url(v) if str(v or "").strip() else ""),
            "focal_point_name": ("focal_name", lambda v: f.text(v, max_len=200)),
            "language": ("language", lambda v: f.language(v) if str(v or "").strip() else ""),
        }
        if focal_col:
            optional[focal_col] = (
                "focal_email", lambda v: f.email(v) if str(v or "").strip() else "")
        for col, (_attr, parse) in optional.items():
            if col in rows.columns:
                parsers[col] = parse
        attrs = {col: optional[col][0] if col in optional else col for col in parsers}
        for col, parse in parsers.items():
            try:
                values[attrs[col]] = parse(row.get(col))
            except f.FieldError as exc:
                problems.add(where, col, str(exc))
                ok = False
        key = f.norm(row.get("name", ""))
        if key and key in first:
            problems.add(where, "name", f"duplicate centre {row['name'].strip()!r} "
                         f"(first at line {first[key]})")
            ok = False
        first.setdefault(key, line)
        if ok:
            records.append(CentreRecord(**values))  # type: ignore[arg-type]
    problems.raise_if_any()
    return records


def import_centres(session: Session, path: str | Path) -> CentreImportSummary:
    """Upsert the centres of a coes.csv-style file by name; the file is authoritative for
    the fields it has. All-or-nothing: a bad row raises `InputError` before any write.
    Runs in the caller's transaction: only flushes, the caller commits."""
    records = read_centres_csv(path)
    summary = CentreImportSummary()
    existing = {c.name: c for c in session.scalars(select(Centre))}
    for rec in records:
        centre = existing.get(rec.name)
        if centre is None:
            session.add(Centre(name=rec.name, country=rec.country, region=rec.region,
                               topics=list(rec.topics), **rec.optional()))
            summary.added.append(rec.name)
            continue
        new: dict[str, object] = {
            "country": rec.country, "region": rec.region, "topics": list(rec.topics)}
        new.update(rec.optional())
        if all(getattr(centre, k) == v for k, v in new.items()):
            summary.unchanged.append(rec.name)
            continue
        for k, v in new.items():
            setattr(centre, k, v)
        summary.updated.append(rec.name)
    session.flush()
    return summary


def upsert_centres_from_courses(session: Session, records: Sequence[CourseRecord]) -> None:
    """Create the centres the courses name; fill an empty country or region and add the
    courses' topics to a known centre (never overwrite what coes.csv stated)."""
    wanted: dict[str, tuple[str, str, list[str]]] = {}
    for rec in records:
        country, region, topics = wanted.setdefault(rec.coe, (rec.country, rec.region, []))
        topics.extend(k for k in rec.topic_keys if k not in topics)
    if not wanted:
        return
    names = list(wanted)
    existing: dict[str, Centre] = {}
    for i in range(0, len(names), 500):
        existing.update((c.name, c) for c in session.scalars(
            select(Centre).where(Centre.name.in_(names[i : i + 500]))))
    for name, (country, region, topics) in wanted.items():
        centre = existing.get(name)
        if centre is None:
            session.add(Centre(name=name, country=country, region=region, topics=topics))
            continue
        if not centre.country and country:
            centre.country = country
        if not centre.region:
            centre.region = region
        merged = list(centre.topics or [])
        extra = [t for t in topics if t not in merged]
        if extra:
            centre.topics = merged + extra
