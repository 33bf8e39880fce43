"""The links in emails keep their exact bytes: tokens already mailed must keep verifying.

`unsubscribe_url`, `preferences_url` and `click_url` write their JSON by hand and sign with
precomputed HMAC states; each is held here to an independent reference (json.dumps, the
`hmac` module) and to tokens made by the code before that change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from scheduler.links import (
    MessageLinks,
    click_url,
    interest_url,
    preferences_url,
    read_click,
    read_preferences,
    read_unsubscribe,
    sign,
    unsubscribe_url,
    verify,
)

BASE = "https://herald.example.org"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def reference(payload: dict[str, Any], key: bytes) -> str:
    """The token format as documented in scheduler/links.py, written independently."""
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    body = _b64(raw.encode("utf-8"))
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:16]
    return f"{body}.{_b64(mac)}"


KEYS = [b"k", b"short", b"s" * 63, b"x" * 64, b"y" * 65, bytes(range(256)), b"\xff" * 200]
TEXTS = [
    "a@example.org", "zoë@exämple.org", 'quote"and\\backslash@example.org', "", "\x00\x01\x1f",
    "\u2028\u2029 line separators", "محمد@example.org", "李@例子.中国", "😀 emoji \U0001f600",
    "tab\tnew\nline\rcr", "</script><b>&amp;", "x" * 3000, "\x7f\x80\x9f",
]
IDS = [0, 1, 42, -7, 2**40, 2**70]


@pytest.mark.parametrize("key", KEYS)
def test_recipient_links_match_the_reference(key: bytes) -> None:
    for text in TEXTS:
        for pid in IDS:
            campaign = f"announce {text[:20]}"
            u = unsubscribe_url(BASE, key, pid, text, campaign)
            assert u == f"{BASE}/u/" + reference(
                {"t": "u", "p": pid, "e": text, "c": campaign}, key)
            p = preferences_url(BASE + "/", key, pid, text)
            assert p == f"{BASE}/p/" + reference({"t": "p", "p": pid, "e": text}, key)


@pytest.mark.parametrize("key", KEYS)
def test_click_links_match_the_reference(key: bytes) -> None:
    for text in TEXTS:
        target = "https://academy.itu.int/course?q=" + text.replace("\n", "")
        url = click_url(BASE, key, f"announcement:{text}:1", target)
        assert url == f"{BASE}/c/" + reference(
            {"t": "c", "d": f"announcement:{text}:1", "u": target}, key)


def test_links_match_tokens_made_before_the_fast_path() -> None:
    # Made by the code of main before this change (json.dumps + hmac), kept literally.
    assert unsubscribe_url("https://h.example/", b"k" * 70, 42, "zoë@example.org",
                           'announce "x"') == (
        "https://h.example/u/eyJjIjoiYW5ub3VuY2UgXCJ4XCIiLCJlIjoiem_Dq0BleGFtcGxlLm9yZyIsInA"
        "iOjQyLCJ0IjoidSJ9.n9jVbuKbvCxhmTxkgPD1lw")
    assert preferences_url("https://h.example", b"short", 7, "a@b.org") == (
        "https://h.example/p/eyJlIjoiYUBiLm9yZyIsInAiOjcsInQiOiJwIn0.vohx_VewBOIsu-X4VnY4pA")
    assert click_url("https://h.example", b"short", "announcement:c1:42",
                     "https://academy.itu.int/x?a=1&b=é") == (
        "https://h.example/c/eyJkIjoiYW5ub3VuY2VtZW50OmMxOjQyIiwidCI6ImMiLCJ1IjoiaHR0cHM6Ly9h"
        "Y2FkZW15Lml0dS5pbnQveD9hPTEmYj3DqSJ9.CYXsQiXfEsaGui7D7HWSbg")


class _Id(int):
    def __repr__(self) -> str:
        return "not-a-number"


def test_unusual_types_take_the_general_path() -> None:
    key = b"key"
    # bool is an int to isinstance but JSON `true`; an int subclass may print otherwise.
    for pid in (True, _Id(5)):
        url = unsubscribe_url(BASE, key, pid, "a@example.org", "c")
        assert url == f"{BASE}/u/" + reference(
            {"t": "u", "p": pid, "e": "a@example.org", "c": "c"}, key)
    assert preferences_url(BASE, key, _Id(5), "a@example.org").endswith(
        reference({"t": "p", "p": 5, "e": "a@example.org"}, key))


def test_general_sign_and_verify_match_the_reference() -> None:
    for key in KEYS:
        payload = {"t": "i", "p": 3, "e": "zoë@example.org", "k": "c-1", "c": "x"}
        assert sign(payload, key) == reference(payload, key)
        assert verify(reference(payload, key), key) == payload
        assert interest_url(BASE, key, 3, "zoë@example.org", "c-1", "x") == (
            f"{BASE}/i/" + reference(payload, key))


def test_fast_links_read_back() -> None:
    key = b"rotation-key"
    u = unsubscribe_url(BASE, key, 9, "محمد@example.org", "announce").rsplit("/", 1)[1]
    assert read_unsubscribe(u, [b"new", key]).email == "محمد@example.org"
    p = preferences_url(BASE, key, 9, "a@example.org").rsplit("/", 1)[1]
    assert read_preferences(p, key).participant_id == 9
    c = click_url(BASE, key, "k:1", "https://example.org/é").rsplit("/", 1)[1]
    assert read_click(c, key).target_url == "https://example.org/é"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("base", [BASE, BASE + "/", "", "http://localhost:8080//"])
def test_message_links_are_the_functions_links(key: bytes, base: str) -> None:
    make = MessageLinks(base, key)
    for text in TEXTS:
        target = "https://academy.itu.int/course?q=" + text.replace("\n", "")
        for pid in [*IDS, True, _Id(5)]:
            assert make.unsubscribe(pid, text, f"c {text[:9]}") == unsubscribe_url(
                base, key, pid, text, f"c {text[:9]}")
            assert make.preferences(pid, text) == preferences_url(base, key, pid, text)
        assert make.click(f"a:{text}:1", target) == click_url(base, key, f"a:{text}:1", target)
    with pytest.raises(ValueError):
        make.click("a:1", "javascript:alert(1)")
