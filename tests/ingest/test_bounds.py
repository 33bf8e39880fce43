"""Every bad input exits 2 with `FILE:ROW: FIELD: reason`: text limits, date range, huge
numbers, deep nesting, CSV field-size overflow — for courses (CSV, JSON, iCalendar),
participants, centres and post submissions, through the CLI as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.ingest.conftest import GOOD, HEADER, course_csv, csv_row

LIMITS = [("title", 300), ("description", 10_000), ("location", 200), ("coe", 200)]


def run_import(project: Project, name: str, data: bytes | str, *cmd: str) -> tuple[int, str]:
    path = project.root / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    r = project.run(*(cmd or ("courses", "import")), name)
    assert "Traceback" not in r.err
    return r.code, r.err


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_text_at_its_limit_imports_one_more_character_is_exit_2(
        project: Project, field: str, limit: int) -> None:
    header = HEADER + ",description"
    ok = csv_row(**{field: quoted("x" * limit)}) if field != "description" else csv_row()
    ok += "," + (quoted("d" * limit) if field == "description" else "")
    code, err = run_import(project, "ok.csv", course_csv(ok, header=header))
    assert code == 0, err
    bad = csv_row(**{field: quoted("x" * (limit + 1))}) if field != "description" else csv_row()
    bad += "," + (quoted("d" * (limit + 1)) if field == "description" else "")
    code, err = run_import(project, "bad.csv", course_csv(bad, header=header))
    assert code == 2
    assert f"bad.csv:2: {field}: is {limit + 1} characters long (at most {limit})" in err


def test_url_longer_than_2000_is_exit_2_in_json_too(project: Project) -> None:
    base = "https://academy.example.org/c/"
    item = {**GOOD, "topics": ["spectrum"], "languages": ["en"]}
    ok = json.dumps([{**item, "url": base + "u" * (2000 - len(base))}])
    assert run_import(project, "ok.json", ok)[0] == 0
    bad = json.dumps([{**item, "url": base + "u" * (2001 - len(base))}])
    code, err = run_import(project, "bad.json", bad)
    assert code == 2 and "bad.json:1: item 1: url: is 2001 characters long (at most 2000)" in err


@pytest.mark.parametrize("day", ["1989-12-31", "2101-01-01", "9999-12-31", "0001-01-01"])
def test_dates_out_of_range_are_exit_2(project: Project, day: str) -> None:
    for field in ("start_date", "end_date", "registration_deadline"):
        row = csv_row(**{field: day})
        code, err = run_import(project, "bad.csv", course_csv(row))
        assert code == 2
        assert f"bad.csv:2: {field}: {day} is out of range (1990-01-01 to 2100-12-31)" in err


def test_dates_at_the_bounds_import(project: Project) -> None:
    row = csv_row(registration_deadline="1990-01-01", start_date="1990-01-02",
                  end_date="2100-12-31")
    code, err = run_import(project, "ok.csv", course_csv(row))
    assert code == 0, err


def test_ical_dates_are_bounded_too(project: Project) -> None:
    ical = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
            "UID:T-9\r\nSUMMARY:Far away\r\nDTSTART;VALUE=DATE:99990101\r\n"
            "DTEND;VALUE=DATE:99991231\r\nURL:https://academy.example.org/c/9\r\n"
            "CATEGORIES:spectrum\r\nX-COE:Test Centre\r\nX-REGION:Africa\r\n"
            "X-LANGUAGES:en\r\nX-MODE:online_instructor\r\nX-REGISTRATION-DEADLINE:99981231\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    code, err = run_import(project, "far.ics", ical)
    assert code == 2 and "out of range" in err


@pytest.mark.parametrize("digits", [31, 400, 5000, 100_000])
def test_huge_fee_in_json_is_exit_2(project: Project, digits: int) -> None:
    item = json.dumps({**GOOD, "topics": ["spectrum"], "languages": ["en"]})
    text = "[\n" + item.replace('"fee_usd": "400"', '"fee_usd": ' + "9" * digits) + "\n]"
    code, err = run_import(project, "fee.json", text)
    assert code == 2 and "fee.json:2: item 1: fee_usd: " in err and "too large" in err
    # The same number as text in CSV.
    code, err = run_import(project, "fee.csv", course_csv(csv_row(fee_usd="9" * digits)))
    assert code == 2 and "fee.csv:2: fee_usd: " in err and "too large" in err


@pytest.mark.parametrize("shape", ["[" * 100_000, "[" + '{"a":' * 100_000])
def test_deeply_nested_json_is_exit_2(project: Project, shape: str) -> None:
    code, err = run_import(project, "deep.json", shape)
    assert code == 2 and "deep.json:1: invalid JSON: nested too deeply" in err


@pytest.mark.parametrize("column", ["title", "description", "topics", "url"])
def test_csv_field_larger_than_the_csv_limit_names_the_field(
        project: Project, column: str) -> None:
    header = HEADER + ",description"
    huge = quoted("z" * 200_000)
    row = csv_row(**({column: huge} if column != "description" else {})) + (
        "," + huge if column == "description" else ",")
    code, err = run_import(project, "huge.csv", course_csv(csv_row() + ",", row, header=header))
    assert code == 2
    assert f"huge.csv:3: {column}: longer than 131,072 characters" in err


def test_participant_names_and_consent_dates_are_bounded(project: Project) -> None:
    header = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
              "consent\n")
    ok = header + f"a@example.org,{'n' * 200},en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n"
    assert run_import(project, "p.csv", ok, "participants", "import")[0] == 0
    bad = (header + f"a@example.org,{'n' * 201},en,Kenya,Africa/Nairobi,,,,,immediate,"
           "2026-01-01\nb@example.org,B,en,Kenya,Africa/Nairobi,,,,,immediate,9999-12-31\n")
    code, err = run_import(project, "p2.csv", bad, "participants", "import")
    assert code == 2
    assert "p2.csv:2: name: is 201 characters long (at most 200)" in err
    assert "p2.csv:3: consent: 9999-12-31 is out of range" in err


@pytest.mark.parametrize(("name", "text"), [
    ("deep.json", "[" * 100_000),
    ("deep.yaml", "[" * 100_000),
    ("big.json", '{"text": "hi", "channels": ["mastodon"], "course": ' + "7" * 5000 + "}"),
    ("big.yaml", "text: hi\nchannels: [mastodon]\ncourse: " + "7" * 5000 + "\n"),
])
def test_post_submission_files_fail_with_exit_2(project: Project, tmp_path: Path,
                                                 name: str, text: str) -> None:
    code, err = run_import(project, name, text, "posts", "submit")
    assert code == 2, err
    assert err.startswith(f"error: {name}")


@pytest.mark.parametrize(("text", "reason"), [
    ("campaigns: " + "[" * 100_000, "YAML: nested too deeply"),
    ("campaigns:\n  a:\n    min_lead: " + "9" * 5000 + "\n", "YAML: a number with too many digits"),
])
def test_config_files_that_break_the_yaml_parser_exit_2(project: Project, text: str,
                                                        reason: str) -> None:
    project.write_config("campaigns.yaml", text)
    r = project.run("channels", "validate")
    assert r.code == 2 and "Traceback" not in r.err
    assert f"campaigns.yaml: {reason}" in r.err


@pytest.mark.parametrize(("line", "reason"), [
    ("earliest: 9999-12-31T09:00:00Z", "earliest: 9999-12-31 is out of range"),
    ("submitted_by: " + "n" * 201, "submitted_by: expected a name of at most 200 characters"),
])
def test_post_submission_fields_are_bounded(project: Project, line: str, reason: str) -> None:
    text = f"text: Hello\nchannels: [mastodon]\n{line}\n"
    code, err = run_import(project, "post.yaml", text, "posts", "submit")
    assert code == 2 and f"post.yaml: {reason}" in err, err
