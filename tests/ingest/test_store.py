"""import_courses / import_centres: upsert, change detection, cancellations, atomicity."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import InputError
from scheduler.ingest import store
from scheduler.ingest.centres import import_centres
from scheduler.ingest.csv_reader import read_courses_csv
from scheduler.ingest.records import CourseRecord
from scheduler.ingest.source import read_source
from scheduler.ingest.store import import_courses
from scheduler.models import Centre, Course, CourseTerm, Delivery, DeliveryEvent
from tests.conftest import ROOT
from tests.ingest.conftest import NOW, course_csv, csv_row, row_counts, tx

LATER = NOW + timedelta(hours=6)


def records(*rows: str) -> list[CourseRecord]:
    return read_courses_csv(course_csv(*rows), "c.csv")


def run(session: Session, recs: list[CourseRecord], now: datetime = NOW) -> store.ImportSummary:
    with tx(session):
        return import_courses(session, recs, now=now)


def terms(session: Session, course_id: str) -> set[tuple[str, str]]:
    rows = session.execute(select(CourseTerm.kind, CourseTerm.value)
                           .where(CourseTerm.course_id == course_id))
    return {(k, v) for k, v in rows}


def add_delivery(session: Session, key: str, course_id: str | None, state: str) -> int:
    d = Delivery(dedup_key=key, campaign="announce", kind="course_email", channel="email",
                 template="email/announcement", course_id=course_id, participant_id=1,
                 state=state, due_at=NOW, created_at=NOW, updated_at=NOW,
                 lease_owner="w1" if state == "pending" else None)
    with tx(session):
        session.add(d)
    return d.id


def test_first_import_adds_courses_terms_and_centres(session: Session) -> None:
    summary = run(session, records(csv_row(id="A"), csv_row(id="B", coe="Other Centre",
                                                            region="Europe", country="")))
    assert summary.added == ["A", "B"]
    assert summary.counts() == {"added": 2, "updated": 0, "unchanged": 0, "cancelled": 0,
                                "deliveries_cancelled": 0}
    course = session.get(Course, "A")
    assert course is not None
    assert course.first_seen_at == NOW and course.updated_at == NOW
    assert course.topics == ["spectrum management", "Policy and Regulation"]
    assert course.content_hash == records(csv_row(id="A"))[0].content_hash()
    assert terms(session, "A") == {("topic", "spectrum management"),
                                   ("topic", "policy and regulation"),
                                   ("language", "en"), ("language", "fr")}
    centres = {c.name: (c.country, c.region, c.topics) for c in session.scalars(select(Centre))}
    assert centres == {
        "Test Centre": ("Kenya", "Africa", ["spectrum management", "policy and regulation"]),
        "Other Centre": ("", "Europe", ["spectrum management", "policy and regulation"]),
    }


def test_reimport_is_unchanged_and_touches_nothing(session: Session) -> None:
    run(session, records(csv_row(id="A")))
    summary = run(session, records(csv_row(id="A")), now=LATER)
    assert (summary.unchanged, summary.added, summary.updated) == (["A"], [], [])
    assert session.get(Course, "A").updated_at == NOW  # type: ignore[union-attr]


def test_change_updates_fields_and_replaces_terms(session: Session) -> None:
    run(session, records(csv_row(id="A"), csv_row(id="B")))
    summary = run(session, records(csv_row(id="A", topics="Cybersecurity", languages="ar"),
                                   csv_row(id="B")), now=LATER)
    assert (summary.updated, summary.unchanged) == (["A"], ["B"])
    course = session.get(Course, "A")
    assert course is not None
    assert course.first_seen_at == NOW  # on_publish counts from the first sighting
    assert course.updated_at == LATER
    assert course.topics == ["Cybersecurity"]
    assert terms(session, "A") == {("topic", "cybersecurity"), ("language", "ar")}
    assert len(terms(session, "B")) == 4


def test_courses_missing_from_a_partial_source_are_kept(session: Session) -> None:
    run(session, records(csv_row(id="A"), csv_row(id="B")))
    summary = run(session, records(csv_row(id="B")), now=LATER)
    assert summary.unchanged == ["B"]
    course = session.get(Course, "A")
    assert course is not None and course.status == "open"


def test_cancelling_a_course_cancels_its_unsent_deliveries(session: Session) -> None:
    header = ",status,description"
    rows_open = (csv_row(id="A") + ",open,", csv_row(id="B") + ",open,")
    run(session, read_courses_csv(course_csv(*rows_open, header=_h(header)), "c.csv"))
    ids = {state: add_delivery(session, f"announce:A:{state}", "A", state)
           for state in ("pending", "retrying", "sending", "sent", "failed", "unknown")}
    other = add_delivery(session, "announce:B:pending", "B", "pending")
    digest = add_delivery(session, "weekly:2027-W01:p1", None, "pending")

    rows_cancel = (csv_row(id="A") + ",cancelled,", csv_row(id="B") + ",open,")
    summary = run(session, read_courses_csv(course_csv(*rows_cancel, header=_h(header)),
                                            "c.csv"), now=LATER)
    assert summary.cancelled == ["A"]
    assert summary.updated == [] and summary.unchanged == ["B"]
    assert summary.deliveries_cancelled == 2

    session.expire_all()
    states = {s: session.get(Delivery, i).state for s, i in ids.items()}  # type: ignore[union-attr]
    assert states == {"pending": "cancelled", "retrying": "cancelled", "sending": "sending",
                      "sent": "sent", "failed": "failed", "unknown": "unknown"}
    assert session.get(Delivery, other).state == "pending"  # type: ignore[union-attr]
    assert session.get(Delivery, digest).state == "pending"  # type: ignore[union-attr]
    cancelled = session.get(Delivery, ids["pending"])
    assert cancelled is not None
    assert cancelled.updated_at == LATER and cancelled.lease_owner is None
    events = session.execute(select(DeliveryEvent.delivery_id, DeliveryEvent.type,
                                    DeliveryEvent.at, DeliveryEvent.detail)).all()
    assert sorted(events) == sorted([(ids["pending"], "cancelled", LATER, "course A cancelled"),
                                     (ids["retrying"], "cancelled", LATER, "course A cancelled")])

    # A delivery planned in a race after the cancellation is withdrawn on the next import,
    # though the course itself is unchanged.
    late = add_delivery(session, "reminder:A:p1", "A", "pending")
    again = run(session, read_courses_csv(course_csv(*rows_cancel, header=_h(header)), "c.csv"))
    assert (again.cancelled, again.unchanged, again.deliveries_cancelled) == ([], ["A", "B"], 1)
    session.expire_all()
    assert session.get(Delivery, late).state == "cancelled"  # type: ignore[union-attr]


def _h(extra: str) -> str:
    from tests.ingest.conftest import HEADER

    return HEADER + extra


def test_new_course_already_cancelled_is_added_and_reopening_is_an_update(
    session: Session,
) -> None:
    [rec] = records(csv_row(id="A"))
    summary = run(session, [replace(rec, status="cancelled")])
    assert (summary.added, summary.cancelled) == (["A"], [])
    summary = run(session, [rec], now=LATER)
    assert (summary.updated, summary.cancelled) == (["A"], [])
    assert session.get(Course, "A").status == "open"  # type: ignore[union-attr]


def test_bad_file_over_existing_database_writes_nothing(session: Session,
                                                        tmp_path: Path) -> None:
    run(session, records(csv_row(id="A"), csv_row(id="B")))
    before = row_counts(session)
    path = tmp_path / "courses.csv"
    path.write_bytes(course_csv(csv_row(id="A", title="Changed"), csv_row(id="C"),
                                csv_row(id="D", end_date="2027-01-01")))
    with pytest.raises(InputError) as info:
        read_source(str(path))
    assert info.value.errors == [
        f"{path}:4: end_date: 2027-01-01 is before start_date 2027-03-01"]
    assert row_counts(session) == before
    assert session.get(Course, "A").title == "Spectrum basics"  # type: ignore[union-attr]


def test_failure_while_writing_rolls_everything_back(session: Session,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run(session, records(csv_row(id="A")))
    add_delivery(session, "announce:A:p1", "A", "pending")
    before = row_counts(session)

    def boom(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "upsert_centres_from_courses", boom)
    [a] = records(csv_row(id="A"))
    with pytest.raises(RuntimeError):
        run(session, [replace(a, status="cancelled"), *records(csv_row(id="B"))], now=LATER)
    assert row_counts(session) == before
    assert session.get(Course, "A").status == "open"  # type: ignore[union-attr]
    assert session.scalar(select(Delivery.state)) == "pending"


def test_duplicate_ids_are_a_programming_error(session: Session) -> None:
    [a] = records(csv_row(id="A"))
    with pytest.raises(ValueError, match="unique ids"):
        import_courses(session, [a, a], now=NOW)


def test_demo_files_import_cleanly(session: Session) -> None:
    with tx(session):
        centres = import_centres(session, ROOT / "demo" / "coes.csv")
    assert len(centres.added) == 18
    _name, recs = read_source(str(ROOT / "demo" / "courses.csv"))
    summary = run(session, recs)
    assert len(summary.added) == 40
    assert len(list(session.scalars(select(Centre)))) == 18  # every course's centre is known
    with tx(session):
        again = import_centres(session, ROOT / "demo" / "coes.csv")
    assert len(again.unchanged) == 18


def test_centres_from_courses_fill_gaps_but_keep_coes_csv(session: Session,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "coes.csv"
    path.write_text("name,country,region,topics\nTest Centre,,Africa,Spectrum Management\n",
                    encoding="utf-8")
    with tx(session):
        import_centres(session, path)
    run(session, records(csv_row(id="A", region="Europe", topics="spectrum management;AI")))
    centre = session.scalar(select(Centre).where(Centre.name == "Test Centre"))
    assert centre is not None
    assert (centre.country, centre.region) == ("Kenya", "Africa")
    assert centre.topics == ["spectrum management", "ai"]


def test_import_centres_updates_and_reports_every_bad_row(session: Session,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "coes.csv"
    path.write_text("name,country,region,topics,focal_email\n"
                    "Alpha,Kenya,Africa,cybersecurity,focal@alpha.example.org\n"
                    "Beta,France,Europe,,\n", encoding="utf-8")
    with tx(session):
        assert import_centres(session, path).added == ["Alpha", "Beta"]
    assert session.scalar(select(Centre.focal_email).where(Centre.name == "Alpha")) \
        == "focal@alpha.example.org"
    path.write_text("name,country,region,topics\nAlpha,Kenya,Africa,cybersecurity;iot\n"
                    "Beta,France,Europe,\n", encoding="utf-8")
    with tx(session):
        summary = import_centres(session, path)
    assert (summary.updated, summary.unchanged) == (["Alpha"], ["Beta"])

    before = row_counts(session)
    path.write_text("name,country,region,topics,focal_email\n"
                    "Alpha,Kenya,Afrika,,\n,France,Europe,,\nGamma,Peru,Americas,,not-an-email\n"
                    "alpha,Kenya,Africa,,\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_centres(session, path)
    assert info.value.errors == [
        f"{path}:2: region: 'Afrika' is not a region (one of Africa, Americas, Arab States, "
        "Asia-Pacific, CIS, Europe)",
        f"{path}:3: name: is empty",
        f"{path}:4: focal_email: 'not-an-email' is not an email address",
        f"{path}:5: name: duplicate centre 'alpha' (first at line 2)",
    ]
    assert row_counts(session) == before
