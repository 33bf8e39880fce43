"""Email dispatch benchmark: N announcement emails through the `smtp` channel to a sink.

    python bench/email_bench.py [--quick] [--emails N] [--connections C]
                                [--also-connections C2] [--profile]

Plans N `course_email` announcements (demo courses, generated participants), then sends
them three ways, each to `bench/smtp_sink.py` (aiosmtpd in its own process on loopback; a
fresh one per phase, so its count is that phase's alone):

1. the limit: a bare smtplib loop over C connections (one thread each) sending the same
   messages, prebuilt in memory by Herald's own builder before the clock starts;
2. Herald: `App(...).dispatcher().run_once()` on the planned outbox, rendering and outbox
   bookkeeping included; afterwards every delivery must be `sent` after one attempt and
   the sink must have accepted exactly N messages;
3. Apprise's `mailto://` sending the same subject, HTML and List-Unsubscribe header per
   recipient (a sample: it opens one connection per message).

Connection set-up is inside the timed region for all three: Herald opens its connections
lazily inside `run_once`, so the bare loop opens its own after the clock starts too.
C is 4 by default; Herald and the bare loop then run again over C2 (2) connections on a
quarter of the emails, reported without a target (bench/README.md says why).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, select

from bench.common import (
    ANNOUNCE_CAMPAIGN,
    ROOT,
    SENDER,
    Figure,
    figure,
    scratch_project,
    smtp_channel_yaml,
    write_figures,
)
from bench.smtp_sink import SinkProcess
from channels.base import Message
from channels.email_message import (
    check_address,
    compose_email,
    envelope_sender,
    sender_domain,
)
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

BENCH = "email"
# The demo's moment: the catalogue and the participants were imported a week earlier.
NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
IMPORTED_AT = NOW - timedelta(days=7)
# A fixed key, so the prebuilt messages carry the same signed links Herald sends.
SIGNING_KEY = "email-bench-signing-key-0123456789abcdef"
# Announcement emails per generated participant with the demo catalogue: about 3.8 (3.1
# on a few hundred); load a margin more and trim the outbox to exactly N.
EMAILS_PER_PARTICIPANT = 3.0
CAMPAIGNS = ANNOUNCE_CAMPAIGN
T = TypeVar("T")


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


Prebuilt = tuple[str, bytes, bool]
"""(recipient, wire bytes, 8-bit body: send with BODY=8BITMIME) of one message."""
EIGHT_BIT = ("BODY=8BITMIME",)
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


def bare_loop(port: int, messages: list[Prebuilt], connections: int,
              mail_from: str) -> tuple[float, int]:
    """Send `messages` over `connections` smtplib sessions, one thread each.

    Returns (seconds from the start until the last message was accepted, messages sent).
    The threads share one iterator, as a pool's workers share a queue. An 8-bit message
    goes with BODY=8BITMIME, as Herald sends it; the sink must offer 8BITMIME.
    """
    feed = iter(messages)
    lock = threading.Lock()
    ends: list[float] = []
    sent = [0] * connections
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
            smtp.ehlo()
            if not smtp.has_extn("8bitmime"):
                raise RuntimeError("the sink does not offer 8BITMIME")
            while True:
                with lock:
                    item = next(feed, None)
                if item is None:
                    break
                to, data, eight_bit = item
                smtp.sendmail(mail_from, [to], data, EIGHT_BIT if eight_bit else ())
                sent[k] += 1
            ends.append(time.perf_counter())
            smtp.quit()
        except BaseException as exc:  # reported below: the bench fails loudly
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"bare loop failed: {errors[0]!r}")
    return max(ends) - t0, sum(sent)


def apprise_send(port: int, messages: list[Prebuilt],
                 connections: int) -> tuple[float, str]:
    """Send each message's subject, HTML and List-Unsubscribe through Apprise's mailto://.

    One fresh `Apprise` object per message, as personalised mail needs a URL per recipient
    (it is also Apprise's fast case: one object throttles 5.5 s between its sends).
    Returns (seconds taken by `connections` threads sharing the list, Apprise's version).
    """
    try:
        import apprise
    except ImportError:
        raise SystemExit("the email benchmark needs Apprise: pip install -e '.[bench]'") from None

    mail_from = envelope_sender(SENDER)
    urls: list[tuple[str, str, str]] = []
    for _to, data, _eight_bit in messages:
        parsed = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)
        html = parsed.get_body(("html",))
        assert html is not None
        query = urlencode({"smtp": "127.0.0.1", "mode": "insecure", "from": mail_from,
                           "name": "ITU Academy", "to": str(parsed["To"]), "format": "html",
                           "+List-Unsubscribe": str(parsed["List-Unsubscribe"])},
                          quote_via=quote)
        urls.append((f"mailto://127.0.0.1:{port}/?{query}", str(parsed["Subject"]),
                     html.get_content()))
    feed = iter(urls)
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                item = next(feed, None)
            if item is None:
                return
            url, subject, body = item
            ap = apprise.Apprise()
            if not ap.add(url) or not ap.notify(body=body, title=subject,
                                                 body_format=apprise.NotifyFormat.HTML):
                failures.append(url)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if failures:
        raise RuntimeError(f"Apprise failed {len(failures)} sends, e.g. to {failures[0]}")
    return elapsed, str(apprise.__version__)


def profiled(run: Callable[[], T], report: Path) -> tuple[T, float]:
    """Run `run` under pyinstrument, every thread it starts included; write the text report.

    pyinstrument samples one thread, and Herald sends from worker threads, so each thread
    started meanwhile gets a profiler of its own; the report shows the main thread, then
    the worker threads (one tree each). Returns `run`'s result and its seconds (the report's
    rendering is not counted).
    """
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    workers: list[Session] = []
    original = threading.Thread.run

    def run_profiled(thread: threading.Thread) -> None:
        p = Profiler(async_mode="disabled")
        p.start()
        try:
            original(thread)
        finally:
            workers.append(p.stop())

    threading.Thread.run = run_profiled  # type: ignore[method-assign,assignment]
    main = Profiler(async_mode="disabled")
    try:
        main.start()
        t0 = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - t0
        main_session = main.stop()
    finally:
        threading.Thread.run = original  # type: ignore[method-assign]
    render = ConsoleRenderer(unicode=True, color=False, show_all=False).render
    parts = ["== main thread (claims batches, waits for the workers)\n", render(main_session)]
    if workers:
        combined = workers[0]
        for session in workers[1:]:
            combined = Session.combine(combined, session)
        parts += [f"\n== {len(workers)} worker thread(s), one tree each (build, send, record)\n",
                  render(combined)]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("".join(parts))
    return result, elapsed


def herald_send(config_dir: Path, db_url: str, profile: Path | None) -> tuple[float, float]:
    """(seconds to build App and dispatcher, seconds of `run_once`) on the planned outbox."""
    t0 = time.perf_counter()
    app = App(config_dir, db_url, NOW)
    dispatcher = app.dispatcher()
    t_app = time.perf_counter() - t0
    if profile is not None:
        outcome, elapsed = profiled(dispatcher.run_once, profile)
    else:
        t0 = time.perf_counter()
        outcome = dispatcher.run_once()
        elapsed = time.perf_counter() - t0
    app.close()
    print(f"  herald outcome: {dict(outcome)}", flush=True)
    return t_app, elapsed


def check_count(sink: SinkProcess, expected: int, phase: str) -> None:
    """Fail loudly unless the (stopped) sink accepted exactly `expected` messages."""
    if sink.count() != expected:
        raise SystemExit(f"{phase}: the sink accepted {sink.count()} messages, "
                         f"expected {expected}")


def check_outbox(db_url: str, config_dir: Path, emails: int) -> None:
    """Fail loudly unless every delivery is `sent`, each after exactly one attempt."""
    app = App(config_dir, db_url, NOW)
    with app.sessions() as s:
        rows = s.execute(select(Delivery.state, Delivery.attempts, func.count())
                         .group_by(Delivery.state, Delivery.attempts)).all()
    app.close()
    found = {(state, attempts): n for state, attempts, n in rows}
    if found != {("sent", 1): emails}:
        raise SystemExit(f"herald: deliveries by (state, attempts) {found}, "
                         f"expected {emails} sent after one attempt")


def herald_and_bare(tmp: Path, emails: int, conns: int,
                    profile: Path | None) -> tuple[float, float, list[Prebuilt], float]:
    """Plan `emails`, send them bare then through Herald over `conns` connections: (Herald's
    rate, the bare loop's, the prebuilt messages, the untimed setup's seconds)."""
    t0 = time.perf_counter()
    config_dir, db_url = setup(tmp, emails, conns)
    t_setup = time.perf_counter() - t0

    t0 = time.perf_counter()
    app = App(config_dir, db_url, NOW)
    messages = prebuilt_messages(app, NOW)
    app.close()
    t_prebuild = time.perf_counter() - t0
    size = sum(len(data) for _to, data, _8 in messages) / len(messages)
    print(f"prebuilt {len(messages):,} messages (mean {size / 1024:.1f} KiB) in "
          f"{t_prebuild:.1f}s", flush=True)

    with SinkProcess(fresh(tmp / "sink-bare")) as sink:
        t_bare, n_bare = bare_loop(sink.port, messages, conns, envelope_sender(SENDER))
    check_count(sink, len(messages), "bare loop")
    print(f"bare smtplib loop, {conns} connections: {n_bare:,} messages in {t_bare:.1f}s",
          flush=True)

    with SinkProcess(fresh(tmp / "sink-herald")) as sink:
        (config_dir / "channels.yaml").write_text(channels_yaml(sink.port, conns))
        t_app, t_herald = herald_send(config_dir, db_url, profile)
    check_count(sink, emails, "herald")
    check_outbox(db_url, config_dir, emails)
    print(f"herald, {conns} connections: {emails:,} messages in {t_herald:.1f}s (App and "
          f"dispatcher built in {t_app:.2f}s, untimed)", flush=True)
    if profile is not None:
        print(f"profile: {profile}\n" + "\n".join(profile.read_text().splitlines()[:60]))
    return emails / t_herald, n_bare / t_bare, messages, t_setup + t_prebuild


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 emails, an Apprise sample of 200")
    ap.add_argument("--emails", type=int, default=None, help="emails to send (20,000)")
    ap.add_argument("--connections", type=int, default=4,
                    help="SMTP connections of the headline figures (4)")
    ap.add_argument("--also-connections", type=int, default=2,
                    help="Herald and the bare loop again over this many connections, on a "
                    "quarter of the emails: a figure without a target (2; 0 skips it)")
    ap.add_argument("--apprise-sample", type=int, default=None,
                    help="messages sent through Apprise (500; quick 200)")
    ap.add_argument("--profile", action="store_true",
                    help="profile Herald's dispatch; bench/results/email-profile.txt")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    emails = args.emails or (2_000 if args.quick else 20_000)
    sample = min(emails, args.apprise_sample or (200 if args.quick else 500))
    conns, also = args.connections, args.also_connections
    os.environ["HERALD_SIGNING_KEY"] = SIGNING_KEY

    tmp = Path(tempfile.mkdtemp(prefix="herald-email-bench-"))
    try:
        profile = ROOT / "bench" / "results" / "email-profile.txt" if args.profile else None
        herald_rate, bare_rate, messages, t_setup = herald_and_bare(tmp / "main", emails,
                                                                    conns, profile)

        picked = messages[:: max(1, len(messages) // sample)][:sample]
        with SinkProcess(fresh(tmp / "sink-apprise")) as sink:
            t_apprise, apprise_version = apprise_send(sink.port, picked, conns)
        check_count(sink, len(picked), "apprise")
        print(f"apprise: {len(picked):,} messages in {t_apprise:.1f}s", flush=True)

        also_emails = max(emails // 4, 200)
        also_rates: tuple[float, float] | None = None
        if also and also != conns:
            also_herald, also_bare, _m, _t = herald_and_bare(tmp / "also", also_emails,
                                                              also, None)
            also_rates = also_herald, also_bare
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    apprise_rate = len(picked) / t_apprise

    figures: list[Figure] = [
        figure(BENCH, "herald_msgs_per_s", round(herald_rate, 1), "msg/s",
               note=f"{emails} emails, {conns} connections, rendering and outbox included"
               + ("; under pyinstrument" if profile else "")),
        figure(BENCH, "bare_smtplib_msgs_per_s", round(bare_rate, 1), "msg/s",
               note=f"the same prebuilt messages, {conns} smtplib connections"),
        figure(BENCH, "apprise_msgs_per_s", round(apprise_rate, 1), "msg/s",
               note=f"Apprise {apprise_version} mailto://, a sample of {len(picked)} of "
               f"the same messages, {conns} threads, one connection per message"),
        figure(BENCH, "herald_vs_bare", round(herald_rate / bare_rate, 3), "x", target=0.7,
               better="higher", note=f"{conns} connections each"),
        figure(BENCH, "herald_vs_apprise", round(herald_rate / apprise_rate, 2), "x",
               target=10, better="higher"),
    ]
    if also_rates is not None:
        also_herald, also_bare = also_rates
        figures.append(figure(
            BENCH, f"herald_vs_bare_{also}_connections", round(also_herald / also_bare, 3),
            "x", note=f"{also_emails} emails over {also} connections each: Herald "
            f"{also_herald:.0f}, bare {also_bare:.0f} msg/s (no target; bench/README.md)"))
    figures.append(figure(BENCH, "email_setup_time", round(t_setup, 1), "s",
                          note="load, plan, prebuild (untimed)"))
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
