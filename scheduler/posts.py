"""Social posts: build a course post's text in the channel's language, fitted to its rules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from channels.base import Channel, Message
from channels.text import RULES, TextRules, TextTooLong, fit_text
from scheduler.models import Course, Delivery, DeliveryState

if TYPE_CHECKING:
    from scheduler.messages import MessageBuilder, Skip


def rules_for(channel: Channel) -> TextRules | None:
    """The text rules of a channel: its own, or those of the network a file sink stands in for."""
    own = getattr(channel, "text_rules", None)
    if isinstance(own, TextRules):
        return own
    network = getattr(channel.options, "network", None)
    return RULES.get(network) if network else None


def build_post(
    builder: MessageBuilder, session: Session, delivery: Delivery, channel: Channel,
    now: datetime,
) -> Message | Skip:
    from scheduler.messages import Skip, course_context, hashtag

    language = builder.renderer.resolve_language(delivery.template, channel.options.language)
    if delivery.course_id is None:
        return Skip(DeliveryState.CANCELLED, "post without a course")
    course = session.get(Course, delivery.course_id)
    if course is None or course.status != "open":
        return Skip(DeliveryState.CANCELLED, "course cancelled")
    tags = [hashtag(t) for t in course.topics]
    ctx = {"course": course_context(course), "hashtags": tags,
           "links": {"course": course.url}, "campaign": {"name": delivery.campaign}}
    text = builder.renderer.render_post(delivery.template, language, ctx)
    rules = rules_for(channel)
    if rules is not None:
        try:
            text = fit_text(text, url=course.url, hashtags=tags, rules=rules).text
        except TextTooLong as exc:
            return Skip(DeliveryState.FAILED, f"post cannot fit the network's limit: {exc}")
    return Message(key=delivery.dedup_key, text=text, language=language, link=course.url,
                   title=course.title, meta={"course_id": course.id, "hashtags": tags,
                                             "campaign": delivery.campaign})
