"""`/p/{token}`: the person's preferences (interests, frequency, language, pause, leave,
erase); `/p`: "email me my preferences link"."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from scheduler import privacy, subscriptions
from scheduler.ingest import fields as f
from scheduler.links import PREFERENCES, BadToken, RecipientLink, read_preferences
from scheduler.models import Participant, ParticipantInterest, ParticipantStatus
from scheduler.web import others
from scheduler.web.events import record_unsubscribe
from scheduler.web.forms import read_profile
from scheduler.web.pages import allowed, error_page, herald, now, page_language, render, transaction
from scheduler.web.signup import catalogue, mailer

bp = Blueprint("preferences", __name__)


def _link(token: str) -> RecipientLink | None:
    try:
        return read_preferences(token, herald().signing_keys)
    except BadToken:
        return None


def _values(p: Participant, interests: list[tuple[str, str]]) -> dict[str, object]:
    """The stored profile as the form shows it (interest keys matched to the choices)."""
    choices = catalogue().choices()
    keys: dict[str, set[str]] = {}
    for kind, value in interests:
        keys.setdefault(kind, set()).add(value)
    picked = {
        name: [v for v in getattr(choices, name) if f.norm(v) in keys.get(kind, set())]
        for name, kind in (("topics", "topic"), ("regions", "region"),
                           ("languages", "language"), ("modes", "mode"))}
    return {"name": p.name, "language": p.language, "frequency": p.frequency,
            "paused_until": p.paused_until.isoformat() if p.paused_until else "", **picked}


def _show(token: str, p: Participant, lang: str, status: int = 200,
          errors: dict[str, str] | None = None, saved: bool = False) -> tuple[str, int]:
    with herald().sessions() as s:
        interests = [(i.kind, i.value) for i in s.scalars(
            select(ParticipantInterest).where(ParticipantInterest.participant_id == p.id))]
    return render("preferences.html", lang, status, token=token, participant=p,
                  values=_values(p, interests), choices=catalogue().choices(),
                  errors=errors or {}, saved=saved,
                  unsubscribed=p.status == ParticipantStatus.UNSUBSCRIBED.value)


def _person(link: RecipientLink) -> Participant | None:
    with herald().sessions() as s:
        p = s.get(Participant, link.participant_id)
    return p if p is not None and p.email == link.email else None


@bp.get("/p/<token>")
def page(token: str) -> tuple[str, int]:
    link = _link(token)
    p = _person(link) if link is not None else None
    if p is None:
        if link is None and others.read(token, herald().signing_keys, PREFERENCES):
            return render("preferences_other.html", page_language(), token=token)
        return error_page("token", 400)
    return _show(token, p, page_language(p.language))


@bp.post("/p/<token>")
def save(token: str) -> tuple[str, int]:
    link = _link(token)
    p = _person(link) if link is not None else None
    if link is None or p is None:
        other = others.read(token, herald().signing_keys, PREFERENCES) if link is None else None
        if other is None or request.form.get("action") != "leave":
            return error_page("token", 400)
        with transaction() as s:
            others.unsubscribe(s, other, now())
        return render("unsubscribed.html", page_language())
    action = request.form.get("action", "save")
    at = now()
    if action == "leave":
        with transaction() as s:
            subscriptions.unsubscribe(s, p.id, now=at, email=p.email)
            record_unsubscribe(s, p.id, None, how="preferences", now=at)
        return render("unsubscribed.html", page_language(p.language))
    if action == "erase":
        with transaction() as s:
            privacy.erase(s, p.email, now=at)
        privacy.scrub(herald().engine)
        return render("erased.html", page_language(p.language))
    parsed = read_profile(request.form, catalogue().choices(fresh=True), with_email=False,
                          with_pause=True)
    if parsed.errors:
        return _show(token, p, page_language(p.language), 400, parsed.errors)
    with transaction() as s:
        stored = s.get(Participant, p.id)
        assert stored is not None
        subscriptions.save_preferences(s, stored, parsed.profile, parsed.paused_until,
                                       now=at)
        p = stored
    return _show(token, p, page_language(p.language), saved=True)


@bp.get("/p")
def ask_page() -> tuple[str, int]:
    return render("ask_link.html", page_language(), errors={})


@bp.post("/p")
def ask() -> tuple[str, int]:
    lang = page_language()
    try:
        email = f.email(request.form.get("email", ""))
    except f.FieldError:
        return render("ask_link.html", lang, 400, errors={"email": "email"})
    if not allowed("ask", email):
        return error_page("rate", 429, lang)
    out = None
    with transaction() as s:
        p = subscriptions.find(s, email)
        if p is not None and not subscriptions.is_suppressed(s, email):
            out = mailer().queue(s, p, "preferences_link", p.language)
    if out is not None:
        mailer().deliver(out)
    return render("link_sent.html", lang)  # the same answer, known address or not
