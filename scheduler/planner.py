"""Campaigns × matching → deliveries (the outbox).

Every planned message is one row keyed by its dedup key, unique in the database, so
two planners, two daemons or a crash and a restart cannot make a second copy; it is
written by `INSERT … SELECT … ON CONFLICT DO NOTHING` but for the case below. Courses
are few (hundreds) and are looped over in Python; participants are many and are only
ever touched by SQL. Each kind of campaign is planned by its module in
`scheduler.planning`; the outbox writes the rows.

On PostgreSQL the courses a campaign plans for the first time go in one plain INSERT
(`matching_stored.stored_audience`: one scan of the participants for up to 62 courses,
four bit tests a pair on the interest masks stored with each participant; or
`batch_audience` on the interests themselves) without ON CONFLICT, whose speculative insertion
(a unique-index probe, a lock and an extra WAL record per row) cost a fifth of the
time. Each such course was found with neither a plan mark nor a delivery under the
campaign's transaction-scoped advisory lock, which planners take before planning a
course for the first time, so none of its rows can exist; the unique index still
stands behind it, and a row written by a planner that took no lock sends the whole
pass back to ON CONFLICT DO NOTHING (`Planner.plan`). Later passes (newcomers and
changes since the plan mark) and SQLite plan course by course with ON CONFLICT.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from scheduler import outbox
from scheduler.config import HeraldConfig
from scheduler.filter import Filter
from scheduler.planning.common import PlanReport, due_courses
from scheduler.planning.course_emails import plan_course_emails
from scheduler.planning.digests import plan_digest
from scheduler.planning.posts import plan_course_posts
from scheduler.slots import take_slot

log = logging.getLogger(__name__)

__all__ = ["PlanReport", "Planner"]


class Planner:
    """Plans every enabled campaign at a given `now`."""

    def __init__(self, sessions: sessionmaker[Session], config: HeraldConfig) -> None:
        self.sessions = sessions
        self.config = config
        self.tz = ZoneInfo(config.settings.timezone)

    def plan(
        self, now: datetime, *, only: Filter | None = None, dry_run: bool = False,
        before_commit: Callable[[], object] | None = None,
    ) -> PlanReport:
        """Plan everything due at `now`; with `dry_run`, count it and write nothing.

        `before_commit` is called once the rows are written, before the commit (or the
        dry run's rollback); what it raises rolls the pass back and propagates."""
        only = only or Filter()
        try:
            return self._plan(now, only, dry_run, unguarded=True, before_commit=before_commit)
        except outbox.Unguarded:
            # Nothing was written (the transaction rolled back): a replica that plans
            # without the lock (an older version) is at work; share its way.
            log.warning("planning met a delivery planned without the campaign's lock; "
                        "planning again with ON CONFLICT DO NOTHING for every row")
            return self._plan(now, only, dry_run, unguarded=False,
                              before_commit=before_commit)

    def _plan(self, now: datetime, only: Filter, dry_run: bool, *, unguarded: bool,
              before_commit: Callable[[], object] | None = None) -> PlanReport:
        """One planning transaction; `unguarded` lets a course planned for the first
        time under its campaign's lock skip ON CONFLICT (PostgreSQL only)."""
        report = PlanReport()
        with self.sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Each planning statement is run once: JIT compiling it costs about a
                # second and gains nothing (this transaction only).
                session.execute(text("SET LOCAL jit = off"))
                # The participants' interest masks are grouped in memory, not spilled to
                # disk in batches (a million people: ~100 MB for this one statement).
                session.execute(text("SET LOCAL work_mem = '256MB'"))
            else:
                unguarded = False  # SQLite checks the unique index either way
            for campaign in self.config.campaigns.values():
                if not campaign.enabled or (only.campaign and campaign.name != only.campaign):
                    continue
                channels = [
                    c
                    for c in campaign.channels
                    if self._channel_enabled(c) and (not only.channel or c == only.channel)
                ]
                if not channels:
                    continue
                if campaign.kind == "course_email":
                    plan_course_emails(session, campaign, channels[0], now, only, report,
                                       self.tz, unguarded=unguarded)
                elif campaign.kind == "digest":
                    plan_digest(session, campaign, channels[0], now, report, self.tz)
                elif campaign.kind == "course_post":
                    for channel in channels:
                        plan_course_posts(session, self.config, campaign, channel, now, only,
                                          report, self.tz)
                elif campaign.kind in ("catalogue_email", "coe_email") and not only.course:
                    from scheduler.planning.catalogue import plan_admin

                    plan_admin(session, campaign, channels[0], now, self.tz, report.planned)
                else:
                    log.debug(
                        "campaign %s: kind %s is not planned here", campaign.name, campaign.kind
                    )
            if before_commit is not None:
                before_commit()
            if dry_run:
                session.rollback()
            else:
                session.commit()
        return report

    def check_courses(self, now: datetime) -> dict[tuple[str, str], str]:
        """(campaign, course id) → why planning skips that course now; writes nothing."""
        report = PlanReport()
        with self.sessions() as session:
            for campaign in self.config.campaigns.values():
                if campaign.enabled and campaign.kind in ("course_email", "course_post"):
                    due_courses(session, campaign, now, Filter(), self.tz, report, quiet=True)
        return report.failed

    def _channel_enabled(self, name: str) -> bool:
        ch = self.config.channels.get(name)
        return ch is not None and ch.enabled

    def take_slot(
        self, session: Session, channel: str, earliest: datetime, now: datetime
    ) -> datetime:
        """The next free posting slot on `channel` at or after `earliest` (and `now`)."""
        return take_slot(self.config, session, channel, earliest, now)
