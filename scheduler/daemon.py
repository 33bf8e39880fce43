"""`herald run`: APScheduler fires this replica's local ticks; all shared state is in the DB.

Jobs: poll each course source at its `every`, plan every minute, dispatch every few
seconds, settle expired leases every minute, and watch config/ for edits. Every job is
idempotent, so a missed or doubled tick harms nothing. SIGTERM/SIGINT stop claiming and
let sends under way finish; SIGHUP (or an edited file) reloads the configuration, and
an invalid new one is reported while the old one stays in force.

Observability: `/healthz` and `/metrics` on settings.yaml `http` (or `--http-port`), and a
`daemon_heartbeats` row per job that `herald status` reads. Tests shorten the intervals
with HERALD_PLAN_EVERY, HERALD_DISPATCH_EVERY, HERALD_REAP_EVERY, HERALD_WATCH_EVERY,
HERALD_HEARTBEAT_EVERY and the first retry's backoff with HERALD_RETRY_BASE (seconds).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete

from scheduler.app import App, load_configured
from scheduler.config.parse import parse_duration
from scheduler.db_stats import after_planning
from scheduler.durability import DispatchGate
from scheduler.errors import InputError
from scheduler.filter import Filter
from scheduler.health import HealthServer, JobTicks, database_check
from scheduler.logs import per_channel
from scheduler.metrics import Metrics
from scheduler.models import DaemonHeartbeat
from scheduler.outbox import RetryTiming
from scheduler.shutdown import STOP_GRACE, exit_if_stuck

if TYPE_CHECKING:
    from scheduler.dispatch import Dispatcher

log = logging.getLogger(__name__)



def _every(name: str, default: timedelta) -> timedelta:
    """An interval, overridable in seconds by the environment variable `name`."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise InputError([f"{name}: '{raw}' is not a number of seconds"]) from None
    if seconds <= 0:
        raise InputError([f"{name}: must be more than 0 seconds"])
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Timings:
    """How often each job runs, and the first retry's backoff (doubling after)."""

    plan: timedelta = timedelta(minutes=1)
    dispatch: timedelta = timedelta(seconds=5)
    reap: timedelta = timedelta(minutes=1)
    watch: timedelta = timedelta(seconds=2)
    heartbeat: timedelta = timedelta(seconds=15)
    retry_base: timedelta = timedelta(minutes=1)

    @classmethod
    def from_env(cls) -> Timings:
        """The defaults, each overridable in seconds by its `HERALD_*` variable (tests
        shorten them); InputError naming a variable that is not a positive number."""
        d = cls()
        return cls(
            plan=_every("HERALD_PLAN_EVERY", d.plan),
            dispatch=_every("HERALD_DISPATCH_EVERY", d.dispatch),
            reap=_every("HERALD_REAP_EVERY", d.reap),
            watch=_every("HERALD_WATCH_EVERY", d.watch),
            heartbeat=_every("HERALD_HEARTBEAT_EVERY", d.heartbeat),
            retry_base=_every("HERALD_RETRY_BASE", d.retry_base),
        )


class _SkipBusyTicks(logging.Filter):
    """A tick skipped because the last one still runs (a long drain) is normal, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkipBusyTicks())


def config_fingerprint(config_dir: Path) -> tuple[tuple[str, float, int], ...]:
    files = sorted(config_dir.glob("*.y*ml"))
    return tuple((f.name, f.stat().st_mtime, f.stat().st_size) for f in files)


class Daemon:
    def __init__(self, app: App, http_port: int | None = None,
                 timings: Timings | None = None) -> None:
        self.app = app
        self.timings = timings or Timings.from_env()
        self.stop_event = threading.Event()
        self.lock = threading.RLock()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.metrics = Metrics(app.sessions)
        self.ticks = JobTicks()
        # One worker per channel: a slow or rate-limited channel never holds the others up.
        self.workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="channel")
        self.draining: dict[str, Future[None]] = {}
        self.draining_lock = threading.Lock()
        self.dispatcher = self._new_dispatcher()
        self.owner = self.dispatcher.owner  # this replica in daemon_heartbeats, across reloads
        self.planner = app.planner()
        self.fingerprint = config_fingerprint(app.config_dir)
        http = app.config.settings.http
        self.http_host = http.host
        self.http_port = http.port if http_port is None else http_port
        self.http: HealthServer | None = None
        self.exit_when_stuck = True  # in-process tests turn it off
        self.gate = DispatchGate(app.engine, app.config.settings.accept_non_durable_commits)

    def _new_dispatcher(self) -> Dispatcher:
        d = self.app.dispatcher(retry=RetryTiming(base=self.timings.retry_base))
        d.on_outcome = self.metrics.observe_send
        return d

    def _job(self, name: str, fn: Callable[[], None], every: timedelta) -> Callable[[], None]:
        """Wrap a job: time its ticks for /healthz and the heartbeat; a failure is logged."""
        self.ticks.every[name] = every.total_seconds()

        def tick() -> None:
            with self.ticks.lock:
                self.ticks.running[name] = time.time()
            try:
                fn()
            except Exception:
                self.metrics.job_failures.labels(name).inc()
                log.exception("job %s failed", name)
                return
            finally:
                with self.ticks.lock:
                    self.ticks.running.pop(name, None)
            now = time.time()
            with self.ticks.lock:
                self.ticks.last_ok[name] = now
            self.metrics.last_success.labels(name).set(now)

        tick.__name__ = tick.__qualname__ = name  # what APScheduler's log lines call it
        return tick

    # -- jobs ------------------------------------------------------------------

    def poll_source(self, name: str) -> None:
        from scheduler.ingest.source import read_source
        from scheduler.ingest.store import import_courses

        src = self.app.config.sources.get(name)
        if src is None:
            return
        try:
            _fmt, records = read_source(src.location, fmt=src.format,
                                        timeout=src.timeout.total_seconds())
            with self.app.sessions() as s, s.begin():
                summary = import_courses(s, records, now=self.app.clock())
            log.info("source %s: %d added, %d updated, %d cancelled", name,
                     len(summary.added), len(summary.updated), len(summary.cancelled))
        except InputError as exc:
            log.error("source %s rejected: %s", name, "; ".join(exc.errors[:5]))
        except Exception:
            log.exception("source %s: poll failed", name)

    def fetch_bounces(self) -> None:
        """Read the bounce mailbox once (settings.yaml `bounces:`)."""
        from scheduler.bounces.intake import fetch

        with self.app.sessions() as s:
            counts = fetch(s, self.app.config, self.app.signing_keys, self.app.clock())
        if counts:
            log.info("bounces: %s", dict(counts))

    def plan(self) -> None:
        with self.lock:
            planner = self.planner
        report = planner.plan(self.app.clock())
        after_planning(self.app.engine, report.total)
        self.metrics.plan_skipped_courses.set(len(report.failed))
        if report.total:
            log.info("plan: %s new deliveries: %s", f"{report.total:,}",
                     per_channel(report.planned, channel_first=False))

    def dispatch(self) -> None:
        """Start a drain on each usable channel whose previous drain has finished."""
        with self.lock:
            dispatcher = self.dispatcher
        if self.gate.refresh(time.time()):
            return  # commits not durable: plan, but do not dispatch (/healthz says why)
        for name in dispatcher.usable_channels(Filter()):
            with self.draining_lock:
                running = self.draining.get(name)
                if running is not None and not running.done():
                    continue
                self.draining[name] = self.workers.submit(self._drain, dispatcher, name)

    def _drain(self, dispatcher: Dispatcher, name: str) -> None:
        try:
            outcome = dispatcher.dispatch_channel(name)
        except Exception:
            log.exception("channel %s: dispatch failed", name)
            return
        if outcome:
            log.info("dispatch: %s", per_channel(outcome))

    def wait_for_drains(self, timeout: float) -> None:
        """Let the drains under way finish (they stop claiming once their dispatcher stops)."""
        with self.draining_lock:
            running = list(self.draining.values())
        wait(running, timeout=timeout)

    def reap(self) -> None:
        found = self.dispatcher.recover()
        if found.get("unknown"):
            self.metrics.recovered_unknown.inc(found["unknown"])
            log.warning("%d deliveries interrupted mid-send are now unknown", found["unknown"])

    def heartbeat(self) -> None:
        """Write this replica's job ticks for `herald status` (one small transaction)."""
        now = self.app.clock()
        wall = time.time()
        with self.ticks.lock:
            last = dict(self.ticks.last_ok)
            every = dict(self.ticks.every)
        owner = self.owner
        with self.app.sessions() as s, s.begin():
            s.execute(delete(DaemonHeartbeat).where(DaemonHeartbeat.owner == owner))
            for job, secs in every.items():
                ok = last.get(job)
                last_at = now - timedelta(seconds=wall - ok) if ok is not None else None
                s.add(DaemonHeartbeat(owner=owner, job=job, last_ok_at=last_at,
                                      next_run_at=(last_at or now) + timedelta(seconds=secs)))

    def forget_heartbeat(self) -> None:
        try:
            with self.app.sessions() as s, s.begin():
                s.execute(delete(DaemonHeartbeat)
                          .where(DaemonHeartbeat.owner == self.owner))
        except Exception as exc:
            log.warning("could not remove this replica's heartbeat: %s", type(exc).__name__)

    def health(self) -> tuple[bool, dict[str, dict[str, object]]]:
        """The /healthz verdict: scheduler, job ticks, database."""
        running = self.scheduler.running and not self.stop_event.is_set()
        jobs_ok, jobs = self.ticks.check(time.time())
        db_ok, db_detail = database_check(self.app.engine)
        checks: dict[str, dict[str, object]] = {
            "scheduler": {"ok": running},
            "jobs": {"ok": jobs_ok, "jobs": jobs},
            "database": {"ok": db_ok, "detail": db_detail},
            "durability": self.gate.health(),
        }
        return running and jobs_ok and db_ok and bool(checks["durability"]["ok"]), checks

    def watch(self) -> None:
        fp = config_fingerprint(self.app.config_dir)
        if fp != self.fingerprint:
            self.fingerprint = fp
            self.reload()

    # -- reload and shutdown ----------------------------------------------------

    def reload(self) -> None:
        """Re-read config/; keep the old configuration if the new one is invalid."""
        self.fingerprint = config_fingerprint(self.app.config_dir)  # SIGHUP: no second reload
        try:
            fresh = load_configured(self.app.config_dir, build_channels=True)
        except InputError as exc:
            for line in exc.errors:
                log.error("config reload rejected, old configuration stays: %s", line)
            return
        except Exception as exc:
            log.error("config reload failed, old configuration stays: %s", exc)
            return
        cfg = fresh.config
        with self.lock:
            old = self.dispatcher
            old.stop()
            old_channels = self.app.reconfigure(fresh)
            self.dispatcher = self._new_dispatcher()
            self.planner = self.app.planner()
            self.gate = DispatchGate(self.app.engine, cfg.settings.accept_non_durable_commits)
        # Drains begun before the swap still send through the old channels: let them finish
        # (they stop claiming at once) before closing them.
        self.wait_for_drains(timeout=120)
        for ch in old_channels.values():
            ch.close()
        self.schedule_sources()
        log.info("configuration reloaded: %d channels, %d campaigns", len(cfg.channels),
                 len(cfg.campaigns))

    def schedule_sources(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("source:"):
                job.remove()
        with self.ticks.lock:
            for gone in [j for j in self.ticks.every if j.startswith("source:")]:
                self.ticks.every.pop(gone)
                self.ticks.last_ok.pop(gone, None)
        for name, src in self.app.config.sources.items():
            job_id = f"source:{name}"
            self.scheduler.add_job(self._job(job_id, partial(self.poll_source, name), src.every),
                                   "interval", seconds=src.every.total_seconds(), id=job_id,
                                   next_run_time=datetime.now(UTC), max_instances=1,
                                   coalesce=True)

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        self.dispatcher.stop()
        self.stop_event.set()

    def request_reload(self, _signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=self.reload, name="reload", daemon=True).start()

    def run(self) -> int:
        recovered = self.dispatcher.recover()
        self.metrics.recovered_unknown.inc(recovered.get("unknown", 0))
        log.warning("herald run: started as %s; recovered %d unknown, %d released leases",
                    self.dispatcher.owner, recovered.get("unknown", 0),
                    recovered.get("released", 0))
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        # APScheduler fires on the real clock, also when --now shifts the app's clock.
        common = {"max_instances": 1, "coalesce": True, "next_run_time": datetime.now(UTC)}
        jobs: list[tuple[str, Callable[[], None], timedelta]] = [
            ("plan", self.plan, self.timings.plan),
            ("dispatch", self.dispatch, self.timings.dispatch),
            ("reap", self.reap, self.timings.reap), ("watch", self.watch, self.timings.watch),
            ("heartbeat", self.heartbeat, self.timings.heartbeat),
        ]
        bounces = self.app.config.settings.bounces
        if bounces is not None:
            jobs.append(("bounces", self.fetch_bounces, parse_duration(bounces.every)))
        for name, fn, every in jobs:
            self.scheduler.add_job(self._job(name, fn, every), "interval", id=name,
                                   seconds=every.total_seconds(), **common)
        self.schedule_sources()
        self.start_http()
        self.scheduler.start()
        self.stop_event.wait()
        deadline = time.monotonic() + STOP_GRACE
        self.scheduler.shutdown(wait=False)  # a job stuck in I/O is not waited for
        self.wait_for_drains(timeout=max(deadline - time.monotonic() - 1, 0))  # sends finish
        self.workers.shutdown(wait=False, cancel_futures=True)
        self.dispatcher.release_all()
        self.forget_heartbeat()
        if self.http is not None:
            self.http.stop()
        log.warning("herald run: stopped")
        if self.exit_when_stuck:
            exit_if_stuck(self.still_running())  # within STOP_GRACE, whatever a job does
        return 0

    def still_running(self) -> list[str]:
        """Jobs and channel drains still under way (by name)."""
        with self.ticks.lock:
            jobs = list(self.ticks.running)
        with self.draining_lock:
            drains = [f"drain:{n}" for n, f in self.draining.items() if not f.done()]
        return jobs + drains

    def start_http(self) -> None:
        if not self.http_port:
            return
        try:
            self.http = HealthServer(self.http_host, self.http_port, self.metrics.registry,
                                     self.health)
        except OSError as exc:  # e.g. a second replica on this host: run on, say so
            log.error("http: cannot listen on %s:%d (%s); /healthz and /metrics are off",
                      self.http_host, self.http_port, exc.strerror or exc)
            return
        self.http.start()
        log.warning("http: /healthz and /metrics on http://%s:%d", self.http_host,
                    self.http.port)


def run(app: App, http_port: int | None = None) -> int:
    return Daemon(app, http_port).run()
