"""Delivery row → ready-to-send `channels.base.Message` (render, links, fit)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import Channel, Message
from scheduler.batch import AnyCourse, AnyDelivery, AnyParticipant, Batch
from scheduler.cadence.rules import relevance_key
from scheduler.config import HeraldConfig
from scheduler.links import MessageLinks
from scheduler.links_ahead import LinksAhead, Render
from scheduler.matching import audience
from scheduler.message_parts import Skip, course_context
from scheduler.models import (
    Course,
    DeliveryState,
    Participant,
    ParticipantStatus,
    Suppression,
)
from scheduler.posts import build_post
from scheduler.rendering import RenderedEmail, Renderer
from scheduler.timing import today_in

_ACTIVE = ParticipantStatus.ACTIVE.value  # (an enum's `.value` is a property lookup)
_UNSUBSCRIBED = ParticipantStatus.UNSUBSCRIBED.value
_COURSE_HOLES = ("links.course", "links.preferences", "links.unsubscribe",
                 "participant.email", "participant.language", "participant.name")
"""A course email's per-recipient values, as sorted paths (`Renderer.render_email_filled`)."""


class MessageBuilder:
    """Builds the message of a delivery, or says why it must not be sent."""

    def __init__(self, config: HeraldConfig, renderer: Renderer, signing_key: bytes) -> None:
        self.config = config
        self.renderer = renderer
        self.key = signing_key
        self.tz = ZoneInfo(config.settings.timezone)
        self.base_url = config.settings.base_url
        self._return_paths: dict[str, Any] = {}
        self._today_at: tuple[datetime | None, date] = (None, date.min)
        self._made_links: MessageLinks | None = None
        self._ahead = LinksAhead()

    def build(
        self, session: Session, delivery: AnyDelivery, channel: Channel, now: datetime,
        batch: Batch | None = None,
    ) -> Message | Skip:
        """The message of `delivery`, or why not. `batch` holds rows already read for it."""
        if delivery.contact_id is not None or delivery.centre_id is not None:
            from scheduler.admin_messages import build_admin_email

            return build_admin_email(self, session, delivery, now)
        if delivery.participant_id is not None:
            return self._email(session, delivery, now, batch)
        return self._post(session, delivery, channel, now)

    # -- emails -------------------------------------------------------------

    def _recipient(
        self, session: Session, delivery: AnyDelivery, batch: Batch | None
    ) -> AnyParticipant | Skip:
        if batch is not None and delivery.participant_id in batch.participants:
            p: AnyParticipant | None = batch.participants[delivery.participant_id]
        else:
            p = session.get(Participant, delivery.participant_id)
        if p is None or p.status == _UNSUBSCRIBED:
            return Skip(DeliveryState.CANCELLED, "participant unsubscribed")
        suppressed = (p.email in batch.suppressed if batch is not None
                      else session.get(Suppression, p.email) is not None)
        if suppressed:
            return Skip(DeliveryState.SUPPRESSED, "address on the suppression list")
        if p.status != _ACTIVE:
            return Skip(DeliveryState.CANCELLED, "participant not active")
        return p

    def _email(
        self, session: Session, delivery: AnyDelivery, now: datetime, batch: Batch | None
    ) -> Message | Skip:
        p = self._recipient(session, delivery, batch)
        if isinstance(p, Skip):
            return p
        today = self._today(now)
        pid, name, email, language = p.id, p.name, p.email, p.language
        campaign = delivery.campaign
        participant = {"name": name, "email": email, "language": language}
        make = self._links()
        generation = self.renderer.generation()
        made = (self._ahead.take(make, delivery, batch, self._render_ahead(batch, today),
                                 generation) if batch is not None else None)
        if made is None or made.delivery is not delivery or made.participant is not p:
            made = None
            links: dict[str, Any] = {
                "unsubscribe": make.unsubscribe(pid, email, campaign),
                "preferences": make.preferences(pid, email),
            }
        else:
            links = {"unsubscribe": made.unsubscribe, "preferences": made.preferences}
        meta: dict[str, Any] = {"campaign": campaign}
        if batch is not None and batch.bundled(delivery):
            bundle = self._bundle(delivery, batch, p, today)
            if isinstance(bundle, Skip):
                return bundle
            entries, template = bundle
            links["bundle"] = [make.click(key, c.url)
                               for c, key in entries]
            links["course"] = links["bundle"][0]
            meta["course_id"] = entries[0][0].id
            meta["bundle"] = [delivery.id, *(m.id for m in batch.members[delivery.id])]
            ctx = {**self._common(campaign), "participant": participant, "links": links,
                   "course": course_context(entries[0][0]),
                   "bundle": [course_context(c) for c, _ in entries], "period": None}
            rendered = self.renderer.render_email(template, language, ctx)
        elif (course_id := delivery.course_id) is not None:
            course = (batch.courses.get(course_id) if batch is not None
                      else session.get(Course, course_id))
            if course is None or course.status != "open":
                return Skip(DeliveryState.CANCELLED, "course cancelled")
            if course.registration_deadline < today:
                return Skip(DeliveryState.CANCELLED, "registration deadline passed")
            links["course"] = (made.click if made is not None and made.course is course
                               and made.click is not None
                               else make.click(delivery.dedup_key, course.url))
            meta["course_id"] = course.id
            if (made is not None and made.rendered is not None and made.course is course
                    and made.click == links["course"] and made.generation == generation):
                rendered = made.rendered  # (made ahead from the same rows and templates)
            else:
                rendered = self._render_course(delivery, p, course, links["course"],
                                               links["preferences"], links["unsubscribe"])
        else:
            courses = self.digest_courses(session, delivery, p.id, today)
            if not courses:
                return Skip(DeliveryState.CANCELLED, "no course left to list")
            links["courses"] = [make.click(delivery.dedup_key, c.url)
                                for c in courses]
            ctx = {**self._common(campaign), "participant": participant, "links": links,
                   "courses": [course_context(c) for c in courses],
                   "period": {"start": delivery.period_start, "end": delivery.period_end}}
            # The renderer resolves the language (the preferred one, else English).
            rendered = self.renderer.render_email(delivery.template, language, ctx)
        return Message(
            key=delivery.dedup_key,
            to=email,
            to_name=name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            language=rendered.language,
            link=links.get("course"),
            headers={
                "List-Unsubscribe": f"<{links['unsubscribe']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            meta=meta,
            envelope_from=self._envelope_from(delivery),
            date=now,
        )

    def _render_course(self, delivery: AnyDelivery, p: AnyParticipant, course: AnyCourse,
                       click: str, preferences: str, unsubscribe: str) -> RenderedEmail:
        """A course email: rendered once per course, campaign and language, the recipient
        filled in (the shared part of the context is only built when a render is due)."""
        campaign = delivery.campaign
        sender = self.config.settings.sender
        scope = (course.id, course.content_hash, campaign, sender.name, sender.email)
        return self.renderer.render_email_filled(
            delivery.template, p.language,
            lambda: {**self._common(campaign), "course": course_context(course),
                     "period": None},
            _COURSE_HOLES, [click, preferences, unsubscribe, p.email, p.language, p.name],
            scope)

    def _common(self, campaign: str) -> dict[str, Any]:
        """The context every email template sees: `sender` (as a plain dict), `campaign`."""
        return {"sender": self.config.settings.sender.model_dump(),
                "campaign": {"name": campaign}}

    def _render_ahead(self, batch: Batch, today: date) -> Render:
        """`_render_course` for the deliveries of `batch` made ahead, only for those that
        would be sent as things stand (the build checks again)."""
        def render(d: AnyDelivery, p: AnyParticipant, course: AnyCourse, click: str,
                   preferences: str, unsubscribe: str) -> RenderedEmail | None:
            if (p.status != _ACTIVE or p.email in batch.suppressed
                    or course.status != "open" or course.registration_deadline < today):
                return None
            return self._render_course(d, p, course, click, preferences, unsubscribe)
        return render

    def _bundle(self, lead: AnyDelivery, batch: Batch, p: AnyParticipant, today: date
                ) -> tuple[list[tuple[AnyCourse, str]], str] | Skip:
        """A cadence bundle's entries, most relevant first: (course, the dedup key its link
        names) once per course (an announcement and a reminder of it are one entry), and
        the template (the announcement's when the bundle holds one)."""
        rows: list[AnyDelivery] = [lead, *batch.members[lead.id]]
        keys: dict[str, str] = {}
        template = lead.template
        reminders = self.reminder_campaigns()
        for d in rows:
            if d.course_id is not None and d.course_id not in keys:
                keys[d.course_id] = d.dedup_key
            if d.campaign not in reminders:
                template = d.template if lead.campaign in reminders else template
        open_courses = [batch.courses[cid] for cid in keys
                        if cid in batch.courses and batch.courses[cid].status == "open"
                        and batch.courses[cid].registration_deadline >= today]
        if not open_courses:
            return Skip(DeliveryState.CANCELLED, "course cancelled")
        interests = batch.interests.get(p.id, set())
        open_courses.sort(key=lambda c: relevance_key(c.topics, interests,
                                                      c.registration_deadline, c.id))
        return [(c, keys[c.id]) for c in open_courses], template

    def reminder_campaigns(self) -> set[str]:
        """Course email campaigns that remind (`before` rule)."""
        return {c.name for c in self.config.campaigns.values()
                if c.kind == "course_email" and c.timing.kind == "before"}

    def _envelope_from(self, delivery: AnyDelivery) -> str | None:
        """The VERP envelope sender when the delivery's channel sets a `return_path`."""
        name = delivery.channel
        if name not in self._return_paths:
            channel = self.config.channels.get(name)
            self._return_paths[name] = (channel.raw.get("return_path")
                                        if channel is not None else None)
        return_path = self._return_paths[name]
        if not return_path:
            return None
        from scheduler.bounces.verp import address

        return address(str(return_path), self.key, delivery.id)

    def _links(self) -> MessageLinks:
        """The link maker of the builder's base URL and key (made again if either changed,
        forgetting the links made ahead with the old one)."""
        made = self._made_links
        if made is None or made.base_url is not self.base_url or made.key is not self.key:
            made = self._made_links = MessageLinks(self.base_url, self.key)
            self._ahead = LinksAhead()
        return made

    def _today(self, now: datetime) -> date:
        """Today in the configured timezone at `now` (a drain asks for one `now` many times)."""
        if self._today_at[0] != now:
            self._today_at = (now, today_in(now, self.tz))
        return self._today_at[1]

    def digest_courses(
        self, session: Session, delivery: AnyDelivery, participant_id: int, today: date
    ) -> list[Course]:
        """The courses a digest lists: matched, open, first seen within its period."""
        pairs = audience(today, participant_ids=[participant_id]).subquery()
        q = select(Course).where(Course.id.in_(select(pairs.c.course_id)))
        if delivery.period_start is not None:
            q = q.where(Course.first_seen_at > delivery.period_start)
        if delivery.period_end is not None:
            q = q.where(Course.first_seen_at <= delivery.period_end)
        return list(session.scalars(q.order_by(Course.start_date, Course.id).limit(50)))

    # -- posts --------------------------------------------------------------

    def _post(
        self, session: Session, delivery: AnyDelivery, channel: Channel, now: datetime
    ) -> Message | Skip:
        return build_post(self.renderer, session, delivery, channel)
