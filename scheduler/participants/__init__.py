"""Participant profiles: reading and validating them (`profiles`), inserting new ones in
bulk (`bulk_insert`), and the import that upserts them by email (`upsert`).

The public names are re-exported here: `from scheduler.participants import …` is how
callers reach them.
"""

from __future__ import annotations

from scheduler.participants.bulk_insert import bulk_load_participants
from scheduler.participants.profiles import (
    INTEREST_KINDS,
    PARTICIPANT_COLUMNS,
    ParticipantRecord,
    ParticipantValidator,
    read_participants_csv,
    validate_participant,
)
from scheduler.participants.upsert import ParticipantImportSummary, import_participants

__all__ = [
    "INTEREST_KINDS",
    "PARTICIPANT_COLUMNS",
    "ParticipantImportSummary",
    "ParticipantRecord",
    "ParticipantValidator",
    "bulk_load_participants",
    "import_participants",
    "read_participants_csv",
    "validate_participant",
]
