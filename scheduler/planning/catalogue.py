"""`catalogue_email` and `coe_email` planning: one email per contact (or centre focal point)
per period (the cron's last fire), and the catalogue's one reminder to the silent.

Contacts and centres are few (hundreds), so they are looped over in Python; each delivery
goes into the outbox through `outbox.enqueue`, keyed `{campaign}:{period}:k{contact_id}`,
`{campaign}:{period}:k{contact_id}:reminder` or `{campaign}:{period}:r{centre_id}`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from scheduler import outbox
from scheduler.batch import AnyDelivery
from scheduler.config import CampaignConfig
from scheduler.db import insert_ignore
from scheduler.models import (
    Centre,
    Contact,
    Course,
    CourseTerm,
    Delivery,
    Interest,
    PlanMark,
    Suppression,
)
from scheduler.timing import last_cron_fire, today_in

ONLINE_MODES = ("online_instructor", "online_self_paced")
DEFAULT_HORIZON = timedelta(days=365)
REMINDER_SUFFIX = ":reminder"
REMINDER_LOOKBACK = timedelta(days=30)
"""How long after its moment a reminder is still planned (a planner that was down)."""


def period_of(fire: datetime) -> str:
    return fire.strftime("%Y-%m-%dT%H%MZ")


def horizon_of(campaign: CampaignConfig) -> timedelta:
    return campaign.horizon or DEFAULT_HORIZON


def catalogue_courses(session: Session, *, region: str, focus_areas: Sequence[str],
                      horizon_end: date, today: date) -> list[Course]:
    """The courses a contact's catalogue lists: open, registration not closed, starting by
    `horizon_end`, of the contact's region or online (no region: every region), with a
    topic among `focus_areas` (none: every topic); by start date."""
    q = select(Course).where(
        Course.status == "open",
        Course.registration_deadline >= today,
        Course.start_date <= horizon_end,
    )
    if region:
        q = q.where((Course.region == region) | Course.mode.in_(ONLINE_MODES))
    if focus_areas:
        q = q.where(exists().where(CourseTerm.course_id == Course.id,
                                   CourseTerm.kind == "topic",
                                   CourseTerm.value.in_(list(focus_areas))))
    return list(session.scalars(q.order_by(Course.start_date, Course.id)))


def contact_courses(session: Session, contact: Contact, delivery: AnyDelivery, today: date
                    ) -> list[Course]:
    """What the catalogue delivery `delivery` lists for `contact` on `today`."""
    assert delivery.period_end is not None
    return catalogue_courses(session, region=contact.region, focus_areas=contact.focus_areas,
                             horizon_end=delivery.period_end.date(), today=today)


def _suppressed(session: Session, emails: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(emails), 500):
        found.update(session.scalars(select(Suppression.email).where(
            Suppression.email.in_(emails[i:i + 500]))))
    return found


def _existing_keys(session: Session, campaign: str, prefix: str) -> set[str]:
    return set(session.scalars(select(Delivery.dedup_key).where(
        Delivery.campaign == campaign, Delivery.dedup_key.startswith(prefix))))


def plan_catalogue(session: Session, campaign: CampaignConfig, channel: str, now: datetime,
                   tz: ZoneInfo, planned: Counter[tuple[str, str]]) -> None:
    """This period's catalogue for every reachable contact with a course to list, and the
    reminders that are due."""
    assert campaign.timing.cron
    fire = last_cron_fire(campaign.timing.cron, now, tz)
    if fire is not None and _catalogue_may_change(session, campaign.name, period_of(fire), now):
        period = period_of(fire)
        horizon_end = fire + horizon_of(campaign)
        today = today_in(now, tz)
        prefix = f"{campaign.name}:{period}:k"
        done = _existing_keys(session, campaign.name, prefix)
        contacts = list(session.scalars(select(Contact).where(Contact.status == "active")
                                        .order_by(Contact.id)))
        blocked = _suppressed(session, [c.email for c in contacts])
        for contact in contacts:
            key = f"{prefix}{contact.id}"
            if key in done or contact.email in blocked:
                continue
            if not catalogue_courses(session, region=contact.region,
                                     focus_areas=contact.focus_areas,
                                     horizon_end=horizon_end.date(), today=today):
                continue
            if outbox.enqueue(session, now=now, dedup_key=key, campaign=campaign.name,
                              kind=campaign.kind, channel=channel, template=campaign.template,
                              contact_id=contact.id, period_start=fire,
                              period_end=horizon_end, due_at=fire) is not None:
                planned[(campaign.name, channel)] += 1
    if campaign.remind_after is not None:
        plan_reminders(session, campaign, channel, now, planned)


def _catalogue_may_change(session: Session, campaign: str, period: str, now: datetime
                          ) -> bool:
    """Whether this period's catalogue must be planned (again): never planned, or a contact
    or a course changed since it was (time passing only takes courses away). Moves the
    period's plan mark to `now`."""
    scope = f"catalogue:{period}"
    mark = session.scalar(select(PlanMark.planned_at).where(PlanMark.campaign == campaign,
                                                          PlanMark.scope == scope))
    if mark is None:
        session.execute(insert_ignore(PlanMark.__table__, session.get_bind().dialect.name)
                        .values(campaign=campaign, scope=scope, planned_at=now))
        return True
    changed = session.scalar(select(
        exists().where(Contact.updated_at >= mark) | exists().where(Course.updated_at >= mark)))
    if changed:
        session.execute(update(PlanMark).where(PlanMark.campaign == campaign,
                                               PlanMark.scope == scope,
                                               PlanMark.planned_at < now)
                        .values(planned_at=now))
    return bool(changed)


def answered_since(contact_id: int, since: datetime) -> ColumnElement[bool]:
    """The contact's answers (recorded, changed or withdrawn) at or after `since`."""
    return and_(Interest.contact_id == contact_id, Interest.updated_at >= since)


def has_answered(session: Session, contact_id: int, since: datetime) -> bool:
    return session.scalar(select(Interest.id).where(answered_since(contact_id, since))
                          .limit(1)) is not None


def plan_reminders(session: Session, campaign: CampaignConfig, channel: str, now: datetime,
                   planned: Counter[tuple[str, str]]) -> None:
    """One reminder per sent catalogue email whose contact has not answered since, due
    `remind_after` after its period began."""
    assert campaign.remind_after is not None
    latest = now - campaign.remind_after
    reminder = aliased(Delivery)
    originals = session.execute(select(Delivery.dedup_key, Delivery.contact_id,
                                       Delivery.period_start, Delivery.period_end).where(
        Delivery.campaign == campaign.name,
        Delivery.contact_id.is_not(None),
        Delivery.state == "sent",
        Delivery.period_start <= latest,
        Delivery.period_start > latest - REMINDER_LOOKBACK,
        ~Delivery.dedup_key.endswith(REMINDER_SUFFIX),
        ~exists().where(reminder.dedup_key == Delivery.dedup_key + REMINDER_SUFFIX),
        ~exists().where(Interest.contact_id == Delivery.contact_id,
                        Interest.updated_at >= Delivery.period_start),
    )).all()
    for key, contact_id, start, end in originals:
        assert start is not None and contact_id is not None
        if outbox.enqueue(session, now=now, dedup_key=key + REMINDER_SUFFIX,
                          campaign=campaign.name, kind=campaign.kind, channel=channel,
                          template=campaign.template, contact_id=contact_id,
                          period_start=start, period_end=end,
                          due_at=start + campaign.remind_after) is not None:
            planned[(campaign.name, channel)] += 1


def plan_coe(session: Session, campaign: CampaignConfig, channel: str, now: datetime,
             tz: ZoneInfo, planned: Counter[tuple[str, str]]) -> None:
    """This period's invitation to every centre with a reachable focal point."""
    assert campaign.timing.cron
    fire = last_cron_fire(campaign.timing.cron, now, tz)
    if fire is None:
        return
    prefix = f"{campaign.name}:{period_of(fire)}:r"
    done = _existing_keys(session, campaign.name, prefix)
    centres = list(session.scalars(select(Centre).where(
        Centre.focal_email.is_not(None), Centre.status == "active").order_by(Centre.id)))
    blocked = _suppressed(session, [c.focal_email for c in centres if c.focal_email])
    for centre in centres:
        key = f"{prefix}{centre.id}"
        if key in done or centre.focal_email in blocked:
            continue
        if outbox.enqueue(session, now=now, dedup_key=key, campaign=campaign.name,
                          kind=campaign.kind, channel=channel, template=campaign.template,
                          centre_id=centre.id, period_start=fire, due_at=fire) is not None:
            planned[(campaign.name, channel)] += 1


def plan_admin(session: Session, campaign: CampaignConfig, channel: str, now: datetime,
               tz: ZoneInfo, planned: Counter[tuple[str, str]]) -> None:
    """The planner's one entry point for catalogue_email and coe_email campaigns."""
    if campaign.kind == "catalogue_email":
        plan_catalogue(session, campaign, channel, now, tz, planned)
    elif campaign.kind == "coe_email":
        plan_coe(session, campaign, channel, now, tz, planned)
