"""`local_window`: an email waits for the window in the recipient's own time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.models import Delivery
from tests.conftest import Project
from tests.smtp_project import ANNOUNCE

PEOPLE = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
          "consent\n"
          "kenji@example.org,Kenji,en,Japan,Asia/Tokyo,,,,,immediate,2026-01-01\n"
          "lucia@example.org,Lucia,en,Peru,America/Lima,,,,,immediate,2026-01-01\n")
COURSE = ("id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
          "registration_deadline,fee_usd,url\n"
          "W1,5G planning,ATC,Japan,Asia-Pacific,emerging technologies,en,online_instructor,"
          "Online,2027-03-01,2027-03-05,2027-02-15,0,https://example.org/w1\n")


def test_email_is_held_until_the_recipients_window(project: Project, tmp_path: Path) -> None:
    project.write_config("campaigns.yaml", ANNOUNCE + '    local_window: "08:00-20:00"\n')
    (tmp_path / "c.csv").write_text(COURSE)
    (tmp_path / "p.csv").write_text(PEOPLE)
    now = "2027-01-11T14:00:00Z"  # 23:00 in Tokyo (closed), 09:00 in Lima (open)
    assert project.run("courses", "import", "c.csv", now=now).code == 0
    assert project.run("participants", "import", "p.csv", now=now).code == 0
    assert project.run("send-now", now=now).code == 0
    engine = project.engine()
    with engine.connect() as c:
        rows = {k: (s, due) for k, s, due in c.execute(
            select(Delivery.dedup_key, Delivery.state, Delivery.due_at))}
    assert rows["announce:W1:p2"][0] == "sent"
    state, due = rows["announce:W1:p1"]
    assert state == "pending"
    assert due == datetime(2027, 1, 12, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert len(project.outbox("email")) == 1
    # At the window's opening it goes, once.
    assert project.run("send-now", now="2027-01-11T23:00:30Z").code == 0
    assert project.run("send-now", now="2027-01-11T23:05:00Z").code == 0
    assert len(project.outbox("email")) == 2
    engine.dispose()
