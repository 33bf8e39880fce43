"""The send path's events, run as prepared statements with their literals in the SQL, are
the rows SQLAlchemy's own execution of the same statements writes: every tag, `messages`
and the type decided in SQL (sent or posted, refused bounces), for emails, posts, bundles,
repeated message ids and rows without a course or a participant."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from scheduler.db import ensure_schema, make_engine
from scheduler.models import Course, Delivery, DeliveryEvent, Participant
from scheduler.outbox.prepared import PreparedCache
from scheduler.outbox.sending import SendPath
from scheduler.outbox.writer import OutboxWriter, Writes

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
LANGUAGES = ("en", "fr", "es", "ar")


def _database(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    with engine.begin() as c:
        c.execute(insert(Course), [
            {"id": f"C{i}", "title": f"Course {i}", "coe": f"CoE {i % 3}", "country": "Kenya",
             "region": ("Africa", "Europe", "Americas")[i % 3], "topics": [], "languages": [],
             "mode": "online", "location": "Online", "start_date": date(2027, 6, 1),
             "end_date": date(2027, 6, 5), "registration_deadline": date(2027, 5, 1),
             "url": "https://example.org", "status": "open", "description": "",
             "content_hash": "h", "first_seen_at": NOW, "updated_at": NOW} for i in range(4)])
        c.execute(insert(Participant), [
            {"id": i, "email": f"p{i}@example.org", "name": f"P{i}",
             "language": LANGUAGES[i % 4], "country": "Kenya", "timezone": "UTC",
             "frequency": "immediate", "status": "active", "any_topic": True,
             "any_region": True, "any_mode": True, "any_language": True, "created_at": NOW,
             "updated_at": NOW} for i in range(1, 9)])
        rows: list[dict[str, Any]] = []
        for i in range(1, 41):
            post = i % 7 == 0
            rows.append({
                "id": i, "dedup_key": f"k{i}", "campaign": ("announce", "reminder")[i % 2],
                "kind": "course_post" if post else "course_email",
                "channel": "mastodon" if post else "email", "template": "t",
                "course_id": None if i % 11 == 0 else f"C{i % 4}",
                "participant_id": None if post or i % 13 == 0 else 1 + i % 8,
                "state": "sending", "due_at": NOW, "attempts": 1, "created_at": NOW,
                "updated_at": NOW,
                # rows 21-24 are one bundle led by 21
                "bundle": 21 if 21 <= i <= 24 else None})
        c.execute(insert(Delivery), rows)
    return engine


def _outcomes() -> list[tuple[int, Writes]]:
    """Outcomes of many kinds; rows 5 and 6 carry one message id (the second is no new
    message), 21 leads a bundle."""
    out: list[tuple[int, Writes]] = []
    for i in range(1, 41):
        if 22 <= i <= 24:
            continue
        if i % 5 == 0 and i != 5:
            writes = SendPath._record(i, NOW, "failed", "bounced", "550 no such user")
        elif i % 9 == 0:
            writes = SendPath._record(i, NOW, "retrying", "retry", "451 later",
                                      due_at=NOW + timedelta(minutes=3))
        else:
            msgid = "<same@example.org>" if i in (5, 6) else f"<m{i}@example.org>"
            writes = SendPath._record(i, NOW + timedelta(seconds=i), "sent", "sent", None,
                                      sent_at=NOW, provider_id=msgid)
        if i == 21:
            writes = SendPath._members(writes)
        out.append((i, writes))
    return out


def _events(engine: Engine) -> list[tuple[Any, ...]]:
    columns = [c for c in DeliveryEvent.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(*columns).order_by(DeliveryEvent.id))]


def test_prepared_events_equal_sqlalchemys(tmp_path: Path) -> None:
    prepared, reference = _database(tmp_path / "p.db"), _database(tmp_path / "r.db")
    writer = OutboxWriter(prepared, PreparedCache(prepared.dialect), threading.Lock())
    try:
        for _i, writes in _outcomes():
            writer.write(writes)
    finally:
        writer.close()
    with reference.begin() as c:
        for _i, writes in _outcomes():
            for statement, values in writes:
                c.execute(statement, dict(values))
    got, expected = _events(prepared), _events(reference)
    assert got == expected
    kinds = {row[1] for row in got}
    assert {"sent", "posted", "bounced", "retry"} <= kinds
    assert sum(row[16] for row in got) < sum(1 for row in got if row[1] == "sent")
    assert any(row[13] == "refused" for row in got)
    prepared.dispose()
    reference.dispose()
