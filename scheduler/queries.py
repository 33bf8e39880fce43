"""Read-only questions the command line (and later the web) asks: each returns JSON-ready rows.

No state changes here: writes go through the outbox and the import services.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from scheduler.cadence.view import held_counts
from scheduler.errors import InputError
from scheduler.models import (
    ChannelHealth,
    Course,
    DaemonHeartbeat,
    Delivery,
    DeliveryEvent,
    DeliveryState,
    Participant,
    ParticipantInterest,
    ParticipantStatus,
)
from scheduler.reporting.reputation import measure

if TYPE_CHECKING:
    from scheduler.app import App

STALE_AFTER = timedelta(minutes=5)
"""A daemon whose last successful job tick is older than this is shown as stale."""
STARTING_GRACE = timedelta(seconds=15)
"""A daemon that has not ticked yet is not stale until this long after its first tick was due."""
RECENT_EVENTS = 10


def course_row(c: Course) -> dict[str, Any]:
    """One course as `courses list --json` shows it."""
    return {
        "id": c.id, "title": c.title, "coe": c.coe, "country": c.country, "region": c.region,
        "topics": c.topics, "languages": c.languages, "mode": c.mode, "location": c.location,
        "start_date": c.start_date.isoformat(), "end_date": c.end_date.isoformat(),
        "registration_deadline": c.registration_deadline.isoformat(), "fee_usd": c.fee_usd,
        "url": c.url, "status": c.status, "first_seen_at": c.first_seen_at.isoformat(),
    }


def courses(app: App) -> list[dict[str, Any]]:
    """Every course, by start date."""
    with app.sessions() as s:
        return [course_row(c) for c in s.scalars(select(Course).order_by(Course.start_date,
                                                                          Course.id))]


def participants(app: App, status: str | None = None) -> list[dict[str, Any]]:
    """Every participant (optionally of one status) with their interests."""
    known = [st.value for st in ParticipantStatus]
    if status and status not in known:
        raise InputError([f"--status: unknown status '{status}' (one of {', '.join(known)})"])
    with app.sessions() as s:
        q = select(Participant).order_by(Participant.id)
        if status:
            q = q.where(Participant.status == status)
        people = list(s.scalars(q))
        interests: dict[int, dict[str, list[str]]] = {}
        for i in s.scalars(select(ParticipantInterest)):
            interests.setdefault(i.participant_id, {}).setdefault(i.kind, []).append(i.value)
    return [{
        "id": p.id, "email": p.email, "name": p.name, "language": p.language,
        "country": p.country, "timezone": p.timezone, "frequency": p.frequency,
        "status": p.status, "consent": p.consent_date.isoformat() if p.consent_date else None,
        "topics": sorted(interests.get(p.id, {}).get("topic", [])),
        "regions": sorted(interests.get(p.id, {}).get("region", [])),
        "languages": sorted(interests.get(p.id, {}).get("language", [])),
        "modes": sorted(interests.get(p.id, {}).get("mode", [])),
    } for p in people]


def _flagged(app: App) -> dict[str, ChannelHealth]:
    """Channels flagged `needs attention` for their current configuration."""
    from scheduler.dispatch import channel_config_hash

    cfg = app.config
    with app.sessions() as s:
        health = list(s.scalars(select(ChannelHealth).where(ChannelHealth.needs_attention)))
    return {h.channel: h for h in health
            if h.channel in cfg.channels and h.config_hash == channel_config_hash(cfg, h.channel)}


def channels(app: App) -> list[dict[str, Any]]:
    """Every configured channel: health and queue depth by state."""
    cfg = app.config
    flagged = _flagged(app)
    with app.sessions() as s:
        depth = Counter(
            {(ch, st): n for ch, st, n in s.execute(
                select(Delivery.channel, Delivery.state, func.count()).group_by(
                    Delivery.channel, Delivery.state))}
        )
    rows = []
    for name, c in cfg.channels.items():
        h = flagged.get(name)
        rows.append({
            "name": name, "type": c.type, "enabled": c.enabled,
            "status": "needs attention" if h else ("ok" if c.enabled else "disabled"),
            "reason": h.reason if h else "",
            "pending": depth[(name, "pending")] + depth[(name, "retrying")],
            "sent": depth[(name, "sent")], "failed": depth[(name, "failed")],
            "unknown": depth[(name, "unknown")],
        })
    return rows


def failing_channels(app: App) -> dict[str, int]:
    """Channels whose latest send attempt was left retrying, with their retrying count.

    A channel is failing when it holds `retrying` deliveries and its most recent attempt
    (a `sent`, `posted` or `retry` event) was a `retry`: what was due could not be sent.
    """
    with app.sessions() as s:
        retrying = {channel: n for channel, n in s.execute(
            select(Delivery.channel, func.count()).where(
                Delivery.state == DeliveryState.RETRYING.value).group_by(Delivery.channel))}
        failing: dict[str, int] = {}
        for channel, count in sorted(retrying.items()):
            last = s.execute(
                select(DeliveryEvent.type)
                .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
                .where(Delivery.channel == channel,
                       DeliveryEvent.type.in_(["sent", "posted", "retry"]))
                .order_by(DeliveryEvent.at.desc(), DeliveryEvent.id.desc()).limit(1)
            ).scalar()
            if last == "retry":
                failing[channel] = count
    return failing


def needing_attention(app: App, channel: str | None = None) -> list[str]:
    """One line per channel (or only `channel`) flagged `needs attention`, with the reason."""
    return [f"channel {h.channel} needs attention: {h.reason}"
            for h in _flagged(app).values() if channel in (None, h.channel)]


def trouble(app: App, channel: str | None = None) -> list[str]:
    """What a monitor must see (exit 3): channels needing attention, channels failing."""
    return needing_attention(app, channel) + [
        f"channel {name}: {n} deliveries left retrying, the last attempt failed"
        for name, n in failing_channels(app).items() if channel in (None, name)]


def queue(app: App, now: datetime) -> list[dict[str, Any]]:
    """Pending and retrying deliveries by campaign, channel and state, with the next due time."""
    with app.sessions() as s:
        rows = s.execute(
            select(Delivery.campaign, Delivery.channel, Delivery.state, func.count(),
                   func.min(Delivery.due_at))
            .where(Delivery.state.in_(["pending", "retrying"]))
            .group_by(Delivery.campaign, Delivery.channel, Delivery.state)
        ).all()
    return [{"campaign": c, "channel": ch, "state": st, "count": n,
             "next_due": due.isoformat() if due else None, "due_now": bool(due and due <= now)}
            for c, ch, st, n, due in rows]


SETTLED = tuple(st.value for st in DeliveryState
                if st not in (DeliveryState.PENDING, DeliveryState.SENDING))
"""The states a dispatch leaves a delivery in once it is done with it."""
EVENT_STATES = {"posted": DeliveryState.SENT.value, "bounced": DeliveryState.FAILED.value}
"""Events named otherwise than the state they leave: a post sent is `posted`, an address
refused at send time `bounced` (scheduler.events)."""


def last_event_id(app: App) -> int:
    """The newest delivery event's id (0: none yet): where a run's own events begin."""
    with app.sessions() as s:
        return int(s.scalar(select(func.max(DeliveryEvent.id))) or 0)


def settled_since(app: App, event_id: int, channel: str | None = None) -> Counter[tuple[str, str]]:
    """Deliveries settled (sent, failed, cancelled…) by events after `event_id`, by
    (channel, state): a bundled email counts every delivery it carried."""
    query = (select(Delivery.channel, DeliveryEvent.type, func.count())
             .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
             .where(DeliveryEvent.id > event_id,
                    DeliveryEvent.type.in_((*SETTLED, *EVENT_STATES)))
             .group_by(Delivery.channel, DeliveryEvent.type))
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    settled: Counter[tuple[str, str]] = Counter()
    with app.sessions() as s:
        for ch, kind, n in s.execute(query):
            settled[(ch, EVENT_STATES.get(kind, kind))] += int(n)
    return settled


def check_state(state: str) -> str:
    """`state` when it is a delivery state; InputError naming the known ones otherwise."""
    known = [st.value for st in DeliveryState]
    if state not in known:
        raise InputError([f"--state: unknown state '{state}' (one of {', '.join(known)})"])
    return state


@dataclass
class Page:
    """Some rows of a longer list: `total` counts them all."""

    rows: list[dict[str, Any]]
    total: int


def deliveries(app: App, *, state: str | None = None, channel: str | None = None,
               campaign: str | None = None, limit: int = 200) -> Page:
    """Deliveries of the outbox, filtered, newest first, with their recipient (the address,
    or the channel for a post)."""
    where = []
    if state:
        where.append(Delivery.state == check_state(state))
    if channel:
        where.append(Delivery.channel == channel)
        if not state:  # every state named: the count seeks the (state, channel, …) index
            where.append(Delivery.state.in_([st.value for st in DeliveryState]))
    if campaign:
        where.append(Delivery.campaign == campaign)
    q = (select(Delivery, Participant.email)
         .outerjoin(Participant, Participant.id == Delivery.participant_id)
         .where(*where).order_by(Delivery.id.desc()).limit(max(limit, 0)))
    with app.sessions() as s:
        total = s.execute(select(func.count()).select_from(Delivery).where(*where)).scalar_one()
        rows = [{
            "id": d.id, "key": d.dedup_key, "campaign": d.campaign, "channel": d.channel,
            "recipient": email or d.channel,
            "state": d.state, "due_at": d.due_at.isoformat(), "attempts": d.attempts,
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "provider_id": d.provider_id, "error": d.last_error,
        } for d, email in s.execute(q)]
    return Page(rows, int(total))


def status(app: App, now: datetime) -> dict[str, Any]:
    """Everything `herald status` shows, as one JSON-ready document."""
    flagged = _flagged(app)
    with app.sessions() as s:
        depth = s.execute(select(Delivery.channel, Delivery.state, func.count())
                          .group_by(Delivery.channel, Delivery.state)
                          .order_by(Delivery.channel, Delivery.state)).all()
        events = s.execute(select(DeliveryEvent, Delivery.channel)
                           .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
                           .order_by(DeliveryEvent.at.desc(), DeliveryEvent.id.desc())
                           .limit(RECENT_EVENTS)).all()
        beats = list(s.scalars(select(DaemonHeartbeat)
                               .order_by(DaemonHeartbeat.owner, DaemonHeartbeat.job)))
        cadence = held_counts(s, now)
        reputation = measure(s, now).warning()
    by_channel: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, state, n in depth:
        by_channel[channel][state] = n
    return {
        "now": now,
        "queue": dict(by_channel),
        "totals": {st: sum(q.get(st, 0) for q in by_channel.values())
                   for st in sorted({st for q in by_channel.values() for st in q})},
        "unknown": sum(q.get("unknown", 0) for q in by_channel.values()),
        "channels_needing_attention": [
            {"channel": h.channel, "reason": h.reason, "since": h.updated_at}
            for h in flagged.values()
        ],
        "recent_events": [
            {"at": e.at, "delivery": e.delivery_id, "channel": ch, "type": e.type,
             "detail": e.detail} for e, ch in events
        ],
        "daemons": _daemons(beats, now),
        "cadence": cadence,
        "warnings": [reputation] if reputation else [],
        "durability": durability(app),
        "unplannable_courses": [
            {"campaign": campaign, "course": course, "reason": reason}
            for (campaign, course), reason in sorted(app.planner().check_courses(now).items())
        ],
    }


def durability(app: App) -> dict[str, Any]:
    """Whether dispatchers may dispatch on this database (scheduler.durability)."""
    from scheduler.durability import durability_problem

    problem = durability_problem(app.engine)
    accepted = bool(problem) and app.config.settings.accept_non_durable_commits
    return {"durable": problem is None, "problem": problem, "accepted": accepted,
            "dispatching": problem is None or accepted}


def _daemons(beats: list[DaemonHeartbeat], now: datetime) -> list[dict[str, Any]]:
    daemons: dict[str, dict[str, Any]] = {}
    for b in beats:
        d = daemons.setdefault(b.owner, {"owner": b.owner, "jobs": [], "last_ok_at": None})
        d["jobs"].append({"job": b.job, "last_ok_at": b.last_ok_at,
                          "next_run_at": b.next_run_at})
        if b.last_ok_at is not None and (d["last_ok_at"] is None or b.last_ok_at > d["last_ok_at"]):
            d["last_ok_at"] = b.last_ok_at
    for d in daemons.values():
        if d["last_ok_at"] is not None:
            d["stale"] = now - d["last_ok_at"] > STALE_AFTER
        else:  # starting: give its first ticks a moment
            first = min((j["next_run_at"] for j in d["jobs"] if j["next_run_at"]), default=None)
            d["stale"] = first is None or now - first > STARTING_GRACE
    return list(daemons.values())
