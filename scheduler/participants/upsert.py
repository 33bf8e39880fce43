"""Importing participant profiles: upsert by email in bulk, keeping the status rules.

A participant is `active` once consent is recorded (in the file, or already in the
database: a file without a consent date never revokes consent given, say, through the web
form's double opt-in), `pending` otherwise; an `unsubscribed` participant stays
unsubscribed whatever a file says; an erased person is never imported again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from scheduler.models import Participant, ParticipantInterest, ParticipantStatus
from scheduler.participants.bulk_insert import (
    CHUNK,
    insert_interests,
    insert_new,
    record_masks,
    stored_columns,
)
from scheduler.participants.profiles import ParticipantRecord

IN_CHUNK = 900  # values per IN (...) list: under SQLite's oldest 999-parameter limit


@dataclass
class ParticipantImportSummary:
    """Emails by what the import did to them."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Addresses of erased people (a hashed suppression entry): never imported again."""


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
    return stored_columns(record, status, consent)


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
        insert_new(session, new, now)
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
    masks = record_masks(session, [rec for _pid, rec, _row in changed])
    session.execute(update(Participant), [
        {"id": pid, **{c: row[c] for c in _COMPARED}, **mask, "updated_at": now}
        for (pid, _rec, row), mask in zip(changed, masks, strict=True)])
    ids = [pid for pid, _rec, _row in changed]
    for j in range(0, len(ids), IN_CHUNK):
        session.execute(delete(ParticipantInterest).where(
            ParticipantInterest.participant_id.in_(ids[j : j + IN_CHUNK])))
    insert_interests(session, ((pid, rec) for pid, rec, _row in changed))
