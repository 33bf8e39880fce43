"""Dates agree with `--now` (issue 18, point 10): an email's Date header, event times and log
times all follow the clock the command runs on."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from scheduler.models import DeliveryEvent
from tests.conftest import DEMO_NOW, Project


def close_to_now(value: datetime) -> bool:
    now = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
    return now - timedelta(seconds=1) <= value <= now + timedelta(minutes=5)


def test_date_header_events_and_logs_follow_now(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    assert project.run("participants", "import", "demo/participants.csv", now=week_before).code == 0
    r = project.run("-v", "send-now")
    assert r.code == 0, r.err
    emls = project.outbox("email")
    assert emls
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert close_to_now(parsedate_to_datetime(str(msg["Date"])))
    engine = project.engine()
    with engine.connect() as c:
        times = c.execute(select(DeliveryEvent.at)).scalars().all()
    engine.dispose()
    assert times and all(close_to_now(t.replace(tzinfo=t.tzinfo or UTC)) for t in times)
    logged = [line for line in r.err.splitlines() if " INFO " in line]
    assert logged
    assert all(close_to_now(datetime.fromisoformat(line.split(" ", 1)[0])) for line in logged)
    j = project.run("--log-format", "json", "-v", "send-now")
    docs = [json.loads(line) for line in j.err.splitlines() if line.startswith("{")]
    assert docs and all(close_to_now(datetime.fromisoformat(d["ts"])) for d in docs)
