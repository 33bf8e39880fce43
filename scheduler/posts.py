"""Social posts: a course post in the channel's language fitted to its rules, or a
centre-submitted post as approved."""

from __future__ import annotations

from sqlalchemy.orm import Session

from channels.base import Channel, Message
from channels.text import RULES, TextRules, TextTooLong, fit_text, hashtags
from channels.untrusted import inert
from scheduler.batch import AnyDelivery
from scheduler.message_parts import Skip, course_context
from scheduler.models import Course, DeliveryState, SubmittedPost
from scheduler.rendering import Renderer


def rules_for(channel: Channel) -> TextRules | None:
    """How a channel counts text: its own rules, or those of the network a file sink
    stands in for (`network:`); None when it has no limit."""
    own = getattr(channel, "text_rules_for", None)
    if callable(own):
        rules = own()
        if isinstance(rules, TextRules):
            return rules
    network = getattr(channel.options, "network", None)
    return RULES.get(network) if network else None


def build_post(
    renderer: Renderer, session: Session, delivery: AnyDelivery, channel: Channel
) -> Message | Skip:
    """The post a delivery sends on `channel`, or why it must not be sent."""
    if delivery.post_id is not None:
        return _submitted(session, delivery, channel)
    language = renderer.resolve_language(delivery.template, channel.options.language)
    course = session.get(Course, delivery.course_id) if delivery.course_id else None
    if course is None or course.status != "open":
        return Skip(DeliveryState.CANCELLED, "course cancelled")
    tags = hashtags(course.topics)
    # Untrusted course text: no mention notifies anyone, no bidi control reorders the post.
    shown = {k: inert(v) if k not in ("url", "id") else v
             for k, v in course_context(course).items()}
    ctx = {"course": shown, "hashtags": tags,
           "links": {"course": course.url}, "campaign": {"name": delivery.campaign}}
    text = renderer.render_post(delivery.template, language, ctx)
    rules = rules_for(channel)
    if rules is not None:
        try:
            text = fit_text(text, url=course.url, hashtags=tags, rules=rules).text
        except TextTooLong as exc:
            return Skip(DeliveryState.FAILED, f"post cannot fit the network's limit: {exc}")
    return Message(key=delivery.dedup_key, text=text, language=language, link=course.url,
                   title=inert(course.title), meta={"course_id": course.id, "hashtags": tags,
                                             "campaign": delivery.campaign})


def _submitted(session: Session, delivery: AnyDelivery, channel: Channel) -> Message | Skip:
    post = session.get(SubmittedPost, delivery.post_id)
    if post is None or post.status != "approved":
        return Skip(DeliveryState.CANCELLED, "post not approved")
    course = session.get(Course, post.course_id) if post.course_id else None
    return Message(key=delivery.dedup_key, text=post.text, language=channel.options.language,
                   link=course.url if course else None, title=course.title if course else None,
                   meta={"post_id": post.id, "submitted_by": post.submitted_by})
