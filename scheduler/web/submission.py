"""`/s/{token}`: a centre's submission form (from a coe_email): an article for News and
Events (`title`, `summary`, `url`) and/or a social post (`text`, optional `course`). What is
sent waits for approval (`herald articles ...`, `herald posts ...`). Services:
scheduler/articles.py."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.articles import SubmissionTarget, open_submission, submit
from scheduler.errors import InputError
from scheduler.links import BadToken
from scheduler.models import Course
from scheduler.web.admin_pages import herald, page_language, refused, render, signing_keys

bp = Blueprint("submission", __name__)
FIELDS = ("title", "summary", "url", "text", "course")


def _courses(session: Session, target: SubmissionTarget) -> list[dict[str, str]]:
    """The centre's open courses, for the post's optional `course`."""
    rows = session.scalars(select(Course).where(Course.coe == target.centre.name,
                                                Course.status == "open")
                           .order_by(Course.start_date, Course.id))
    return [{"id": c.id, "title": c.title} for c in rows]


@bp.get("/s/<token>")
def form(token: str) -> tuple[str, int]:
    app = herald()
    with app.sessions() as s:
        try:
            target = open_submission(s, token, signing_keys(app))
        except BadToken:
            return refused()
        return render("submission.html", page_language(target.centre.language), token=token,
                      centre=target.centre.name, courses=_courses(s, target),
                      values=dict.fromkeys(FIELDS, ""), errors=[])


@bp.post("/s/<token>")
def send(token: str) -> tuple[str, int]:
    app = herald()
    with app.sessions() as s, s.begin():
        try:
            target = open_submission(s, token, signing_keys(app))
        except BadToken:
            return refused()
        lang = page_language(target.centre.language)
        values = {k: request.form.get(k, "") for k in FIELDS}
        try:
            done = submit(s, target, dict(values), app.clock())
        except InputError as exc:
            return render("submission.html", lang, 400, token=token, centre=target.centre.name,
                          courses=_courses(s, target), values=values,
                          errors=[e.split(":", 1)[0] for e in exc.errors])
        return render("submitted.html", lang, article=done.article is not None,
                      post=done.post is not None)
