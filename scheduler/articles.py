"""What a centre submits through `/s/{token}` (from a coe_email): an article for the ITU
Academy's News and Events and/or a social post. Both wait in approval queues; nothing is
published unapproved. Articles: `herald articles list/approve/reject/export`; posts join
the existing posts queue (`herald posts ...`, scheduler/submissions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.admin_links import SubmissionLink, read_submission_token
from scheduler.errors import InputError
from scheduler.ingest import fields as f
from scheduler.links import BadToken
from scheduler.models import Article, Centre, Course, SubmittedPost

MAX_SUMMARY = 5_000
MAX_POST = 5_000


@dataclass(frozen=True)
class SubmissionTarget:
    link: SubmissionLink
    centre: Centre


@dataclass(frozen=True)
class Submitted:
    article: Article | None
    post: SubmittedPost | None


def open_submission(session: Session, token: str, keys: bytes | Sequence[bytes]
                    ) -> SubmissionTarget:
    """The centre of a genuine `/s/` token, else `BadToken`."""
    link = read_submission_token(token, keys)
    centre = session.get(Centre, link.centre_id)
    if centre is None:
        raise BadToken("unknown centre")
    return SubmissionTarget(link, centre)


def _clean(value: object) -> str:
    return str(value if value is not None else "").strip()


def submit(session: Session, target: SubmissionTarget, form: dict[str, object], now: datetime
           ) -> Submitted:
    """Queue the article (`title`, `summary`, `url`) and/or the post (`text`, `course`) of
    `form` for approval; `InputError` naming each bad field, before any write."""
    title, summary, url = (_clean(form.get(k)) for k in ("title", "summary", "url"))
    text, course = _clean(form.get("text")), _clean(form.get("course"))
    errors: list[str] = []
    want_article = bool(title or summary or url)
    if want_article:
        if not title:
            errors.append("title: required for an article")
        elif len(title) > 300:
            errors.append("title: longer than 300 characters")
        if not summary:
            errors.append("summary: required for an article")
        elif len(summary) > MAX_SUMMARY:
            errors.append(f"summary: longer than {MAX_SUMMARY} characters")
        if url:
            try:
                url = f.url(url)
            except f.FieldError as exc:
                errors.append(f"url: {exc}")
    if course and not text:
        errors.append("text: required for a post")
    if len(text) > MAX_POST:
        errors.append(f"text: longer than {MAX_POST} characters")
    if course and session.get(Course, course) is None:
        errors.append(f"course: no course with id {course!r}")
    if not want_article and not text and not errors:
        errors.append("title: give an article (title, summary) or a post (text), or both")
    if errors:
        raise InputError(errors)
    by = target.link.email
    article = post = None
    if want_article:
        article = Article(centre_id=target.centre.id, title=title, summary=summary, url=url,
                          status="submitted", submitted_by=by, campaign=target.link.campaign,
                          delivery_id=target.link.delivery_id, created_at=now)
        session.add(article)
    if text:
        post = SubmittedPost(text=text, course_id=course or None, channels=[],
                             submitted_by=f"{target.centre.name} <{by}>",
                             status="submitted", source_file="web", created_at=now)
        session.add(post)
    session.flush()
    return Submitted(article, post)


def article_row(a: Article, centre: Centre | None) -> dict[str, Any]:
    return {"id": a.id, "status": a.status, "centre": centre.name if centre else None,
            "title": a.title, "summary": a.summary, "url": a.url,
            "submitted_by": a.submitted_by, "created_at": a.created_at.isoformat(),
            "decided_at": a.decided_at.isoformat() if a.decided_at else None}


def list_articles(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    q = select(Article, Centre).outerjoin(Centre, Centre.id == Article.centre_id)
    if status:
        q = q.where(Article.status == status)
    return [article_row(a, c) for a, c in session.execute(q.order_by(Article.id))]


def decide_article(session: Session, article_id: int, approve: bool, now: datetime) -> Article:
    """Approve or reject a submitted article; a rejected one cannot be approved later."""
    article = session.get(Article, article_id)
    if article is None:
        raise InputError([f"articles: no submitted article with id {article_id}"])
    if approve and article.status == "rejected":
        raise InputError([f"articles: article {article_id} was rejected"])
    article.status = "approved" if approve else "rejected"
    article.decided_at = now
    session.flush()
    return article


def export_articles(session: Session) -> list[dict[str, Any]]:
    """The approved articles, for the Academy's website editors."""
    return list_articles(session, status="approved")
