"""Links of recipients other than participants: contacts and centre focal points
(`scheduler.admin_links`, `scheduler.admin_recipients`). Their `/u/` and `/p/` tokens, which
the participants' readers refuse, work here: unsubscribe, and a preferences page whose one
choice is to leave."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scheduler.admin_links import AdminRecipientLink, read_recipient_token
from scheduler.admin_recipients import unsubscribe_recipient
from scheduler.links import PREFERENCES, UNSUBSCRIBE, BadToken


def read(token: str, keys: list[bytes], purpose: str) -> AdminRecipientLink | None:
    """A contact's or focal point's link of `purpose` (`u` or `p`), else None."""
    if purpose not in (UNSUBSCRIBE, PREFERENCES):
        return None
    try:
        return read_recipient_token(token, keys, purpose)
    except BadToken:
        return None


def unsubscribe(session: Session, link: AdminRecipientLink, now: datetime) -> None:
    """Their own status becomes `unsubscribed` (their campaign kind stops)."""
    unsubscribe_recipient(session, link, now)
