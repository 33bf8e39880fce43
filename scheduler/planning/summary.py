"""The outbox summary `herald plan` shows, from the counts a planning pass already knows.

The summary (`queries.queue`: pending and retrying deliveries by campaign, channel and
state, with the next due time) used to be one GROUP BY over the whole outbox after the
pass: after a first plan of a million people, a scan of ~1.9 M rows it had just written
(~0.4 s, a twentieth of the pass on PostgreSQL). Every row a pass writes is `pending`, and
the pass counts them per (campaign, channel) (`PlanReport.planned`), so the summary after
it is the summary before it (read before the pass: small on a first plan, the same scan
as ever otherwise) with those counts added, and the next due time of each group the pass
wrote to read from the due index (one short index walk a group).

What it shows is the outbox as the pass found it plus what the pass wrote: a row another
process changed or wrote meanwhile shows as it was when the pass began (a summary read
after the pass could be outdated just as soon).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Delivery, DeliveryState

PENDING = DeliveryState.PENDING.value


def summary_after(session: Session, before: list[dict[str, Any]],
                  planned: Mapping[tuple[str, str], int], now: datetime
                  ) -> list[dict[str, Any]]:
    """`before` (rows of `queries.queue` read before the pass) with the pass's `planned`
    rows ((campaign, channel) -> how many, all pending) added; sorted by campaign,
    channel and state, the order SQLite's GROUP BY gives."""
    rows = {(r["campaign"], r["channel"], r["state"]): dict(r) for r in before}
    for (campaign, channel), n in planned.items():
        if n <= 0:
            continue
        row = rows.setdefault((campaign, channel, PENDING), {
            "campaign": campaign, "channel": channel, "state": PENDING, "count": 0})
        row["count"] = int(row["count"]) + n
        due = session.scalar(
            select(Delivery.due_at)
            .where(Delivery.state == PENDING, Delivery.campaign == campaign,
                   Delivery.channel == channel)
            .order_by(Delivery.due_at).limit(1))
        row["next_due"] = due.isoformat() if due else None
        row["due_now"] = bool(due and due <= now)
    return [rows[key] for key in sorted(rows)]
