"""Email dispatch benchmark: N announcement emails through the `smtp` channel to a sink.

    python bench/email_bench.py [--quick] [--emails N] [--connections C]
                                [--also-connections C2] [--apprise-sample K] [--profile]

Plans N `course_email` announcements (demo courses, generated participants) once, keeps a
copy of the planned database, and prebuilds every message with Herald's own builder. Then,
for each sink and connection count, with a fresh sink each time (its count is that
phase's alone) and the planned database put back before Herald's turn:

1. the limit: a bare smtplib loop over C connections (one thread each) sending the
   prebuilt messages;
2. Herald: `App(...).dispatcher().run_once()` on the planned outbox, rendering and outbox
   bookkeeping included; afterwards every delivery must be `sent` after one attempt and
   the sink must have received exactly N messages.

The headline sink is Postfix's `smtp-sink` (C, PIPELINING and 8BITMIME;
`bench/postfix_sink.py`), at C (4) and C2 (2, the channel's default) connections; aiosmtpd
(`bench/smtp_sink.py`, a Python sink that bounds the bare loop) is a second row at C, on a
quarter of the emails. Apprise's `mailto://` sends a sample of the same subjects, HTML and
List-Unsubscribe headers to smtp-sink (one connection per message). Each sender's process
CPU per email (`time.process_time`, the sinks run in processes of their own) is reported
beside the rates. Connection set-up is inside the timed region for all: Herald opens its
connections lazily inside `run_once`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench.common import (
    ROOT,
    SENDER,
    Figure,
    figure,
    write_figures,
)
from bench.email_cpu import CpuParts, SendingCommits
from bench.email_peers import Prebuilt, apprise_send, profiled
from bench.email_setup import (
    NOW,
    SIGNING_KEY,
    channels_yaml,
    fresh,
    prebuilt_messages,
    setup,
)
from bench.postfix_sink import PostfixSink
from bench.smtp_sink import SinkProcess
from channels.email_message import (
    envelope_sender,
)
from scheduler.app import App
from scheduler.models import Delivery

BENCH = "email"
EIGHT_BIT = ("BODY=8BITMIME",)


def bare_loop(port: int, messages: list[Prebuilt], connections: int,
              mail_from: str) -> tuple[float, int, float]:
    """Send `messages` over `connections` smtplib sessions, one thread each.

    Returns (seconds from the start until the last message was accepted, messages sent,
    this process's CPU seconds meanwhile).
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
    cpu0, t0 = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu0
    if errors:
        raise RuntimeError(f"bare loop failed: {errors[0]!r}")
    return max(ends) - t0, sum(sent), cpu



class Sink(Protocol):
    """What a phase needs of a sink: its port and the messages it received."""

    port: int

    def count(self) -> int: ...


SINKS = {"smtp-sink": PostfixSink, "aiosmtpd": SinkProcess}


def herald_send(config_dir: Path, db_url: str, profile: Path | None,
                parts: CpuParts | None = None) -> tuple[float, float, float]:
    """(seconds to build App and dispatcher, seconds of `run_once`, process CPU seconds of
    `run_once`) on the planned outbox."""
    t0 = time.perf_counter()
    app = App(config_dir, db_url, NOW)
    dispatcher = app.dispatcher()
    t_app = time.perf_counter() - t0
    cpu0 = time.process_time()
    if profile is not None:
        outcome, elapsed = profiled(dispatcher.run_once, profile)
    elif parts is not None:
        with parts.watch():
            t0 = time.perf_counter()
            outcome = dispatcher.run_once()
            elapsed = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        outcome = dispatcher.run_once()
        elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    app.close()
    print(f"  herald outcome: {dict(outcome)}", flush=True)
    return t_app, elapsed, cpu


def settle(sink: Sink, expected: int) -> None:
    """Give a running sink that counts as it goes (smtp-sink) a moment to count the last."""
    if isinstance(sink, PostfixSink):
        sink.settle(expected)


def check_count(sink: Sink, expected: int, phase: str) -> None:
    """Fail loudly unless the (stopped) sink received exactly `expected` messages."""
    got = sink.count()
    if got != expected:
        raise SystemExit(f"{phase}: the sink received {got} messages, expected {expected}")


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


@dataclass
class Planned:
    """The scratch project, its planned database (and a copy), the prebuilt messages."""

    config_dir: Path
    db_file: Path
    messages: list[Prebuilt]
    setup_seconds: float

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_file}"

    @property
    def snapshot(self) -> Path:
        return self.db_file.with_suffix(".planned")

    def restore(self) -> None:
        """Put the planned outbox back (Herald's last phase sent it)."""
        for extra in ("-wal", "-shm"):
            Path(f"{self.db_file}{extra}").unlink(missing_ok=True)
        shutil.copyfile(self.snapshot, self.db_file)


def plan(tmp: Path, emails: int) -> Planned:
    """Plan `emails`, copy the planned database aside, prebuild the messages."""
    t0 = time.perf_counter()
    config_dir, db_url = setup(tmp, emails, 2)
    db_file = Path(db_url.removeprefix("sqlite:///"))
    app = App(config_dir, db_url, NOW)
    messages = prebuilt_messages(app, NOW)
    app.close()
    size = sum(len(data) for _to, data, _8 in messages) / len(messages)
    print(f"prebuilt {len(messages):,} messages (mean {size / 1024:.1f} KiB)", flush=True)
    planned = Planned(config_dir, db_file, messages, 0.0)
    with sqlite3.connect(db_file) as src, sqlite3.connect(planned.snapshot) as dst:
        src.backup(dst)
    planned.setup_seconds = time.perf_counter() - t0
    return planned


@dataclass
class Phase:
    """One sink and connection count: the bare loop's and Herald's rate and CPU."""

    sink: str
    connections: int
    emails: int
    bare_rate: float
    bare_cpu_ms: float
    herald_rate: float
    herald_cpu_ms: float
    per_commit: float
    """Emails marked `sending` per commit (the sends that began together)."""

    @property
    def ratio(self) -> float:
        return self.herald_rate / self.bare_rate


def phase(tmp: Path, planned: Planned, sink_name: str, conns: int,
          profile: Path | None, cpu_parts: bool = False) -> Phase:
    """The bare loop, then Herald, each to a fresh `sink_name` over `conns` connections."""
    sink_type = SINKS[sink_name]
    label = f"{sink_name}, {conns} connections"
    messages = planned.messages
    n = len(messages)
    with sink_type(fresh(tmp / f"{sink_name}-{conns}-bare")) as sink:
        t_bare, n_bare, cpu_bare = bare_loop(sink.port, messages, conns,
                                             envelope_sender(SENDER))
        settle(sink, n)
    check_count(sink, n, f"bare loop ({label})")
    print(f"bare smtplib loop ({label}): {n_bare:,} in {t_bare:.2f}s, "
          f"{n_bare / t_bare:,.0f}/s, CPU {cpu_bare / n_bare * 1000:.3f} ms an email",
          flush=True)
    planned.restore()
    with sink_type(fresh(tmp / f"{sink_name}-{conns}-herald")) as sink:
        (planned.config_dir / "channels.yaml").write_text(channels_yaml(sink.port, conns))
        parts = CpuParts() if cpu_parts else None
        with SendingCommits().watch() as commits:
            _t_app, t_herald, cpu_herald = herald_send(planned.config_dir, planned.db_url,
                                                       profile, parts)
        settle(sink, n)
    check_count(sink, n, f"herald ({label})")
    check_outbox(planned.db_url, planned.config_dir, n)
    result = Phase(sink_name, conns, n, n_bare / t_bare, cpu_bare / n_bare * 1000,
                   n / t_herald, cpu_herald / n * 1000, commits.per_commit)
    print(f"herald ({label}): {n:,} in {t_herald:.2f}s, {result.herald_rate:,.0f}/s, "
          f"CPU {result.herald_cpu_ms:.3f} ms an email; herald/bare {result.ratio:.3f}; "
          f"{result.per_commit:.2f} emails a sending commit", flush=True)
    if parts is not None:
        print(f"CPU by part (thread CPU, exclusive; {label}):\n"
              + parts.report(cpu_herald, n), flush=True)
    if profile is not None:
        print(f"profile: {profile}\n" + "\n".join(profile.read_text().splitlines()[:60]))
    return result


def phase_figures(p: Phase, headline: bool) -> list[Figure]:
    """A phase's figures; the headline's names carry no suffix, the others say the sink
    and the connection count."""
    suffix = "" if headline else (f"_{p.connections}_connections" if p.sink == "smtp-sink"
                                  else f"_{p.sink}")
    where = f"{p.sink}, {p.connections} connections each, {p.emails} emails"
    target = p.sink == "smtp-sink"
    return [
        figure(BENCH, f"herald_msgs_per_s{suffix}", round(p.herald_rate, 1), "msg/s",
               note=f"{where}; rendering and outbox included"),
        figure(BENCH, f"bare_smtplib_msgs_per_s{suffix}", round(p.bare_rate, 1), "msg/s",
               note=f"{where}; the same prebuilt messages"),
        figure(BENCH, f"herald_vs_bare{suffix}", round(p.ratio, 3), "x",
               target=0.5 if target else None, better="higher",
               note=where + ("" if target else " (the sink is the limit: no target)")),
        figure(BENCH, f"herald_cpu_ms_per_email{suffix}", round(p.herald_cpu_ms, 3), "ms",
               target=0.30 if headline else None, better="lower",
               note=f"Herald's process CPU during run_once / emails; {where}"),
        figure(BENCH, f"bare_cpu_ms_per_email{suffix}", round(p.bare_cpu_ms, 3), "ms",
               note=f"the bare loop's process CPU / emails; {where}"),
        figure(BENCH, f"herald_emails_per_sending_commit{suffix}", round(p.per_commit, 2), "emails",
               note=f"sends begun together, one commit each group (free sessions); {where}"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 emails, an Apprise sample of 200")
    ap.add_argument("--emails", type=int, default=None, help="emails to send (20,000)")
    ap.add_argument("--connections", type=int, default=4,
                    help="SMTP connections of the headline figures (4)")
    ap.add_argument("--also-connections", type=int, default=2,
                    help="smtp-sink again over this many connections (2, the channel's "
                    "default; 0 skips it)")
    ap.add_argument("--sinks", nargs="+", default=["smtp-sink", "aiosmtpd"],
                    choices=sorted(SINKS), help="sinks to run (the first is the headline)")
    ap.add_argument("--apprise-sample", type=int, default=None,
                    help="messages sent through Apprise (500; quick 200; 0 skips it)")
    ap.add_argument("--profile", action="store_true",
                    help="profile Herald's headline phase; bench/results/email-profile.txt")
    ap.add_argument("--cpu-parts", action="store_true",
                    help="print the send thread's CPU by part in the headline phase "
                    "(bench/email_cpu.py)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    emails = args.emails or (2_000 if args.quick else 20_000)
    sample = min(emails, args.apprise_sample if args.apprise_sample is not None
                 else (200 if args.quick else 500))
    conns, also = args.connections, args.also_connections
    os.environ["HERALD_SIGNING_KEY"] = SIGNING_KEY

    tmp = Path(tempfile.mkdtemp(prefix="herald-email-bench-"))
    phases: list[Phase] = []
    picked: list[Prebuilt] = []
    t_apprise, apprise_version = 0.0, ""
    setup_seconds = 0.0
    try:
        planned = plan(tmp / "project", emails)
        setup_seconds = planned.setup_seconds
        profile = ROOT / "bench" / "results" / "email-profile.txt" if args.profile else None
        runs = [(args.sinks[0], conns)]
        if also and also != conns and args.sinks[0] == "smtp-sink":
            runs.append(("smtp-sink", also))
        for k, (name, c) in enumerate(runs):
            phases.append(phase(tmp, planned, name, c, profile if k == 0 else None,
                                args.cpu_parts and k == 0))
        if args.sinks[1:]:
            # A quarter of the emails (at least 500): aiosmtpd sends ~600-1,800 a second,
            # and its row says how far it bounds the bare loop, not more.
            small = plan(tmp / "small", max(emails // 4, min(emails, 500)))
            setup_seconds += small.setup_seconds
            for name in args.sinks[1:]:
                phases.append(phase(tmp, small, name, conns, None))
        if sample:
            picked = planned.messages[:: max(1, emails // sample)][:sample]
            with PostfixSink(fresh(tmp / "apprise")) as sink:
                t_apprise, apprise_version = apprise_send(sink.port, picked, conns)
                settle(sink, len(picked))
            check_count(sink, len(picked), "apprise")
            print(f"apprise: {len(picked):,} messages in {t_apprise:.1f}s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    figures: list[Figure] = []
    for k, p in enumerate(phases):
        figures += phase_figures(p, headline=k == 0)
    if picked:
        apprise_rate = len(picked) / t_apprise
        figures += [
            figure(BENCH, "apprise_msgs_per_s", round(apprise_rate, 1), "msg/s",
                   note=f"Apprise {apprise_version} mailto:// to smtp-sink, a sample of "
                   f"{len(picked)} of the same messages, {conns} threads, one connection "
                   "per message"),
            figure(BENCH, "herald_vs_apprise", round(phases[0].herald_rate / apprise_rate, 2),
                   "x", target=10, better="higher"),
        ]
    figures.append(figure(BENCH, "email_setup_time", round(setup_seconds, 1), "s",
                          note="load, plan, prebuild (untimed)"))
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
