"""The file channel: .eml and .json files, written once and whole."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from channels.base import DeliveryStatus, Message
from channels.file import FileChannel, FileOptions, safe_name
from channels.registry import channel_class
from channels.smtp import SmtpChannel
from tests.channels.smtp_server import SmtpTestServer

UNSUBSCRIBE = "<https://herald.example.org/u/T0KEN>"


def file_channel(path: Path, **options: Any) -> FileChannel:
    built = FileChannel.from_config("outbox", {"type": "file", "path": str(path), **options})
    assert isinstance(built, FileChannel)
    return built


def email(key: str = "announce:C-101:p7", **fields: Any) -> Message:
    values: dict[str, Any] = {
        "key": key,
        "text": "Spectrum management opens on 3 May.",
        "html": "<p>Spectrum management opens on 3 May.</p>",
        "subject": "Nouveau cours : gestion du spectre",
        "to": "ada@example.org",
        "to_name": "Ada Lovelace",
        "language": "fr",
        "headers": {
            "List-Unsubscribe": UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    values.update(fields)
    return Message(**values)


def post(key: str = "social_announce:C-101:mastodon", **fields: Any) -> Message:
    values: dict[str, Any] = {
        "key": key,
        "text": "دورة جديدة في إدارة الطيف https://academy.itu.int/c/101",
        "link": "https://academy.itu.int/c/101",
        "title": "Spectrum management",
        "language": "ar",
        "meta": {"course_id": "C-101", "hashtags": ["ITU", "Spectrum"]},
    }
    values.update(fields)
    return Message(**values)


def parse(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_registered_under_file_for_both_kinds() -> None:
    assert channel_class("file") is FileChannel
    assert FileChannel.kind == "any"


def test_email_is_written_as_eml_in_a_new_directory(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "outbox"
    result = file_channel(outbox).send(email())
    assert result.status is DeliveryStatus.SENT
    target = outbox / "announce+C-101+p7.eml"
    assert result.provider_id == str(target)
    parsed = parse(target)
    assert parsed["From"] == "ITU Academy <academy@example.org>"
    assert parsed["To"] == "Ada Lovelace <ada@example.org>"
    assert parsed["Subject"] == "Nouveau cours : gestion du spectre"
    assert parsed["Content-Language"] == "fr"
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE
    assert str(parsed["Message-ID"]).endswith("@example.org>")
    assert parsed.get_content_type() == "multipart/alternative"
    assert b"\r\n" in target.read_bytes()  # the wire form, as SMTP would send it


def test_eml_has_the_same_headers_as_the_smtp_message(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    message = email()
    file_channel(tmp_path).send(message)
    with SmtpChannel.from_config("email", smtp_server.channel_options()) as smtp:
        assert smtp.send(message).status is DeliveryStatus.SENT
    on_disk = parse(tmp_path / "announce+C-101+p7.eml")
    on_wire = smtp_server.received[0].message()
    assert on_disk.keys() == on_wire.keys()
    for name in on_disk:
        if name not in ("Message-ID", "Date", "Content-Type"):  # per message / per boundary
            assert on_disk[name] == on_wire[name], name
    assert [p.get_content() for p in on_disk.iter_parts()] == [
        p.get_content() for p in on_wire.iter_parts()
    ]


def test_the_from_option_sets_sender_and_message_id_domain(tmp_path: Path) -> None:
    channel = file_channel(tmp_path, **{"from": "CoE Network <news@coe.example.net>"})
    parsed = parse(Path(channel.send(email()).provider_id or ""))
    assert parsed["From"] == "CoE Network <news@coe.example.net>"
    assert str(parsed["Message-ID"]).endswith("@coe.example.net>")


def test_post_is_written_as_json(tmp_path: Path) -> None:
    result = file_channel(tmp_path, network="mastodon").send(post())
    assert result.status is DeliveryStatus.SENT
    target = tmp_path / "social_announce+C-101+mastodon.json"
    assert result.provider_id == str(target)
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "key": "social_announce:C-101:mastodon",
        "network": "mastodon",
        "text": "دورة جديدة في إدارة الطيف https://academy.itu.int/c/101",
        "link": "https://academy.itu.int/c/101",
        "title": "Spectrum management",
        "language": "ar",
        "meta": {"course_id": "C-101", "hashtags": ["ITU", "Spectrum"]},
    }
    assert "دورة" in target.read_text(encoding="utf-8")  # readable, not \\u escapes


def test_post_without_network_records_null(tmp_path: Path) -> None:
    result = file_channel(tmp_path).send(post(link=None, title=None))
    data = json.loads(Path(result.provider_id or "").read_text(encoding="utf-8"))
    assert data["network"] is None and data["link"] is None and data["title"] is None


def test_resend_is_idempotent(tmp_path: Path) -> None:
    channel = file_channel(tmp_path)
    first = channel.send(email())
    before = Path(first.provider_id or "").read_bytes()
    # A retry of the same delivery (even with other content) leaves the file as it was.
    second = file_channel(tmp_path).send(email(subject="Changed"))
    assert second.status is DeliveryStatus.SENT
    assert second.provider_id == first.provider_id
    assert Path(first.provider_id or "").read_bytes() == before
    assert channel.send(post("p:1")).provider_id == channel.send(post("p:1")).provider_id
    assert len(list(tmp_path.iterdir())) == 2


def test_concurrent_sends_of_one_key_write_one_file(tmp_path: Path) -> None:
    channels = [file_channel(tmp_path) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: c.send(email()), channels))
    assert {r.status for r in results} == {DeliveryStatus.SENT}
    assert [p.name for p in tmp_path.iterdir()] == ["announce+C-101+p7.eml"]
    parse(tmp_path / "announce+C-101+p7.eml")  # whole


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    channel = file_channel(tmp_path)
    for n in range(5):
        channel.send(email(f"announce:C{n}:p1"))
        channel.send(post(f"social:C{n}:x"))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 10
    assert all(re.fullmatch(r"[A-Za-z0-9_+=.-]+\.(eml|json)", name) for name in names)


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    result = file_channel(tmp_path).send(email())
    assert result.status is DeliveryStatus.TRANSIENT
    assert result.error is not None and "No space left" in result.error
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert file_channel(tmp_path).send(email()).status is DeliveryStatus.SENT


def test_a_bad_address_is_permanent_and_writes_nothing(tmp_path: Path) -> None:
    result = file_channel(tmp_path).send(email(to="ada@example.org\r\nBcc: evil@x.org"))
    assert result.status is DeliveryStatus.PERMANENT
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("announce:C-101:p7", "announce+C-101+p7"),
        ("post12:mastodon", "post12+mastodon"),
        ("weekly:2027-W02:p3", "weekly+2027-W02+p3"),
        ("a/b:c", "a=2Fb+c"),
        ("a+b", "a=2Bb"),
        ("../etc", "=2E.=2Fetc"),
        ("é", "=C3=A9"),
    ],
)
def test_safe_name_examples(key: str, name: str) -> None:
    assert safe_name(key) == name


def test_safe_name_is_injective_and_portable() -> None:
    keys = ["a:b", "a+b", "a_b", "a=3Ab", "a/b", "a\\b", "a b", "", ".", "..", "x" * 400,
            "x" * 399 + "y", "camp:Ｃ１:p1", "camp:C1:p1", "x:" + "é" * 200]  # fmt: skip
    names = [safe_name(k) for k in keys]
    assert len(set(names)) == len(keys)
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_.+=~-]+", name) and not name.startswith(".")
        assert len(name.encode()) <= 150


def test_network_must_be_known() -> None:
    with pytest.raises(ValidationError):
        FileOptions.model_validate({"type": "file", "path": "x", "network": "myspace"})
    with pytest.raises(ValidationError):
        FileOptions.model_validate({"type": "file", "path": "x", "from": "nobody"})
    with pytest.raises(ValidationError):
        FileOptions.model_validate({"type": "file"})
