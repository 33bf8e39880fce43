"""The posting calendar: upcoming posts per channel with their exact text and slot."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from channels.base import Message
from channels.text import measure
from scheduler.models import Delivery, DeliveryState
from scheduler.posts import rules_for

if TYPE_CHECKING:
    from scheduler.app import App


def upcoming_posts(app: App, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Pending social posts in slot order, rendered as they would be sent."""
    channels = app.channels()
    builder = app.builder()
    rows: list[dict[str, Any]] = []
    with app.sessions() as s:
        q = (
            select(Delivery)
            .where(
                Delivery.participant_id.is_(None),
                Delivery.state.in_([DeliveryState.PENDING.value, DeliveryState.RETRYING.value]),
            )
            .order_by(Delivery.due_at, Delivery.id)
            .limit(limit)
        )
        for d in s.scalars(q):
            channel = channels.get(d.channel)
            if channel is None:
                continue
            built = builder.build(s, d, channel, now)
            if not isinstance(built, Message):
                continue
            rules = rules_for(channel)
            rows.append({
                "id": d.id,
                "channel": d.channel,
                "campaign": d.campaign,
                "course_id": d.course_id,
                "slot": d.due_at.isoformat(),
                "text": built.text,
                "length": measure(built.text, rules) if rules else len(built.text),
                "limit": rules.limit if rules else None,
            })
    return rows
