"""A person's own choices, from the public pages or the operator: sign up, confirm,
change preferences, pause, unsubscribe. Each runs in the caller's transaction.

Every change takes effect for what is not yet sent: an unsubscribe cancels the person's
pending deliveries (outbox transition, participant index) in the same commit; a preference
change cancels the pending ones that no longer match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from scheduler import outbox
from scheduler.ingest import fields as f
from scheduler.matching import audience
from scheduler.models import Participant, ParticipantInterest, ParticipantStatus, Suppression
from scheduler.outbox import privacy as outbox_privacy
from scheduler.participants.interest_masks import key_masks, masks_for, wanted_keys

FORM_VERSION = "web-1"
"""The sign-up form's version, recorded with each consent given through it."""


@dataclass(frozen=True)
class Profile:
    """What the sign-up and preferences forms set: interests as displayed values."""

    name: str = ""
    language: str = "en"
    topics: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    frequency: str = "immediate"

    def interests(self) -> Iterable[tuple[str, str]]:
        for kind, values in (("topic", self.topics), ("region", self.regions),
                             ("language", self.languages), ("mode", self.modes)):
            for value in dict.fromkeys(f.norm(v) for v in values):
                yield kind, value


@dataclass
class SignUpOutcome:
    """Whom to email after a sign-up: a confirmation, a preferences link, or nobody."""

    send: str | None  # "confirm" | "preferences" | None
    participant: Participant | None = None
    notes: list[str] = field(default_factory=list)


def is_suppressed(session: Session, email: str) -> bool:
    """The address is on the suppression list, in clear or hashed (an erased person)."""
    from scheduler.privacy import address_hash

    return session.scalar(select(Suppression.email).where(
        Suppression.email.in_([email, address_hash(email)])).limit(1)) is not None


def find(session: Session, email: str) -> Participant | None:
    return session.scalar(select(Participant).where(Participant.email == email.lower()))


def _write_profile(session: Session, p: Participant, profile: Profile, now: datetime) -> None:
    interests = list(profile.interests())
    kinds = {k for k, _ in interests}
    p.name, p.language, p.frequency = profile.name, profile.language, profile.frequency
    p.any_topic, p.any_region = "topic" not in kinds, "region" not in kinds
    p.any_language, p.any_mode = "language" not in kinds, "mode" not in kinds
    masks = key_masks(session, wanted_keys(p.language, interests))
    for name, mask in masks_for(masks, p.language, interests).items():
        setattr(p, name, mask)
    p.updated_at = now
    session.flush()
    session.execute(delete(ParticipantInterest).where(ParticipantInterest.participant_id == p.id))
    if interests:
        session.execute(insert(ParticipantInterest), [
            {"participant_id": p.id, "kind": k, "value": v} for k, v in interests])


def sign_up(session: Session, email: str, profile: Profile, *, now: datetime) -> SignUpOutcome:
    """Record a web sign-up: a new or unsubscribed person becomes `pending` with this
    profile (a confirmation is due); a pending one gets the profile and a new confirmation;
    an active one is left as is (their preferences link is due); a suppressed address is
    left alone. The caller answers the same page whatever happened."""
    if is_suppressed(session, email):
        return SignUpOutcome(None)
    p = find(session, email)
    if p is not None and p.status == ParticipantStatus.ACTIVE.value:
        return SignUpOutcome("preferences", p)
    if p is None:
        p = Participant(email=email, status=ParticipantStatus.PENDING.value, created_at=now,
                        updated_at=now, subscribed_at=now)
        session.add(p)
    elif p.status == ParticipantStatus.UNSUBSCRIBED.value:
        p.status, p.subscribed_at = ParticipantStatus.PENDING.value, now
    _write_profile(session, p, profile, now)
    return SignUpOutcome("confirm", p)


def confirm(session: Session, participant_id: int, email: str, issued_at: datetime, *,
            now: datetime) -> str:
    """Double opt-in: "confirmed", "already" (nothing changed), or "invalid" (a link for
    someone else, an erased person, or older than the latest sign-up: nothing changed)."""
    p = session.get(Participant, participant_id, with_for_update=True)
    if p is None or p.email != email:
        return "invalid"
    if p.status == ParticipantStatus.ACTIVE.value:
        return "already"
    started = p.subscribed_at or p.created_at
    if p.status != ParticipantStatus.PENDING.value or issued_at.timestamp() < int(
            started.timestamp()):
        return "invalid"
    p.status = ParticipantStatus.ACTIVE.value
    p.consent_at, p.consent_date = now, now.date()
    p.consent_source, p.form_version = "web", FORM_VERSION
    p.updated_at = now
    return "confirmed"


def unsubscribe(session: Session, participant_id: int, *, now: datetime,
                reason: str = "participant unsubscribed", email: str | None = None
                ) -> int | None:
    """The person becomes `unsubscribed` and every pending or retrying delivery to them is
    cancelled, in the caller's transaction (one primary-key update, one indexed outbox
    update); how many were cancelled, or None when there is no such person (with `email`:
    no such person at that address, e.g. erased since)."""
    where = [Participant.id == participant_id]
    if email is not None:
        where.append(Participant.email == email)
    done = rows(session.execute(
        update(Participant).where(*where)
        .values(status=ParticipantStatus.UNSUBSCRIBED.value, updated_at=now)
        .execution_options(synchronize_session=False))).rowcount
    if not done:
        return None
    return outbox.cancel_for_participant(session, participant_id, now=now, reason=reason)


def save_preferences(session: Session, p: Participant, profile: Profile,
                     paused_until: date | None, *, now: datetime) -> int:
    """Save the person's interests, frequency, language and pause; cancel the pending
    deliveries that no longer match them (a course email of a course they no longer want,
    or of the other frequency). How many were cancelled."""
    _write_profile(session, p, profile, now)
    p.paused_until = paused_until
    session.flush()
    pending = outbox_privacy.cancellable_for_participant(session, p.id)
    if not pending:
        return 0
    matched = set(session.scalars(select(audience(now.date(), participant_ids=[p.id])
                                         .subquery().c.course_id)))
    drop = _unwanted(pending, matched, p.frequency)
    return outbox_privacy.cancel_ids(session, drop, now=now, reason="preferences changed")


def _unwanted(pending: Sequence[tuple[int, str, str | None]], matched: set[str],
              frequency: str) -> list[int]:
    def unwanted(kind: str, course_id: str | None) -> bool:
        if kind == "course_email":
            return frequency != "immediate" or course_id not in matched
        return kind == "digest" and frequency != "weekly"

    return [did for did, kind, course_id in pending if unwanted(kind, course_id)]


def rows(result: object) -> CursorResult[Any]:
    """An UPDATE's result, typed as what it is (it carries `rowcount`)."""
    return cast(CursorResult[Any], result)
