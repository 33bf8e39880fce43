"""Scale-out benchmark (PostgreSQL): 1, 2 and 4 dispatcher processes on one outbox.

    python bench/scaleout_bench.py [--quick] [--json PATH] [--deliveries N]

The outbox: N announcement emails (default 20,000; quick 2,000), N consenting
participants each interested in one of 10 newly published courses (one email each:
see `announce_outbox`), planned once before the clock starts. For each
k in 1, 2, 4 a fresh database starts as a copy of the planned one, then k
`herald send-now --channel email` processes start together and drain it over Herald's
`smtp` channel (2 connections each) into `bench/raw_sink.py`; the time runs from their
start until the last one exits, so process start-up (measured on its own and printed)
is included. `send-now` rather than `herald run` replicas: it drains what is due and
exits, so the end is exact, while daemons dispatch on a 5 s tick and would have to be
watched and stopped.

Figures: throughput for each k; duplicates (recipient and subject received more than
once, summed over the three runs; target 0); lost (deliveries neither received nor
`sent`; target 0). The machine's cores bound the scale-out: k processes, PostgreSQL
and the sink share them, so 4 processes cannot go past the core count's speed-up.

Also the shared setup of `memory_bench.py`: `announce_outbox`, `herald_command`,
`tally`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    ANNOUNCE_CAMPAIGN,
    ROOT,
    Figure,
    figure,
    needs_non_durable_acceptance,
    pg_database,
    pg_server_durable,
    pg_server_url,
    scratch_project,
    smtp_channel_yaml,
    write_figures,
)
from bench.raw_sink import SinkProcess  # noqa: E402

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
COURSES = 10
LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789"
CAMPAIGNS = ANNOUNCE_CAMPAIGN


channels_yaml = smtp_channel_yaml


@dataclass
class Outbox:
    """A planned outbox: where it is and what it holds."""

    config_dir: Path
    url: str
    deliveries: int


def topic(course: int) -> str:
    """The one topic of course number `course`, and the interest of its audience."""
    return f"bench topic {course}"


def outbox_config(tmp: Path, url: str, port: int, connections: int = 2) -> Path:
    """The scratch project in `tmp` (once): the announce campaign, an `smtp` channel to
    the sink on `port`, and the risk declared only where `url` needs it."""
    config_dir = tmp / "config"
    if not config_dir.exists():
        scratch_project(tmp, campaigns=CAMPAIGNS, channels=channels_yaml(port, connections),
                        accept_non_durable=needs_non_durable_acceptance(url))
        (config_dir / "sources.yaml").write_text("sources: {}\n")
    return config_dir


def announce_outbox(tmp: Path, url: str, port: int, deliveries: int,
                    connections: int = 2) -> Outbox:
    """Config in `tmp`, then `deliveries` announcement emails planned into `url`.

    `deliveries` consenting participants (preferred languages cycling through the six
    UN languages) and 10 courses modelled on the demo catalogue (open to all six
    languages, distinct titles), each course with a topic of its own and each
    participant interested in one of those topics: every participant matches exactly
    one course, so the outbox is exact, every delivery is an email of its own (cadence
    bundles the courses one person is due together into one email: with several
    courses a person, deliveries and emails would differ) and (recipient, subject) names
    one delivery.
    """
    from sqlalchemy import text

    from scheduler.app import App
    from scheduler.ingest.source import read_source
    from scheduler.ingest.store import import_courses
    from scheduler.participants import bulk_load_participants, validate_participant

    people = deliveries
    config_dir = outbox_config(tmp, url, port, connections)
    _fmt, demo = read_source(str(ROOT / "demo" / "courses.csv"))
    courses = []
    for i in range(COURSES):
        start = date(2027, 3, 1) + timedelta(days=i)
        courses.append(replace(demo[i], id=f"SCALE-{i:02d}", status="open", start_date=start,
                               end_date=start + timedelta(days=5), languages=LANGUAGES,
                               topics=(topic(i),),
                               registration_deadline=start - timedelta(days=14)))

    def records() -> Any:
        for i in range(people):
            rec, errors = validate_participant({
                "email": f"p{i:07d}@example.org", "name": f"Participant {i}",
                "language": LANGUAGES[i % len(LANGUAGES)], "country": "Kenya",
                "timezone": "Africa/Nairobi", "frequency": "immediate",
                "topics": topic(i % COURSES),
                "consent": "2026-01-01"})
            assert rec is not None, errors
            yield rec

    app = App(config_dir, url, NOW)
    try:
        with app.sessions() as s, s.begin():
            bulk_load_participants(s, records(), now=NOW - timedelta(days=30))
            import_courses(s, courses, now=NOW)
        # Statistics, as a database that has lived a while has them (PostgreSQL's
        # autovacuum would gather them soon after the load): without them PostgreSQL
        # plans the audience query blind, and it took minutes at 50,000 participants.
        with app.engine.connect() as c:
            c.execute(text("ANALYZE"))
            c.commit()
        planned = app.planner().plan(NOW).total
    finally:
        app.close()
    if planned != deliveries:
        raise SystemExit(f"setup planned {planned} deliveries, expected {deliveries}")
    return Outbox(config_dir, url, deliveries)


def herald_command(outbox: Outbox, *args: str) -> list[str]:
    """The `herald` command line for this outbox (the installed console script)."""
    script = Path(sys.executable).with_name("herald")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "scheduler.cli"]
    return [*base, "--config-dir", str(outbox.config_dir), "--db", outbox.url,
            "--now", NOW.isoformat(), *args]


def herald_env() -> dict[str, str]:
    return {**os.environ, "HERALD_SIGNING_KEY": SIGNING_KEY}


@dataclass
class Tally:
    """What a run delivered, from the sink's record and the outbox's states."""

    received: int
    duplicates: int
    lost: int
    states: dict[str, int]


def tally(outbox: Outbox, lines: list[str]) -> Tally:
    """Duplicates: (recipient, subject) received more than once; lost: deliveries that
    were neither received nor `sent` (the larger of the two shortfalls)."""
    from sqlalchemy import func, select

    from scheduler.db import make_engine
    from scheduler.models import Delivery

    pairs: Counter[tuple[str, str]] = Counter()
    for line in lines:
        to, subject, _message_id = line.split("\t")
        for rcpt in to.split(","):
            pairs[(rcpt, subject)] += 1
    engine = make_engine(outbox.url)
    try:
        with engine.connect() as c:
            states = {state: int(n) for state, n in c.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state))}
    finally:
        engine.dispose()
    duplicates = sum(n - 1 for n in pairs.values() if n > 1)
    lost = max(outbox.deliveries - len(pairs), outbox.deliveries - states.get("sent", 0), 0)
    return Tally(len(lines), duplicates, lost, states)


class Progress:
    """How many messages the sink has recorded so far.

    Reads only what the record gained since the last look: it grows to tens of MB, and
    reading it whole every 10 s took CPU from the run being measured.
    """

    def __init__(self, sink: SinkProcess) -> None:
        self.path = sink.record
        self.offset = 0
        self.lines = 0

    def received(self) -> int:
        if self.path is None or not self.path.exists():
            return self.lines
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        self.offset += len(data)
        self.lines += data.count(b"\n")
        return self.lines


def wait_all(procs: list[subprocess.Popen[bytes]], sink: SinkProcess, total: int,
             timeout: float) -> None:
    """Wait for every process, printing progress every 10 s; kill them all on timeout."""
    started = time.monotonic()
    last = started
    progress = Progress(sink)
    while any(p.poll() is None for p in procs):
        now = time.monotonic()
        if now - started > timeout:
            for p in procs:
                p.kill()
            raise SystemExit(f"dispatch did not finish within {timeout:.0f} s")
        if now - last >= 10:
            last = now
            got = progress.received()
            print(f"      {now - started:6.0f} s: {got:,} of {total:,} received "
                  f"({got / (now - started):.0f}/s)", flush=True)
        time.sleep(0.05)
    failed = [p.returncode for p in procs if p.returncode]
    if failed:
        raise SystemExit(f"herald send-now exited with {failed}")


def run_k(tmp: Path, server: str, planned: str, deliveries: int, k: int, timeout: float,
          startup: bool) -> tuple[float, Tally, float | None, float]:
    """Copy the planned outbox (the database `planned`) into a fresh database, drain it
    with k processes: (seconds, tally, start-up seconds if `startup` asks for them, CPU
    milliseconds the k processes spent a message)."""
    work = tmp / f"k{k}"
    work.mkdir()
    with SinkProcess(work) as sink, pg_database(server, template=planned) as url:
        outbox = Outbox(outbox_config(work, url, sink.port), url, deliveries)
        cmd = herald_command(outbox, "send-now", "--channel", "email", "--json")
        logs = [(work / f"send-now-{i}.log").open("wb") for i in range(k)]
        cpu0 = children_cpu()
        t0 = time.perf_counter()
        procs = [subprocess.Popen(cmd, cwd=work, env=herald_env(), stdout=log,
                                  stderr=subprocess.STDOUT) for log in logs]
        try:
            wait_all(procs, sink, deliveries, timeout)
        finally:
            for log in logs:
                log.close()
        elapsed = time.perf_counter() - t0
        cpu_ms = (children_cpu() - cpu0) * 1000 / deliveries
        # Start-up and the nothing-new planning pass: a send-now with nothing to send
        # (the same for every k: timed once).
        startup_s = None
        if startup:
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=work, env=herald_env(), check=True,
                           stdout=subprocess.DEVNULL)
            startup_s = time.perf_counter() - t0
        sink.stop()
        result = tally(outbox, sink.lines())
    print(f"    k={k}: {deliveries / elapsed:.0f} msgs/s ({elapsed:.1f} s, {cpu_ms:.2f} ms of "
          f"dispatcher CPU a message); received {result.received:,}, duplicates "
          f"{result.duplicates}, lost {result.lost}, states {result.states}", flush=True)
    return elapsed, result, startup_s, cpu_ms


def children_cpu() -> float:
    """CPU seconds (user + system) of the waited-for child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def efficiency_figures(bench: str, rates: dict[int, float], cores: int) -> list[Figure]:
    """`efficiency_k` = throughput_k ÷ k ÷ throughput_1 for every k > 1 (1.0: linear).

    Reported without a target: k processes, PostgreSQL and the sink share the machine's
    cores, so on `cores` cores no k can be more efficient than min(1, cores / k), and
    less since the sink and the database take their share."""
    if 1 not in rates:
        return []
    return [figure(bench, f"efficiency_{k}", round(rate / k / rates[1], 3), "x",
                   better="higher",
                   note=f"throughput_{k} ÷ {k} ÷ throughput_1; at most {min(1, cores / k):.2f} "
                        f"on {cores} cores shared with PostgreSQL and the sink")
            for k, rate in rates.items() if k > 1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--quick", action="store_true", help="2,000 deliveries")
    ap.add_argument("--deliveries", type=int, default=None)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    args = ap.parse_args()
    # 20,000: each run lasts minutes at the rate durable commits allow on a shared disk
    # (about 133 a second for one process here), and start-up stays a few per cent.
    n = args.deliveries or (2_000 if args.quick else 20_000)
    server = pg_server_url()
    if not server:
        print("scaleout_bench needs a PostgreSQL server: set HERALD_TEST_POSTGRES_URL or "
              "run through scripts/with-postgres.sh", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    durability = ("durable commits (fsync and synchronous_commit on)" if pg_server_durable()
                  else "commits NOT durable (fsync off; risk declared in settings.yaml)")
    print(f"scale-out: PostgreSQL with {durability}", flush=True)
    print(f"scale-out: {n:,} deliveries, {args.processes} dispatcher processes; this machine "
          f"has {cores} cores shared by the dispatchers, PostgreSQL and the sink, so no run "
          f"can go past ~{cores}× the speed of one process", flush=True)
    bench = "scale-out"
    figures: list[Figure] = []
    duplicates = lost = 0
    rates: dict[int, float] = {}
    startup = 0.0
    started = time.perf_counter()
    with (tempfile.TemporaryDirectory(prefix="herald-scaleout-") as tmp,
          pg_database(server) as planned):
        # Planned once; every k starts from a copy (CREATE DATABASE … TEMPLATE), so each
        # run drains the same rows and the setup is paid once.
        t0 = time.perf_counter()
        announce_outbox(Path(tmp) / "planned", planned, 25, n)  # no sink: nothing is sent
        print(f"  [{time.perf_counter() - t0:7.1f} s] setup: planned {n:,} deliveries "
              "once, copied into a fresh database for each k", flush=True)
        for k in args.processes:
            elapsed, result, startup_s, cpu_ms = run_k(Path(tmp), server, planned, n, k,
                                                       args.timeout,
                                                       startup=k == args.processes[0])
            startup = startup_s if startup_s is not None else startup
            rates[k] = n / elapsed
            duplicates += result.duplicates
            lost += result.lost
            note = (f"{n:,} in {elapsed:.1f} s (a process's start-up, {startup:.1f} s, "
                    "included), "
                    f"{cpu_ms:.2f} ms of dispatcher CPU a message")
            if k != args.processes[0]:
                note += f"; {rates[k] / rates[args.processes[0]]:.2f}× k={args.processes[0]}"
            figures.append(figure(bench, f"throughput_{k}", round(rates[k], 1), "msg/s",
                                  better="higher", note=note))
    print(f"  [{time.perf_counter() - started:7.1f} s] in all", flush=True)
    figures.extend(efficiency_figures(bench, rates, cores))
    figures.append(figure(bench, "duplicates", duplicates, "msgs", target=0,
                          note="(recipient, subject) received more than once, all runs"))
    figures.append(figure(bench, "lost", lost, "msgs", target=0,
                          note="deliveries neither received nor sent, all runs"))
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
