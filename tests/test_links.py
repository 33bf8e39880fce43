from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from scheduler.links import (
    MAC_BYTES,
    BadToken,
    ClickLink,
    RecipientLink,
    click_url,
    interest_url,
    preferences_url,
    read_click,
    read_interest,
    read_preferences,
    read_unsubscribe,
    sign,
    unsubscribe_url,
    verify,
)

KEY = b"k" * 32
OTHER = b"o" * 32
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _token(url: str, prefix: str) -> str:
    path = urlsplit(url).path
    assert path.startswith(prefix)
    return path[len(prefix):]


def _flip(token: str, index: int) -> str:
    c = token[index]
    return token[:index] + ("A" if c != "A" else "B") + token[index + 1:]


def test_round_trip_is_compact_and_url_safe() -> None:
    payload = {"t": "u", "p": 42, "e": "zoë@example.org", "c": "announce"}
    token = sign(payload, KEY)
    assert verify(token, KEY) == payload
    body, mac = token.split(".")
    assert "=" not in token and "/" not in token and "+" not in token
    assert len(base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))) == MAC_BYTES
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["p"] == 42


@pytest.mark.parametrize("where", ["body", "mac"])
def test_tampering_fails(where: str) -> None:
    token = sign({"t": "u", "p": 1, "e": "a@example.org"}, KEY)
    index = 3 if where == "body" else len(token) - 3
    with pytest.raises(BadToken):
        verify(_flip(token, index), KEY)


def test_forged_payload_with_reused_mac_fails() -> None:
    token = sign({"t": "u", "p": 1, "e": "a@example.org"}, KEY)
    _, mac = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"t":"u","p":2,"e":"b@example.org"}').rstrip(b"=")
    with pytest.raises(BadToken, match="signature"):
        verify(forged.decode() + "." + mac, KEY)


def test_wrong_key_fails_and_rotation_accepts_old_key() -> None:
    token = sign({"t": "p", "p": 1, "e": "a@example.org"}, OTHER)
    with pytest.raises(BadToken):
        verify(token, KEY)
    assert verify(token, [KEY, OTHER])["p"] == 1


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "!!!.???", "e30.", "." + "A" * 22, "x" * 5000]
)
def test_malformed_tokens_fail(token: str) -> None:
    with pytest.raises(BadToken):
        verify(token, KEY)


def test_non_object_payload_fails_even_if_signed() -> None:
    with pytest.raises(BadToken, match="payload"):
        verify(_signed_list(), KEY)


def _signed_list() -> str:
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=").decode()
    mac = hmac.new(KEY, body.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def test_expiry() -> None:
    token = sign({"t": "confirm", "p": 1}, KEY, issued_at=NOW)
    day = timedelta(days=1)
    assert verify(token, KEY, max_age=day, now=NOW + timedelta(hours=23))["p"] == 1
    with pytest.raises(BadToken, match="expired"):
        verify(token, KEY, max_age=day, now=NOW + timedelta(days=1, seconds=1))
    with pytest.raises(BadToken, match="future"):
        verify(token, KEY, max_age=day, now=NOW - timedelta(hours=1))
    # without max_age the issue time is not checked
    assert verify(token, KEY, now=NOW + timedelta(days=400))["iat"] == int(NOW.timestamp())


def test_max_age_needs_an_issue_time() -> None:
    with pytest.raises(BadToken, match="issue time"):
        verify(sign({"t": "u"}, KEY), KEY, max_age=timedelta(days=1), now=NOW)


def test_naive_issued_at_is_refused() -> None:
    with pytest.raises(ValueError):
        sign({}, KEY, issued_at=datetime(2027, 1, 1))


def test_unsubscribe_url_identifies_recipient_and_list() -> None:
    url = unsubscribe_url("https://herald.example.org/", KEY, 7, "a@example.org", "announce")
    assert url.startswith("https://herald.example.org/u/")
    token = _token(url, "/u/")
    assert read_unsubscribe(token, KEY) == RecipientLink(7, "a@example.org", "announce")


def test_purposes_are_not_interchangeable() -> None:
    pref = _token(preferences_url("https://h.example", KEY, 7, "a@example.org"), "/p/")
    assert read_preferences(pref, KEY) == RecipientLink(7, "a@example.org")
    with pytest.raises(BadToken, match="not for this action"):
        read_unsubscribe(pref, KEY)
    with pytest.raises(BadToken):
        read_click(pref, KEY)


def test_interest_url() -> None:
    url = interest_url("https://h.example", KEY, 3, "hr@example.gov", "COE-1", "catalogue")
    token = _token(url, "/i/")
    got = read_interest(token, KEY)
    assert (got.participant_id, got.course_id, got.campaign) == (3, "COE-1", "catalogue")


def test_click_url_round_trip_and_no_open_redirect() -> None:
    target = "https://academy.itu.int/training-courses/x?a=1&b=2"
    url = click_url("https://h.example", KEY, "announce:COE-1:p7", target)
    assert read_click(_token(url, "/c/"), KEY) == ClickLink("announce:COE-1:p7", target)
    for bad in ("javascript:alert(1)", "//evil.example/x", "ftp://evil.example/", "/relative"):
        with pytest.raises(ValueError):
            click_url("https://h.example", KEY, "k", bad)
    # a correctly signed token whose target is unsafe is still refused at read time
    forged = sign({"t": "c", "d": "k", "u": "javascript:alert(1)"}, KEY)
    with pytest.raises(BadToken, match="unsafe"):
        read_click(forged, KEY)
