"""Preferences (`/p/{token}`, `/p`), the pause, and the operator's privacy commands."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import String, Text, select

from scheduler.links import preferences_url
from scheduler.models import Base, Delivery, Participant, ParticipantInterest
from tests.web.conftest import Web
from tests.web.test_links import PERSON, _planned, _states


def _prefs(web: Web, p: Participant) -> str:
    return preferences_url("", web.app.signing_key, p.id, p.email)


def test_form_is_filled_in_and_needs_csrf(web: Web) -> None:
    p = _planned(web)
    path = _prefs(web, p)
    html = web.client.get(path).get_data(as_text=True)
    assert 'value="ar" lang="ar" selected' in html
    assert 'name="frequency" value="immediate" checked' in html
    assert 'name="paused_until"' in html
    r = web.client.post(path, data={"action": "leave"})
    assert r.status_code == 400 and _states(web, p.id) == ["pending"]


def test_saving_interests_cancels_what_no_longer_matches(web: Web) -> None:
    p = _planned(web)
    path = _prefs(web, p)
    data = {"csrf_token": web.csrf(path), "action": "save", "name": "Zara B.",
            "language": "fr", "frequency": "immediate", "regions": ["Europe"],
            "modes": ["face_to_face"]}
    r = web.client.post(path, data=data)
    assert r.status_code == 200
    with web.app.sessions() as s:
        stored = s.get(Participant, p.id)
        kinds = {(i.kind, i.value) for i in s.scalars(select(ParticipantInterest))}
        left = list(s.scalars(select(Delivery).where(Delivery.participant_id == p.id,
                                                      Delivery.state == "pending")))
        courses = {d.course_id for d in left}
    assert stored is not None and stored.language == "fr" and stored.name == "Zara B."
    assert kinds == {("region", "europe"), ("mode", "face_to_face")}
    assert "cancelled" in _states(web, p.id)
    from scheduler.models import Course
    with web.app.sessions() as s:
        for c in s.scalars(select(Course).where(Course.id.in_(courses))):
            assert c.mode == "face_to_face"


def test_pause_holds_every_email_until_the_date(web: Web) -> None:
    p = _planned(web)
    path = _prefs(web, p)
    data = {"csrf_token": web.csrf(path), "action": "save", "language": "ar",
            "frequency": "immediate", "paused_until": "2027-02-01"}
    assert web.client.post(path, data=data).status_code == 200
    assert web.project.run("send-now").code == 0
    assert not any("zara@example.org" in str(m["To"]) for m in web.emails())
    with web.app.sessions() as s:
        assert s.get(Participant, p.id).paused_until == date(2027, 2, 1)  # type: ignore[union-attr]
        due = {d.due_at.date() for d in s.scalars(select(Delivery).where(
            Delivery.participant_id == p.id, Delivery.state == "pending"))}
    assert due and min(due) >= date(2027, 2, 1)


def test_leave_is_unsubscribe(web: Web) -> None:
    p = _planned(web)
    path = _prefs(web, p)
    r = web.client.post(path, data={"csrf_token": web.csrf(path), "action": "leave"})
    assert r.status_code == 200 and _states(web, p.id) == ["cancelled"]


def test_email_me_my_link_same_answer_either_way(web: Web) -> None:
    p = _planned(web)
    answers = []
    for email in ("zara@example.org", "nobody@example.org"):
        r = web.client.post("/p", data={"csrf_token": web.csrf("/p"), "email": email})
        answers.append((r.status_code, r.get_data(as_text=True)))
    assert answers[0] == answers[1] and answers[0][0] == 200
    mails = web.emails()
    assert [str(m["To"]) for m in mails] == ["Zara <zara@example.org>"]
    path = web.link_in(mails[0], "p")
    assert web.client.get(path).status_code == 200
    assert mails[0]["Content-Language"] == "ar" or p.language == "ar"


def _texts(web: Web) -> str:
    """Every text value stored in every table."""
    out = []
    with web.app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns
                    if isinstance(c.type, String | Text) or c.type.__class__.__name__ == "JSON"]
            for row in conn.execute(select(*cols)) if cols else ():
                out.extend(json.dumps(v) if not isinstance(v, str) else v for v in row)
    return "\n".join(x for x in out if x)


def test_operator_commands_export_suppress_unsubscribe_erase(web: Web) -> None:
    p = _planned(web)
    run = web.project.run
    r = run("participants", "export", "zara@example.org")
    doc = json.loads(r.out)
    assert doc["participant"]["email"] == "zara@example.org" and doc["deliveries"]
    assert run("participants", "export", "nobody@example.org").code == 2
    r = run("participants", "suppress", "zara@example.org", "--reason", "asked by phone")
    assert r.code == 0 and _states(web, p.id) == ["suppressed"]
    assert run("participants", "unsubscribe", "zara@example.org").code == 0
    with web.app.sessions() as s, s.begin():  # an error that quotes the address
        from scheduler.models import DeliveryEvent
        d = s.scalar(select(Delivery).where(Delivery.participant_id == p.id))
        s.add(DeliveryEvent(delivery_id=d.id, type="failed", at=d.created_at,  # type: ignore[union-attr]
                            detail="550 5.1.1 <zara@example.org>: no such user"))
    assert "zara@example.org" in _texts(web)
    r = run("participants", "erase", "zara@example.org")
    assert r.code == 0, r.err
    assert "zara@example.org" not in _texts(web).lower()
    for f in (web.project.root / "var").glob("herald.db*"):  # nor in the file's free space
        assert b"zara@example.org" not in f.read_bytes(), f
    with web.app.sessions() as s:
        assert s.scalar(select(Delivery).where(Delivery.participant_id == p.id))  # kept
    (web.project.root / "again.csv").write_text(PERSON, encoding="utf-8")
    r = run("participants", "import", "again.csv")
    assert r.code == 0 and "skipped" in r.out and "zara@example.org" in r.out
    assert "zara@example.org" not in _texts(web).lower()


def test_channels_validate_wants_https_for_a_public_smtp_base_url(web: Web) -> None:
    cfg = web.project.config
    settings = (cfg / "settings.yaml").read_text(encoding="utf-8")
    (cfg / "settings.yaml").write_text(
        settings.replace("http://localhost:8080", "http://herald.example.org"), "utf-8")
    assert web.project.run("channels", "validate").code == 0  # the file channel: fine
    channels = (cfg / "channels.yaml").read_text(encoding="utf-8").replace(
        "  email:\n    type: file                           # writes one .eml file per message"
        "\n    path: var/outbox/email",
        "  email:\n    type: smtp\n    host: localhost\n    port: 2525\n    security: none\n"
        "    from: \"ITU Academy <academy@example.org>\"")
    (cfg / "channels.yaml").write_text(channels, encoding="utf-8")
    r = web.project.run("channels", "validate")
    assert r.code == 2 and "RFC 8058" in r.err and "https" in r.err
    (cfg / "settings.yaml").write_text(
        settings.replace("http://localhost:8080", "https://herald.example.org"), "utf-8")
    assert web.project.run("channels", "validate").code == 0


def test_delete_my_data_button_erases_and_the_link_stops_working(web: Web) -> None:
    p = _planned(web)
    path = _prefs(web, p)
    r = web.client.post(path, data={"csrf_token": web.csrf(path), "action": "erase"})
    assert r.status_code == 200 and _states(web, p.id) == ["cancelled"]
    assert "zara@example.org" not in _texts(web).lower()
    files = list((web.project.root / "var").glob("herald.db*"))
    assert files and not any(b"zara@example.org" in f.read_bytes() for f in files)
    assert web.client.get(path).status_code == 400
    missing = web.client.get("/nowhere")
    assert missing.status_code == 404 and missing.headers["X-Frame-Options"] == "DENY"
