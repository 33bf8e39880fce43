"""`/i/{token}`: a contact's "we are interested" in one course of a catalogue email.

GET shows the form (pre-filled from `?participants=`, else the standing answer) and records
nothing (mail scanners follow links); POST records or replaces the answer (`participants`,
`comment`), or withdraws it (`action=withdraw`). Services: scheduler/interest.py.
"""

from __future__ import annotations

from flask import Blueprint, request

from scheduler.errors import InputError
from scheduler.interest import (
    WITHDRAWN,
    InterestTarget,
    current,
    open_interest,
    record_interest,
    withdraw_interest,
)
from scheduler.links import BadToken
from scheduler.rendering import formatting
from scheduler.web.admin_pages import herald, page_language, refused, render, signing_keys

bp = Blueprint("interest", __name__)


def _course(target: InterestTarget, lang: str) -> dict[str, object]:
    c = target.course
    return {"id": c.id, "title": c.title, "centre": c.coe, "mode": c.mode, "url": c.url,
            "dates": formatting.day_range(c.start_date, c.end_date, lang)}


@bp.get("/i/<token>")
def form(token: str) -> tuple[str, int]:
    app = herald()
    with app.sessions() as s:
        try:
            target = open_interest(s, token, signing_keys(app))
        except BadToken:
            return refused()
        standing = current(s, target.contact.id, target.course.id)
        if standing is not None and standing.status == WITHDRAWN:
            standing = None
        wanted = request.args.get("participants", "")
        participants = (wanted if wanted.isdigit() else
                        str(standing.participants) if standing is not None else "")
        lang = page_language(target.contact.language)
        return render("interest.html", lang, token=token,
                      course=_course(target, lang), organisation=target.contact.organisation,
                      participants=participants,
                      comment=standing.comment if standing is not None else "",
                      standing=standing is not None, errors=[])


@bp.post("/i/<token>")
def answer(token: str) -> tuple[str, int]:
    app = herald()
    at = app.clock()
    with app.sessions() as s, s.begin():
        try:
            target = open_interest(s, token, signing_keys(app))
        except BadToken:
            return refused()
        lang = page_language(target.contact.language)
        course = _course(target, lang)
        if request.form.get("action") == "withdraw":
            withdraw_interest(s, target, at)
            return render("interest_withdrawn.html", lang, token=token, course=course)
        try:
            row = record_interest(s, target, request.form.get("participants"),
                                  request.form.get("comment"), at)
        except InputError as exc:
            fields = [e.split(":", 1)[0] for e in exc.errors]
            return render("interest.html", lang, 400, token=token, course=course,
                          organisation=target.contact.organisation,
                          participants=request.form.get("participants", ""),
                          comment=request.form.get("comment", ""), standing=False,
                          errors=fields)
        return render("interest_done.html", lang, token=token, course=course,
                      participants=row.participants, comment=row.comment)
