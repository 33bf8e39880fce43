"""Sign-up with double opt-in: the form, the confirmation email through the outbox,
confirmation by POST only, enumeration, CSRF, honeypot, rate limits."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.models import Delivery, DeliveryState, Participant, ParticipantInterest
from scheduler.subscriptions import FORM_VERSION
from tests.web.conftest import Web, subscribe


def _person(web: Web, email: str) -> Participant | None:
    with web.app.sessions() as s:
        return s.scalar(select(Participant).where(Participant.email == email))


def test_form_offers_design_fields_from_the_catalogue(web: Web) -> None:
    page = web.client.get("/subscribe")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("email", "name", "language", "frequency"):
        assert f'name="{name}"' in html
    for name, value in (("topics", "spectrum management"), ("regions", "Arab States"),
                        ("languages", "fr"), ("modes", "face_to_face"),
                        ("frequency", "weekly")):
        assert f'name="{name}" value="{value}"' in html
    assert 'type="checkbox" name="topics"' in html
    assert page.headers["X-Frame-Options"] == "DENY"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "<script" not in html and "http://" not in html.replace("http://localhost", "")


def test_sign_up_records_pending_and_sends_confirmation_through_the_outbox(web: Web) -> None:
    assert subscribe(web, "Ama@Example.org", topics=["spectrum management"],
                     regions=["Africa"], modes=["blended"], frequency="weekly") == 200
    p = _person(web, "ama@example.org")
    assert p is not None and p.status == "pending" and p.frequency == "weekly"
    with web.app.sessions() as s:
        kinds = {(i.kind, i.value) for i in s.scalars(select(ParticipantInterest))}
        rows = list(s.scalars(select(Delivery).where(Delivery.participant_id == p.id)))
    assert ("topic", "spectrum management") in kinds and ("region", "africa") in kinds
    assert [(d.dedup_key, d.kind, d.state) for d in rows] == [
        (f"confirm:{p.id}:1", "confirmation", DeliveryState.SENT.value)]
    mails = web.emails()
    assert [m["To"] for m in mails] == ["Ama <ama@example.org>"]
    assert "/confirm/" in mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_get_never_confirms_post_does_and_records_consent(web: Web) -> None:
    subscribe(web, "kofi@example.org")
    path = web.link_in(web.emails()[0], "confirm")
    page = web.client.get(path)
    assert page.status_code == 200 and "<button" in page.get_data(as_text=True)
    assert _person(web, "kofi@example.org").status == "pending"  # type: ignore[union-attr]
    r = web.client.post(path, data={"csrf_token": web.csrf(path)})
    assert r.status_code == 200
    p = _person(web, "kofi@example.org")
    assert p is not None and p.status == "active"
    assert p.consent_source == "web" and p.form_version == FORM_VERSION
    assert p.consent_at is not None and p.consent_date is not None


def test_replayed_confirmation_changes_nothing(web: Web) -> None:
    subscribe(web, "lin@example.org")
    path = web.link_in(web.emails()[0], "confirm")
    web.client.post(path, data={"csrf_token": web.csrf(path)})
    first = _person(web, "lin@example.org")
    again = web.client.post(path, data={"csrf_token": web.csrf(path)})
    assert again.status_code == 200
    assert _person(web, "lin@example.org").consent_at == first.consent_at  # type: ignore[union-attr]
    # After leaving, the old link cannot bring the person back.
    with web.app.sessions() as s, s.begin():
        from scheduler.subscriptions import unsubscribe
        unsubscribe(s, first.id, now=web.app.clock())  # type: ignore[union-attr]
    r = web.client.post(path, data={"csrf_token": web.csrf("/subscribe")})
    assert r.status_code == 400
    assert _person(web, "lin@example.org").status == "unsubscribed"  # type: ignore[union-attr]


def test_same_answer_for_known_and_unknown_addresses(web: Web) -> None:
    bodies = []
    for email in ("known@example.org", "known@example.org", "unknown@example.org"):
        token = web.csrf("/subscribe")
        r = web.client.post("/subscribe", data={"csrf_token": token, "email": email,
                                                "language": "en", "frequency": "immediate"})
        bodies.append((r.status_code, r.get_data(as_text=True)))
    assert bodies[0] == bodies[1] == bodies[2]


def test_missing_csrf_token_is_refused_and_changes_nothing(web: Web) -> None:
    r = web.client.post("/subscribe", data={"email": "x@example.org", "language": "en",
                                            "frequency": "immediate"})
    assert r.status_code == 400
    assert _person(web, "x@example.org") is None and web.emails() == []


def test_honeypot_filled_records_nothing(web: Web) -> None:
    assert subscribe(web, "bot@example.org", website="http://spam.example") == 200
    assert _person(web, "bot@example.org") is None and web.emails() == []


def test_bad_address_is_shown_on_the_form(web: Web) -> None:
    token = web.csrf("/subscribe")
    r = web.client.post("/subscribe", data={"csrf_token": token, "email": "not-an-address",
                                            "frequency": "immediate"})
    assert r.status_code == 400 and 'aria-invalid="true"' in r.get_data(as_text=True)


def test_rate_limit_per_client_allows_five_a_minute(web: Web) -> None:
    codes = [subscribe(web, f"p{i}@example.org") for i in range(12)]
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]


def test_rate_limit_per_address(web: Web) -> None:
    codes = []
    for i in range(6):
        environ = {"REMOTE_ADDR": f"10.0.0.{i}"}
        token = web.csrf("/subscribe")
        codes.append(web.client.post(
            "/subscribe", environ_base=environ,
            data={"csrf_token": token, "email": "same@example.org",
                  "frequency": "immediate"}).status_code)
    assert codes == [200] * 5 + [429]
    assert len(web.emails()) == 5


def test_every_language_has_every_label_and_arabic_is_rtl(web: Web) -> None:
    from markupsafe import escape

    from scheduler.rendering import default_templates_dir
    from scheduler.rendering.labels import Labels

    labels = Labels(default_templates_dir() / "web" / "i18n")
    for lang in ("ar", "es", "fr", "ru", "zh"):
        assert labels.problems(lang) == []
        html = web.client.get(f"/subscribe?lang={lang}").get_data(as_text=True)
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
        assert escape(labels.get(lang)["subscribe_title"]) in html
    accepted = web.client.get("/subscribe", headers={"Accept-Language": "ru, en;q=0.5"})
    assert '<html lang="ru"' in accepted.get_data(as_text=True)


def test_a_confirmed_sign_up_is_planned_for_matching_courses(web: Web) -> None:
    assert web.project.run("plan").code == 0  # the campaigns' marks exist before the sign-up
    subscribe(web, "new@example.org", regions=["Africa"], languages=["en"])
    path = web.link_in(web.emails()[0], "confirm")
    assert web.project.run("plan").code == 0
    p = _person(web, "new@example.org")
    assert p is not None
    with web.app.sessions() as s:
        kinds = set(s.scalars(select(Delivery.kind).where(Delivery.participant_id == p.id)))
    assert kinds == {"confirmation"}  # pending: nothing planned before consent
    web.client.post(path, data={"csrf_token": web.csrf(path)})
    assert web.project.run("plan").code == 0
    with web.app.sessions() as s:
        kinds = set(s.scalars(select(Delivery.kind).where(Delivery.participant_id == p.id)))
    assert "course_email" in kinds
