"""Centre-submitted posts: submit (validated, length-checked on every named channel),
approve (each named channel gives it its next free slot), reject (never posted)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.text import measure
from scheduler import outbox
from scheduler.app import App
from scheduler.channel_admin import is_social
from scheduler.errors import InputError
from scheduler.ingest.fields import DATE_MAX, DATE_MIN, NAME_MAX
from scheduler.models import Course, Delivery, SubmittedPost
from scheduler.posts import rules_for

FIELDS = {"text", "course", "channels", "earliest", "submitted_by"}


def social_channels(app: App) -> list[str]:
    """The enabled channels a centre's post may go to."""
    return [n for n, ch in app.channels().items() if is_social(app, n, ch.kind)]


def read_submission(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON submission file; InputError naming the file and field."""
    name = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([f"{name}: cannot read: {exc}"]) from exc
    from scheduler.ingest.safe_parse import loads_json, loads_yaml

    doc = loads_json(raw, name) if path.suffix.lower() == ".json" else loads_yaml(raw, name)
    if not isinstance(doc, dict):
        raise InputError([f"{name}: expected a mapping with text, channels, ..."])
    return doc


def validate_submission(app: App, doc: dict[str, Any], name: str, session: Session
                        ) -> tuple[str, str | None, list[str], datetime | None, str]:
    errors: list[str] = []
    unknown = sorted(set(doc) - FIELDS)
    if unknown:
        errors.append(f"{name}: {unknown[0]}: unknown field (known: {', '.join(sorted(FIELDS))})")
    text = doc.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{name}: text: required, a non-empty string")
        text = ""
    course = doc.get("course")
    if course is not None:
        course = str(course)
        if session.get(Course, course) is None:
            errors.append(f"{name}: course: no course with id '{course}'")
    chans = doc.get("channels")
    if isinstance(chans, str):
        chans = [chans]
    if not isinstance(chans, list) or not chans:
        errors.append(f"{name}: channels: required, a list of channel names")
        chans = []
    channels = app.channels()
    for ch in chans:
        cfg = app.config.channels.get(str(ch))
        if cfg is None:
            errors.append(f"{name}: channels: no channel named '{ch}'")
            continue
        built = channels.get(str(ch))
        if built is None:
            errors.append(f"{name}: channels: channel '{ch}' is disabled")
            continue
        if not is_social(app, str(ch), built.kind):
            errors.append(f"{name}: channels: '{ch}' is not a social channel (social ones: "
                          f"{', '.join(social_channels(app)) or 'none'})")
            continue
        rules = rules_for(built)
        if rules is not None and text:
            n = measure(text.strip(), rules)
            if n > rules.limit:
                errors.append(f"{name}: text: {n} characters as '{ch}' counts them, over its "
                              f"limit of {rules.limit}")
    earliest = doc.get("earliest")
    when: datetime | None = None
    if earliest is not None:
        try:
            when = (earliest if isinstance(earliest, datetime)
                    else datetime.fromisoformat(str(earliest).replace("Z", "+00:00")))
            if when.tzinfo is None:
                raise ValueError
        except ValueError:
            errors.append(f"{name}: earliest: '{earliest}' is not an ISO 8601 time with a zone")
            when = None
        if when is not None and not DATE_MIN <= when.date() <= DATE_MAX:
            errors.append(f"{name}: earliest: {when.date().isoformat()} is out of range "
                          f"({DATE_MIN.isoformat()} to {DATE_MAX.isoformat()})")
            when = None
    by = doc.get("submitted_by") or ""
    if not isinstance(by, str) or len(by) > NAME_MAX:
        errors.append(f"{name}: submitted_by: expected a name of at most {NAME_MAX} characters")
        by = ""
    if errors:
        raise InputError(errors)
    return text.strip(), course, [str(c) for c in chans], when, str(by)


def submit(app: App, path: Path) -> SubmittedPost:
    doc = read_submission(path)
    now = app.clock()
    with app.sessions() as s, s.begin():
        text, course, chans, when, by = validate_submission(app, doc, str(path), s)
        post = SubmittedPost(text=text, course_id=course, channels=chans, earliest_at=when,
                             submitted_by=by, status="submitted", source_file=path.name,
                             created_at=now)
        s.add(post)
        s.flush()
    return post


def _too_long(app: App, text: str, channel: str) -> str | None:
    """Why `text` does not fit `channel` (as that network counts it), or None."""
    rules = rules_for(app.channels()[channel])
    if rules is None:
        return None
    n = measure(text.strip(), rules)
    return (f"{n} characters as '{channel}' counts them, over its limit of {rules.limit}"
            if n > rules.limit else None)


def approval_channels(app: App, post: SubmittedPost, given: list[str] | None
                      ) -> tuple[list[str], list[tuple[str, str]]]:
    """The channels an approved post goes to: those `given` at approval, else those it was
    submitted for, else every enabled social channel it fits; and the ones left out, with
    why. `InputError` for a bad name, or a given channel the text does not fit."""
    built = app.channels()
    if given:
        errors = []
        for ch in given:
            if ch not in app.config.channels:
                errors.append(f"--channels: no channel named '{ch}'")
            elif ch not in built:
                errors.append(f"--channels: channel '{ch}' is disabled")
            elif built[ch].kind == "email":
                errors.append(f"--channels: '{ch}' is an email channel, not a social one")
            elif (why := _too_long(app, post.text, ch)) is not None:
                errors.append(f"post {post.id}: text: {why}")
        if errors:
            raise InputError(errors)
        return list(dict.fromkeys(given)), []
    if post.channels:
        return list(post.channels), []
    chosen: list[str] = []
    left: list[tuple[str, str]] = []
    for name, channel in built.items():
        if channel.kind == "email":
            continue
        why = _too_long(app, post.text, name)
        if why is None:
            chosen.append(name)
        else:
            left.append((name, why))
    return chosen, left


def decide(app: App, post_id: int, approve: bool, channels: list[str] | None = None
           ) -> tuple[SubmittedPost, list[tuple[str, str]]]:
    """Approve (slot it on each channel: `channels`, else its own, else every enabled social
    channel) or reject (cancel anything planned)."""
    now = app.clock()
    slots: list[tuple[str, str]] = []
    planner = app.planner()
    with app.sessions() as s, s.begin():
        post = s.get(SubmittedPost, post_id)
        if post is None:
            raise InputError([f"posts: no submitted post with id {post_id}"])
        if approve and post.status == "rejected":
            raise InputError([f"posts: post {post_id} was rejected; submit it again"])
        post.status = "approved" if approve else "rejected"
        post.decided_at = now
        if approve:
            post.channels, left_out = approval_channels(app, post, channels)
            slots.extend((ch, f"not posted: {why}") for ch, why in left_out)
            for ch in post.channels:
                if ch not in app.config.channels or not app.config.channels[ch].enabled:
                    continue
                key = f"post{post.id}:{ch}"
                existing = s.scalar(select(Delivery.due_at).where(Delivery.dedup_key == key))
                if existing is not None:
                    slots.append((ch, existing.isoformat()))
                    continue
                slot = planner.take_slot(s, ch, post.earliest_at or now, now)
                outbox.enqueue(
                    s, now=now, dedup_key=key, campaign="submitted", kind="submitted_post",
                    channel=ch, template="social/coe_post", post_id=post.id,
                    course_id=post.course_id, due_at=slot)
                s.flush()
                slots.append((ch, slot.isoformat()))
        else:
            outbox.cancel_for_post(s, post.id, now=now, reason="post rejected")
    return post, slots


def list_posts(app: App) -> list[dict[str, Any]]:
    with app.sessions() as s:
        return [{
            "id": p.id, "status": p.status, "channels": p.channels, "course": p.course_id,
            "submitted_by": p.submitted_by, "earliest": p.earliest_at.isoformat()
            if p.earliest_at else None, "created_at": p.created_at.isoformat(),
            "text": p.text,
        } for p in s.scalars(select(SubmittedPost).order_by(SubmittedPost.id))]
