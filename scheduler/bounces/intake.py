"""Acting on bounces and complaints, and `herald bounces fetch`: the IMAP mailbox read once.

A report (DSN or ARF) is about one message: every delivery it carried (a cadence bundle's
rows: its VERP token names the lead) gets the event, and the person is acted on once. A
hard bounce suppresses the address; soft bounces suppress after SOFT_LIMIT reports within
SOFT_WINDOW; a policy bounce (5.7.x) is recorded only (a sender problem); a complaint
suppresses and cancels what is pending. Each mail is moved, never deleted: to the
processed folder once its outcome is committed, or to the unparsed folder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import events, outbox
from scheduler.bounces.parse import Notice, parse
from scheduler.config import HeraldConfig
from scheduler.config.models import BouncesSettings
from scheduler.db import insert_ignore
from scheduler.errors import InputError
from scheduler.models import Delivery, DeliveryEvent, Participant, Suppression
from scheduler.reporting.reputation import guard

SOFT_LIMIT = 3
SOFT_WINDOW = timedelta(days=15)


def apply(session: Session, notice: Notice, now: datetime) -> str:
    """Record `notice` (a bounce or complaint) and suppress as due; the outcome's name."""
    delivery = session.get(Delivery, notice.delivery_id) if notice.delivery_id else None
    if delivery is None:
        return "unparsed"
    person = session.get(Participant, delivery.participant_id) \
        if delivery.participant_id is not None else None
    carried = carried_by_message(session, delivery)
    if notice.kind == "complaint":
        events.record_message(session, "complained", carried, at=now,
                              category=notice.category, detail=notice.detail)
        if person is not None:
            _suppress(session, person.email, "complaint", notice.detail, now)
            outbox.cancel_for_participant(session, person.id, now=now, reason="complaint")
        return "complaint"
    events.record_message(session, "bounced", carried, at=now, category=notice.category,
                          detail=notice.detail)
    if person is None or notice.category == "policy":
        return f"bounce_{notice.category}"
    if notice.category == "hard" or _soft_count(session, f"p{person.id}", now) >= SOFT_LIMIT:
        _suppress(session, person.email, "bounce", notice.detail, now)
    return f"bounce_{notice.category}"


def carried_by_message(session: Session, delivery: Delivery) -> list[int]:
    """The deliveries the email of `delivery` carried: its bundle's rows sent in the same
    message (the same provider id), `delivery` first; only itself outside a bundle."""
    if delivery.bundle is None:
        return [delivery.id]
    same = (Delivery.provider_id == delivery.provider_id if delivery.provider_id is not None
            else Delivery.state == delivery.state)
    others = session.scalars(select(Delivery.id).where(
        Delivery.bundle == delivery.bundle, Delivery.id != delivery.id, same)
        .order_by(Delivery.id))
    return [delivery.id, *others]


def _soft_count(session: Session, person: str, now: datetime) -> int:
    """Soft bounce reports of the person within SOFT_WINDOW (one per report, not per row)."""
    e = DeliveryEvent
    return int(session.scalar(select(func.coalesce(func.sum(e.messages), 0)).where(
        e.person == person, e.type == "bounced", e.category == "soft",
        e.at > now - SOFT_WINDOW)) or 0)


def _suppress(session: Session, email: str, reason: str, detail: str, now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    session.execute(insert_ignore(Suppression.__table__, dialect).values(
        email=email, reason=reason, detail=detail[:500], created_at=now))


def _mailbox(cfg: BouncesSettings):  # type: ignore[no-untyped-def]
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    cls = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    return cls[cfg.security](cfg.host, cfg.resolved_port, timeout=30)


def fetch(session: Session, config: HeraldConfig, keys: Sequence[bytes],
          now: datetime) -> Counter[str]:
    """Read the bounce folder once; counts by outcome. Then the reputation guard runs."""
    cfg = config.settings.bounces
    if cfg is None:
        raise InputError(["settings.yaml: bounces: not configured (host, username, ...)"])
    counts: Counter[str] = Counter()
    with _mailbox(cfg).login(cfg.username, cfg.password.get_secret_value(),
                             initial_folder=cfg.folder) as box:
        for folder in (cfg.processed_folder, cfg.unparsed_folder):
            if not box.folder.exists(folder):
                box.folder.create(folder)
        for mail in box.fetch(mark_seen=False, bulk=50):
            notice = parse(mail.obj.as_bytes(), keys)
            outcome: str = notice.kind
            if notice.kind in ("bounce", "complaint"):
                with session.begin():
                    outcome = apply(session, notice, now)
            counts[outcome] += 1
            target = cfg.unparsed_folder if outcome == "unparsed" else cfg.processed_folder
            box.move(mail.uid or "", target)
    with session.begin():
        for name in guard(session, config, now):
            counts[f"paused:{name}"] += 1
    return counts
