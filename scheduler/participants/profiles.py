"""Reading and validating participant profiles: one row (a CSV line, a web form) into a
`ParticipantRecord`, and a whole participants CSV with every bad row located.

CSV columns: `email,name,language,country,timezone,topics,regions,languages,modes,
frequency,consent` (DESIGN.md "Input formats"). Lists are `;`-separated; interests are kept
as normalised keys (trimmed, lower case).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scheduler.errors import InputError
from scheduler.ingest import fields as f
from scheduler.ingest.csvfile import CsvRows, utf8_lines
from scheduler.ingest.records import Problems

PARTICIPANT_COLUMNS = ("email", "name", "language", "country", "timezone", "topics",
                       "regions", "languages", "modes", "frequency", "consent")
INTEREST_KINDS = ("topic", "region", "language", "mode")


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
