"""Reading a course source: a path or an http(s) URL, in CSV, JSON or iCalendar.

The format is, in order: the one asked for, the file name's extension, the HTTP
Content-Type, and finally a look at the first bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from scheduler.errors import InputError
from scheduler.ingest.csv_reader import read_courses_csv
from scheduler.ingest.download import DEFAULT_TIMEOUT, fetch
from scheduler.ingest.ical_reader import read_courses_ical
from scheduler.ingest.json_reader import read_courses_json
from scheduler.ingest.records import CourseRecord

Reader = Callable[[bytes, str], list[CourseRecord]]

READERS: dict[str, Reader] = {
    "csv": read_courses_csv,
    "json": read_courses_json,
    "ical": read_courses_ical,
}
_FORMAT_ALIASES = {"csv": "csv", "json": "json", "ical": "ical", "ics": "ical",
                   "ifb": "ical", "icalendar": "ical"}
_CONTENT_TYPES = {"text/csv": "csv", "application/csv": "csv", "application/json": "json",
                  "text/json": "json", "text/calendar": "ical", "application/ics": "ical"}


def is_url(src: str) -> bool:
    return urlsplit(src).scheme.lower() in ("http", "https")


def display_name(src: str) -> str:
    """How messages name a source: a URL loses its user info and query (they may hold
    credentials or tokens), a path stays as given."""
    if not is_url(src):
        return src
    parts = urlsplit(src)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{query}"


def read_source(
    src: str, *, fmt: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[str, list[CourseRecord]]:
    """Read and validate every course of `src`; return (name used in messages, records).

    A URL is abandoned when the whole download takes longer than `timeout` seconds.

    Raises `InputError` (one line per problem) for an unreadable source, an unknown
    format or any bad course; nothing is returned partially.
    """
    name = display_name(src)
    if fmt is not None:
        key = _FORMAT_ALIASES.get(fmt.lower())
        if key is None:
            raise InputError([f"{name}: unknown format {fmt!r} (csv, json or ical)"])
        fmt = key
    if is_url(src):
        data, content_type = fetch(src, name, timeout)
        path = urlsplit(src).path
    else:
        data, content_type, path = _read_file(src), "", src
    fmt = fmt or _by_extension(path) or _CONTENT_TYPES.get(content_type) or _sniff(data)
    return name, READERS[fmt](data, name)


def _read_file(src: str) -> bytes:
    path = Path(src)
    try:
        if path.is_dir():
            raise InputError([f"{src}: is a directory, not a course file"])
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError([f"{src}: no such file"]) from None
    except OSError as exc:
        raise InputError([f"{src}: cannot read: {exc.strerror or exc}"]) from None


def _by_extension(path: str) -> str | None:
    suffix = Path(path).suffix.lower().lstrip(".")
    return _FORMAT_ALIASES.get(suffix)


def _sniff(data: bytes) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"[", b"{"):
        return "json"
    if head[:15].upper() == b"BEGIN:VCALENDAR":
        return "ical"
    return "csv"
