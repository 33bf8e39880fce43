"""`herald run`: APScheduler fires this replica's local ticks; all shared state is in the DB.

Jobs: poll each course source at its `every`, plan every minute, dispatch every few
seconds, settle expired leases every minute, and watch config/ for edits. Every job is
idempotent, so a missed or doubled tick harms nothing. SIGTERM/SIGINT stop claiming and
let sends under way finish; SIGHUP (or an edited file) reloads the configuration, and
an invalid new one is reported while the old one stays in force.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.app import App
from scheduler.errors import InputError

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(minutes=1)
DISPATCH_EVERY = timedelta(seconds=5)
REAP_EVERY = timedelta(minutes=1)
WATCH_EVERY = timedelta(seconds=2)


def config_fingerprint(config_dir: Path) -> tuple[tuple[str, float, int], ...]:
    files = sorted(config_dir.glob("*.y*ml"))
    return tuple((f.name, f.stat().st_mtime, f.stat().st_size) for f in files)


class Daemon:
    def __init__(self, app: App) -> None:
        self.app = app
        self.stop_event = threading.Event()
        self.lock = threading.RLock()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.dispatcher = app.dispatcher()
        self.planner = app.planner()
        self.fingerprint = config_fingerprint(app.config_dir)

    # -- jobs ------------------------------------------------------------------

    def poll_source(self, name: str) -> None:
        from scheduler.ingest.source import read_source
        from scheduler.ingest.store import import_courses

        src = self.app.config.sources.get(name)
        if src is None:
            return
        try:
            _fmt, records = read_source(src.location, fmt=src.format)
            with self.app.sessions() as s, s.begin():
                summary = import_courses(s, records, now=self.app.clock())
            log.info("source %s: %d added, %d updated, %d cancelled", name,
                     len(summary.added), len(summary.updated), len(summary.cancelled))
        except InputError as exc:
            log.error("source %s rejected: %s", name, "; ".join(exc.errors[:5]))
        except Exception:
            log.exception("source %s: poll failed", name)

    def plan(self) -> None:
        with self.lock:
            planner = self.planner
        report = planner.plan(self.app.clock())
        if report.total:
            log.info("planned %d deliveries", report.total)

    def dispatch(self) -> None:
        with self.lock:
            dispatcher = self.dispatcher
        outcome = dispatcher.run_once()
        if outcome:
            log.info("dispatched %s", dict(outcome))

    def reap(self) -> None:
        found = self.dispatcher.recover()
        if found.get("unknown"):
            log.warning("%d deliveries interrupted mid-send are now unknown", found["unknown"])

    def watch(self) -> None:
        fp = config_fingerprint(self.app.config_dir)
        if fp != self.fingerprint:
            self.fingerprint = fp
            self.reload()

    # -- reload and shutdown ----------------------------------------------------

    def reload(self) -> None:
        """Re-read config/; keep the old configuration if the new one is invalid."""
        fresh = App(self.app.config_dir, self.app._db_url, None)
        fresh.clock = self.app.clock
        try:
            cfg = fresh.config
            fresh.__dict__["engine"] = self.app.engine
            channels = fresh.channels()
        except InputError as exc:
            for line in exc.errors:
                log.error("config reload rejected, old configuration stays: %s", line)
            return
        except Exception as exc:
            log.error("config reload failed, old configuration stays: %s", exc)
            return
        with self.lock:
            old = self.dispatcher
            old.stop()
            self.app.__dict__["config"] = cfg
            old_channels = self.app._channels
            self.app._channels = channels
            self.dispatcher = self.app.dispatcher()
            self.planner = self.app.planner()
        for ch in (old_channels or {}).values():
            ch.close()
        self.schedule_sources()
        log.info("configuration reloaded: %d channels, %d campaigns", len(cfg.channels),
                 len(cfg.campaigns))

    def schedule_sources(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("source:"):
                job.remove()
        for name, src in self.app.config.sources.items():
            self.scheduler.add_job(self.poll_source, "interval", args=[name],
                                   seconds=src.every.total_seconds(), id=f"source:{name}",
                                   next_run_time=self.app.clock(), max_instances=1,
                                   coalesce=True)

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        self.dispatcher.stop()
        self.stop_event.set()

    def request_reload(self, _signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=self.reload, name="reload", daemon=True).start()

    def run(self) -> int:
        recovered = self.dispatcher.recover()
        log.warning("herald run: started as %s; recovered %d unknown, %d released leases",
                    self.dispatcher.owner, recovered.get("unknown", 0),
                    recovered.get("released", 0))
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        now = self.app.clock()
        common = {"max_instances": 1, "coalesce": True, "next_run_time": now}
        self.scheduler.add_job(self.plan, "interval", id="plan",
                               seconds=PLAN_EVERY.total_seconds(), **common)
        self.scheduler.add_job(self.dispatch, "interval", id="dispatch",
                               seconds=DISPATCH_EVERY.total_seconds(), **common)
        self.scheduler.add_job(self.reap, "interval", id="reap",
                               seconds=REAP_EVERY.total_seconds(), **common)
        self.scheduler.add_job(self.watch, "interval", id="watch",
                               seconds=WATCH_EVERY.total_seconds(), **common)
        self.schedule_sources()
        self.scheduler.start()
        self.stop_event.wait()
        self.scheduler.shutdown(wait=True)  # sends under way finish
        self.dispatcher.release_all()
        log.warning("herald run: stopped")
        return 0


def run(app: App) -> int:
    return Daemon(app).run()
