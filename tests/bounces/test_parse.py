"""VERP tokens and the DSN/ARF reader, table-driven, without a mailbox."""

from __future__ import annotations

import pytest

from scheduler.bounces import verp
from scheduler.bounces.parse import classify, parse
from tests.bounces import samples

KEY, OLD = b"k" * 32, b"o" * 32


def test_verp_address_is_signed_short_and_case_blind() -> None:
    addr = verp.address("bounces@example.org", KEY, 123456789012)
    local = addr.split("@")[0]
    assert local.startswith("bounces+") and len(local) <= 64
    assert verp.read(addr, [KEY]) == 123456789012
    assert verp.read(addr.upper(), [KEY]) == 123456789012  # a server folded the case
    assert verp.read(addr, [OLD, KEY]) == 123456789012  # a rotated key still reads it
    assert verp.read(addr, [OLD]) is None
    forged = addr.replace("bounces+123456789012.", "bounces+123456789013.")
    assert verp.read(forged, [KEY]) is None
    with pytest.raises(ValueError):
        verp.address("b" * 40 + "@example.org", KEY, 1)


@pytest.mark.parametrize(("status", "category"), [
    ("5.1.1", "hard"), ("5.1.10", "hard"), ("5.4.4", "hard"), ("5.0.0", "hard"),
    ("4.2.2", "soft"), ("4.4.7", "soft"), ("5.2.2", "soft"),
    ("5.7.1", "policy"), ("5.7.26", "policy"),
])
def test_classification_by_enhanced_status(status: str, category: str) -> None:
    assert classify(status) == category


def test_dsn_status_read_from_the_diagnostic_when_the_field_is_bare() -> None:
    addr = verp.address("bounces@example.org", KEY, 7)
    raw = samples.dsn(addr, "a@example.com", "5.0.0", "550 5.1.2 Host unknown")
    raw = raw.replace(b"Status: 5.0.0\r\n", b"Status: 5\r\n")
    notice = parse(raw, [KEY])
    assert (notice.kind, notice.delivery_id, notice.status, notice.category) == (
        "bounce", 7, "5.1.2", "hard")
    bare = samples.dsn(addr, "a@example.com", "", "550 Requested action not taken")
    assert parse(bare.replace(b"Status: \r\n", b""), [KEY]).category == "hard"


def test_arf_matches_through_original_mail_from_despite_redaction() -> None:
    addr = verp.address("bounces@example.org", KEY, 42)
    notice = parse(samples.arf(addr, "abuse"), [KEY])
    assert (notice.kind, notice.delivery_id, notice.category) == ("complaint", 42, "abuse")
    assert parse(samples.arf(addr).replace(b"Feedback-Type: abuse\r\n", b""),
                 [KEY]).kind == "unparsed"


def test_auto_replies_delays_and_strangers() -> None:
    addr = verp.address("bounces@example.org", KEY, 9)
    assert parse(samples.auto_reply(addr), [KEY]).kind == "ignored"
    delayed = samples.dsn(addr, "a@example.com", "4.4.7", "timeout", action="delayed")
    assert parse(delayed, [KEY]).kind == "ignored"
    assert parse(b"From: someone@example.com\r\nSubject: hello\r\n\r\nhi\r\n",
                 [KEY]).kind == "unparsed"
    other_key = parse(samples.dsn(addr, "a@example.com", "5.1.1", "550"), [OLD])
    assert other_key.kind == "unparsed"
