"""Course posts: one per due course and social channel, each in its channel's next slot."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import outbox
from scheduler.config import CampaignConfig, HeraldConfig
from scheduler.filter import Filter
from scheduler.models import Delivery
from scheduler.planning.common import PlanReport, due_courses
from scheduler.slots import take_slot


def plan_course_posts(session: Session, config: HeraldConfig, campaign: CampaignConfig,
                      channel: str, now: datetime, only: Filter, report: PlanReport,
                      tz: ZoneInfo) -> None:
    """Plan a post on `channel` for each course due for `campaign`."""
    for course, due_at in due_courses(session, campaign, now, only, tz, report):
        key = f"{campaign.name}:{course.id}:{channel}"
        if session.scalar(select(Delivery.id).where(Delivery.dedup_key == key)):
            continue
        slot = take_slot(config, session, channel, due_at, now)
        new_id = outbox.enqueue(
            session, now=now, dedup_key=key, campaign=campaign.name, kind=campaign.kind,
            channel=channel, template=campaign.template, course_id=course.id, due_at=slot)
        if new_id is not None:
            report.planned[(campaign.name, channel)] += 1
