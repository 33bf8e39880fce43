"""catalogue_email: exactly the right courses per contact (a property test against an
independent reference, and the demo's emails end to end), once per period, and one
reminder to the silent only."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from scheduler.db import ensure_schema, make_engine, session_factory
from scheduler.ingest.records import Problems, build_course
from scheduler.ingest.store import import_courses
from scheduler.interest import InterestTarget, record_interest
from scheduler.planning.catalogue import catalogue_courses
from tests.admin.helpers import NOW, emails, part, payload, setup, tokens
from tests.conftest import Project

REGIONS = ["Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe"]
MODES = ["online_instructor", "online_self_paced", "face_to_face", "blended"]
TOPICS = ["Spectrum management", "cybersecurity", "Policy and Regulation", "big data",
          "digital inclusion"]
TODAY = date(2027, 1, 11)


def spelled(topic: str) -> st.SearchStrategy[str]:
    """The same topic as a person might type it: any case, stray spaces."""
    return st.sampled_from([topic, topic.upper(), topic.lower(), f"  {topic} ",
                            topic.replace(" ", "  ")])


course_st = st.fixed_dictionaries({
    "region": st.sampled_from(REGIONS),
    "mode": st.sampled_from(MODES),
    "topics": st.lists(st.sampled_from(TOPICS).flatmap(spelled), min_size=1, max_size=3),
    "status": st.sampled_from(["open", "open", "open", "cancelled"]),
    "deadline": st.integers(-30, 600),
    "lead": st.integers(0, 60),
})


def key(text: str) -> str:
    return " ".join(text.split()).casefold()


def reference(courses: list[dict[str, object]], region: str, focus: list[str],
              horizon_end: date) -> set[str]:
    """What a catalogue must list, written from DESIGN.md alone."""
    wanted = {key(t) for t in focus}
    out = set()
    for c in courses:
        deadline = TODAY + timedelta(days=int(c["deadline"]))  # type: ignore[call-overload]
        start = deadline + timedelta(days=int(c["lead"]))  # type: ignore[call-overload]
        if c["status"] != "open" or deadline < TODAY or start > horizon_end:
            continue
        online = c["mode"] in ("online_instructor", "online_self_paced")
        if region and c["region"] != region and not online:
            continue
        if wanted and not wanted & {key(t) for t in c["topics"]}:  # type: ignore[attr-defined]
            continue
        out.add(str(c["id"]))
    return out


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('cat') / 'h.db'}")
    ensure_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def load(session: Session, courses: list[dict[str, object]]) -> None:
    records = []
    for n, c in enumerate(courses):
        c["id"] = f"C{n}"
        deadline = TODAY + timedelta(days=int(c["deadline"]))  # type: ignore[call-overload]
        start = deadline + timedelta(days=int(c["lead"]))  # type: ignore[call-overload]
        raw = {"id": c["id"], "title": f"Course {n}", "coe": f"Centre {n % 3}",
               "country": "Kenya", "region": c["region"], "topics": ";".join(c["topics"]),  # type: ignore[arg-type]
               "languages": "en", "mode": c["mode"], "location": "Online",
               "start_date": start.isoformat(), "end_date": (start + timedelta(days=5)).isoformat(),
               "registration_deadline": deadline.isoformat(), "fee_usd": "0",
               "url": f"https://example.org/{n}", "status": c["status"]}
        problems = Problems()
        rec = build_course(raw, f"row {n}", problems)
        assert rec is not None, problems.lines
        records.append(rec)
    import_courses(session, records, now=datetime(2027, 1, 4, 9, tzinfo=UTC))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(courses=st.lists(course_st, max_size=25),
       region=st.sampled_from(["", *REGIONS]),
       focus=st.lists(st.sampled_from(TOPICS).flatmap(spelled), max_size=3),
       horizon=st.integers(0, 500))
def test_catalogue_lists_exactly_the_reference_courses(
        sessions, courses: list[dict[str, object]], region: str, focus: list[str],  # type: ignore[no-untyped-def]
        horizon: int) -> None:
    from scheduler.contacts import _parsers

    stored_focus = _parsers()["focus_areas"](";".join(focus))
    horizon_end = TODAY + timedelta(days=horizon)
    with sessions() as s, s.begin():
        load(s, courses)
        got = catalogue_courses(s, region=region, focus_areas=stored_focus,  # type: ignore[arg-type]
                                horizon_end=horizon_end, today=TODAY)
        ids = [c.id for c in got]
        assert set(ids) == reference(courses, region, focus, horizon_end)
        assert len(ids) == len(set(ids))
        starts = [c.start_date for c in got]
        assert starts == sorted(starts)  # by date, so the email's months come in order
        s.rollback()


def demo_courses(root: Path) -> list[dict[str, object]]:
    rows = list(csv.DictReader((root / "demo" / "courses.csv").open(encoding="utf-8")))
    out = []
    for r in rows:
        deadline = date.fromisoformat(r["registration_deadline"])
        start = date.fromisoformat(r["start_date"])
        out.append({"id": r["id"], "region": r["region"], "mode": r["mode"],
                    "topics": r["topics"].split(";"), "status": r.get("status") or "open",
                    "deadline": (deadline - TODAY).days, "lead": (start - deadline).days})
    return out


def test_each_demo_contact_gets_its_courses_by_month_once(project: Project) -> None:
    setup(project)
    r = project.run("send-now", "--campaign", "catalogue", now=NOW)
    assert r.code == 0, r.err
    sent = emails(project, "catalogue")
    contacts = {c["id"]: c for c in project.run("contacts", "list", "--json").json()}  # type: ignore[union-attr]
    assert len(sent) == len(contacts) == 5
    courses = demo_courses(project.root)
    fire = datetime(2027, 1, 4, 8, tzinfo=UTC)
    horizon_end = (fire + timedelta(days=450)).date()
    for name, msg in sent.items():
        cid = int(name.split("+k")[1].split(".")[0])
        contact = contacts[cid]
        text = part(msg, "plain")
        found = {payload(t)["co"] for t in tokens(text, "i")}
        want = reference(courses, contact["region"], contact["focus_areas"], horizon_end)
        assert found == want and want, name
        assert msg["To"].endswith(f"<{contact['email']}>")
        assert msg["Content-Language"] == contact["language"]
        html = part(msg, "html")
        assert found == {payload(t)["co"] for t in tokens(html, "i")}
        # Four buttons per course, pre-filled 1, 5, 10 and empty.
        for course in want:
            prefills = [p for t, p in _links_with_prefill(html) if payload(t)["co"] == course]
            assert sorted(prefills, key=str) == sorted(["1", "5", "10", ""], key=str)
        for label in ('>1<', '>2–5<', '>6–10<'):
            assert label in html
        if contact["language"] == "ar":
            assert 'dir="rtl"' in html
    arabic = next(m for m in sent.values() if m["Content-Language"] == "ar")
    assert ">أكثر<" in part(arabic, "html")
    english = next(m for m in sent.values() if m["Content-Language"] == "en")
    assert ">more<" in part(english, "html")
    # A second run in the same period sends nothing.
    again = project.run("send-now", now="2027-01-12T10:00:00Z")
    assert again.code == 0
    assert len(emails(project, "catalogue")) == 5


def _links_with_prefill(html: str) -> list[tuple[str, str]]:
    import re

    return [(t, n) for t, n in re.findall(
        r'/i/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)(?:\?participants=(\d+))?"', html)]


def _answer(project: Project, msg_text: str, participants: int,
            when: datetime = datetime(2027, 1, 15, tzinfo=UTC)) -> None:
    """Record an answer through the service, as the /i/ form's POST does."""
    from scheduler.app import App
    from scheduler.interest import open_interest

    app = App(project.config, project.db_url, when)
    try:
        token = tokens(msg_text, "i")[0]
        with app.sessions() as s, s.begin():
            target: InterestTarget = open_interest(s, token, app.signing_key)
            record_interest(s, target, participants, "", app.clock())
    finally:
        app.close()


def test_the_reminder_goes_only_to_the_silent(project: Project) -> None:
    setup(project)
    assert project.run("send-now", "--campaign", "catalogue", now=NOW).code == 0
    sent = emails(project, "catalogue")
    by_contact = {int(n.split("+k")[1].split(".")[0]): m for n, m in sent.items()}
    _answer(project, part(by_contact[1], "plain"), 3)
    # Before remind_after (21 days from the fire on 4 January): nothing.
    assert project.run("send-now", now="2027-01-24T09:00:00Z").code == 0
    assert not [n for n in emails(project, "catalogue") if "reminder" in n]
    assert project.run("send-now", now="2027-01-25T09:00:00Z").code == 0
    reminders = {n: m for n, m in emails(project, "catalogue").items() if "reminder" in n}
    assert sorted(int(n.split("+k")[1].split("+")[0]) for n in reminders) == [2, 3, 4, 5]
    en = next(m for m in reminders.values() if m["Content-Language"] == "en")
    assert en["Subject"].startswith("Reminder:")
    assert project.run("send-now", now="2027-02-01T09:00:00Z").code == 0
    assert len([n for n in emails(project, "catalogue") if "reminder" in n]) == 4


def test_an_answer_after_the_reminder_was_planned_cancels_it(project: Project) -> None:
    setup(project)
    assert project.run("send-now", "--campaign", "catalogue", now=NOW).code == 0
    assert project.run("plan", now="2027-01-25T08:00:00Z").code == 0  # planned, not sent
    sent = emails(project, "catalogue")
    by_contact = {int(n.split("+k")[1].split(".")[0]): m for n, m in sent.items()}
    _answer(project, part(by_contact[2], "plain"), 7, datetime(2027, 1, 25, 8, 30, tzinfo=UTC))
    assert project.run("send-now", now="2027-01-25T09:00:00Z").code == 0
    reminded = sorted(int(n.split("+k")[1].split("+")[0])
                      for n in emails(project, "catalogue") if "reminder" in n)
    assert reminded == [1, 3, 4, 5]
    states = {d["key"]: d["state"] for d in project.run(
        "deliveries", "list", "--campaign", "catalogue", "--json").json()}  # type: ignore[union-attr]
    assert states["catalogue:2027-01-04T0800Z:k2:reminder"] == "cancelled"


def test_plan_shows_who_gets_what(project: Project) -> None:
    setup(project)
    doc = project.run("plan", "--json", now=NOW).json()
    assert isinstance(doc, dict)
    rows = doc["recipients"]
    catalogue = {r["to"] for r in rows if r["kind"] == "catalogue_email"}
    invitations = {r["to"] for r in rows if r["kind"] == "coe_email"}
    assert "hr.training@mict.example.org" in catalogue and len(catalogue) == 5
    assert "focal@afralti.example.org" in invitations and len(invitations) == 18
    planned = {(p["campaign"], p["planned"]) for p in doc["planned"]}
    assert ("catalogue", 5) in planned and ("coe_invitation", 18) in planned
    text = project.run("plan", now=NOW).out
    assert "who gets what" in text and "focal@afralti.example.org" in text


def test_a_contact_with_nothing_to_list_gets_no_email(project: Project) -> None:
    setup(project)
    (project.root / "k.csv").write_text(
        "email,name,organisation,country,region,focus_areas,language\n"
        "none@example.org,N,Org,Peru,Americas,basket weaving,es\n", encoding="utf-8")
    assert project.run("contacts", "import", "k.csv").code == 0
    assert project.run("send-now", "--campaign", "catalogue", now=NOW).code == 0
    assert len(emails(project, "catalogue")) == 5
