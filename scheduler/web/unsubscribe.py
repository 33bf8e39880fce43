"""`/u/{token}`: unsubscribe, including RFC 8058 one-click (a POST with no cookie and no
CSRF token). The person becomes `unsubscribed` and their pending deliveries `cancelled`
in one transaction."""

from __future__ import annotations

from flask import Blueprint

from scheduler import subscriptions
from scheduler.links import UNSUBSCRIBE, BadToken, preferences_url, read_unsubscribe
from scheduler.models import Participant
from scheduler.web import others
from scheduler.web.events import record_unsubscribe
from scheduler.web.pages import error_page, herald, now, page_language, render, transaction

bp = Blueprint("unsubscribe", __name__)


@bp.get("/u/<token>")
def page(token: str) -> tuple[str, int]:
    app = herald()
    try:
        link = read_unsubscribe(token, app.signing_keys)
    except BadToken:
        if others.read(token, app.signing_keys, UNSUBSCRIBE) is None:
            return error_page("token", 400)
        return render("unsubscribe.html", page_language(), token=token, preferences=None)
    with app.sessions() as s:
        p = s.get(Participant, link.participant_id)
        own = p.language if p is not None and p.email == link.email else None
    prefs = preferences_url("", app.signing_key, link.participant_id, link.email)
    return render("unsubscribe.html", page_language(own), token=token, preferences=prefs)


@bp.post("/u/<token>")
def one_click(token: str) -> tuple[str, int]:
    app = herald()
    at = now()
    try:
        link = read_unsubscribe(token, app.signing_keys)
    except BadToken:
        other = others.read(token, app.signing_keys, UNSUBSCRIBE)
        if other is None:
            return error_page("token", 400)
        with transaction() as s:
            others.unsubscribe(s, other, at)
        return render("unsubscribed.html", page_language())
    with transaction() as s:
        done = subscriptions.unsubscribe(s, link.participant_id, now=at, email=link.email)
        own = None
        if done is not None:
            record_unsubscribe(s, link.participant_id, link.campaign, how="one-click", now=at)
            own = s.scalar(Participant.__table__.select()
                           .with_only_columns(Participant.language)
                           .where(Participant.id == link.participant_id))
    # 200 whatever was found: an erased person's old link unsubscribes nobody, quietly.
    return render("unsubscribed.html", page_language(own))
