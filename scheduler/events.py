"""The event log: every outcome appended as one tagged row of `delivery_events`.

Writers call `record` (one event, counted as the report counts it) or `record_bulk`
(many deliveries, one type); the dispatcher's hot path runs `EVENT_FROM_DELIVERY`, the
same tagging as one prepared statement. Tags (channel, campaign, region, centre, course,
language, person, medium, message) are copied from the delivery, its course and its
participant when the row is written, so the report reads this one table.

Counting is decided here, once: `unit` is 1 for an outcome that counts, 0 for a repeat
(a second human click of a delivery, a second bounce, a second unsubscribe of a person,
any bot click), and an interest answer that replaces an earlier one carries the change
(unit 0, `amount` the difference in participants); a withdrawn answer carries -1.
`messages` is 1 on the first `sent` row of an email message (a bundle is one email), and
on the first row of a bounce or complaint report (`record_message`: one report about a
bundle is one row per delivery it carried, and one message).

A social post that went out is `posted`, an email `sent` (the send path says `sent` for
both; the type is decided here). A bounce at send time (the server refused the address,
so nothing was sent) is `bounced` with category `refused`; a bounce reported later by a
delivery status notification carries its class (hard, soft, policy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Insert,
    Integer,
    SmallInteger,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from scheduler.models import Course, Delivery, DeliveryEvent, Participant

EVENTS = cast(Table, DeliveryEvent.__table__)
_D = cast(Table, Delivery.__table__)
_C = cast(Table, Course.__table__)
_P = cast(Table, Participant.__table__)
_SOURCE = _D.outerjoin(_C, _C.c.id == _D.c.course_id).outerjoin(_P, _P.c.id == _D.c.participant_id)

REPORTED = frozenset({"sent", "failed", "bounced", "complained", "clicked", "unsubscribed",
                      "interest", "posted", "engagement"})
"""The outcomes the report counts; the outbox also logs its own (retry, unknown, cancelled…)."""
TAGS = frozenset({"channel", "campaign", "region", "centre", "course", "language", "person",
                  "medium", "message", "category", "amount"})
_ONCE_PER_DELIVERY = frozenset({"bounced", "complained", "clicked"})
REFUSED = "refused"
"""The category of a send-time bounce: refused by the receiving server, never sent."""


def tag_columns() -> dict[str, ColumnElement[Any]]:
    """The tags of a delivery's events, as SQL over deliveries ⟕ courses ⟕ participants."""
    return {
        "channel": _D.c.channel,
        "campaign": _D.c.campaign,
        "region": func.coalesce(_C.c.region, ""),
        "centre": func.coalesce(_C.c.coe, ""),
        "course": func.coalesce(_D.c.course_id, ""),
        "language": func.coalesce(_P.c.language, ""),
        "person": case((_D.c.participant_id.is_not(None),
                        literal("p", String) + sql_cast(_D.c.participant_id, String)),
                       else_=literal("", String)),
        "medium": case((_D.c.kind.like("%post"), literal("social", String)),
                       else_=literal("email", String)),
        "message": _D.c.provider_id,
    }


def _event_from_delivery(*where: ColumnElement[bool]) -> Insert:
    """INSERT … SELECT: one event of delivery `p_delivery_id`, tagged from its rows.

    Parameters: p_delivery_id, p_type, p_at, p_detail (as the dispatcher always gave).
    A send-time `bounced` (the server refused the address) is `refused`; a post's `sent`
    is `posted`. `where` replaces the choice of delivery (cadence: a bundle's other rows,
    `p_delivery_id` unused).
    """
    tags = tag_columns()
    kind = bindparam("p_type", type_=String(30))
    post = _D.c.kind.like("%post")
    earlier = EVENTS.alias("earlier")
    first_of_message = ~exists().where(earlier.c.message == _D.c.provider_id,
                                       earlier.c.type == "sent")
    columns: dict[str, ColumnElement[Any]] = {
        "delivery_id": _D.c.id,
        "type": case((and_(kind == "sent", post), literal("posted", String)), else_=kind),
        "at": bindparam("p_at", type_=EVENTS.c.at.type),
        "detail": bindparam("p_detail", type_=EVENTS.c.detail.type),
        **tags,
        "category": case((kind == "bounced", literal(REFUSED, String)),
                         else_=literal("", String)),
        "bot": literal(False, Boolean),
        "unit": literal(1, SmallInteger),
        "messages": case((and_(kind == "sent", ~post, first_of_message),
                          literal(1, SmallInteger)), else_=literal(0, SmallInteger)),
        "amount": literal(0, Integer),
    }
    query = select(*(c.label(n) for n, c in columns.items())).select_from(_SOURCE).where(
        *(where or (_D.c.id == bindparam("p_delivery_id", type_=Integer),)))
    return insert(EVENTS).from_select(list(columns), query)


EVENT_FROM_DELIVERY: Insert = _event_from_delivery()
"""The prepared form every outbox writer runs; parameters p_delivery_id, p_type, p_at,
p_detail."""


def delivery_tags(session: Session, delivery_id: int) -> dict[str, Any]:
    """The tags a delivery's events carry (empty when the delivery does not exist)."""
    row = session.execute(select(*(c.label(n) for n, c in tag_columns().items()))
                          .select_from(_SOURCE).where(_D.c.id == delivery_id)).mappings().first()
    return dict(row) if row is not None else {}


def record(session: Session, type: str, *, delivery_id: int | None = None, at: datetime,
           bot: bool = False, detail: str = "", messages: int | None = None,
           **tags: Any) -> int:
    """Append one event inside the caller's transaction; what it added to its count.

    `tags` override what is read from the delivery: any of TAGS (`amount` is an interest
    answer's participants; `category` a bounce's class or a complaint's type). An
    `interest` with `category="withdrawn"` withdraws the earlier answer. `messages`
    overrides what the row counts as messages (see `record_message`).
    """
    unknown = set(tags) - TAGS
    if unknown:
        raise TypeError(f"record(): unknown tag(s) {sorted(unknown)}")
    values: dict[str, Any] = {"delivery_id": delivery_id, "type": type, "at": at,
                              "bot": bot, "detail": detail}
    if delivery_id is not None:
        values.update(delivery_tags(session, delivery_id))
    values.update(tags)
    if type == "sent" and values.get("medium") == "social":
        values["type"] = "posted"
    values.update(_counts(session, values))
    if messages is not None:
        values["messages"] = messages
    session.execute(insert(EVENTS).values(**values))
    return int(values["unit"])


def record_message(session: Session, type: str, delivery_ids: Sequence[int], *,
                   at: datetime, category: str = "", detail: str = "") -> int:
    """One report about one message (a bounce, a complaint): an event for each delivery it
    carried (a bundle's rows), `messages` 1 on the first; the units added."""
    added = 0
    for n, delivery_id in enumerate(delivery_ids):
        added += record(session, type, delivery_id=delivery_id, at=at, category=category,
                        detail=detail, messages=int(n == 0))
    return added


def record_bulk(session: Session, type: str, delivery_ids: Iterable[int], *, at: datetime,
                detail: str = "") -> None:
    """One event of `type` for each delivery, tagged from its rows (unit 1 each)."""
    rows = [{"p_delivery_id": i, "p_type": type, "p_at": at, "p_detail": detail}
            for i in delivery_ids]
    if rows:
        session.execute(EVENT_FROM_DELIVERY, rows)


def _counts(session: Session, v: Mapping[str, Any]) -> dict[str, int]:
    """unit, messages and amount of a new event (see the module's docstring)."""
    kind, e = v["type"], EVENTS.c
    if kind == "sent":
        first = v.get("medium") != "social" and (v.get("message") is None or not session.scalar(
            select(exists().where(e.message == v["message"], e.type == "sent"))))
        return {"unit": 1, "messages": int(first), "amount": 0}
    if kind == "interest":
        return _interest_counts(session, v)
    if kind == "engagement":  # a post's likes, reposts or replies: the change, in `amount`
        return {"unit": 0, "messages": 0, "amount": int(v.get("amount") or 0)}
    if v["bot"]:
        return {"unit": 0, "messages": 0, "amount": 0}
    if kind == "unsubscribed" and v.get("person"):
        key = e.person == v["person"]
    elif kind in _ONCE_PER_DELIVERY | {"unsubscribed"} and v["delivery_id"] is not None:
        key = e.delivery_id == v["delivery_id"]
        if kind == "bounced":  # a reported bounce counts once beside a send-time refusal
            refused = v.get("category") == REFUSED
            key = and_(key, (e.category == REFUSED) if refused else (e.category != REFUSED))
    else:
        return {"unit": 1, "messages": 0, "amount": 0}
    seen = session.scalar(select(exists().where(key, e.type == kind, e.unit == 1,
                                                e.bot.is_(False))))
    return {"unit": 0 if seen else 1, "messages": 0, "amount": 0}


def _interest_counts(session: Session, v: Mapping[str, Any]) -> dict[str, int]:
    """An answer counts once per (person or delivery, course); a new one replaces it."""
    e = EVENTS.c
    who = (e.person == v["person"]) if v.get("person") else (e.delivery_id == v["delivery_id"])
    units, amount = session.execute(
        select(func.coalesce(func.sum(e.unit), 0), func.coalesce(func.sum(e.amount), 0))
        .where(who, e.type == "interest", e.course == v.get("course", ""))).one()
    if v.get("category") == "withdrawn":
        return {"unit": -int(units), "messages": 0, "amount": -int(amount)}
    return {"unit": 1 - int(units), "messages": 0,
            "amount": int(v.get("amount") or 0) - int(amount)}
