"""Unsubscribing a contact or a centre's focal point (their `/u/` links): their own status
becomes `unsubscribed`, which stops their campaign kind only (catalogue_email for a
contact, coe_email for a centre). What is already planned is not sent: the message builder
refuses an unsubscribed recipient, so the dispatcher settles it as `cancelled`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from scheduler.admin_links import AdminRecipientLink, read_recipient_token
from scheduler.links import UNSUBSCRIBE, BadToken
from scheduler.models import Centre, Contact


def read_unsubscribe_link(token: str, keys: bytes | Sequence[bytes]) -> AdminRecipientLink:
    """A contact's or focal point's `/u/` token, else `BadToken` (a participant's token
    included: the `/u/` page tries this reader when the participant's refuses)."""
    return read_recipient_token(token, keys, UNSUBSCRIBE)


def unsubscribe_recipient(session: Session, link: AdminRecipientLink, now: datetime) -> bool:
    """Mark the link's contact or centre unsubscribed; False when it was not found (or no
    longer has that address) or already was."""
    del now  # kept for the same signature as the participants' service
    if link.kind == "contact":
        contact = session.get(Contact, link.id)
        if contact is None or contact.email != link.email or contact.status != "active":
            return False
        contact.status = "unsubscribed"
    else:
        centre = session.get(Centre, link.id)
        if centre is None or centre.focal_email != link.email or centre.status != "active":
            return False
        centre.status = "unsubscribed"
    session.flush()
    return True


__all__ = ["BadToken", "read_unsubscribe_link", "unsubscribe_recipient"]
