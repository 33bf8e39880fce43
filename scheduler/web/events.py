"""The web pages' writes to the event log (`delivery_events`), in one place so the event
log's owner can re-point them."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import events
from scheduler.models import Delivery

BOT_WINDOW = timedelta(seconds=10)
"""A click this soon after the send is a mail scanner's, not a person's."""
_BROWSER = re.compile(r"Mozilla/5\.0 .*(Gecko|AppleWebKit|Trident)", re.IGNORECASE)
_NOT_A_PERSON = re.compile(
    r"bot|crawl|spider|slurp|preview|scan|fetch|python|curl|wget|java/|go-http|okhttp|"
    r"libwww|httpclient|headless|phantom|facebookexternalhit|proofpoint|mimecast|barracuda",
    re.IGNORECASE)


def bot_reason(method: str, user_agent: str, sent_at: datetime | None, now: datetime
               ) -> str | None:
    """Why a click is a machine's (DESIGN.md): a HEAD request, a User-Agent that names no
    browser, or a click within seconds of the send; None for a person's click."""
    if method == "HEAD":
        return "head"
    if not _BROWSER.search(user_agent or "") or _NOT_A_PERSON.search(user_agent or ""):
        return "user-agent"
    if sent_at is not None and now - sent_at < BOT_WINDOW:
        return "too-soon"
    return None


def record_click(session: Session, dedup_key: str, *, method: str, user_agent: str,
                 now: datetime) -> bool:
    """A `clicked` event on the delivery named by `dedup_key` (unique index), its detail
    `{"bot": bool, "why": ...}`; False when no such delivery exists any more."""
    row = session.execute(select(Delivery.id, Delivery.sent_at)
                          .where(Delivery.dedup_key == dedup_key)).first()
    if row is None:
        return False
    why = bot_reason(method, user_agent, row.sent_at, now)
    detail = json.dumps({"bot": why is not None, "why": why}, separators=(",", ":"))
    events.record(session, "clicked", delivery_id=row.id, at=now, bot=why is not None,
                  detail=detail)
    return True


def record_unsubscribe(session: Session, participant_id: int, campaign: str | None, *,
                       how: str, now: datetime) -> None:
    """An `unsubscribed` event on the person's latest delivery of `campaign` (any when
    None), through the participant index; nothing when they have none."""
    q = select(Delivery.id).where(Delivery.participant_id == participant_id)
    if campaign:
        q = q.where(Delivery.campaign == campaign)
    did = session.scalar(q.order_by(Delivery.id.desc()).limit(1))
    if did is None:
        return
    detail = json.dumps({"participant_id": participant_id, "campaign": campaign, "how": how},
                        separators=(",", ":"))
    events.record(session, "unsubscribed", delivery_id=did, at=now, detail=detail,
                  person=f"p{participant_id}")
