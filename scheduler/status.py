"""`herald status`: the outbox, channels needing attention, recent events, daemon ticks."""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from scheduler.app import App
from scheduler.cadence.view import held_counts
from scheduler.models import ChannelHealth, DaemonHeartbeat, Delivery, DeliveryEvent

STALE_AFTER = timedelta(minutes=5)
RECENT_EVENTS = 10


def collect(app: App, now: datetime) -> dict[str, Any]:
    """Everything `herald status` shows, as one JSON-ready document."""
    from scheduler.dispatch import channel_config_hash

    cfg = app.config
    with app.sessions() as s:
        depth = s.execute(select(Delivery.channel, Delivery.state, func.count())
                          .group_by(Delivery.channel, Delivery.state)
                          .order_by(Delivery.channel, Delivery.state)).all()
        health = list(s.scalars(select(ChannelHealth).where(ChannelHealth.needs_attention)))
        events = s.execute(select(DeliveryEvent, Delivery.channel)
                           .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
                           .order_by(DeliveryEvent.at.desc(), DeliveryEvent.id.desc())
                           .limit(RECENT_EVENTS)).all()
        beats = list(s.scalars(select(DaemonHeartbeat)
                               .order_by(DaemonHeartbeat.owner, DaemonHeartbeat.job)))
        cadence = held_counts(s, now)
    queue: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, state, n in depth:
        queue[channel][state] = n
    attention = [
        {"channel": h.channel, "reason": h.reason, "since": h.updated_at}
        for h in health
        if h.channel in cfg.channels and h.config_hash == channel_config_hash(cfg, h.channel)
    ]
    daemons: dict[str, dict[str, Any]] = {}
    for b in beats:
        d = daemons.setdefault(b.owner, {"owner": b.owner, "jobs": [], "last_ok_at": None})
        d["jobs"].append({"job": b.job, "last_ok_at": b.last_ok_at,
                          "next_run_at": b.next_run_at})
        if b.last_ok_at is not None and (d["last_ok_at"] is None or b.last_ok_at > d["last_ok_at"]):
            d["last_ok_at"] = b.last_ok_at
    for d in daemons.values():
        d["stale"] = d["last_ok_at"] is None or now - d["last_ok_at"] > STALE_AFTER
    return {
        "now": now,
        "queue": dict(queue),
        "totals": {st: sum(q.get(st, 0) for q in queue.values())
                   for st in sorted({st for q in queue.values() for st in q})},
        "unknown": sum(q.get("unknown", 0) for q in queue.values()),
        "channels_needing_attention": attention,
        "recent_events": [
            {"at": e.at, "delivery": e.delivery_id, "channel": ch, "type": e.type,
             "detail": e.detail} for e, ch in events
        ],
        "daemons": list(daemons.values()),
        "cadence": cadence,
    }


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    secs = int((value - now).total_seconds())
    return f"in {secs}s" if secs >= 0 else f"{-secs}s ago"


def status(app: App, args: argparse.Namespace) -> int:
    from scheduler.commands import _json, _print_table

    doc = collect(app, app.clock())
    if args.json:
        _json(doc)
        return 0
    now = doc["now"]
    print("Queue (deliveries by channel and state):")
    _print_table([{"channel": ch, **{k: v for k, v in st.items()}}
                  for ch, st in doc["queue"].items()],
                 ["channel", *doc["totals"].keys()])
    print(f"\nUnknown (interrupted mid-send; decide with `herald deliveries retry/cancel`): "
          f"{doc['unknown']}")
    print(f"\nHeld back by cadence (course emails put off to a person's next allowed "
          f"email): {doc['cadence']['held']} for {doc['cadence']['people']} people")
    print("\nChannels needing attention:")
    _print_table(doc["channels_needing_attention"], ["channel", "since", "reason"])
    print("\nDaemons:")
    rows = []
    for d in doc["daemons"]:
        for j in d["jobs"]:
            rows.append({"owner": d["owner"] + (" (stale)" if d["stale"] else ""),
                         "job": j["job"], "last ok": _when(j["last_ok_at"], now),
                         "next run": _when(j["next_run_at"], now)})
    _print_table(rows, ["owner", "job", "last ok", "next run"])
    print("\nRecent events:")
    _print_table(doc["recent_events"], ["at", "delivery", "channel", "type", "detail"])
    return 0
