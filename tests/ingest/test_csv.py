"""Courses CSV: every validation rule reports the file's line, the field and the reason."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.errors import InputError
from scheduler.ingest.csv_reader import read_courses_csv
from scheduler.ingest.records import CourseRecord
from tests.ingest.conftest import GOOD, HEADER, course_csv, csv_row


def errors(data: bytes, name: str = "courses.csv") -> list[str]:
    with pytest.raises(InputError) as info:
        read_courses_csv(data, name)
    return info.value.errors


def test_good_row_is_normalised() -> None:
    row = csv_row(region="arab states", mode="Blended", languages=" EN ; ;fr;en",
                  topics=" Spectrum  management ;;spectrum management ")
    [rec] = read_courses_csv(course_csv(row), "c.csv")
    assert rec.region == "Arab States"
    assert rec.mode == "blended"
    assert rec.languages == ("en", "fr")
    assert rec.topics == ("Spectrum management",)
    assert rec.topic_keys == ("spectrum management",)
    assert rec.start_date == date(2027, 3, 1)
    assert rec.fee_usd == 400.0
    assert rec.status == "open"
    assert rec.description == ""


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"region": "Mars"}, "region: 'Mars' is not a region (one of Africa, Americas, "
                             "Arab States, Asia-Pacific, CIS, Europe)"),
        ({"region": ""}, "region: is empty"),
        ({"mode": "in person"}, "mode: 'in person' is not a mode (one of online_instructor, "
                                "online_self_paced, face_to_face, blended)"),
        ({"languages": "english"}, "languages: 'english' is not an ISO 639-1 language code "
                                   "(like en, fr, zh)"),
        ({"languages": "en;xx"}, "languages: 'xx' is not an ISO 639-1 language code "
                                 "(like en, fr, zh)"),
        ({"languages": " ; "}, "languages: is empty (at least one language code is needed)"),
        ({"start_date": "2027-13-01"}, "start_date: '2027-13-01' is not a date (YYYY-MM-DD)"),
        ({"end_date": "05/03/2027"}, "end_date: '05/03/2027' is not a date (YYYY-MM-DD)"),
        ({"registration_deadline": "20270215"},
         "registration_deadline: '20270215' is not a date (YYYY-MM-DD)"),
        ({"registration_deadline": "2027-03-02"},
         "registration_deadline: 2027-03-02 is after start_date 2027-03-01"),
        ({"end_date": "2027-02-28"}, "end_date: 2027-02-28 is before start_date 2027-03-01"),
        ({"url": "ftp://example.org/x"}, "url: 'ftp://example.org/x' is not an http(s) URL"),
        ({"url": "academy.example.org/c/1"},
         "url: 'academy.example.org/c/1' is not an http(s) URL"),
        ({"url": ""}, "url: is empty"),
        ({"fee_usd": "-5"}, "fee_usd: '-5' is not an amount (a number like 400 or 99.50)"),
        ({"fee_usd": "USD 400"},
         "fee_usd: 'USD 400' is not an amount (a number like 400 or 99.50)"),
        ({"id": ""}, "id: is empty"),
        ({"id": "x" * 101}, "id: is 101 characters long (at most 100)"),
        ({"title": "  "}, "title: is empty"),
        ({"coe": ""}, "coe: is empty"),
        ({"title": "bad\x07bell"}, "title: contains a control character"),
    ],
)
def test_each_rule_names_line_and_field(overrides: dict[str, str], line: str) -> None:
    data = course_csv(csv_row(id="T-0"), csv_row(**overrides))
    assert errors(data) == [f"courses.csv:3: {line}"]


def test_every_bad_field_of_every_bad_row_is_reported() -> None:
    data = course_csv(
        csv_row(id="A", region="Mars", mode="x"),
        csv_row(id="B"),
        csv_row(id="C", start_date="2027-02-30"),
    )
    assert errors(data) == [
        "courses.csv:2: region: 'Mars' is not a region (one of Africa, Americas, Arab States, "
        "Asia-Pacific, CIS, Europe)",
        "courses.csv:2: mode: 'x' is not a mode (one of online_instructor, online_self_paced, "
        "face_to_face, blended)",
        "courses.csv:4: start_date: '2027-02-30' is not a date (YYYY-MM-DD)",
    ]


def test_empty_fee_is_none_and_zero_is_free() -> None:
    recs = read_courses_csv(course_csv(csv_row(id="A", fee_usd=""), csv_row(id="B", fee_usd="0"),
                                       csv_row(id="C", fee_usd="99.5")), "c.csv")
    assert [r.fee_usd for r in recs] == [None, 0.0, 99.5]


def test_self_paced_may_enrol_after_start_but_not_after_end() -> None:
    ok = csv_row(id="A", mode="online_self_paced", start_date="2027-01-15",
                 end_date="2027-12-15", registration_deadline="2027-11-30")
    [rec] = read_courses_csv(course_csv(ok), "c.csv")
    assert rec.registration_deadline == date(2027, 11, 30)
    late = csv_row(id="B", mode="online_self_paced", start_date="2027-01-15",
                   end_date="2027-12-15", registration_deadline="2027-12-16")
    assert errors(course_csv(late)) == [
        "courses.csv:2: registration_deadline: 2027-12-16 is after end_date 2027-12-15"]


def test_duplicate_id_reported_on_the_second_line() -> None:
    data = course_csv(csv_row(id="A"), csv_row(id="B"), csv_row(id="A", title="Other"))
    assert errors(data) == ["courses.csv:4: id: duplicate id 'A' (first at line 2)"]


def test_missing_columns_each_named_in_the_header() -> None:
    header = HEADER.replace(",url", "").replace(",mode", "")
    assert errors(course_csv("x", header=header)) == [
        "courses.csv:1: header: missing column 'mode'",
        "courses.csv:1: header: missing column 'url'",
    ]


def test_header_is_case_and_space_insensitive_and_extra_columns_ignored() -> None:
    header = " ID ," + HEADER.split(",", 1)[1].upper() + ",internal_note"
    [rec] = read_courses_csv(course_csv(csv_row() + ",ignore me", header=header), "c.csv")
    assert rec.id == "T-1"


def test_column_named_twice() -> None:
    assert errors(course_csv(csv_row() + ",x", header=HEADER + ",title")) == [
        "courses.csv:1: header: column 'title' appears twice"]


def test_status_and_description_optional_columns() -> None:
    header = HEADER + ",status,description"
    data = course_csv(csv_row(id="A") + ',cancelled,"Two\nlines"',
                      csv_row(id="B") + ",Canceled,",
                      csv_row(id="C") + ",,",
                      csv_row(id="D") + ",closed,", header=header)
    assert errors(data) == ["courses.csv:6: status: 'closed' is not a status (open or cancelled)"]
    recs = read_courses_csv(course_csv(*[csv_row(id=i) + s for i, s in
                                         (("A", ',cancelled,"Two\nlines"'), ("B", ",Canceled,"),
                                          ("C", ",,"))], header=header), "c.csv")
    assert [r.status for r in recs] == ["cancelled", "cancelled", "open"]
    assert recs[0].description == "Two\nlines"


def test_bom_is_tolerated() -> None:
    [rec] = read_courses_csv(b"\xef\xbb\xbf" + course_csv(csv_row()), "c.csv")
    assert rec.id == "T-1"


def test_bad_utf8_names_the_line() -> None:
    data = course_csv(csv_row(id="A"), csv_row(id="B", title="CafX"))
    data = data.replace(b"CafX", b"Caf\xe9")
    assert errors(data) == [
        "courses.csv:3: not UTF-8 text (byte 0xe9 at column 6); save the file as UTF-8"]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_file(data: bytes) -> None:
    assert errors(data) == [f"courses.csv: empty file (expected a header row: {HEADER})"]


def test_header_only_is_an_empty_catalogue() -> None:
    assert read_courses_csv(course_csv(), "c.csv") == []


def test_line_numbers_count_multiline_fields_and_blank_lines() -> None:
    title = '"A title\nthat spans\nthree lines"'
    data = course_csv(csv_row(id="A", title=title), "", csv_row(id="B", region="Nowhere"))
    assert errors(data) == [
        "courses.csv:6: region: 'Nowhere' is not a region (one of Africa, Americas, "
        "Arab States, Asia-Pacific, CIS, Europe)"]


def test_crlf_line_endings() -> None:
    data = course_csv(csv_row(id="A"), csv_row(id="B", mode="x")).replace(b"\n", b"\r\n")
    assert errors(data)[0].startswith("courses.csv:3: mode:")


def test_wrong_number_of_fields() -> None:
    data = course_csv(csv_row(id="A", location="Nairobi, Kenya"), csv_row(id="B") + ",,")
    assert errors(data) == [
        "courses.csv:2: row has 15 fields, the header has 14 (an unquoted comma or a "
        "missing field?)"]
    assert len(read_courses_csv(course_csv(csv_row(id="B") + ",,"), "c.csv")) == 1


def test_malformed_quotes() -> None:
    data = course_csv(csv_row(id="A"), csv_row(id="B", title='Bad "quote"x'))
    assert read_courses_csv(course_csv(csv_row(title='"A ""quoted"" title"')), "c.csv")[0].title \
        == 'A "quoted" title'
    assert errors(course_csv(csv_row(id="A", title='"unterminated'))) == [
        "courses.csv:2: malformed CSV: unexpected end of data"]
    assert len(read_courses_csv(data, "c.csv")) == 2  # a quote inside a field is data


def test_content_hash_tracks_every_field() -> None:
    [rec] = read_courses_csv(course_csv(csv_row()), "c.csv")
    same = CourseRecord(**{**rec.__dict__})
    assert same.content_hash() == rec.content_hash()
    for name, value in [("title", "Other"), ("topics", ("x",)), ("fee_usd", None),
                        ("status", "cancelled"), ("end_date", date(2027, 3, 6))]:
        changed = CourseRecord(**{**rec.__dict__, name: value})
        assert changed.content_hash() != rec.content_hash(), name


def test_demo_catalogue_reads_cleanly() -> None:
    from tests.conftest import ROOT

    recs = read_courses_csv((ROOT / "demo" / "courses.csv").read_bytes(), "courses.csv")
    assert len(recs) == 40
    assert {r.region for r in recs} == {"Africa", "Americas", "Arab States", "Asia-Pacific",
                                        "CIS", "Europe"}
    assert GOOD["region"] in {r.region for r in recs}


def test_blank_lines_before_the_header_keep_line_numbers_true() -> None:
    data = b"\n\n" + course_csv(csv_row(id="A"), csv_row(id="B", mode="x"))
    assert errors(data)[0].startswith("courses.csv:5: mode: 'x' is not a mode")
    assert errors(b"\n" + HEADER.replace(",url", "").encode() + b"\n") == [
        "courses.csv:2: header: missing column 'url'"]
