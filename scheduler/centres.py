"""Training centres and their focal points (activity 10): import and list.

The CSV reader lives with the other importers (scheduler/ingest/centres.py); columns
`name,country,region,topics,website,focal_point_name,focal_point_email,language`,
upserted by name, all-or-nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.ingest.centres import CentreImportSummary, import_centres
from scheduler.models import Centre

__all__ = ["CentreImportSummary", "centre_row", "import_centres_file", "list_centres"]


def import_centres_file(session: Session, path: str | Path) -> CentreImportSummary:
    """Upsert the centres of `path` in the caller's transaction; `InputError` on a bad row."""
    return import_centres(session, path)


def centre_row(c: Centre) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "country": c.country, "region": c.region,
            "topics": list(c.topics or []), "website": c.website,
            "focal_point_name": c.focal_name, "focal_point_email": c.focal_email,
            "language": c.language, "status": c.status}


def list_centres(session: Session) -> list[dict[str, Any]]:
    return [centre_row(c) for c in session.scalars(select(Centre).order_by(Centre.name))]
