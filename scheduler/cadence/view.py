"""What cadence holds back, per person, and when it will go (`herald plan`, `status`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.config import HeraldConfig
from scheduler.models import Delivery, DeliveryEvent, Participant

COURSE_EMAIL = "course_email"


def held_back(session: Session, config: HeraldConfig, now: datetime) -> list[dict[str, Any]]:
    """Per person: the course emails cadence holds back (already put off, or due now but
    over a cap), the courses, when they will go and why; soonest first."""
    from scheduler.outbox.cadence import apply_cadence

    rows: dict[int, tuple[int, str, datetime, str]] = {}
    held = (select(DeliveryEvent.delivery_id, func.max(DeliveryEvent.id).label("last"))
            .where(DeliveryEvent.type == "held").group_by(DeliveryEvent.delivery_id)
            .subquery())
    for did, pid, cid, due, detail in session.execute(
            select(Delivery.id, Delivery.participant_id, Delivery.course_id, Delivery.due_at,
                   DeliveryEvent.detail)
            .join(held, held.c.delivery_id == Delivery.id)
            .join(DeliveryEvent, DeliveryEvent.id == held.c.last)
            .where(Delivery.kind == COURSE_EMAIL, Delivery.state.in_(("pending", "retrying")),
                   Delivery.due_at > now)):
        why = detail.removeprefix("cadence: ").split(" until ")[0]
        rows[did] = (pid or 0, cid or "", due, why)
    channels = {c for campaign in config.campaigns.values() if campaign.kind == COURSE_EMAIL
                for c in campaign.channels}
    for channel in sorted(channels):
        preview = apply_cadence(session, config, channel, now, write=False)
        for pid, did, cid, until, why in preview.holds:
            rows[did] = (pid, cid, until, why)
    people: dict[int, dict[str, Any]] = {}
    for pid, cid, until, why in rows.values():
        entry = people.setdefault(pid, {"participant_id": pid, "courses": [], "until": until,
                                        "why": set()})
        entry["courses"].append(cid)
        entry["until"] = min(entry["until"], until)
        entry["why"].add(why)
    emails = dict(session.execute(select(Participant.id, Participant.email)
                                  .where(Participant.id.in_(list(people)))).all()
                  ) if people else {}
    return [{"participant": emails.get(pid, ""), "participant_id": pid,
             "held": len(e["courses"]), "courses": sorted(e["courses"]),
             "goes_at": e["until"].isoformat(), "why": ",".join(sorted(e["why"]))}
            for pid, e in sorted(people.items(), key=lambda kv: (kv[1]["until"], kv[0]))]


def held_counts(session: Session, now: datetime) -> dict[str, int]:
    """How many course emails cadence has put off (pending, due later), and for whom."""
    q = (select(func.count(Delivery.id), func.count(func.distinct(Delivery.participant_id)))
         .where(Delivery.kind == COURSE_EMAIL, Delivery.state.in_(("pending", "retrying")),
                Delivery.due_at > now,
                Delivery.id.in_(select(DeliveryEvent.delivery_id)
                                .where(DeliveryEvent.type == "held"))))
    rows, people = session.execute(q).one()
    return {"held": int(rows), "people": int(people)}


def day_figures(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """What people received in [start, end): the most emails to one person (course emails,
    and emails of any kind), a bundle counted once; the most courses in one email."""
    message = func.coalesce(Delivery.bundle, Delivery.id)
    went = (Delivery.participant_id.is_not(None), Delivery.state == "sent",
            Delivery.sent_at >= start, Delivery.sent_at < end)

    def most(*where: Any) -> int:
        per_person = (select(func.count(func.distinct(message)).label("n"))
                      .where(*went, *where).group_by(Delivery.participant_id).subquery())
        return int(session.scalar(select(func.max(per_person.c.n))) or 0)

    bundles = (select(func.count(func.distinct(Delivery.course_id)).label("n"))
               .where(*went, Delivery.kind == COURSE_EMAIL).group_by(message).subquery())
    return {"most_course_emails_to_one_person": most(Delivery.kind == COURSE_EMAIL),
            "most_emails_to_one_person": most(),
            "largest_bundle": int(session.scalar(select(func.max(bundles.c.n))) or 0)}
