"""Cadence's writes: due course emails of one person put in one bundle, held, or cancelled.

`apply_cadence` runs before a drain claims: it reads who has due, unreserved course
emails on a channel, then per batch of `PEOPLE_PER_BATCH` people (so memory stays flat
whatever the outbox's size) their due rows (one query), what they received the last
eight days, their announcements and clicks (a few queries per 500 people), decides per person
(`scheduler.cadence.decide`) and writes in bulk: `bundle` = the lead row's id for what goes
now (the lead is what the dispatcher claims; its send settles every row of the bundle),
a later `due_at` (+ a `held` event) for what a cap or the reminder spacing holds back,
`cancelled` for what may never go. A bundle's rows share one message id: the lead's id.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from scheduler.cadence.rules import Due, History, decide
from scheduler.filter import Filter
from scheduler.models import Course, Delivery, DeliveryEvent, DeliveryState, Participant
from scheduler.outbox.leases import COURSE_EMAIL
from scheduler.outbox.session import SessionOrFactory, within
from scheduler.outbox.statements import CLAIMABLE, DELIVERIES
from scheduler.outbox.transitions import _cancel, chunks

if TYPE_CHECKING:
    from scheduler.config import HeraldConfig

WENT = (DeliveryState.SENT.value, DeliveryState.SENDING.value, DeliveryState.UNKNOWN.value)
"""States of a row whose email went (or may have gone) out: it counts against the caps."""
PEOPLE_PER_BATCH = 1_000
"""People decided together: their due rows are read, decided and written as one batch."""
HELD = "held"
"""The event of a row cadence put off (its detail: `cadence: <cap or rule> until <when>`)."""


@dataclass
class CadenceResult:
    bundles: int = 0
    rows: int = 0
    held: Counter[str] = field(default_factory=Counter)
    cancelled: Counter[str] = field(default_factory=Counter)
    holds: list[tuple[int, int, str, datetime, str]] = field(default_factory=list)
    """(participant, delivery, course, until, why) of each row held back."""


def reminder_campaigns(config: HeraldConfig) -> set[str]:
    """Course email campaigns that remind (a `before` rule); the others announce."""
    return {c.name for c in config.campaigns.values()
            if c.kind == COURSE_EMAIL and c.timing.kind == "before"}


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else default
    except (ValueError, KeyError):
        return default


def _history(session: Session, people: Sequence[int], courses: set[str],
             reminders: set[str], now: datetime) -> dict[int, History]:
    """What `people` received the last eight days, their announcements of `courses` and
    their (human) clicks on them."""
    found: dict[int, History] = defaultdict(History)
    started = func.coalesce(Delivery.send_started_at, Delivery.sent_at)
    message = func.coalesce(Delivery.bundle, Delivery.id)
    announcing = Delivery.campaign.not_in(reminders) if reminders else Delivery.id.is_not(None)
    for chunk in chunks(list(people)):
        rows = session.execute(
            select(Delivery.participant_id, message, func.min(started))
            .where(Delivery.participant_id.in_(chunk), Delivery.kind == COURSE_EMAIL,
                   Delivery.state.in_(WENT), started >= now - timedelta(days=8))
            .group_by(Delivery.participant_id, message))
        for pid, _, at in rows:
            found[cast(int, pid)].sent.append(at)
        if not courses:
            continue
        mine = and_(Delivery.participant_id.in_(chunk), Delivery.course_id.in_(courses))
        for pid, cid, at in session.execute(
                select(Delivery.participant_id, Delivery.course_id, func.max(started))
                .where(mine, Delivery.kind == COURSE_EMAIL, Delivery.state.in_(WENT),
                       announcing)
                .group_by(Delivery.participant_id, Delivery.course_id)):
            if at is not None:
                found[cast(int, pid)].announced[str(cid)] = at
        for pid, cid in session.execute(
                select(Delivery.participant_id, Delivery.course_id).distinct()
                .join(DeliveryEvent, DeliveryEvent.delivery_id == Delivery.id)
                .where(mine, DeliveryEvent.type == "clicked",
                       # i15's detail: {"bot":true|false,"why":...}
                       ~DeliveryEvent.detail.contains('"bot":true'),
                       ~DeliveryEvent.detail.contains('"bot": true'))):
            found[cast(int, pid)].clicked.add(str(cid))
    return found


def apply_cadence(target: SessionOrFactory, config: HeraldConfig, channel: str,
                  now: datetime, only: Filter | None = None, *,
                  write: bool = True) -> CadenceResult:
    """Bundle, hold or cancel `channel`'s due, unreserved course emails (within `only`);
    with `write` False, only say what it would do."""
    only = only or Filter()
    result = CadenceResult()
    with within(target) as session:
        people = [cast(int, p) for p in session.scalars(
            select(Delivery.participant_id)
            .where(*_due_rows(channel, now, only), Delivery.participant_id.is_not(None))
            .distinct().order_by(Delivery.participant_id))]
        for batch in chunks(people, PEOPLE_PER_BATCH):
            _decide_batch(session, config, batch, channel, now, only, result, write=write)
    return result


def _due_rows(channel: str, now: datetime, only: Filter) -> list[Any]:
    """`channel`'s due, unreserved course emails (within `only`)."""
    conds = [Delivery.channel == channel, Delivery.kind == COURSE_EMAIL,
             Delivery.state.in_(CLAIMABLE), Delivery.due_at <= now,
             or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at < now)]
    if only.campaign:
        conds.append(Delivery.campaign == only.campaign)
    if only.course:
        conds.append(Delivery.course_id == only.course)
    if only.delivery_ids is not None:
        conds.append(Delivery.id.in_(sorted(only.delivery_ids)))
    return conds


def _decide_batch(session: Session, config: HeraldConfig, people: Sequence[int],
                  channel: str, now: datetime, only: Filter, result: CadenceResult, *,
                  write: bool) -> None:
    """Decide (and with `write`, write) the due rows of `people`, read in one query: what
    is held in memory is one batch's rows, whatever the outbox's size."""
    cadence = config.settings.cadence
    operator_tz = ZoneInfo(config.settings.timezone)
    reminders = reminder_campaigns(config)
    q = (select(Delivery.id, Delivery.participant_id, Delivery.course_id,
                Delivery.campaign, Course.registration_deadline, Participant.timezone)
         .join(Course, Course.id == Delivery.course_id)
         .join(Participant, Participant.id == Delivery.participant_id)
         .where(*_due_rows(channel, now, only), Delivery.participant_id.in_(people))
         .order_by(Delivery.participant_id, Delivery.id))
    due: dict[int, list[Due]] = defaultdict(list)
    zones: dict[int, str] = {}
    courses: set[str] = set()
    for did, pid, cid, campaign, deadline, tz in session.execute(q):
        reminder = campaign in reminders
        due[cast(int, pid)].append(Due(did, str(cid), reminder, deadline))
        zones[cast(int, pid)] = tz
        if reminder:
            courses.add(str(cid))
    if not due:
        return
    history = _history(session, list(due), courses, reminders, now)
    bundle: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    cancel: dict[str, list[int]] = defaultdict(list)
    courses_of = {d.id: d.course_id for rows in due.values() for d in rows}
    for pid, rows in due.items():
        decision = decide(rows, history.get(pid) or History(), now,
                          _zone(zones.get(pid), operator_tz), operator_tz, cadence)
        if decision.send:
            lead = decision.send[0]
            bundle.extend({"p_id": i, "p_bundle": lead} for i in decision.send)
            result.bundles += 1
            result.rows += len(decision.send)
        for i, until, why in decision.hold:
            held.append({"p_id": i, "p_due": until, "p_why": why})
            result.holds.append((pid, i, courses_of[i], until, why))
            result.held[why] += 1
        for i, reason in decision.cancel:
            cancel[reason].append(i)
            result.cancelled[reason] += 1
    if write:
        _write(session, bundle, held, cancel, now)


def _write(session: Session, bundle: list[dict[str, Any]], held: list[dict[str, Any]],
           cancel: dict[str, list[int]], now: datetime) -> None:
    table = DELIVERIES
    if bundle:
        session.execute(
            update(table).where(table.c.id == bindparam("p_id"))
            .values(bundle=bindparam("p_bundle"))
            .execution_options(synchronize_session=False), bundle)
    if held:
        session.execute(
            update(table).where(table.c.id == bindparam("p_id"))
            .values(due_at=bindparam("p_due", type_=table.c.due_at.type), updated_at=now)
            .execution_options(synchronize_session=False),
            [{"p_id": h["p_id"], "p_due": h["p_due"]} for h in held])
        session.execute(insert(DeliveryEvent), [
            {"delivery_id": h["p_id"], "type": HELD, "at": now,
             "detail": f"cadence: {h['p_why']} until {h['p_due'].isoformat()}"}
            for h in held])
    for reason, ids in cancel.items():
        for chunk in chunks(ids):
            _cancel(session, [Delivery.id.in_(chunk)], now=now, detail=reason)

