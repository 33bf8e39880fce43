"""The operator's side of a person's rights: unsubscribe, suppress, export, erase.

Erasure (DESIGN.md "Erasure"): the person's name, profile and address are deleted; their
delivery history stays for the report under a pseudonym (`erased-{id}@invalid`), and the
event details and errors that quoted the address are rewritten; a hashed suppression entry
(`sha256:` + the address's hash) keeps a later import from bringing them back.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from scheduler import outbox, subscriptions
from scheduler.errors import InputError
from scheduler.ingest import fields as f
from scheduler.models import (
    Delivery,
    DeliveryEvent,
    Participant,
    ParticipantInterest,
    ParticipantStatus,
    Suppression,
)
from scheduler.outbox import privacy as outbox_privacy
from scheduler.participants.interest_masks import key_masks, masks_for, wanted_keys
from scheduler.participants.profiles import INTEREST_KINDS

log = logging.getLogger(__name__)

HASH_PREFIX = "sha256:"


def address_hash(email: str) -> str:
    """The suppression key of an erased address: its SHA-256, never the address."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"{HASH_PREFIX}{digest}"


def scrub(engine: Engine) -> None:
    """After an erasure's commit: on SQLite, move the write-ahead log into the database
    and empty it, so the old pages that quoted the address are gone from disk too."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception as exc:  # the erasure is committed; a busy reader only delays this
        log.warning("after erasure, the WAL checkpoint did not complete: %s", exc)
    finally:
        raw.close()


def pseudonym(participant_id: int) -> str:
    return f"erased-{participant_id}@invalid"


def _address(email: str) -> str:
    try:
        return f.email(email)
    except f.FieldError as exc:
        raise InputError([f"EMAIL: {email!r} {exc}"]) from None


def _person(session: Session, email: str) -> Participant:
    p = subscriptions.find(session, _address(email))
    if p is None:
        raise InputError([f"EMAIL: no participant with the address {email!r}"])
    return p


def unsubscribe(session: Session, email: str, *, now: datetime) -> int:
    """The operator unsubscribes a person; how many pending deliveries were cancelled."""
    p = _person(session, email)
    return subscriptions.unsubscribe(session, p.id, now=now,
                                     reason="unsubscribed by the operator") or 0


def suppress(session: Session, email: str, *, now: datetime, reason: str = "operator"
             ) -> int:
    """Put an address on the suppression list (known or not); what is pending to it becomes
    `suppressed`. How many deliveries."""
    address = _address(email)
    if session.get(Suppression, address) is None:
        session.add(Suppression(email=address, reason=reason[:40], detail="operator",
                                created_at=now))
    return outbox.suppress_for_address(session, address, now=now,
                                       reason=f"address suppressed by the operator: {reason}")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export(session: Session, email: str) -> dict[str, Any]:
    """Everything held on the person, as one JSON-ready document."""
    p = _person(session, email)
    profile = {c.name: _iso(getattr(p, c.key)) for c in Participant.__table__.columns}
    interests: dict[str, list[str]] = {k: [] for k in INTEREST_KINDS}
    for row in session.scalars(select(ParticipantInterest)
                               .where(ParticipantInterest.participant_id == p.id)):
        interests.setdefault(row.kind, []).append(row.value)
    deliveries = list(session.scalars(select(Delivery).where(Delivery.participant_id == p.id)
                                      .order_by(Delivery.id)))
    events: dict[int, list[dict[str, Any]]] = {}
    ids = [d.id for d in deliveries]
    for i in range(0, len(ids), 500):
        for e in session.scalars(select(DeliveryEvent).where(
                DeliveryEvent.delivery_id.in_(ids[i:i + 500])).order_by(DeliveryEvent.id)):
            if e.delivery_id is None:
                continue
            events.setdefault(e.delivery_id, []).append(
                {"type": e.type, "at": _iso(e.at), "detail": e.detail})
    suppressions = [{"reason": s.reason, "detail": s.detail, "created_at": _iso(s.created_at)}
                    for s in session.scalars(select(Suppression).where(
                        Suppression.email.in_([p.email, address_hash(p.email)])))]
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "participant": profile,
        "interests": interests,
        "suppressions": suppressions,
        "deliveries": [{
            "id": d.id, "campaign": d.campaign, "kind": d.kind, "channel": d.channel,
            "course_id": d.course_id, "state": d.state, "due_at": _iso(d.due_at),
            "sent_at": _iso(d.sent_at), "attempts": d.attempts, "last_error": d.last_error,
            "events": events.get(d.id, []),
        } for d in deliveries],
    }


def erase(session: Session, email: str, *, now: datetime) -> bool:
    """Erase a person (see the module's docstring); False when the address was not known
    (the hashed suppression is recorded all the same)."""
    address = _address(email)
    hashed = address_hash(address)
    if session.get_bind().dialect.name == "sqlite":
        # Freed cells are zeroed, so no old copy of a row lingers in the file's free space.
        session.execute(text("PRAGMA secure_delete=ON"))
    if session.get(Suppression, hashed) is None:
        session.add(Suppression(email=hashed, reason="erased", detail="", created_at=now))
    session.execute(delete(Suppression).where(Suppression.email == address))
    p = subscriptions.find(session, address)
    if p is None:
        return False
    outbox.cancel_for_participant(session, p.id, now=now, reason="participant erased")
    alias = pseudonym(p.id)
    outbox_privacy.rewrite_address(session, p.id, address, alias)
    session.execute(delete(ParticipantInterest)
                    .where(ParticipantInterest.participant_id == p.id))
    p.email, p.name, p.country, p.timezone = alias, "", "", "UTC"
    p.status = ParticipantStatus.UNSUBSCRIBED.value
    p.any_topic = p.any_region = p.any_language = p.any_mode = True
    masks = key_masks(session, wanted_keys(p.language, ()))
    for name, mask in masks_for(masks, p.language, ()).items():
        setattr(p, name, mask)
    p.paused_until = None
    p.updated_at = now
    return True
