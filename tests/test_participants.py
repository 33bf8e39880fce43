"""Participants: CSV validation with located errors, status rules, bulk import, demo data."""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from demo.generate_participants import COUNTRIES, course_topics, generate
from scheduler.errors import InputError
from scheduler.models import Participant, ParticipantInterest
from scheduler.participants import (
    PARTICIPANT_COLUMNS,
    ParticipantRecord,
    bulk_load_participants,
    import_participants,
    read_participants_csv,
    validate_participant,
)
from tests.conftest import ROOT
from tests.ingest.conftest import row_counts, tx

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
HEADER = ",".join(PARTICIPANT_COLUMNS)
GOOD = {"email": "Amina.Diallo@Example.ORG", "name": "Amina Diallo", "language": "fr",
        "country": "Senegal", "timezone": "Africa/Dakar",
        "topics": "Spectrum Management; cybersecurity", "regions": "africa;Europe",
        "languages": "fr;en", "modes": "online_instructor", "frequency": "weekly",
        "consent": "2026-05-01"}


def row(**overrides: str) -> str:
    values = {**GOOD, **overrides}
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([values[c] for c in PARTICIPANT_COLUMNS])
    return buf.getvalue()


def write(tmp_path: Path, *rows: str, header: str = HEADER, raw: bytes | None = None) -> Path:
    path = tmp_path / "participants.csv"
    path.write_bytes(raw if raw is not None else ("\n".join([header, *rows]) + "\n").encode())
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        read_participants_csv(path)
    return info.value.errors


def load(session: Session, path: Path, now: datetime = NOW) -> tuple[list[str], ...]:
    recs = read_participants_csv(path)
    with tx(session):
        s = import_participants(session, recs, now=now)
    return s.added, s.updated, s.unchanged


def stored(session: Session, email: str) -> tuple[Participant, dict[str, set[str]]]:
    session.expire_all()
    p = session.scalar(select(Participant).where(Participant.email == email))
    assert p is not None
    kinds: dict[str, set[str]] = {}
    for i in session.scalars(select(ParticipantInterest)
                             .where(ParticipantInterest.participant_id == p.id)):
        kinds.setdefault(i.kind, set()).add(i.value)
    return p, kinds


# -- validation -----------------------------------------------------------------------


def test_good_row_is_normalised(tmp_path: Path) -> None:
    [rec] = read_participants_csv(write(tmp_path, row(timezone="africa/dakar")))
    assert rec == ParticipantRecord(
        email="amina.diallo@example.org", name="Amina Diallo", language="fr",
        country="Senegal", timezone="Africa/Dakar",
        topics=("spectrum management", "cybersecurity"), regions=("africa", "europe"),
        languages=("fr", "en"), modes=("online_instructor",), frequency="weekly",
        consent=date(2026, 5, 1))


def test_empty_optional_fields_take_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, row(name="", language="", country="", timezone="", topics="",
                               regions="", languages="", modes="", frequency="", consent=""))
    [rec] = read_participants_csv(path)
    assert (rec.language, rec.timezone, rec.frequency, rec.consent) == ("en", "UTC",
                                                                        "immediate", None)
    assert rec.topics == rec.regions == rec.languages == rec.modes == ()


def test_consent_timestamp_counts_its_day(tmp_path: Path) -> None:
    [rec] = read_participants_csv(write(tmp_path, row(consent="2026-05-01T10:22:00Z")))
    assert rec.consent == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"email": "not-an-address"}, "email: 'not-an-address' is not an email address"),
        ({"email": "a@b"}, "email: 'a@b' is not an email address (bad domain)"),
        ({"email": "a b@example.org"},
         "email: 'a b@example.org' is not an email address (bad local part)"),
        ({"email": ""}, "email: is empty"),
        ({"language": "french"},
         "language: 'french' is not an ISO 639-1 language code (like en, fr, zh)"),
        ({"timezone": "Mars/Olympus"},
         "timezone: 'Mars/Olympus' is not an IANA time zone (like Europe/Paris)"),
        ({"timezone": "GMT+2"}, "timezone: 'GMT+2' is not an IANA time zone (like Europe/Paris)"),
        ({"regions": "Africa;Oceania"}, "regions: 'Oceania' is not a region (one of Africa, "
                                        "Americas, Arab States, Asia-Pacific, CIS, Europe)"),
        ({"modes": "online"}, "modes: 'online' is not a mode (one of online_instructor, "
                              "online_self_paced, face_to_face, blended)"),
        ({"languages": "fr;xx"},
         "languages: 'xx' is not an ISO 639-1 language code (like en, fr, zh)"),
        ({"frequency": "daily"}, "frequency: 'daily' is not one of immediate, weekly"),
        ({"consent": "yes"}, "consent: 'yes' is not a date (YYYY-MM-DD)"),
        ({"consent": "2026-02-30"}, "consent: '2026-02-30' is not a date (YYYY-MM-DD)"),
        ({"name": "x" * 201}, "name: is 201 characters long (at most 200)"),
        ({"topics": "t" * 201}, f"topics: topic '{'t' * 56}...' is longer than 200 characters"),
    ],
)
def test_each_rule_names_line_and_field(tmp_path: Path, overrides: dict[str, str],
                                        expected: str) -> None:
    path = write(tmp_path, row(email="first@example.org"), row(**overrides))
    assert errors(path) == [f"{path}:3: {expected}"]


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, row(email="bad", frequency="x"), row(email="ok@example.net"),
                 row(email="B@example.net", language="zz"))
    assert errors(path) == [
        f"{path}:2: email: 'bad' is not an email address",
        f"{path}:2: frequency: 'x' is not one of immediate, weekly",
        f"{path}:4: language: 'zz' is not an ISO 639-1 language code (like en, fr, zh)",
    ]


def test_duplicate_email_ignoring_case_is_reported_on_the_second_line(tmp_path: Path) -> None:
    path = write(tmp_path, row(email="x@example.org"), row(email="y@example.org"),
                 row(email="X@EXAMPLE.org", name="Again"), row(email="y@example.org",
                                                               language="zz"))
    assert errors(path) == [
        f"{path}:4: email: duplicate address 'x@example.org' (first at line 2)",
        f"{path}:5: language: 'zz' is not an ISO 639-1 language code (like en, fr, zh)",
        f"{path}:5: email: duplicate address 'y@example.org' (first at line 3)",
    ]


def test_header_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "x", header=HEADER.replace(",consent", "").replace("timezone,", ""))
    assert errors(path) == [f"{path}:1: header: missing column 'timezone'",
                            f"{path}:1: header: missing column 'consent'"]
    empty = write(tmp_path, raw=b"")
    assert errors(empty) == [f"{empty}: empty file (expected a header row: {HEADER})"]
    assert errors(tmp_path / "absent.csv") == [f"{tmp_path / 'absent.csv'}: no such file"]


def test_bom_and_bad_utf8(tmp_path: Path) -> None:
    data = ("\n".join([HEADER, row(), row(email="b@example.org", name="Zoë")]) + "\n").encode()
    assert len(read_participants_csv(write(tmp_path, raw=b"\xef\xbb\xbf" + data))) == 2
    path = write(tmp_path, raw=data.replace("Zoë".encode(), b"Zo\xeb"))
    assert errors(path) == [f"{path}:3: not UTF-8 text (byte 0xeb at column 17); "
                            "save the file as UTF-8"]


def test_validate_participant_accepts_form_lists() -> None:
    rec, errs = validate_participant({"email": "x@example.org", "topics": ["AI", " ai "],
                                      "regions": ["CIS"], "consent": None})
    assert errs == [] and rec is not None
    assert (rec.topics, rec.regions) == (("ai",), ("cis",))
    rec, errs = validate_participant({"email": "x@example.org", "modes": ["walking"]})
    assert rec is None
    assert errs == [("modes", "'walking' is not a mode (one of online_instructor, "
                              "online_self_paced, face_to_face, blended)")]


# -- import ---------------------------------------------------------------------------


def test_import_stores_interests_flags_and_status(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, row(), row(email="open@example.org", topics="", regions="",
                                      languages="", modes="", consent="", frequency=""))
    assert load(session, path) == (["amina.diallo@example.org", "open@example.org"], [], [])
    p, kinds = stored(session, "amina.diallo@example.org")
    assert (p.status, p.consent_date, p.frequency) == ("active", date(2026, 5, 1), "weekly")
    assert (p.created_at, p.updated_at) == (NOW, NOW)
    assert kinds == {"topic": {"spectrum management", "cybersecurity"},
                     "region": {"africa", "europe"}, "language": {"fr", "en"},
                     "mode": {"online_instructor"}}
    assert not (p.any_topic or p.any_region or p.any_language or p.any_mode)
    q, none = stored(session, "open@example.org")
    assert (q.status, q.consent_date, q.frequency) == ("pending", None, "immediate")
    assert none == {}
    assert q.any_topic and q.any_region and q.any_language and q.any_mode


def test_reimport_detects_changes(session: Session, tmp_path: Path) -> None:
    load(session, write(tmp_path, row(), row(email="b@example.org")))
    path = write(tmp_path, row(topics="AI"), row(email="b@example.org"),
                 row(email="c@example.org"))
    assert load(session, path, LATER) == (["c@example.org"], ["amina.diallo@example.org"],
                                          ["b@example.org"])
    p, kinds = stored(session, "amina.diallo@example.org")
    assert kinds["topic"] == {"ai"}
    assert (p.created_at, p.updated_at) == (NOW, LATER)
    assert stored(session, "b@example.org")[0].updated_at == NOW


def test_consent_activates_and_is_never_revoked_by_a_file(session: Session,
                                                          tmp_path: Path) -> None:
    load(session, write(tmp_path, row(consent="")))
    assert stored(session, "amina.diallo@example.org")[0].status == "pending"
    load(session, write(tmp_path, row(consent="2026-06-01")))
    assert stored(session, "amina.diallo@example.org")[0].status == "active"
    _added, _updated, unchanged = load(session, write(tmp_path, row(consent="")))
    p, _ = stored(session, "amina.diallo@example.org")
    assert (p.status, p.consent_date) == ("active", date(2026, 6, 1))
    assert unchanged == ["amina.diallo@example.org"]


def test_unsubscribed_participant_is_never_reactivated(session: Session,
                                                       tmp_path: Path) -> None:
    load(session, write(tmp_path, row()))
    with tx(session):
        session.execute(update(Participant).values(status="unsubscribed"))
    added, updated, unchanged = load(session, write(tmp_path, row(consent="2026-12-01")))
    assert (added, updated, unchanged) == ([], [], ["amina.diallo@example.org"])
    load(session, write(tmp_path, row(consent="2026-12-01", name="Amina D.")), LATER)
    p, _ = stored(session, "amina.diallo@example.org")
    assert (p.status, p.name, p.consent_date) == ("unsubscribed", "Amina D.", date(2026, 5, 1))


def test_bad_file_over_existing_database_writes_nothing(session: Session,
                                                        tmp_path: Path) -> None:
    load(session, write(tmp_path, row(), row(email="b@example.org")))
    before = row_counts(session)
    path = write(tmp_path, row(topics="changed"), row(email="new@example.org"),
                 row(email="c@example.org", timezone="Nowhere/Land"))
    assert errors(path) == [
        f"{path}:4: timezone: 'Nowhere/Land' is not an IANA time zone (like Europe/Paris)"]
    assert row_counts(session) == before
    assert stored(session, "amina.diallo@example.org")[1]["topic"] == {"spectrum management",
                                                                       "cybersecurity"}


def test_small_import_into_a_large_table(session: Session, tmp_path: Path) -> None:
    """Looks existing emails up a chunk at a time rather than scanning the table."""
    with tx(session):
        bulk_load_participants(session, (ParticipantRecord(email=f"p{i}@example.org")
                                         for i in range(200)), now=NOW)
    path = write(tmp_path, row(email="p7@example.org", consent=""), row(email="new@example.org"))
    assert load(session, path, LATER) == (["new@example.org"], ["p7@example.org"], [])
    assert session.scalar(select(func.count()).select_from(Participant)) == 201


def test_bulk_load_streams_and_refuses_existing_emails(session: Session) -> None:
    def records(n: int, start: int = 0) -> Iterator[ParticipantRecord]:
        for i in range(start, start + n):
            yield ParticipantRecord(email=f"p{i}@example.org", topics=("ai",),
                                    consent=date(2026, 1, 1) if i % 2 else None)

    with tx(session):
        assert bulk_load_participants(session, records(25_000), now=NOW) == 25_000
    assert session.scalar(select(func.count()).select_from(ParticipantInterest)) == 25_000
    assert session.scalar(select(func.count()).where(Participant.status == "active")) == 12_500
    with pytest.raises(IntegrityError), tx(session):
        bulk_load_participants(session, records(3, start=24_999), now=NOW)
    assert session.scalar(select(func.count()).select_from(Participant)) == 25_000


def test_bulk_rows_are_stored_exactly_as_the_orm_stores_them(session: Session) -> None:
    with tx(session):
        bulk_load_participants(session, [ParticipantRecord(email="bulk@example.org",
                                                           consent=date(2026, 1, 2))], now=NOW)
        session.add(Participant(email="orm@example.org", consent_date=date(2026, 1, 2),
                                status="active", any_topic=True, any_region=True,
                                any_mode=True, any_language=True,
                                created_at=NOW, updated_at=NOW))
    raw = session.execute(text("SELECT created_at, updated_at, consent_date, any_topic, status "
                               "FROM participants ORDER BY email")).all()
    assert raw[0] == raw[1]


def test_demo_participants_import_cleanly(session: Session) -> None:
    recs = read_participants_csv(ROOT / "demo" / "participants.csv")
    assert len(recs) == 240
    with tx(session):
        summary = import_participants(session, recs, now=NOW)
    assert len(summary.added) == 240
    with tx(session):
        again = import_participants(session, recs, now=LATER)
    assert len(again.unchanged) == 240
    active = session.scalar(select(func.count()).where(Participant.status == "active"))
    assert active == sum(1 for r in recs if r.consent)


# -- the generator ----------------------------------------------------------------------


def test_generator_is_deterministic_and_matches_the_shipped_csv() -> None:
    with (ROOT / "demo" / "participants.csv").open(encoding="utf-8", newline="") as fh:
        shipped = list(csv.DictReader(fh))
    assert shipped == list(generate(240, 2027))
    assert list(generate(50, 1)) == list(generate(50, 1))
    assert list(generate(50, 1)) != list(generate(50, 2))


def test_generator_distribution() -> None:
    rows = list(generate(5000, 11))
    emails = [r["email"] for r in rows]
    assert len(set(emails)) == len(emails)
    assert all(e.split("@")[1].endswith(("example.org", "example.net", "example.com"))
               for e in emails)
    zones = zoneinfo.available_timezones()
    assert all(r["timezone"] in COUNTRIES[r["country"]][2] and r["timezone"] in zones
               for r in rows)
    langs = Counter(r["language"] for r in rows)
    assert set(langs) == {"ar", "en", "es", "fr", "ru", "zh"}
    assert langs["en"] > langs["fr"] > langs["ar"] and langs["es"] > langs["ru"]
    topics = {t.lower() for t in course_topics()}
    assert all(t.lower() in topics for r in rows for t in r["topics"].split(";") if t)

    def share(pred: object) -> float:
        return sum(1 for r in rows if pred(r)) / len(rows)  # type: ignore[operator]

    assert 0.17 < share(lambda r: r["frequency"] == "weekly") < 0.23
    assert 0.09 < share(lambda r: not r["consent"]) < 0.15
    assert 0.2 < share(lambda r: not r["topics"]) < 0.3
    for r in rows[:500]:
        rec, errs = validate_participant(r)
        assert rec is not None, errs
