"""The validated course record every reader produces, and the one validator they share."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from scheduler.errors import InputError
from scheduler.ingest import fields as f

COURSE_COLUMNS = (
    "id", "title", "coe", "country", "region", "topics", "languages", "mode", "location",
    "start_date", "end_date", "registration_deadline", "fee_usd", "url",
)
OPTIONAL_COLUMNS = ("status", "description")
STATUSES = ("open", "cancelled")
_STATUS_ALIASES = {"open": "open", "cancelled": "cancelled", "canceled": "cancelled"}


@dataclass(frozen=True)
class CourseRecord:
    """One course as a source states it, validated and normalised."""

    id: str
    title: str
    coe: str
    country: str
    region: str
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    mode: str
    location: str
    start_date: date
    end_date: date
    registration_deadline: date
    fee_usd: float | None
    url: str
    status: str = "open"
    description: str = ""

    def content_hash(self) -> str:
        """sha256 of a canonical JSON of every field: equal hashes mean nothing changed."""
        data = asdict(self)
        for key in ("start_date", "end_date", "registration_deadline"):
            data[key] = data[key].isoformat()
        data["topics"] = list(self.topics)
        data["languages"] = list(self.languages)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @classmethod
    def of_stored(cls, course: Any) -> CourseRecord:
        """The record of a stored course (a `models.Course` row), its columns as stored."""
        return cls(
            id=course.id, title=course.title, coe=course.coe, country=course.country or "",
            region=course.region, topics=tuple(course.topics or ()),
            languages=tuple(course.languages or ()), mode=course.mode,
            location=course.location or "", start_date=course.start_date,
            end_date=course.end_date, registration_deadline=course.registration_deadline,
            fee_usd=course.fee_usd, url=course.url, status=course.status,
            description=course.description or "",
        )

    @property
    def topic_keys(self) -> tuple[str, ...]:
        """The topics as matching compares them."""
        return tuple(dict.fromkeys(f.norm(t) for t in self.topics))


def _status(value: object) -> str:
    raw = f.text(value)
    if not raw:
        return "open"
    found = _STATUS_ALIASES.get(raw.casefold())
    if found is None:
        raise f.FieldError(f"{f.show(raw)} is not a status (open or cancelled)")
    return found


# field -> parser of its raw value; the order is the order errors are reported in.
_PARSERS: dict[str, Callable[[object], Any]] = {
    "id": lambda v: f.text(v, required=True, max_len=100),
    "title": lambda v: f.text(v, required=True, max_len=f.TITLE_MAX),
    "coe": lambda v: f.text(v, required=True, max_len=f.NAME_MAX),
    "country": lambda v: f.text(v, max_len=100),
    "region": f.region,
    "topics": f.topics,
    "languages": lambda v: f.languages(v, required=True),
    "mode": f.mode,
    "location": lambda v: f.text(v, max_len=f.NAME_MAX),
    "start_date": f.iso_date,
    "end_date": f.iso_date,
    "registration_deadline": f.iso_date,
    "fee_usd": f.fee,
    "url": f.url,
    "status": _status,
    "description": lambda v: f.text(v, single_line=False, max_len=f.DESCRIPTION_MAX),
}


class Problems:
    """Collects `WHERE: FIELD: reason` lines so a reader can report every bad row at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, field: str | None, reason: str) -> None:
        self.lines.append(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_if_any(self) -> None:
        if self.lines:
            raise InputError(self.lines)


def build_course(
    raw: Mapping[str, object],
    where: str,
    problems: Problems,
    labels: Mapping[str, str] | None = None,
) -> CourseRecord | None:
    """Validate one source row; report each bad field to `problems` and return None if any.

    `raw` maps course field names to values as the reader found them (a missing key is
    an empty value); `labels` renames fields in messages (an iCalendar property name).
    """
    labels = labels or {}
    values: dict[str, Any] = {}
    ok = True
    for name, parse in _PARSERS.items():
        try:
            values[name] = parse(raw.get(name))
        except f.FieldError as exc:
            problems.add(where, labels.get(name, name), "is missing" if name not in raw
                         else str(exc))
            ok = False
    if not ok:
        return None
    deadline, start, end = (
        values["registration_deadline"], values["start_date"], values["end_date"])
    if values["mode"] == "online_self_paced":
        # Self-paced courses enrol on a rolling basis: the deadline may fall after the
        # start (the demo catalogue has several), but not after the end.
        if deadline > end:
            problems.add(where, labels.get("registration_deadline", "registration_deadline"),
                         f"{deadline} is after end_date {end}")
            ok = False
    elif deadline > start:
        problems.add(where, labels.get("registration_deadline", "registration_deadline"),
                     f"{deadline} is after start_date {start}")
        ok = False
    if start > end:
        problems.add(where, labels.get("end_date", "end_date"),
                     f"{end} is before start_date {start}")
        ok = False
    return CourseRecord(**values) if ok else None


class UniqueIds:
    """Reports a course id seen earlier in the same source (valid rows or not)."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}

    def check(self, raw_id: object, where: str, first_label: str,
              problems: Problems, label: str = "id") -> bool:
        """False (and a problem reported) when `raw_id` was seen before."""
        if not isinstance(raw_id, str) or not raw_id.strip():
            return True  # an empty or non-text id is reported by the id parser
        key = raw_id.strip()
        earlier = self._first.get(key)
        if earlier is not None:
            problems.add(where, label, f"duplicate id {f.show(key)} (first at {earlier})")
            return False
        self._first[key] = first_label
        return True
