"""Messages of `catalogue_email` (to a contact) and `coe_email` (to a centre's focal point)
deliveries: the contexts of templates `email/catalogue` and `email/coe_invitation`.

Called by `MessageBuilder.build` for these kinds; the recipient is the delivery's
`contact_id` or `centre_id`.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from sqlalchemy.orm import Session

from channels.base import Message
from scheduler.admin_links import (
    interest_token,
    interest_url,
    recipient_preferences_url,
    recipient_unsubscribe_url,
    submission_url,
)
from scheduler.batch import AnyDelivery
from scheduler.links import click_url
from scheduler.models import Centre, Contact, Course, DeliveryState, Suppression
from scheduler.planning.catalogue import REMINDER_SUFFIX, contact_courses, has_answered
from scheduler.rendering.formatting import locale
from scheduler.timing import today_in

if TYPE_CHECKING:
    from scheduler.messages import MessageBuilder, Skip

ADMIN_KINDS = ("catalogue_email", "coe_email")
INTEREST_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("1", 1), ("2–5", 5), ("6–10", 10), ("more", None))
"""The catalogue's buttons: label and the number the `/i/` form is pre-filled with."""


def build_admin_email(builder: MessageBuilder, session: Session, delivery: AnyDelivery,
                      now: datetime) -> Message | Skip:
    if delivery.kind == "catalogue_email":
        return _catalogue(builder, session, delivery, now)
    return _invitation(builder, session, delivery)


def _skip(state: DeliveryState, reason: str) -> Skip:
    from scheduler.messages import Skip

    return Skip(state, reason)


def _reachable(session: Session, status: str, email: str | None) -> Skip | None:
    if status != "active" or not email:
        return _skip(DeliveryState.CANCELLED, "recipient unsubscribed")
    if session.get(Suppression, email) is not None:
        return _skip(DeliveryState.SUPPRESSED, "address on the suppression list")
    return None


def _month_label(day: date, lang: str) -> str:
    try:
        return format_date(day, "LLLL y", locale=locale(lang))
    except (ValueError, LookupError):
        return format_date(day, "LLLL y", locale=locale("en"))


def _common(builder: MessageBuilder, delivery: AnyDelivery) -> dict[str, Any]:
    return {"sender": builder.config.settings.sender.model_dump(),
            "campaign": {"name": delivery.campaign},
            "period": {"start": delivery.period_start, "end": delivery.period_end}}


def _message(delivery: AnyDelivery, to: str, name: str, rendered: Any, links: dict[str, Any]
             ) -> Message:
    return Message(
        key=delivery.dedup_key, to=to, to_name=name, subject=rendered.subject,
        text=rendered.text, html=rendered.html, language=rendered.language,
        headers={"List-Unsubscribe": f"<{links['unsubscribe']}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        meta={"campaign": delivery.campaign, "kind": delivery.kind})


def catalogue_months(builder: MessageBuilder, delivery: AnyDelivery, contact: Contact,
                     courses: list[Course], lang: str) -> list[dict[str, Any]]:
    """The courses by month of their start, each with its link and interest buttons."""
    from scheduler.messages import course_context

    base, key = builder.base_url, builder.key
    months = []
    for first, group in groupby(courses, key=lambda c: c.start_date.replace(day=1)):
        items = []
        for c in group:
            token = interest_token(key, contact.id, contact.email, c.id, delivery.campaign,
                                   delivery.id)
            items.append({
                **course_context(c),
                "link": click_url(base, key, delivery.dedup_key, c.url),
                "interest_url": interest_url(base, token),
                "interest": [{"label": label, "url": interest_url(base, token, n)}
                             for label, n in INTEREST_CHOICES],
            })
        months.append({"month": first, "label": _month_label(first, lang), "courses": items})
    return months


def _catalogue(builder: MessageBuilder, session: Session, delivery: AnyDelivery, now: datetime
               ) -> Message | Skip:
    contact = session.get(Contact, delivery.contact_id)
    if contact is None:
        return _skip(DeliveryState.CANCELLED, "contact removed")
    blocked = _reachable(session, contact.status, contact.email)
    if blocked is not None:
        return blocked
    reminder = delivery.dedup_key.endswith(REMINDER_SUFFIX)
    assert delivery.period_start is not None
    if reminder and has_answered(session, contact.id, delivery.period_start):
        return _skip(DeliveryState.CANCELLED, "contact answered")
    courses = contact_courses(session, contact, delivery, today_in(now, builder.tz))
    if not courses:
        return _skip(DeliveryState.CANCELLED, "no course left to list")
    lang = builder.renderer.resolve_language(delivery.template, contact.language)
    links = {
        "unsubscribe": recipient_unsubscribe_url(builder.base_url, builder.key, "contact",
                                                 contact.id, contact.email, delivery.campaign),
        "preferences": recipient_preferences_url(builder.base_url, builder.key, "contact",
                                                 contact.id, contact.email),
    }
    person = {"name": contact.name, "email": contact.email, "language": contact.language,
              "organisation": contact.organisation}
    ctx = {**_common(builder, delivery), "contact": person, "participant": person,
           "links": links, "reminder": reminder, "count": len(courses),
           "months": catalogue_months(builder, delivery, contact, courses, lang),
           "horizon_end": delivery.period_end}
    rendered = builder.renderer.render_email(delivery.template, contact.language, ctx)
    return _message(delivery, contact.email, contact.name, rendered, links)


def _invitation(builder: MessageBuilder, session: Session, delivery: AnyDelivery
                ) -> Message | Skip:
    centre = session.get(Centre, delivery.centre_id)
    if centre is None:
        return _skip(DeliveryState.CANCELLED, "centre removed")
    blocked = _reachable(session, centre.status, centre.focal_email)
    if blocked is not None:
        return blocked
    assert centre.focal_email is not None
    email = centre.focal_email
    links = {
        "submit": submission_url(builder.base_url, builder.key, centre.id, email,
                                 delivery.campaign, delivery.id),
        "unsubscribe": recipient_unsubscribe_url(builder.base_url, builder.key, "centre",
                                                 centre.id, email, delivery.campaign),
        "preferences": recipient_preferences_url(builder.base_url, builder.key, "centre",
                                                 centre.id, email),
    }
    person = {"name": centre.focal_name, "email": email, "language": centre.language}
    ctx = {**_common(builder, delivery), "participant": person,
           "centre": {"name": centre.name, "focal_point_name": centre.focal_name,
                      "website": centre.website, "region": centre.region},
           "links": links}
    rendered = builder.renderer.render_email(delivery.template, centre.language, ctx)
    return _message(delivery, email, centre.focal_name, rendered, links)
