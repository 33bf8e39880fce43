"""Timing rules and incremental planning, through `herald plan`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from scheduler.models import Delivery
from tests.conftest import Project

HEADER = ("id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
          "registration_deadline,fee_usd,url\n")
PEOPLE = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
          "consent\n"
          "ana@example.org,Ana,es,Spain,Europe/Madrid,cybersecurity,,,,immediate,2026-01-01\n"
          "wei@example.org,Wei,zh,China,Asia/Shanghai,cybersecurity,,zh;en,,weekly,2026-01-01\n"
          "bob@example.org,Bob,en,Ghana,Africa/Accra,cybersecurity,,,,immediate,\n")


def course(cid: str, start: str, deadline: str, end: str | None = None) -> str:
    return (f"{cid},Incident response {cid},CERT-MU,Mauritius,Africa,cybersecurity,en;es,"
            f"online_instructor,Online,{start},{end or start},{deadline},0,"
            f"https://example.org/{cid}\n")


def setup(project: Project, tmp: Path, rows: str, now: str) -> None:
    (tmp / "c.csv").write_text(HEADER + rows)
    (tmp / "p.csv").write_text(PEOPLE)
    assert project.run("courses", "import", "c.csv", now=now).code == 0
    assert project.run("participants", "import", "p.csv", now=now).code == 0


def keys(project: Project) -> set[str]:
    with project.engine().connect() as c:
        return set(c.execute(select(Delivery.dedup_key)).scalars())


def plan(project: Project, now: str) -> None:
    r = project.run("plan", now=now)
    assert r.code == 0, r.err


def test_on_publish_needs_min_lead_before_the_deadline(project: Project, tmp_path: Path) -> None:
    now = "2027-01-11T09:00:00Z"
    setup(project, tmp_path, course("SOON", "2027-02-01", "2027-01-15")
          + course("LATER", "2027-03-01", "2027-02-15"), now)
    plan(project, now)
    ks = {k for k in keys(project) if k.startswith("announce:")}
    # Ana only (Bob gave no consent; Wei is weekly): LATER has 35 days, SOON only 4 < 7d.
    assert ks == {"announce:LATER:p1"}


def test_before_rule_sends_late_but_never_after(project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path, course("R1", "2027-03-01", "2027-02-20"), "2027-01-01T00:00:00Z")
    plan(project, "2027-02-09T12:00:00Z")  # 11 days before the deadline: not yet
    assert not {k for k in keys(project) if k.startswith("reminder:")}
    plan(project, "2027-02-15T12:00:00Z")  # inside the 10 days
    assert "reminder:R1:p1" in keys(project)


def test_before_rule_for_a_course_learnt_late(project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path, course("R2", "2027-03-01", "2027-02-20"), "2027-02-18T00:00:00Z")
    plan(project, "2027-02-18T09:00:00Z")
    assert "reminder:R2:p1" in keys(project)


def test_before_rule_never_after_the_date(project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path, course("R3", "2027-03-01", "2027-02-20"), "2027-01-01T00:00:00Z")
    plan(project, "2027-02-20T09:00:00Z")  # the deadline day has begun
    assert not {k for k in keys(project) if k.startswith("reminder:")}


def test_digest_once_per_period_listing_new_courses(project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path, course("D1", "2027-04-01", "2027-03-20"), "2027-01-05T00:00:00Z")
    plan(project, "2027-01-11T09:00:00Z")  # Monday 08:00 UTC has fired
    plan(project, "2027-01-12T09:00:00Z")
    digests = sorted(k for k in keys(project) if k.startswith("weekly:"))
    assert digests == ["weekly:2027-01-11T0800Z:p2"]
    plan(project, "2027-01-18T09:00:00Z")  # nothing new since: no second digest
    assert sorted(k for k in keys(project) if k.startswith("weekly:")) == digests
    (tmp_path / "c2.csv").write_text(HEADER + course("D2", "2027-04-02", "2027-03-21"))
    assert project.run("courses", "import", "c2.csv", now="2027-01-20T00:00:00Z").code == 0
    plan(project, "2027-01-25T09:00:00Z")
    assert "weekly:2027-01-25T0800Z:p2" in keys(project)


def test_newcomer_is_planned_incrementally(project: Project, tmp_path: Path) -> None:
    now = "2027-01-11T09:00:00Z"
    setup(project, tmp_path, course("N1", "2027-03-01", "2027-02-15"), now)
    plan(project, now)
    before = keys(project)
    (tmp_path / "p2.csv").write_text(
        PEOPLE.splitlines()[0] + "\n"
        "eve@example.org,Eve,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n")
    assert project.run("participants", "import", "p2.csv", now="2027-01-11T10:00:00Z").code == 0
    plan(project, "2027-01-11T10:01:00Z")
    assert keys(project) - before == {"announce:N1:p4"}


def test_plan_dry_run_writes_nothing(project: Project, tmp_path: Path) -> None:
    now = "2027-01-11T09:00:00Z"
    setup(project, tmp_path, course("X1", "2027-03-01", "2027-02-15"), now)
    r = project.run("plan", "--dry-run", "--json", now=now)
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    assert sum(p["planned"] for p in doc["planned"]) >= 1
    assert keys(project) == set()
