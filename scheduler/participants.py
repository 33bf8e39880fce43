"""Participant profiles: validation, the CSV import, and bulk writes that scale to millions.

CSV columns: `email,name,language,country,timezone,topics,regions,languages,modes,
frequency,consent` (DESIGN.md "Input formats"). Lists are `;`-separated. Interests are
stored as normalised keys (trimmed, lower case) in `participant_interests`, and each
`any_*` flag says the participant left that dimension open.

Status rules: a participant is `active` once consent is recorded (in the file, or
already in the database: a file without a consent date never revokes consent given,
say, through the web form's double opt-in), `pending` otherwise; an `unsubscribed`
participant stays unsubscribed whatever a file says.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from scheduler.errors import InputError
from scheduler.ingest import fields as f
from scheduler.ingest.csvfile import CsvRows, utf8_lines
from scheduler.ingest.records import Problems
from scheduler.models import Participant, ParticipantInterest, ParticipantStatus

PARTICIPANT_COLUMNS = ("email", "name", "language", "country", "timezone", "topics",
                       "regions", "languages", "modes", "frequency", "consent")
INTEREST_KINDS = ("topic", "region", "language", "mode")
CHUNK = 10_000  # rows per executemany
IN_CHUNK = 900  # values per IN (...) list: under SQLite's oldest 999-parameter limit


@dataclass(frozen=True, slots=True)
class ParticipantRecord:
    """One validated profile; list fields hold matching keys (trimmed, lower case)."""

    email: str
    name: str = ""
    language: str = "en"
    country: str = ""
    timezone: str = "UTC"
    topics: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    frequency: str = "immediate"
    consent: date | None = None

    def interests(self) -> Iterator[tuple[str, str]]:
        """(kind, value) for each interest row."""
        for kind, values in (("topic", self.topics), ("region", self.regions),
                             ("language", self.languages), ("mode", self.modes)):
            for value in values:
                yield kind, value


@dataclass
class ParticipantImportSummary:
    """Emails by what the import did to them."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Addresses of erased people (a hashed suppression entry): never imported again."""


def _keys(parse: Callable[[str], str]) -> Callable[[object], tuple[str, ...]]:
    def parse_all(value: object) -> tuple[str, ...]:
        return tuple(dict.fromkeys(sys.intern(parse(item)) for item in f.split_list(value)))
    return parse_all


def _topic_key(item: str) -> str:
    if len(item) > 200:
        raise f.FieldError(f"topic {f.show(item)} is longer than 200 characters")
    return f.norm(item)


def _consent(value: object) -> date | None:
    # Form tools export timestamps; the day is what counts.
    if isinstance(value, str) and len(value.strip()) > 10 and value.strip()[10] in "T ":
        value = value.strip()[:10]
    return f.iso_date(value, required=False)


# column -> parser; every column except email and name repeats a lot across rows, so
# parsed values are cached by raw text (fast, and one shared object per distinct value).
_PARSERS: dict[str, Callable[[object], Any]] = {
    "language": lambda v: f.language(v) if str(v or "").strip() else "en",
    "country": lambda v: sys.intern(f.text(v, max_len=100)),
    "timezone": lambda v: f.timezone(v),
    "topics": _keys(_topic_key),
    "regions": _keys(lambda v: f.norm(f.region(v))),
    "languages": _keys(f.language),
    "modes": _keys(f.mode),
    "frequency": lambda v: f.choice(v, f.FREQUENCIES, default="immediate"),
    "consent": _consent,
}


class ParticipantValidator:
    """Validates rows into records, caching the parse of repeated cells."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[object, tuple[bool, Any]]] = {k: {} for k in _PARSERS}

    def validate(
        self, row: Mapping[str, object]
    ) -> tuple[ParticipantRecord | None, list[tuple[str, str]]]:
        """The record, or None and the (field, reason) of every bad field."""
        errors: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        try:
            values["email"] = f.email(row.get("email"))
        except f.FieldError as exc:
            errors.append(("email", str(exc)))
        try:
            values["name"] = f.text(row.get("name"), max_len=f.NAME_MAX)
        except f.FieldError as exc:
            errors.append(("name", str(exc)))
        for col, parse in _PARSERS.items():
            raw = row.get(col)
            cache = self._cache[col]
            try:
                ok, value = cache[raw]
            except (KeyError, TypeError):  # TypeError: an unhashable value (a form's list)
                try:
                    ok, value = True, parse(raw)
                except f.FieldError as exc:
                    ok, value = False, str(exc)
                if isinstance(raw, str | None) and len(cache) < 100_000:
                    cache[raw] = (ok, value)
            if ok:
                values[col] = value
            else:
                errors.append((col, value))
        if errors:
            return None, errors
        return ParticipantRecord(**values), []


# Parsing is pure, so one cache serves every caller (a benchmark's million rows included).
_SHARED = ParticipantValidator()


def validate_participant(
    row: Mapping[str, object],
) -> tuple[ParticipantRecord | None, list[tuple[str, str]]]:
    """Validate one profile (a CSV row, a web form): the record, or (field, reason)s."""
    return _SHARED.validate(row)


def _email_or_none(value: object) -> str | None:
    try:
        return f.email(value)
    except f.FieldError:
        return None


def read_participants_csv(path: str | Path) -> list[ParticipantRecord]:
    """Read and validate a participants CSV; raise `InputError` listing every bad row
    (`FILE:LINE: FIELD: reason`, header = line 1), a repeated email included."""
    name = str(path)
    try:
        fh = Path(path).open("rb")  # noqa: SIM115 (closed below; the open is what can fail)
    except FileNotFoundError:
        raise InputError([f"{name}: no such file"]) from None
    except OSError as exc:
        raise InputError([f"{name}: cannot read: {exc.strerror or exc}"]) from None
    with fh:
        return _read_rows(CsvRows(utf8_lines(fh, name), name, PARTICIPANT_COLUMNS, Problems()))


def _read_rows(rows: CsvRows) -> list[ParticipantRecord]:
    name, problems = rows.name, rows.problems
    validator = ParticipantValidator()
    first_line: dict[str, int] = {}
    records: list[ParticipantRecord] = []
    for line, row in rows:
        record, errors = validator.validate(row)
        where = f"{name}:{line}"
        for col, reason in errors:
            problems.add(where, col, reason)
        email = record.email if record else _email_or_none(row.get("email"))
        earlier = first_line.setdefault(email, line) if email else line
        if earlier != line:
            problems.add(where, "email", f"duplicate address {email!r} "
                         f"(first at line {earlier})")
        elif record is not None and not problems:
            records.append(record)  # once a row is bad, only errors are worth collecting
    problems.raise_if_any()
    return records


def _status(record: ParticipantRecord) -> str:
    return (ParticipantStatus.ACTIVE if record.consent else ParticipantStatus.PENDING).value


def _row(record: ParticipantRecord, status: str, consent: date | None) -> dict[str, Any]:
    """The participants columns of a record (ids and timestamps added by the caller)."""
    return {
        "email": record.email, "name": record.name, "language": record.language,
        "country": record.country, "timezone": record.timezone,
        "frequency": record.frequency, "status": status, "consent_date": consent,
        "any_topic": not record.topics, "any_region": not record.regions,
        "any_mode": not record.modes, "any_language": not record.languages,
    }


def _memoised(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            return memo[value]
        except KeyError:
            memo[value] = out = proc(value)
            return out

    return convert


def _executemany(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) with one DBAPI executemany.

    Each column's bind processor is applied here, once per distinct value, instead of by
    SQLAlchemy per row and column: the same stored form at about half the CPU, which
    matters at a million rows.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    procs = {k: table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys}
    converters = [(key, _memoised(proc)) for key, proc in procs.items() if proc is not None]
    for row in rows:
        for key, convert in converters:
            row[key] = convert(row[key])
    if compiled.positional:
        order = compiled.positiontup or []
        conn.exec_driver_sql(compiled.string, [tuple(row[k] for k in order) for row in rows])
    else:
        conn.exec_driver_sql(compiled.string, rows)


def _insert_interests(session: Session, pairs: Iterable[tuple[int, ParticipantRecord]]) -> None:
    table = cast(Table, ParticipantInterest.__table__)
    batch: list[dict[str, Any]] = []
    for pid, record in pairs:
        batch.extend({"participant_id": pid, "kind": kind, "value": value}
                     for kind, value in record.interests())
        if len(batch) >= CHUNK:
            _executemany(session, table, batch)
            batch = []
    _executemany(session, table, batch)


def _insert_new(session: Session, records: Sequence[ParticipantRecord], now: datetime) -> None:
    """Insert participants not yet in the database, with their interests, in bulk.

    A plain executemany (the ORM's per-row RETURNING path is two orders of magnitude
    slower); the new ids are then read back by id range and matched by email, which
    stays right even when another writer inserts in between.
    """
    table = cast(Table, Participant.__table__)
    for i in range(0, len(records), CHUNK):
        part = records[i : i + CHUNK]
        floor = session.scalar(select(func.max(Participant.id))) or 0
        _executemany(session, table, [
            {**_row(r, _status(r), r.consent), "created_at": now, "updated_at": now}
            for r in part])
        ids: dict[str, int] = {
            email: pid for email, pid in session.execute(
                select(Participant.email, Participant.id).where(Participant.id > floor))}
        _insert_interests(session, ((ids[r.email], r) for r in part))


def bulk_load_participants(
    session: Session, records: Iterable[ParticipantRecord], *, now: datetime
) -> int:
    """Insert profiles known to be new, streaming `records` in chunks (a generator of
    millions is fine); return how many. An email already stored fails the statement
    (IntegrityError): use `import_participants` to update. Runs in the caller's
    transaction."""
    total = 0
    chunk: list[ParticipantRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= CHUNK:
            _insert_new(session, chunk, now)
            total += len(chunk)
            chunk = []
    if chunk:
        _insert_new(session, chunk, now)
        total += len(chunk)
    return total


_COMPARED = ("name", "language", "country", "timezone", "frequency", "status", "consent_date",
             "any_topic", "any_region", "any_mode", "any_language")


def _existing(session: Session, emails: Sequence[str]) -> dict[str, Any]:
    """The stored rows (id, email and the compared columns) of these emails, by email."""
    cols = [Participant.id, Participant.email, *(getattr(Participant, c) for c in _COMPARED)]
    found: dict[str, Any] = {}
    for i in range(0, len(emails), IN_CHUNK):
        query = select(*cols).where(Participant.email.in_(emails[i : i + IN_CHUNK]))
        found.update((row.email, row) for row in session.execute(query))
    return found


def _interests_of(session: Session, ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {pid: set() for pid in ids}
    cols = (ParticipantInterest.participant_id, ParticipantInterest.kind,
            ParticipantInterest.value)
    for i in range(0, len(ids), IN_CHUNK):
        query = select(*cols).where(ParticipantInterest.participant_id.in_(ids[i : i + IN_CHUNK]))
        for pid, kind, value in session.execute(query):
            out[pid].add((kind, value))
    return out


def _target(record: ParticipantRecord, old: Any) -> dict[str, Any]:
    """The compared columns a stored participant should have after importing `record`."""
    if old.status == ParticipantStatus.UNSUBSCRIBED.value:
        status, consent = old.status, old.consent_date
    elif record.consent or old.status == ParticipantStatus.ACTIVE.value:
        status, consent = ParticipantStatus.ACTIVE.value, record.consent or old.consent_date
    else:
        status, consent = ParticipantStatus.PENDING.value, None
    return _row(record, status, consent)


def import_participants(
    session: Session, records: Sequence[ParticipantRecord], *, now: datetime,
    on_rows: Callable[[int], None] | None = None,
) -> ParticipantImportSummary:
    """Upsert profiles by email (records validated, emails unique), in bulk.

    New profiles are inserted `active` when they carry consent, else `pending`; a stored
    profile is updated only where something differs. Status never goes back from
    `active` to `pending`, nor from `unsubscribed` to anything. Works a chunk of records
    at a time, so memory stays flat whatever the file's size. Runs in the caller's
    transaction and only flushes. `on_rows(n)` (progress) is told of each chunk written.
    """
    emails = [r.email for r in records]
    if len(set(emails)) != len(emails):
        raise ValueError("participant records must have unique emails")
    summary = ParticipantImportSummary()
    erased = _erased(session, emails)
    del emails
    if erased:
        summary.skipped = [r.email for r in records if r.email in erased]
        records = [r for r in records if r.email not in erased]
    # Into an empty table (a first load) nothing can exist: skip every lookup.
    empty = session.scalar(select(Participant.id).limit(1)) is None
    for i in range(0, len(records), CHUNK):
        part = records[i : i + CHUNK]
        existing = {} if empty else _existing(session, [r.email for r in part])
        stored = _interests_of(session, [row.id for row in existing.values()])
        new: list[ParticipantRecord] = []
        changed: list[tuple[int, ParticipantRecord, dict[str, Any]]] = []
        for record in part:
            old = existing.get(record.email)
            if old is None:
                new.append(record)
                summary.added.append(record.email)
                continue
            row = _target(record, old)
            if (all(getattr(old, c) == row[c] for c in _COMPARED)
                    and stored[old.id] == set(record.interests())):
                summary.unchanged.append(record.email)
            else:
                changed.append((old.id, record, row))
                summary.updated.append(record.email)
        _insert_new(session, new, now)
        _update(session, changed, now)
        if on_rows is not None:
            on_rows(len(part))
    session.flush()
    return summary


def _erased(session: Session, emails: Sequence[str]) -> set[str]:
    """The addresses among `emails` that an erasure's hashed suppression entry names."""
    from scheduler.models import Suppression
    from scheduler.privacy import HASH_PREFIX, address_hash

    if session.scalar(select(Suppression.email).where(
            Suppression.email.startswith(HASH_PREFIX)).limit(1)) is None:
        return set()
    by_hash = {address_hash(e): e for e in emails}
    hashes = list(by_hash)
    found: set[str] = set()
    for i in range(0, len(hashes), IN_CHUNK):
        found.update(by_hash[h] for h in session.scalars(select(Suppression.email).where(
            Suppression.email.in_(hashes[i : i + IN_CHUNK]))))
    return found


def _update(session: Session, changed: Sequence[tuple[int, ParticipantRecord, dict[str, Any]]],
            now: datetime) -> None:
    if not changed:
        return
    session.execute(update(Participant), [
        {"id": pid, **{c: row[c] for c in _COMPARED}, "updated_at": now}
        for pid, _rec, row in changed])
    ids = [pid for pid, _rec, _row in changed]
    for j in range(0, len(ids), IN_CHUNK):
        session.execute(delete(ParticipantInterest).where(
            ParticipantInterest.participant_id.in_(ids[j : j + IN_CHUNK])))
    _insert_interests(session, ((pid, rec) for pid, rec, _row in changed))
