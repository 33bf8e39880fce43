"""Courses JSON: a list of objects; problems name the line where the item starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.errors import InputError
from scheduler.ingest.json_reader import read_courses_json
from tests.ingest.conftest import GOOD


def item(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {**GOOD, "topics": ["spectrum management", "Policy and Regulation"],
                            "languages": ["en", "fr"], "fee_usd": 400}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def dump(items: list[Any]) -> bytes:
    return json.dumps(items, indent=2, ensure_ascii=False).encode("utf-8")


def errors(data: bytes) -> list[str]:
    with pytest.raises(InputError) as info:
        read_courses_json(data, "courses.json")
    return info.value.errors


def line_of_item(data: bytes, n: int) -> int:
    """The line of the n-th (1-based) item's opening brace in `dump` output."""
    lines = data.decode().splitlines()
    starts = [i + 1 for i, ln in enumerate(lines) if ln == "  {"]
    return starts[n - 1]


def test_reads_the_same_fields_as_csv() -> None:
    [rec] = read_courses_json(dump([item(status="cancelled", description="About\nit",
                                         fee_usd=None)]), "c.json")
    assert rec.id == "T-1"
    assert rec.topics == ("spectrum management", "Policy and Regulation")
    assert rec.languages == ("en", "fr")
    assert rec.fee_usd is None
    assert rec.status == "cancelled"
    assert rec.description == "About\nit"


def test_numeric_id_and_fee_and_semicolon_lists_are_accepted() -> None:
    [rec] = read_courses_json(dump([item(id=42, fee_usd=99.5, languages="en;es")]), "c.json")
    assert (rec.id, rec.fee_usd, rec.languages) == ("42", 99.5, ("en", "es"))


def test_bad_items_are_reported_at_their_line_with_index() -> None:
    data = dump([item(id="A"), item(id="B", region="Mars", languages=[]),
                 item(id="C", start_date="2027-3-1")])
    assert errors(data) == [
        f"courses.json:{line_of_item(data, 2)}: item 2: region: 'Mars' is not a region "
        "(one of Africa, Americas, Arab States, Asia-Pacific, CIS, Europe)",
        f"courses.json:{line_of_item(data, 2)}: item 2: languages: is empty (at least one "
        "language code is needed)",
        f"courses.json:{line_of_item(data, 3)}: item 3: start_date: '2027-3-1' is not a date "
        "(YYYY-MM-DD)",
    ]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"url": ...}, "url: is missing"),
        ({"title": None}, "title: is empty"),
        ({"title": 5}, "title: expected text, got 5"),
        ({"topics": 5}, "topics: expected a list, got 5"),
        ({"topics": ["ok", 3]}, "topics: expected a list of strings, got the item 3"),
        ({"fee_usd": -1}, "fee_usd: -1 is not a non-negative amount"),
        ({"fee_usd": True}, "fee_usd: True is not an amount"),
        ({"fee_usd": "free"}, "fee_usd: 'free' is not an amount (a number like 400 or 99.50)"),
        ({"registration_deadline": "2027-03-09"},
         "registration_deadline: 2027-03-09 is after start_date 2027-03-01"),
    ],
)
def test_field_rules(overrides: dict[str, Any], reason: str) -> None:
    data = dump([item(**overrides)])
    assert errors(data) == [f"courses.json:2: item 1: {reason}"]


def test_duplicate_id() -> None:
    data = dump([item(id="A"), item(id="A")])
    assert errors(data) == [
        f"courses.json:{line_of_item(data, 2)}: item 2: id: duplicate id 'A' "
        "(first at item 1 (line 2))"]


def test_item_that_is_not_an_object() -> None:
    data = dump([item(), ["x"]])
    assert errors(data) == [f"courses.json:{len(data.splitlines()) - 3}: item 2: "
                            "expected an object, got list"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "courses.json: empty file (expected a JSON list of courses)"),
        (b'{"courses": []}', "courses.json:1: expected a JSON list of course objects"),
        (b'[\n  {"id": "A",}\n]', "courses.json:2: invalid JSON: Expecting property name "
                                  "enclosed in double quotes"),
        (b'[\n  {"id": "A"}\n  {"id": "B"}\n]',
         "courses.json:3: invalid JSON: expected ',' or ']' after a list item"),
        (b"[]\n[]", "courses.json:2: invalid JSON: extra data after the list"),
        (b"[\n", "courses.json:2: invalid JSON: Expecting value"),
        (b'[{"title": "Caf\xe9"}]', "courses.json:1: not UTF-8 text (byte 0xe9 at column 16); "
                                    "save the file as UTF-8"),
    ],
)
def test_structure_errors(data: bytes, expected: str) -> None:
    assert errors(data) == [expected]


def test_empty_list_and_bom() -> None:
    assert read_courses_json(b" [ ] ", "c.json") == []
    assert len(read_courses_json(b"\xef\xbb\xbf" + dump([item()]), "c.json")) == 1
