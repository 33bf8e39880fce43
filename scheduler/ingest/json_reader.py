"""Courses from JSON: a list of objects with the CSV's fields (topics, languages as lists)."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.errors import InputError
from scheduler.ingest.csvfile import decode_utf8
from scheduler.ingest.records import CourseRecord, Problems, UniqueIds, build_course
from scheduler.ingest.safe_parse import raw_decode

_WS = " \t\n\r"


def _items(text: str, name: str) -> Iterator[tuple[int, object]]:
    """The top-level array's items with the line each starts on.

    The array is scanned item by item with `raw_decode` so every course can be reported
    at its own line, which `json.loads` would forget.
    """
    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WS:
            i += 1
        return i

    def line_of(i: int) -> int:
        return text.count("\n", 0, i) + 1

    def fail(i: int, reason: str) -> InputError:
        return InputError([f"{name}:{line_of(i)}: {reason}"])

    i = skip(0)
    if i == len(text):
        raise InputError([f"{name}: empty file (expected a JSON list of courses)"])
    if text[i] != "[":
        raise fail(i, "expected a JSON list of course objects")
    i = skip(i + 1)
    if i < len(text) and text[i] == "]":
        i += 1
    else:
        while True:
            value, end = raw_decode(text, i, name, line_of(i))
            yield line_of(i), value
            i = skip(end)
            if i < len(text) and text[i] == ",":
                i = skip(i + 1)
                continue
            if i < len(text) and text[i] == "]":
                i += 1
                break
            raise fail(i, "invalid JSON: expected ',' or ']' after a list item")
    if skip(i) != len(text):
        raise fail(skip(i), "invalid JSON: extra data after the list")


def read_courses_json(data: bytes, name: str) -> list[CourseRecord]:
    """Parse and validate a courses JSON file; raise `InputError` listing every bad item.

    Items are reported as `FILE:LINE: item N: FIELD: reason` (N counts from 1, LINE is
    where the item's object starts).
    """
    text = decode_utf8(data, name)
    problems = Problems()
    records: list[CourseRecord] = []
    ids = UniqueIds()
    for n, (line, item) in enumerate(_items(text, name), start=1):
        where = f"{name}:{line}: item {n}"
        if not isinstance(item, dict):
            problems.add(where, None, f"expected an object, got {type(item).__name__}")
            continue
        if type(item.get("id")) is int:
            item["id"] = str(item["id"])  # numeric ids are common in JSON feeds
        record = build_course(item, where, problems)
        if ids.check(item.get("id"), where, f"item {n} (line {line})", problems) and record:
            records.append(record)
    problems.raise_if_any()
    return records
