"""Unsubscribe (RFC 8058), clicks, tokens: tampered, expired, wrong purpose, rotated keys."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.app import App
from scheduler.links import click_url, confirm_url, preferences_url, sign, unsubscribe_url
from scheduler.models import Delivery, DeliveryEvent, Participant
from scheduler.web import create_app
from tests.web.conftest import NOW, Web

PERSON = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
          "consent\nzara@example.org,Zara,ar,Egypt,Africa/Cairo,,,,,immediate,2026-01-05\n")
NEW_COURSE = (
    "id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
    "registration_deadline,fee_usd,url\n"
    "NEW-1,A brand new course,Some Centre,Egypt,Arab States,spectrum management,en,"
    "online_self_paced,Online,2027-04-01,2027-04-30,2027-03-20,0,https://example.org/new\n")


def _planned(web: Web) -> Participant:
    (web.project.root / "people.csv").write_text(PERSON, encoding="utf-8")
    assert web.project.run("participants", "import", "people.csv").code == 0
    assert web.project.run("plan").code == 0
    with web.app.sessions() as s:
        p = s.scalar(select(Participant).where(Participant.email == "zara@example.org"))
        assert p is not None
        return p


def _states(web: Web, pid: int) -> list[str]:
    with web.app.sessions() as s:
        return sorted(set(s.scalars(select(Delivery.state)
                                    .where(Delivery.participant_id == pid))))


def _u(web: Web, p: Participant) -> str:
    return unsubscribe_url("", web.app.signing_key, p.id, p.email, "announce")


def test_one_click_post_without_cookie_unsubscribes_and_cancels(web: Web) -> None:
    p = _planned(web)
    assert _states(web, p.id) == ["pending"]
    fresh = web.flask.test_client(use_cookies=False)
    r = fresh.post(_u(web, p), data="List-Unsubscribe=One-Click",
                   content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers
    assert _states(web, p.id) == ["cancelled"]
    with web.app.sessions() as s:
        assert s.get(Participant, p.id).status == "unsubscribed"  # type: ignore[union-attr]
        assert s.scalar(select(DeliveryEvent).where(DeliveryEvent.type == "unsubscribed"))
    # A new matching course afterwards sends this person nothing.
    (web.project.root / "new.csv").write_text(NEW_COURSE, encoding="utf-8")
    assert web.project.run("courses", "import", "new.csv").code == 0
    assert web.project.run("send-now").code == 0
    assert _states(web, p.id) == ["cancelled"]
    assert not any("zara@example.org" in str(m["To"]) for m in web.emails())


def test_unsubscribe_page_has_one_button_and_a_preferences_link(web: Web) -> None:
    p = _planned(web)
    html = web.client.get(_u(web, p)).get_data(as_text=True)
    assert html.count("<button") == 1 and 'href="/p/' in html
    assert 'lang="ar" dir="rtl"' in html  # the person's own language
    assert _states(web, p.id) == ["pending"]  # a GET changes nothing


def test_tampered_wrong_purpose_and_expired_tokens_get_400_and_change_nothing(
        web: Web, tmp_path: Path) -> None:
    p = _planned(web)
    key = web.app.signing_key
    u = _u(web, p)
    tampered = u[:-3] + ("AAA" if not u.endswith("AAA") else "BBB")
    prefs = preferences_url("", key, p.id, p.email)
    wrong = [tampered, "/u/" + prefs.split("/p/")[1], "/confirm/" + u.split("/u/")[1],
             "/p/" + u.split("/u/")[1], "/c/" + prefs.split("/p/")[1], "/u/garbage"]
    for path in wrong:
        if not path.startswith("/c/"):
            assert web.client.post(path, data="List-Unsubscribe=One-Click").status_code == 400
        assert web.client.get(path).status_code == 400
    token = web.csrf("/subscribe")  # with a valid CSRF token, still refused for the token
    for path in wrong[2:4]:
        assert web.client.post(path, data={"csrf_token": token}).status_code == 400
    expired = confirm_url("", key, p.id, p.email, NOW - timedelta(days=8))
    assert web.client.get(expired).status_code == 400
    assert web.client.get(confirm_url("", key, p.id, p.email,
                                      NOW - timedelta(days=6))).status_code == 200
    assert _states(web, p.id) == ["pending"]
    with web.app.sessions() as s:
        assert s.get(Participant, p.id).status == "active"  # type: ignore[union-attr]


def test_previous_signing_key_still_accepted(web: Web, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    p = _planned(web)
    monkeypatch.setenv("NEW_KEY", "new-key-new-key-new-key-new-key-0123")
    monkeypatch.setenv("OLD_KEY", "old-key-old-key-old-key-old-key-0123")
    settings = web.project.config / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace(
        "signing_key: ${HERALD_SIGNING_KEY:-}",
        "signing_key: ${NEW_KEY}\nprevious_signing_keys: [\"${OLD_KEY}\"]")
    settings.write_text(text, encoding="utf-8")
    app = App(web.project.config, web.project.db_url, NOW)
    try:
        client = create_app(app).test_client()
        old = unsubscribe_url("", b"old-key-old-key-old-key-old-key-0123", p.id, p.email, "a")
        other = unsubscribe_url("", b"some-other-key-some-other-key-01", p.id, p.email, "a")
        assert client.get(other).status_code == 400
        assert client.post(old).status_code == 200
        assert _states(web, p.id) == ["cancelled"]
    finally:
        app.close()


def test_click_redirects_to_the_signed_target_and_records_a_click(web: Web) -> None:
    p = _planned(web)
    with web.app.sessions() as s:
        d = s.scalar(select(Delivery).where(Delivery.participant_id == p.id))
        assert d is not None
    target = "https://academy.itu.int/course?id=1"
    path = click_url("", web.app.signing_key, d.dedup_key, target)
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                             "(KHTML, like Gecko) Chrome/126.0 Safari/537.36"}
    r = web.client.get(path, headers=browser)
    assert r.status_code == 302 and r.headers["Location"] == target
    web.client.head(path, headers=browser)
    web.client.get(path, headers={"User-Agent": "python-requests/2.32"})
    with web.app.sessions() as s:
        details = [json.loads(e.detail) for e in s.scalars(
            select(DeliveryEvent).where(DeliveryEvent.type == "clicked")
            .order_by(DeliveryEvent.id))]
    assert [(x["bot"], x["why"]) for x in details] == [
        (False, None), (True, "head"), (True, "user-agent")]


def test_no_open_redirect(web: Web) -> None:
    key = web.app.signing_key
    for target in ("javascript:alert(1)", "//evil.example/", "data:text/html,x",
                   "ftp://evil.example/"):
        token = sign({"t": "c", "d": "x", "u": target}, key)
        r = web.client.get(f"/c/{token}")
        assert r.status_code == 400 and "Location" not in r.headers
    forged = click_url("", b"not-the-key-not-the-key-not-the-key", "x", "https://evil.example")
    assert web.client.get(forged).status_code == 400


def test_healthz(web: Web) -> None:
    r = web.client.get("/healthz")
    assert r.status_code == 200 and r.get_data(as_text=True) == "ok\n"
