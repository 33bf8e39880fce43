"""The email benchmark's untimed half: the planned outbox and the prebuilt messages.

`setup` plans exactly N announcement emails into a scratch project; `prebuilt_messages`
builds each the way the dispatcher does, for the bare loop; `check_sample` holds a sample
of them to a full render. Split from `bench/email_bench.py` to keep each module small.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select

from bench.common import ANNOUNCE_CAMPAIGN, ROOT, scratch_project, smtp_channel_yaml
from bench.email_peers import Prebuilt
from channels.base import Message
from channels.email_message import check_address, compose_email, sender_domain
from demo.generate_participants import generate
from scheduler.app import App
from scheduler.batch import load_batch
from scheduler.ingest.source import read_source
from scheduler.ingest.store import import_courses
from scheduler.links import click_url, preferences_url, unsubscribe_url
from scheduler.messages import course_context
from scheduler.models import Course, Delivery, Participant
from scheduler.participants import (
    ParticipantRecord,
    bulk_load_participants,
    validate_participant,
)

# The demo's moment: the catalogue and the participants were imported a week earlier.
NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
IMPORTED_AT = NOW - timedelta(days=7)
# A fixed key, so the prebuilt messages carry the same signed links Herald sends.
SIGNING_KEY = "email-bench-signing-key-0123456789abcdef"
# Announcement emails per generated participant with the demo catalogue: about 3.8 (3.1
# on a few hundred); load a margin more and trim the outbox to exactly N.
EMAILS_PER_PARTICIPANT = 3.0
CAMPAIGNS = ANNOUNCE_CAMPAIGN


channels_yaml = smtp_channel_yaml


def fresh(folder: Path) -> Path:
    """A new empty folder for one phase's sink."""
    folder.mkdir(parents=True)
    return folder


def setup(tmp: Path, emails: int, connections: int) -> tuple[Path, str]:
    """A scratch project whose outbox holds exactly `emails` pending announcements."""
    config_dir = scratch_project(tmp, campaigns=CAMPAIGNS, channels=channels_yaml(25, connections))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    app = App(config_dir, db_url, NOW)
    _fmt, courses = read_source(str(ROOT / "demo" / "courses.csv"))
    people = math.ceil(emails / EMAILS_PER_PARTICIPANT) + 50
    # one email per person (cadence): about half the generated people match a course
    people = max(people, math.ceil(emails * 2.2) + 50)

    def records() -> Iterator[ParticipantRecord]:
        for row in generate(people, seed=7):
            rec, errs = validate_participant(row)
            if rec is None:
                raise RuntimeError(f"generated participant rejected: {errs}")
            yield rec

    t0 = time.perf_counter()
    with app.sessions() as s, s.begin():
        bulk_load_participants(s, records(), now=IMPORTED_AT)
        import_courses(s, courses, now=IMPORTED_AT)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    planned = app.planner().plan(NOW).total
    t_plan = time.perf_counter() - t0
    if planned < emails:
        raise SystemExit(f"setup planned only {planned} emails for {emails}: "
                         f"lower EMAILS_PER_PARTICIPANT")
    # Cadence (issue 16) sends one email per person a day: keep each of the first `emails`
    # participants' first row (one email each), so N rows are N emails.
    with app.sessions() as s, s.begin():
        ids = list(s.scalars(select(Delivery.id).order_by(Delivery.participant_id, Delivery.id)))
        firsts = list(s.scalars(select(func.min(Delivery.id)).group_by(Delivery.participant_id)
                                .order_by(Delivery.participant_id)))[:emails]
        if len(firsts) < emails:
            raise SystemExit(f"setup reached only {len(firsts)} people for {emails} emails")
        keep = set(firsts)
        extra = [i for i in ids if i not in keep]
        for i in range(0, len(extra), 500):
            s.execute(delete(Delivery).where(Delivery.id.in_(extra[i:i + 500])))
    app.close()
    print(f"setup: {people:,} participants and {len(courses)} courses loaded in {t_load:.1f}s, "
          f"{planned:,} emails planned in {t_plan:.1f}s, trimmed to {emails:,}", flush=True)
    return config_dir, db_url


CHECK_SAMPLE = 200  # prebuilt messages held to a full render and the one-by-one builder
BATCH = 500  # deliveries read per load_batch while prebuilding


def prebuilt_messages(app: App, now: datetime) -> list[Prebuilt]:
    """Every pending email as Herald's dispatcher builds and the `smtp` channel composes it.

    The dispatcher's own path: `load_batch` and `MessageBuilder.build(..., batch)` (one
    render per course and language, each recipient filled in), then the channel's
    `compose_email` with 8-bit bodies, as Herald sends to a server offering 8BITMIME. The
    bytes differ from what Herald sends only in Message-ID and Date; `check_sample` holds
    a sample to a full render and fails the benchmark if one differs.
    """
    channel = app.channels()["email"]
    sender = str(app.config.channels["email"].raw["from"])
    domain = sender_domain(sender)
    builder = app.builder()
    out: list[Prebuilt] = []
    built: list[tuple[int, Message]] = []
    with app.sessions() as s:
        ids = list(s.scalars(select(Delivery.id).where(Delivery.state == "pending")
                             .order_by(Delivery.id)))
        for i in range(0, len(ids), BATCH):
            batch = load_batch(s, ids[i:i + BATCH])
            for delivery in batch.deliveries:
                message = builder.build(s, delivery, channel, now, batch)
                if not isinstance(message, Message):
                    raise RuntimeError(f"delivery {delivery.id} would not be sent: {message}")
                email = compose_email(message, sender, domain=domain, now=now, eight_bit=True)
                out.append((check_address(message.to or ""), email.data, email.eight_bit))
                built.append((delivery.id, message))
    check_sample(app, built[:: max(1, len(built) // CHECK_SAMPLE)], now)
    return out


def check_sample(app: App, sample: list[tuple[int, Message]], now: datetime) -> None:
    """Fail loudly unless each prebuilt message is exactly what a full render gives.

    Two references, each built afresh: `build` one delivery at a time without a batch
    (rows read one by one), which must give an equal `Message`; and `render_email` on the
    whole context (course, recipient, links, sender, campaign), whose subject, text, HTML
    and language must be the prebuilt message's.
    """
    channel = app.channels()["email"]
    builder = app.builder()
    settings = app.config.settings
    key = app.signing_key
    with app.sessions() as s:
        for delivery_id, message in sample:
            delivery = s.get(Delivery, delivery_id)
            assert delivery is not None and delivery.course_id is not None
            one_by_one = builder.build(s, delivery, channel, now)
            p = s.get(Participant, delivery.participant_id)
            course = s.get(Course, delivery.course_id)
            assert p is not None and course is not None
            ctx = {"sender": settings.sender.model_dump(),
                   "campaign": {"name": delivery.campaign},
                   "participant": {"name": p.name, "email": p.email, "language": p.language},
                   "links": {"unsubscribe": unsubscribe_url(settings.base_url, key, p.id,
                                                            p.email, delivery.campaign),
                             "preferences": preferences_url(settings.base_url, key, p.id,
                                                            p.email),
                             "course": click_url(settings.base_url, key, delivery.dedup_key,
                                                 course.url)},
                   "course": course_context(course), "period": None}
            full = builder.renderer.render_email(delivery.template, p.language, ctx)
            got = (message.subject, message.text, message.html, message.language)
            if one_by_one != message or got != (full.subject, full.text, full.html,
                                                full.language):
                raise SystemExit(f"prebuilt message of delivery {delivery_id} differs from "
                                 "a full render: the bare loop would not send what Herald does")
    print(f"checked {len(sample)} prebuilt messages against a full render", flush=True)
