"""`herald report` against what a loopback SMTP sink received and refused."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import events
from scheduler.models import Delivery
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, configure

AT = datetime(2027, 1, 11, 10, tzinfo=UTC)


def _report(project: Project, *args: str) -> dict[str, Any]:
    r = project.run("report", "--json", *args, now=NOW)
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    return doc


def test_totals_agree_with_the_sink_and_count_clicks_people_and_answers(
    project: Project, tmp_path: Path,
) -> None:
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        server.reject("gone@example.org", "550 5.1.1 No such user here")
        assert project.run("send-now", "--campaign", "announce", now=NOW).code == 0
        received = [m for m in server.received if m.accepted]
    doc = _report(project)
    totals = doc["totals"]
    # One email a person (cadence bundles): ana's A1; gone's A1+A2 refused (two deliveries);
    # wei's A1+A2 in one email.
    assert totals["emails"] == len(received) == 2
    # gone's refusal at send time: two deliveries bounced, none of them sent, so none is
    # taken off `delivered`; the bounce rate is over what was handed to the server.
    assert totals["sent"] == 3 and totals["bounced"] == totals["refused"] == 2
    assert totals["bounced_hard"] == 0 and totals["failed"] == 0
    assert (totals["attempted"], totals["delivered"]) == (5, 3)
    assert totals["bounce_rate"] == 2 / 5

    engine = project.engine()
    with Session(engine) as s, s.begin():
        sent = {d.dedup_key: d for d in s.scalars(select(Delivery)
                                                  .where(Delivery.state == "sent"))}
        a1, a2 = sent["announce:A1:p3"], sent["announce:A2:p3"]
        units = [events.record(s, "clicked", delivery_id=a1.id, at=AT),
                 events.record(s, "clicked", delivery_id=a1.id, at=AT),  # the same person again
                 events.record(s, "clicked", delivery_id=a2.id, at=AT, bot=True),
                 events.record(s, "unsubscribed", delivery_id=a1.id, at=AT),
                 events.record(s, "unsubscribed", delivery_id=a2.id, at=AT),  # same person
                 events.record(s, "interest", delivery_id=a1.id, at=AT, amount=3),
                 events.record(s, "interest", delivery_id=a1.id, at=AT, amount=5)]
    engine.dispose()
    assert units == [1, 0, 0, 1, 0, 1, 0]
    totals = _report(project)["totals"]
    assert (totals["clicked"], totals["bot_clicks"], totals["unsubscribed"]) == (1, 1, 1)
    assert (totals["interest"], totals["interest_participants"]) == (1, 5)
    assert totals["click_rate"] == 1 / 3

    rows = _report(project, "--by", "course,language")["rows"]
    a1_zh = next(r for r in rows if r["course"] == "A1" and r["language"] == "zh")
    assert (a1_zh["sent"], a1_zh["clicked"], a1_zh["interest"]) == (1, 1, 1)
    assert sum(r["sent"] for r in rows) == 3
    by_region = _report(project, "--by", "region,centre")["rows"]
    assert [(r["region"], r["centre"], r["sent"]) for r in by_region] == [
        ("Africa", "AFRALTI", 2), ("Africa", "CERT-MU", 1)]
    assert _report(project, "--since", "2027-01-12")["totals"]["sent"] == 0

    out = project.run("report", "--by", "channel", "--csv", "r.csv", "--html", "r.html",
                      "--lang", "ar", now=NOW)
    assert out.code == 0, out.err
    table = list(csv.DictReader((project.root / "r.csv").open(encoding="utf-8")))
    assert table[-1]["channel"] == "TOTAL" and table[-1]["sent"] == "3"
    page = (project.root / "r.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in page and "<svg" in page and "<script" not in page


def test_bad_options_exit_2(project: Project) -> None:
    bad = project.run("report", "--since", "yesterday")
    assert bad.code == 2 and "--since" in bad.err
    assert project.run("report", "--by", "planet").code == 2
    assert project.run("report", "--html", "x.html", "--lang", "xx").code == 2
    assert not (project.root / "x.html").exists()


def test_complaint_guard_warns_past_0_1_and_pauses_at_0_3_percent(
    project: Project,
) -> None:
    from scheduler.reporting.reputation import measure

    assert project.run("db", "upgrade").code == 0
    engine = project.engine()
    now = datetime(2027, 1, 11, 12, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        for i in range(1000):
            events.record(s, "sent", at=AT, channel="email", medium="email", person=f"p{i}")
        events.record(s, "complained", at=AT, channel="email", medium="email", person="p1")
        assert measure(s, now).level == "ok"  # 0.1% is not past 0.1%
        events.record(s, "complained", at=AT, channel="email", medium="email", person="p2")
        assert measure(s, now).level == "warn"
        events.record(s, "complained", at=AT, channel="email", medium="email", person="p3")
        assert measure(s, now).level == "pause"
        # Eight days later the week's window holds none of it.
        assert measure(s, datetime(2027, 1, 19, 12, tzinfo=UTC)).level == "ok"
    engine.dispose()
    status = project.run("status", now="2027-01-11T12:00:00Z")
    assert "WARNING: complaint rate over the last 7 days is 0.30%" in status.out
    report = project.run("report", now="2027-01-11T12:00:00Z")
    assert "complaint rate" in report.err
