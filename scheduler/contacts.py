"""HR focal points of administrations and sector members (activity 16): the contacts CSV
import (all-or-nothing, upsert by email) and the list.

Columns: `email,name,organisation,country,region,focus_areas,language`; `focus_areas` are
`;`-separated topics stored as matching keys (empty: every topic), `region` empty: every
region, `language` empty: English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.ingest import fields as f
from scheduler.ingest.csvfile import file_rows
from scheduler.ingest.records import Problems
from scheduler.models import Contact

CONTACT_COLUMNS = ("email", "name", "organisation", "country", "region", "focus_areas",
                   "language")


@dataclass
class ContactImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _parsers() -> dict[str, Callable[[object], object]]:
    return {
        "email": f.email,
        "name": lambda v: f.text(v, max_len=200),
        "organisation": lambda v: f.text(v, max_len=200),
        "country": lambda v: f.text(v, max_len=100),
        "region": lambda v: f.region(v) if str(v or "").strip() else "",
        "focus_areas": lambda v: list(dict.fromkeys(f.norm(t) for t in f.topics(v))),
        "language": lambda v: f.language(v) if str(v or "").strip() else "en",
    }


def read_contacts_csv(path: str | Path) -> list[dict[str, Any]]:
    """The contacts of a CSV file as Contact attribute dicts; `InputError` naming every bad
    row as `file:line: field: reason`."""
    name = str(path)
    problems = Problems()
    rows = file_rows(path, CONTACT_COLUMNS, problems)
    records: list[dict[str, Any]] = []
    first: dict[str, int] = {}
    parsers = _parsers()
    for line, row in rows:
        where = f"{name}:{line}"
        values: dict[str, Any] = {}
        ok = True
        for col, parse in parsers.items():
            try:
                values[col] = parse(row.get(col))
            except f.FieldError as exc:
                problems.add(where, col, str(exc))
                ok = False
        email = values.get("email")
        if isinstance(email, str):
            if email in first:
                problems.add(where, "email", f"duplicate contact {email!r} "
                             f"(first at line {first[email]})")
                ok = False
            first.setdefault(email, line)
        if ok:
            records.append(values)
    problems.raise_if_any()
    return records


def import_contacts(session: Session, path: str | Path, now: datetime) -> ContactImportSummary:
    """Upsert the file's contacts by email, in the caller's transaction (flushes only).
    All-or-nothing: a bad row raises `InputError` before any write."""
    records = read_contacts_csv(path)
    summary = ContactImportSummary()
    emails = [r["email"] for r in records]
    existing: dict[str, Contact] = {}
    for i in range(0, len(emails), 500):
        existing.update((c.email, c) for c in session.scalars(
            select(Contact).where(Contact.email.in_(emails[i:i + 500]))))
    for rec in records:
        contact = existing.get(rec["email"])
        if contact is None:
            session.add(Contact(**rec, created_at=now, updated_at=now))
            summary.added.append(rec["email"])
        elif all(getattr(contact, k) == v for k, v in rec.items()):
            summary.unchanged.append(rec["email"])
        else:
            for k, v in rec.items():
                setattr(contact, k, v)
            contact.updated_at = now
            summary.updated.append(rec["email"])
    session.flush()
    return summary


def contact_row(c: Contact) -> dict[str, Any]:
    return {"id": c.id, "email": c.email, "name": c.name, "organisation": c.organisation,
            "country": c.country, "region": c.region, "focus_areas": list(c.focus_areas),
            "language": c.language, "status": c.status}


def list_contacts(session: Session) -> list[dict[str, Any]]:
    return [contact_row(c) for c in session.scalars(select(Contact).order_by(Contact.email))]
