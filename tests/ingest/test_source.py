"""read_source: paths and http(s) URLs, format detection, one-line fetch errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import responses

from scheduler.errors import InputError
from scheduler.ingest.source import display_name, read_source
from tests.ingest.conftest import course_csv, csv_row
from tests.ingest.test_ical import calendar, event
from tests.ingest.test_json import dump, item

URL = "https://catalogue.example.org/feeds/courses"


def fail(src: str, **kwargs: object) -> list[str]:
    with pytest.raises(InputError) as info:
        read_source(src, **kwargs)  # type: ignore[arg-type]
    return info.value.errors


@pytest.mark.parametrize(
    ("suffix", "data"),
    [(".csv", course_csv(csv_row())), (".json", dump([item()])), (".ics", calendar(event())),
     (".ICS", calendar(event())), ("", dump([item()])), (".txt", calendar(event())),
     (".dat", course_csv(csv_row()))],
)
def test_path_format_by_extension_then_sniffing(tmp_path: Path, suffix: str,
                                                data: bytes) -> None:
    path = tmp_path / f"catalogue{suffix}"
    path.write_bytes(data)
    name, records = read_source(str(path))
    assert name == str(path)
    assert len(records) == 1


def test_explicit_format_wins(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(dump([item()]))
    assert len(read_source(str(path), fmt="json")[1]) == 1
    assert fail(str(path), fmt="xml") == [f"{path}: unknown format 'xml' (csv, json or ical)"]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert fail(str(tmp_path / "nope.csv")) == [f"{tmp_path / 'nope.csv'}: no such file"]
    assert fail(str(tmp_path)) == [f"{tmp_path}: is a directory, not a course file"]


def test_errors_carry_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "courses.csv"
    path.write_bytes(course_csv(csv_row(mode="x")))
    assert fail(str(path))[0].startswith(f"{path}:2: mode: 'x' is not a mode")


@responses.activate
def test_url_by_content_type() -> None:
    responses.get(URL, body=json.dumps([item()]), content_type="application/json; charset=utf-8")
    name, [rec] = read_source(URL)
    assert name == URL
    assert rec.id == "T-1"
    assert responses.calls[0].request.headers["User-Agent"].startswith("coe-herald/")


@responses.activate
def test_url_by_extension_and_sniffing() -> None:
    responses.get(URL + ".ics", body=calendar(event()), content_type="application/octet-stream")
    responses.get(URL, body=course_csv(csv_row()), content_type="text/plain")
    assert read_source(URL + ".ics")[1][0].id == "COE-1"
    assert read_source(URL)[1][0].id == "T-1"


@responses.activate
def test_url_validation_errors_name_the_url() -> None:
    responses.get(URL + ".csv", body=course_csv(csv_row(region="Mars")))
    assert fail(URL + ".csv")[0].startswith(f"{URL}.csv:2: region: 'Mars' is not a region")


@responses.activate
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": 404}, f"{URL}: HTTP 404 Not Found"),
        ({"status": 503}, f"{URL}: HTTP 503 Service Unavailable"),
        ({"body": requests.ConnectionError("refused")}, f"{URL}: cannot connect"),
        ({"body": requests.ReadTimeout("slow")}, f"{URL}: no answer within 60 s"),
    ],
)
def test_http_failures_are_one_line(kwargs: dict[str, object], expected: str) -> None:
    responses.get(URL, **kwargs)
    assert fail(URL) == [expected]


@responses.activate
def test_credentials_in_the_url_never_reach_messages() -> None:
    secret_url = "https://feeduser:s3cret@catalogue.example.org/courses.csv?token=abc123"
    responses.get(secret_url, status=401)
    [msg] = fail(secret_url)
    assert msg == "https://catalogue.example.org/courses.csv?…: HTTP 401 Unauthorized"
    assert "s3cret" not in msg and "abc123" not in msg
    assert display_name("https://u:p@h.example.org:8443/a.csv") == "https://h.example.org:8443/a.csv"


@responses.activate
def test_oversized_body_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scheduler.ingest.download.MAX_BYTES", 2**20)
    responses.get(URL, body=course_csv(*(csv_row(id=f"C{i}") for i in range(6000))))
    assert fail(URL) == [f"{URL}: larger than 1 MB"]
