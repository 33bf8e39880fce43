"""Sign-up with double opt-in: `/subscribe` (the form) and `/confirm/{token}`."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from scheduler import subscriptions
from scheduler.links import BadToken, RecipientLink, read_confirm
from scheduler.models import Participant
from scheduler.web.catalogue import Catalogue
from scheduler.web.forms import HONEYPOT, read_profile
from scheduler.web.mailer import Mailer
from scheduler.web.pages import allowed, error_page, herald, now, page_language, render, transaction

bp = Blueprint("signup", __name__)


def catalogue() -> Catalogue:
    cat: Catalogue = current_app.extensions["herald_catalogue"]
    return cat


def mailer() -> Mailer:
    m: Mailer = current_app.extensions["herald_mailer"]
    return m


@bp.get("/subscribe")
def form() -> tuple[str, int]:
    lang = page_language()
    return render("subscribe.html", lang, choices=catalogue().choices(), values={},
                  errors={})


@bp.post("/subscribe")
def submit() -> tuple[str, int]:
    lang = page_language()
    if request.form.get(HONEYPOT):
        return render("subscribed.html", lang)  # a robot: the same answer, nothing done
    if not allowed("subscribe", request.form.get("email", "").strip() or None):
        return error_page("rate", 429, lang)  # counted before any database work
    choices = catalogue().choices(fresh=True)
    parsed = read_profile(request.form, choices, with_email=True)
    if parsed.errors:
        return render("subscribe.html", lang, 400, choices=choices, values=request.form,
                      errors=parsed.errors)
    out = None
    with transaction() as s:
        outcome = subscriptions.sign_up(s, parsed.email, parsed.profile, now=now())
        if outcome.participant is not None and outcome.send is not None:
            kind = "confirmation" if outcome.send == "confirm" else "preferences_link"
            out = mailer().queue(s, outcome.participant, kind,
                                 outcome.participant.language)
    if out is not None:
        mailer().deliver(out)
    # The same page whether the address was new, known, active or suppressed.
    return render("subscribed.html", lang)


def _read(token: str) -> tuple[RecipientLink, Participant | None, object] | None:
    app = herald()
    try:
        link, issued = read_confirm(token, app.signing_keys, now=now())
    except BadToken:
        return None
    with app.sessions() as s:
        p = s.get(Participant, link.participant_id)
    return link, p, issued


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> tuple[str, int]:
    read = _read(token)
    if read is None or read[1] is None or read[1].email != read[0].email:
        return error_page("token", 400)
    lang = page_language(read[1].language)
    return render("confirm.html", lang, token=token)


@bp.post("/confirm/<token>")
def confirm(token: str) -> tuple[str, int]:
    app = herald()
    try:
        link, issued = read_confirm(token, app.signing_keys, now=now())
    except BadToken:
        return error_page("token", 400)
    with transaction() as s:
        result = subscriptions.confirm(s, link.participant_id, link.email, issued, now=now())
        p = s.get(Participant, link.participant_id)
        own = p.language if p is not None else None
    if result == "invalid":
        return error_page("token", 400)
    return render("confirmed.html", page_language(own), already=result == "already")
