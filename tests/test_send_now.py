"""`herald send-now` end to end on the embedded default (SQLite + file sinks)."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from sqlalchemy import func, select

from scheduler.models import Delivery
from tests.conftest import Project


def import_demo(project: Project) -> None:
    """Load the demo data a week before DEMO_NOW, as `make demo` does."""
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    r = project.run("participants", "import", "demo/participants.csv", now=week_before)
    assert r.code == 0, r.err


def delivery_count(project: Project, **where: str) -> int:
    engine = project.engine()
    with engine.connect() as c:
        q = select(func.count()).select_from(Delivery)
        for k, v in where.items():
            q = q.where(getattr(Delivery, k) == v)
        n = int(c.execute(q).scalar_one())
    engine.dispose()
    return n


def test_send_now_twice_sends_nothing_new(project: Project) -> None:
    import_demo(project)
    first = project.run("send-now", "--json")
    assert first.code == 0, first.err
    doc = first.json()
    assert isinstance(doc, dict) and doc["planned"] > 0
    emails = project.outbox("email")
    sent = delivery_count(project, state="sent", channel="email")
    # Cadence (issue 16): one email per bundle (its rows share the lead's id).
    engine = project.engine()
    with engine.connect() as c:
        messages = c.execute(
            select(func.count(func.distinct(func.coalesce(Delivery.bundle, Delivery.id))))
            .where(Delivery.state == "sent", Delivery.channel == "email")).scalar_one()
    engine.dispose()
    assert messages == len(emails) > 0
    assert sent > len(emails)
    second = project.run("send-now", "--json")
    assert second.code == 0, second.err
    assert second.json() == {"planned": 0, "dispatched": []}
    assert project.outbox("email") == emails


def test_dry_run_writes_nothing(project: Project) -> None:
    import_demo(project)
    r = project.run("send-now", "--dry-run")
    assert r.code == 0, r.err
    assert "would plan" in r.out
    assert delivery_count(project) == 0
    assert project.outbox("email") == []


def test_every_delivery_kind_reaches_its_sink(project: Project) -> None:
    import_demo(project)
    assert project.run("send-now").code == 0
    kinds = {
        (c, k)
        for c, k in project.engine().connect().execute(
            select(Delivery.campaign, Delivery.state).distinct()
        )
    }
    campaigns = {c for c, _ in kinds}
    assert {"announce", "reminder", "weekly", "social_announce"} <= campaigns
    msg = email.message_from_bytes(project.outbox("email")[0].read_bytes(),
                                   policy=email.policy.default)
    assert msg["List-Unsubscribe"].startswith("<http://localhost:8080/u/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None


HOSTILE = (
    "id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
    "registration_deadline,fee_usd,url\n"
    'EVIL-1,"<script>alert(1)</script> Spectrum",Centre,Kenya,Africa,spectrum management,en,'
    "online_instructor,Online,2027-03-01,2027-03-05,2027-02-20,0,https://example.org/a\n"
    'EVIL-2,"Policy\r\nBcc: attacker@evil.example",Centre,Kenya,Africa,spectrum management,en,'
    "online_instructor,Online,2027-03-01,2027-03-05,2027-02-20,0,https://example.org/b\n"
)
ONE_PERSON = (
    "email,name,language,country,timezone,topics,regions,languages,modes,frequency,consent\n"
    "amina@example.org,Amina,en,Kenya,Africa/Nairobi,spectrum management,,,,immediate,"
    "2026-10-01\n"
)


def test_hostile_titles_reach_neither_html_nor_headers(project: Project, tmp_path: Path) -> None:
    (tmp_path / "hostile.csv").write_bytes(HOSTILE.encode())
    (tmp_path / "one.csv").write_text(ONE_PERSON)
    assert project.run("courses", "import", "hostile.csv").code == 0
    assert project.run("participants", "import", "one.csv").code == 0
    r = project.run("send-now", "--campaign", "announce")
    assert r.code == 0, r.err
    files = project.outbox("email")
    assert len(files) == 1  # cadence (issue 16): both courses in one email to Amina
    for f in files:
        raw = f.read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Bcc"] is None
        assert b"\nBcc:" not in raw and b"attacker@evil.example>" not in raw.split(b"\r\n\r\n")[0]
        assert msg.get_all("To") == ["Amina <amina@example.org>"]
        html = msg.get_body(("html",)).get_content()
        assert "<script>" not in html
    htmls = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
             .get_body(("html",)).get_content() for f in files]
    assert any("&lt;script&gt;" in h for h in htmls)
