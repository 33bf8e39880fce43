"""What each `herald` command does: call the services, print the result."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from scheduler.app import App
from scheduler.cli.output import dump_json, print_table
from scheduler.errors import InputError
from scheduler.models import Course, Delivery, DeliveryState, Participant


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    print_table(rows, columns)


def _json(doc: object) -> None:
    dump_json(doc)


# -- db -----------------------------------------------------------------------


def db_upgrade(app: App, args: argparse.Namespace) -> int:
    from scheduler.db import make_engine, upgrade

    engine = make_engine(app.db_url)
    try:
        print(f"database at revision {upgrade(engine)}")
    finally:
        engine.dispose()
    return 0


# -- courses --------------------------------------------------------------------


def courses_import(app: App, args: argparse.Namespace) -> int:
    from scheduler.ingest.source import read_source
    from scheduler.ingest.store import import_courses

    _fmt, records = read_source(args.source, fmt=args.format)
    with app.sessions() as s, s.begin():
        summary = import_courses(s, records, now=app.clock())
    for label in ("added", "updated", "unchanged", "cancelled"):
        ids = getattr(summary, label)
        print(f"{label}: {len(ids)}" + (f"  ({', '.join(ids[:10])}"
                                         f"{', …' if len(ids) > 10 else ''})" if ids
                                         and label != "unchanged" else ""))
    return 0


def course_row(c: Course) -> dict[str, Any]:
    return {
        "id": c.id, "title": c.title, "coe": c.coe, "country": c.country, "region": c.region,
        "topics": c.topics, "languages": c.languages, "mode": c.mode, "location": c.location,
        "start_date": c.start_date.isoformat(), "end_date": c.end_date.isoformat(),
        "registration_deadline": c.registration_deadline.isoformat(), "fee_usd": c.fee_usd,
        "url": c.url, "status": c.status, "first_seen_at": c.first_seen_at.isoformat(),
    }


def courses_list(app: App, args: argparse.Namespace) -> int:
    with app.sessions() as s:
        rows = [course_row(c) for c in s.scalars(select(Course).order_by(Course.start_date,
                                                                          Course.id))]
    if args.json:
        _json(rows)
    else:
        _print_table(rows, ["id", "start_date", "registration_deadline", "region", "mode",
                            "status", "title"])
    return 0


# -- participants -------------------------------------------------------------------


def participants_import(app: App, args: argparse.Namespace) -> int:
    from scheduler.participants import import_participants, read_participants_csv

    records = read_participants_csv(args.file)
    with app.sessions() as s, s.begin():
        summary = import_participants(s, records, now=app.clock())
    for label in ("added", "updated", "unchanged"):
        print(f"{label}: {len(getattr(summary, label))}")
    return 0


def participants_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.models import ParticipantInterest

    with app.sessions() as s:
        q = select(Participant).order_by(Participant.id)
        if args.status:
            q = q.where(Participant.status == args.status)
        people = list(s.scalars(q))
        interests: dict[int, dict[str, list[str]]] = {}
        for i in s.scalars(select(ParticipantInterest)):
            interests.setdefault(i.participant_id, {}).setdefault(i.kind, []).append(i.value)
    rows = [{
        "id": p.id, "email": p.email, "name": p.name, "language": p.language,
        "country": p.country, "timezone": p.timezone, "frequency": p.frequency,
        "status": p.status, "consent": p.consent_date.isoformat() if p.consent_date else None,
        "topics": sorted(interests.get(p.id, {}).get("topic", [])),
        "regions": sorted(interests.get(p.id, {}).get("region", [])),
        "languages": sorted(interests.get(p.id, {}).get("language", [])),
        "modes": sorted(interests.get(p.id, {}).get("mode", [])),
    } for p in people]
    if args.json:
        _json(rows)
    else:
        _print_table(rows, ["id", "email", "language", "frequency", "status", "topics"])
    return 0


# -- channels -----------------------------------------------------------------------


def channels_validate(app: App, args: argparse.Namespace) -> int:
    from scheduler.rendering import Renderer

    cfg = app.config  # raises ConfigError with every problem
    renderer = Renderer()
    errors: list[str] = []
    for c in cfg.campaigns.values():
        errors += [f"config/campaigns.yaml: campaigns.{c.name}.template: {e}"
                   for e in renderer.check(c.template)]
    if errors:
        raise InputError(errors)
    print(f"ok: {len(cfg.channels)} channels, {len(cfg.campaigns)} campaigns, "
          f"{len(cfg.sources)} sources")
    return 0


def channels_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.dispatch import channel_config_hash
    from scheduler.models import ChannelHealth

    cfg = app.config
    with app.sessions() as s:
        health = {h.channel: h for h in s.scalars(select(ChannelHealth))}
        depth = Counter(
            {(ch, st): n for ch, st, n in s.execute(
                select(Delivery.channel, Delivery.state, func.count()).group_by(
                    Delivery.channel, Delivery.state))}
        )
    rows = []
    for name, c in cfg.channels.items():
        h = health.get(name)
        flagged = bool(h and h.needs_attention and h.config_hash == channel_config_hash(cfg, name))
        rows.append({
            "name": name, "type": c.type, "enabled": c.enabled,
            "status": "needs attention" if flagged else ("ok" if c.enabled else "disabled"),
            "reason": h.reason if flagged and h else "",
            "pending": depth[(name, "pending")] + depth[(name, "retrying")],
            "sent": depth[(name, "sent")], "failed": depth[(name, "failed")],
            "unknown": depth[(name, "unknown")],
        })
    if args.json:
        _json(rows)
    else:
        _print_table(rows, ["name", "type", "status", "pending", "sent", "failed", "unknown",
                            "reason"])
    return 0


def channels_test(app: App, args: argparse.Namespace) -> int:
    from channels.base import DeliveryStatus, Message

    cfg = app.config
    if args.name not in cfg.channels:
        raise InputError([f"channels test: no channel named '{args.name}' "
                          f"(known: {', '.join(cfg.channels)})"])
    channel = cfg.channels[args.name].build()
    now = app.clock()
    key = f"test:{args.name}:{now.strftime('%Y%m%dT%H%M%S')}"
    if channel.kind == "email" or args.to:
        to = args.to or cfg.settings.sender.email
        msg = Message(key=key, to=to, subject="CoE Herald test message",
                      text="This is a test message from CoE Herald.", html=None)
    else:
        msg = Message(key=key, text=f"CoE Herald test post ({now:%Y-%m-%d %H:%M} UTC)",
                      link=cfg.settings.base_url)
    print(f"channel {args.name} ({channel.type}): {msg.text}")
    if args.dry_run:
        print("dry run: nothing sent")
        return 0
    try:
        result = channel.send(msg)
    finally:
        channel.close()
    print(f"result: {result.status.value}" + (f" id={result.provider_id}"
                                              if result.provider_id else "")
          + (f" error={cfg.redact(result.error)}" if result.error else ""))
    if result.status is DeliveryStatus.SENT:
        from scheduler.models import ChannelHealth
        with app.sessions() as s, s.begin():
            h = s.get(ChannelHealth, args.name)
            if h is not None:
                h.needs_attention = False
                h.reason = ""
        return 0
    return 1


# -- planning and sending -----------------------------------------------------------


def _queue(app: App, now: Any) -> list[dict[str, Any]]:
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


def plan(app: App, args: argparse.Namespace) -> int:
    from scheduler.cadence.view import held_back
    from scheduler.calendar import upcoming_posts

    now = app.clock()
    report = app.planner().plan(now, dry_run=args.dry_run)
    planned = [{"campaign": c, "channel": ch, "planned": n}
               for (c, ch), n in sorted(report.planned.items())]
    queue = _queue(app, now)
    posts = upcoming_posts(app, now)
    with app.sessions() as s:
        cadence = held_back(s, app.config, now)
    if args.json:
        _json({"now": now.isoformat(), "dry_run": args.dry_run, "planned": planned,
               "queue": queue, "posts": posts, "cadence": cadence})
        return 0
    verb = "would plan" if args.dry_run else "planned"
    print(f"{verb} {report.total} new deliveries at {now.isoformat()}")
    _print_table(planned, ["campaign", "channel", "planned"])
    print("\noutbox (pending and retrying):")
    _print_table(queue, ["campaign", "channel", "state", "count", "next_due"])
    if cadence:
        print("\nheld back by cadence (per person; goes with their next allowed email):")
        _print_table([{**c, "courses": " ".join(c["courses"])} for c in cadence],
                     ["participant", "held", "goes_at", "why", "courses"])
    if posts:
        print("\nposting calendar:")
        _print_table(posts, ["slot", "channel", "length", "limit", "text"])
    return 0


def send_now(app: App, args: argparse.Namespace) -> int:
    from scheduler.dispatch import DispatchFilter
    from scheduler.planner import PlanFilter

    now = app.clock()
    planner = app.planner()
    if args.dry_run:
        report = planner.plan(now, only=PlanFilter(args.campaign, args.course, args.channel),
                              dry_run=True)
        due = [q for q in _queue(app, now) if q["due_now"]]
        if args.json:
            _json({"dry_run": True, "would_plan": report.total, "due": due})
            return 0
        print(f"dry run: would plan {report.total} new deliveries; nothing sent")
        _print_table([{"campaign": c, "channel": ch, "planned": n}
                      for (c, ch), n in sorted(report.planned.items())],
                     ["campaign", "channel", "planned"])
        print("already due in the outbox:")
        _print_table(due, ["campaign", "channel", "state", "count"])
        return 0
    dispatcher = app.dispatcher()
    recovered = dispatcher.recover()
    if recovered.get("unknown") and not args.json:
        print(f"recovered: {recovered['unknown']} deliveries interrupted mid-send are now "
              "'unknown' (see `herald deliveries list --state unknown`)")
    report = planner.plan(now, only=PlanFilter(args.campaign, args.course, args.channel))
    outcome = dispatcher.run_once(DispatchFilter(args.campaign, args.course, args.channel))
    rows = [{"channel": ch, "state": st, "count": n} for (ch, st), n in sorted(outcome.items())]
    if args.json:
        doc: dict[str, Any] = {"planned": report.total, "dispatched": rows}
        if recovered.get("unknown"):
            doc["recovered_unknown"] = recovered["unknown"]
        _json(doc)
        return 0
    print(f"planned {report.total} new deliveries")
    print(f"dispatched {sum(outcome.values())}:")
    _print_table(rows, ["channel", "state", "count"])
    return 0


def run_daemon(app: App, args: argparse.Namespace) -> int:
    from scheduler.daemon import run

    return run(app, getattr(args, "http_port", None))


# -- deliveries ---------------------------------------------------------------------


def deliveries_list(app: App, args: argparse.Namespace) -> int:
    with app.sessions() as s:
        q = select(Delivery).order_by(Delivery.id).limit(args.limit)
        if args.state:
            if args.state not in {st.value for st in DeliveryState}:
                raise InputError([f"--state: unknown state '{args.state}' (one of "
                                  f"{', '.join(st.value for st in DeliveryState)})"])
            q = q.where(Delivery.state == args.state)
        if args.channel:
            q = q.where(Delivery.channel == args.channel)
        if args.campaign:
            q = q.where(Delivery.campaign == args.campaign)
        rows = [{
            "id": d.id, "key": d.dedup_key, "campaign": d.campaign, "channel": d.channel,
            "state": d.state, "due_at": d.due_at.isoformat(), "attempts": d.attempts,
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "provider_id": d.provider_id, "error": d.last_error,
        } for d in s.scalars(q)]
    if args.json:
        _json(rows)
    else:
        _print_table(rows, ["id", "state", "channel", "due_at", "attempts", "key", "error"])
    return 0


def _transition(app: App, delivery_id: int, allowed: tuple[str, ...], to: str, event: str
                ) -> int:
    from scheduler import outbox

    move = outbox.operator_retry if to == "pending" else outbox.operator_cancel
    before, after = move(app.sessions, delivery_id, app.clock())
    print(f"delivery {delivery_id}: {before} → {after}")
    return 0


def deliveries_retry(app: App, args: argparse.Namespace) -> int:
    return _transition(app, args.id, ("failed", "unknown"), "pending", "retried")


def deliveries_cancel(app: App, args: argparse.Namespace) -> int:
    return _transition(app, args.id, ("pending", "retrying", "failed", "unknown"), "cancelled",
                       "cancelled")


# -- centre-submitted posts -------------------------------------------------------------


def posts_submit(app: App, args: argparse.Namespace) -> int:
    from scheduler.submissions import submit

    post = submit(app, args.file)
    print(f"post {post.id} submitted for {', '.join(post.channels)}; "
          f"awaiting approval (`herald posts approve {post.id}`)")
    return 0


def posts_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.submissions import list_posts

    rows = list_posts(app)
    if args.json:
        _json(rows)
    else:
        _print_table(rows, ["id", "status", "channels", "submitted_by", "earliest", "text"])
    return 0


def posts_approve(app: App, args: argparse.Namespace) -> int:
    from scheduler.submissions import decide

    post, slots = decide(app, args.id, approve=True)
    for ch, slot in slots:
        print(f"post {post.id} on {ch}: slot {slot}")
    return 0


def posts_reject(app: App, args: argparse.Namespace) -> int:
    from scheduler.submissions import decide

    post, _ = decide(app, args.id, approve=False)
    print(f"post {post.id} rejected; it will never be posted")
    return 0
