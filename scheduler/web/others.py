"""Links of recipients other than participants: contacts and centre focal points (branch
i19-admin's `scheduler.admin_links` / `scheduler.admin_recipients`). Where that service is
present, their `/u/` and `/p/` tokens (which the participants' readers refuse) work here:
unsubscribe, and a preferences page whose one choice is to leave. Without it: None."""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from scheduler.links import PREFERENCES, UNSUBSCRIBE, BadToken


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def read(token: str, keys: list[bytes], purpose: str) -> Any | None:
    """A contact's or focal point's link of `purpose` (`u` or `p`), else None."""
    links = _module("scheduler.admin_links")
    if links is None or purpose not in (UNSUBSCRIBE, PREFERENCES):
        return None
    try:
        return links.read_recipient_token(token, keys, purpose)
    except BadToken:
        return None


def unsubscribe(session: Session, link: Any, now: datetime) -> None:
    """Their own status becomes `unsubscribed` (their campaign kind stops)."""
    service = _module("scheduler.admin_recipients")
    if service is not None:
        service.unsubscribe_recipient(session, link, now)
