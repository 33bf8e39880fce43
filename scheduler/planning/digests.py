"""Weekly digests: one per reachable weekly participant with something new to list."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, literal, or_, select, update
from sqlalchemy.orm import Session

from scheduler import outbox
from scheduler.config import CampaignConfig
from scheduler.matching import match_condition, participant_is_reachable
from scheduler.models import Course, Delivery, Participant
from scheduler.planning.common import PlanReport, get_mark, outbox_row, set_mark
from scheduler.timing import last_cron_fire, today_in


def plan_digest(session: Session, campaign: CampaignConfig, channel: str, now: datetime,
                report: PlanReport, tz: ZoneInfo) -> None:
    """Plan the digest of the cron's last fire, once."""
    assert campaign.timing.cron
    fire = last_cron_fire(campaign.timing.cron, now, tz)
    if fire is None:
        return
    period = fire.strftime("%Y-%m-%dT%H%MZ")
    if get_mark(session, campaign.name, period) is not None:
        return
    today = today_in(now, tz)
    new_course = (
        select(literal(1))
        .select_from(Course)
        .where(
            match_condition(today),
            Course.first_seen_at <= fire,
            or_(
                Participant.last_digest_at.is_(None),
                Course.first_seen_at > Participant.last_digest_at,
            ),
        )
        .correlate(Participant)
    )
    sel = select(*outbox_row(
        campaign, channel, f"{campaign.name}:{period}:p", now,
        period_start=Participant.last_digest_at,
        period_end=literal(fire, Delivery.period_end.type),
        due_at=literal(fire, Delivery.due_at.type),
    )).where(
        Participant.frequency == "weekly",
        participant_is_reachable(),
        exists(new_course),
    )
    n = outbox.insert_planned(session, sel)
    # The next digest lists what is new after this one.
    planned = select(Delivery.participant_id).where(
        Delivery.campaign == campaign.name, Delivery.period_end == fire
    )
    session.execute(
        update(Participant).where(Participant.id.in_(planned)).values(last_digest_at=fire)
    )
    set_mark(session, campaign.name, period, now)
    if n:
        report.planned[(campaign.name, channel)] += n
