"""Who gets what of the catalogue and invitation emails: the rows `herald plan` shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Centre, Contact, Delivery

SHOWN_STATES = ("pending", "retrying")


def admin_queue(session: Session, limit: int = 1000) -> list[dict[str, Any]]:
    """Pending and retrying catalogue_email and coe_email deliveries with their recipient."""
    q = (select(Delivery, Contact, Centre)
         .outerjoin(Contact, Contact.id == Delivery.contact_id)
         .outerjoin(Centre, Centre.id == Delivery.centre_id)
         .where(Delivery.kind.in_(("catalogue_email", "coe_email")),
                Delivery.state.in_(SHOWN_STATES))
         .order_by(Delivery.due_at, Delivery.id).limit(limit))
    rows = []
    for d, contact, centre in session.execute(q):
        if contact is not None:
            to, name, org = contact.email, contact.name, contact.organisation
        elif centre is not None:
            to, name, org = centre.focal_email, centre.focal_name, centre.name
        else:
            to = name = org = None
        rows.append({"id": d.id, "campaign": d.campaign, "kind": d.kind, "to": to,
                     "name": name, "organisation": org, "state": d.state,
                     "reminder": d.dedup_key.endswith(":reminder"),
                     "due_at": d.due_at.isoformat()})
    return rows
