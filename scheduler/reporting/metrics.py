"""The performance report's metrics, each defined once in SQL over the event log.

`COUNTS` are sums over `delivery_events` (the rows' `unit`, `messages` and `amount` say
what each row adds; see scheduler.events); `DERIVED` are SQL expressions over those
counts (delivered, rates). Rows are one grouped query; totals evaluate the same DERIVED
expressions over the summed counts, so the table, --json, --csv and the HTML report
read one set of numbers and never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from scheduler.errors import InputError
from scheduler.events import REFUSED
from scheduler.models import DeliveryEvent

E = cast(Table, DeliveryEvent.__table__).c
GROUPINGS = ("channel", "campaign", "region", "centre", "course", "language", "month")


PARTS = ("type", "bot", "category", "medium")
"""The scan groups events by these (and the report's groupings) and sums `unit`, `messages`,
`amount` and rows: one pass as cheap as a bare GROUP BY; COUNTS are then sums over those
few partial rows."""
Part = Mapping[str, ColumnElement[Any]]


def _sum_of(kind: str | tuple[str, ...], value: str,
            *also: Callable[[Part], ColumnElement[bool]]) -> Callable[[Part], ColumnElement[Any]]:
    kinds = (kind,) if isinstance(kind, str) else kind

    def count(p: Part) -> ColumnElement[Any]:
        match = and_(or_(*(p["type"] == k for k in kinds)), *(f(p) for f in also))
        return func.coalesce(func.sum(case((match, p[value]), else_=0)), 0)
    return count


def _is(column: str, value: object) -> Callable[[Part], ColumnElement[bool]]:
    return lambda p: p[column] == value


COUNTS: dict[str, Callable[[Part], ColumnElement[Any]]] = {
    "sent": _sum_of(("sent", "posted"), "unit"),
    "emails": _sum_of("sent", "messages"),
    "posts": _sum_of("posted", "unit"),
    "failed": _sum_of("failed", "unit"),
    "bounced": _sum_of("bounced", "unit"),
    "refused": _sum_of("bounced", "unit", _is("category", REFUSED)),
    "bounced_hard": _sum_of("bounced", "unit", _is("category", "hard")),
    "bounced_soft": _sum_of("bounced", "unit", _is("category", "soft")),
    "bounced_policy": _sum_of("bounced", "unit", _is("category", "policy")),
    "complained": _sum_of("complained", "unit"),
    "clicked": _sum_of("clicked", "unit", _is("bot", False)),
    "bot_clicks": _sum_of("clicked", "rows", _is("bot", True)),
    "unsubscribed": _sum_of("unsubscribed", "unit"),
    "interest": _sum_of("interest", "unit"),
    "interest_participants": _sum_of("interest", "amount"),
    "likes": _sum_of("engagement", "amount", _is("category", "likes")),
    "reposts": _sum_of("engagement", "amount", _is("category", "reposts")),
    "replies": _sum_of("engagement", "amount", _is("category", "replies")),
}
"""Counted in deliveries, except `unsubscribed` (people), `emails` (messages: a bundle is
one), `bot_clicks` (requests), `interest_participants` (people named in answers) and
`likes`, `reposts`, `replies` (what Mastodon and Bluesky show on the posts: see
scheduler.engagement).

`sent` is every delivery that went out: emails the server accepted and social posts
published (`posts`). `bounced` is every delivery that bounced: `refused` at send time by
the receiving server (an SMTP 5xx: it never counted as sent) and those of sent emails that
a delivery status notification reported later (`bounced_hard`, `_soft`, `_policy`)."""

Expr = Callable[[Mapping[str, ColumnElement[Any]]], ColumnElement[Any]]


def _attempted(c: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    return c["sent"] + c["refused"]


def _sent(c: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    return c["sent"]


def _delivered(c: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    return c["sent"] - (c["bounced"] - c["refused"])


def _rate(part: str, whole: Expr) -> Expr:
    return lambda c: case((whole(c) > 0, sql_cast(c[part], Float) / whole(c)), else_=None)


DERIVED: dict[str, Expr] = {
    "attempted": _attempted,
    "delivered": _delivered,
    "bounce_rate": _rate("bounced", _attempted),
    "complaint_rate": _rate("complained", _sent),
    "click_rate": _rate("clicked", _sent),
    "unsubscribe_rate": _rate("unsubscribed", _sent),
    "interest_rate": _rate("interest", _sent),
}
"""`attempted`: deliveries handed to a server or network (sent, or refused at send time);
`delivered`: sent and not reported bounced later. The bounce rate is over `attempted` (its
refusals are in both parts); the other rates are over `sent` (what went out)."""
METRICS = (*COUNTS, *DERIVED)


@dataclass
class Report:
    """Rows by the chosen groupings, and totals, over [since, until)."""

    by: list[str]
    since: datetime | None
    until: datetime | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "by": self.by,
                "totals": self.totals, "rows": self.rows, "warnings": self.warnings}


def parse_day(text: str | None, option: str) -> datetime | None:
    """An ISO date (or date-time) given to `option`, as an aware UTC time; None if absent."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError([f"{option}: '{text}' is not an ISO date (YYYY-MM-DD)"]) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_by(text: str | None) -> list[str]:
    """`--by a,b`: the groupings, checked against GROUPINGS."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    bad = [n for n in names if n not in GROUPINGS]
    if bad:
        raise InputError([f"--by: unknown grouping '{bad[0]}' "
                          f"(one or more of {', '.join(GROUPINGS)})"])
    return list(dict.fromkeys(names))


def _group_column(name: str, dialect: str) -> ColumnElement[Any]:
    if name == "month":
        if dialect == "postgresql":
            return func.to_char(func.timezone("UTC", E.at), "YYYY-MM")
        return func.strftime("%Y-%m", E.at)
    return cast(ColumnElement[Any], E[name])


def build(session: Session, *, by: Sequence[str] = (), since: datetime | None = None,
          until: datetime | None = None, where: Sequence[ColumnElement[bool]] = ()) -> Report:
    """The report: one grouped scan of the event log, then totals from the same SQL."""
    dialect = session.get_bind().dialect.name
    groups = [_group_column(n, dialect).label(n) for n in by]
    parts = [cast(ColumnElement[Any], E[n]).label(n) for n in PARTS]
    scan = select(*groups, *parts, func.sum(E.unit).label("unit"),
                  func.sum(E.messages).label("messages"), func.sum(E.amount).label("amount"),
                  func.count().label("rows"))
    if since is not None:
        scan = scan.where(E.at >= since)
    if until is not None:
        scan = scan.where(E.at < until)
    partial = scan.where(*where).group_by(*groups, *parts).subquery("partial")
    p = {n: partial.c[n] for n in (*PARTS, "unit", "messages", "amount", "rows")}
    keys = [partial.c[n] for n in by]
    counted = select(*keys, *(f(p).label(n) for n, f in COUNTS.items()))
    if by:
        counted = counted.group_by(*keys)
    sub = counted.subquery("counted")
    cols = {n: sub.c[n] for n in COUNTS}
    outer = select(*(sub.c[n] for n in by), *cols.values(),
                   *(f(cols).label(n) for n, f in DERIVED.items()))
    if by:
        outer = outer.order_by(*(sub.c[n] for n in by))
    report = Report(by=list(by), since=since, until=until)
    rows = [{k: _plain(v) for k, v in r.items()} for r in session.execute(outer).mappings()]
    if not by:
        report.totals = rows[0]
        return report
    report.rows = [r for r in rows if any(r[n] for n in COUNTS)]
    sums = {n: sum(int(r[n]) for r in rows) for n in COUNTS}
    report.totals = derive(session, sums)
    return report


def _plain(value: Any) -> Any:
    """Sums come back as Decimal from PostgreSQL's numeric: whole numbers as int."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def derive(session: Session, counts: Mapping[str, int]) -> dict[str, Any]:
    """`counts` with the DERIVED metrics, computed by the database from the same SQL."""
    cols = {n: literal(int(v), Integer) for n, v in counts.items()}
    row = session.execute(select(*(f(cols).label(n) for n, f in DERIVED.items()))).mappings()
    return {**counts, **dict(row.one())}
