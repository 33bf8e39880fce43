"""`herald run` as a real subprocess against a throwaway project, with short intervals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.models import Delivery, DeliveryEvent
from tests.channels.smtp_server import free_port
from tests.conftest import DEMO_NOW, ROOT, Project
from tests.smtp_project import ANNOUNCE
from tests.smtp_project import smtp_channels as shared_smtp_channels

FAST = {
    "HERALD_PLAN_EVERY": "1",
    "HERALD_DISPATCH_EVERY": "0.5",
    "HERALD_REAP_EVERY": "1",
    "HERALD_WATCH_EVERY": "0.3",
    "HERALD_HEARTBEAT_EVERY": "0.5",
    "HERALD_RETRY_BASE": "0.5",
}


def smtp_channels(port: int, **extra: object) -> str:
    """The shared SMTP channel, one connection and a short timeout for a quick daemon."""
    return shared_smtp_channels(port, **{"connections": 1, "timeout": 5, **extra})


def announce_demo_courses(project: Project, port: int, **extra: object) -> None:
    """The demo courses imported, to be announced by email through the SMTP server at
    `port` (`smtp_channels` with `extra`)."""
    project.write_config("channels.yaml", smtp_channels(port, **extra))
    project.write_config("campaigns.yaml", ANNOUNCE)
    assert project.run("courses", "import", "demo/courses.csv").code == 0


def import_participants(project: Project, count: int = 40) -> None:
    """The first `count` demo participants: enough traffic, and a test that stays quick."""
    lines = (project.root / "demo" / "participants.csv").read_text().splitlines()
    path = project.root / "some-participants.csv"
    path.write_text("\n".join(lines[: count + 1]) + "\n")
    assert project.run("participants", "import", str(path)).code == 0


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Daemon:
    """One `herald run` subprocess; its stderr goes to a file the test can read."""

    project: Project
    http_port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    starts: int = 0
    t0: float = field(default_factory=time.monotonic)

    def now(self) -> str:
        """About the daemon's clock (`--now` plus the time elapsed), a little ahead."""
        start = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
        return (start + timedelta(seconds=time.monotonic() - self.t0)).isoformat()

    def start(self) -> Daemon:
        self.starts += 1
        if self.starts == 1:
            self.t0 = time.monotonic()
        self.log_path = self.project.root / f"daemon-{self.starts}.log"
        cmd = [sys.executable, "-m", "scheduler.cli", "--config-dir", str(self.project.config),
               "--db", self.project.db_url, "--now", DEMO_NOW, "-v", "run",
               "--http-port", str(self.http_port)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), **FAST, **self.env}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.project.root, env=env,
                                         stdout=subprocess.DEVNULL, stderr=log)
        wait_for(lambda: self.get("/healthz")[0] in (200, 503), 20, "the HTTP endpoint")
        return self

    @property
    def log(self) -> str:
        assert self.log_path is not None
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str) -> tuple[int, str]:
        """(status, body) of a GET, (0, "") while nothing listens."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}",
                                        timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log}") from None
            return 0, ""

    def health(self) -> tuple[int, dict[str, object]]:
        code, body = self.get("/healthz")
        return code, json.loads(body)

    def metric(self, name: str, **labels: str) -> float:
        """One sample's value from /metrics; 0 when absent."""
        _, body = self.get("/metrics")
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in body.splitlines():
            if line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            metric, _, rest = key.partition("{")
            got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
            if metric == name and got == want:
                return float(value)
        return 0.0

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 15) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def daemon(project: Project) -> Iterator[Daemon]:
    d = Daemon(project)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.proc.kill()
        d.proc.wait()


def states(project: Project) -> dict[str, int]:
    engine = project.engine()
    with engine.connect() as c:
        rows = dict(c.execute(select(Delivery.state, func.count())
                              .group_by(Delivery.state)).all())
    engine.dispose()
    return {str(k): int(v) for k, v in rows.items()}


def bundles(project: Project, state: str) -> set[int]:
    """The emails (bundles: a lead row's id) that have rows in `state`."""
    engine = project.engine()
    with engine.connect() as c:
        found = set(c.execute(select(Delivery.bundle).where(Delivery.state == state)).scalars())
    engine.dispose()
    return {int(b) for b in found if b is not None}


def event_count(project: Project, kind: str) -> int:
    engine = project.engine()
    with engine.connect() as c:
        n = c.execute(select(func.count()).select_from(DeliveryEvent)
                      .where(DeliveryEvent.type == kind)).scalar_one()
    engine.dispose()
    return int(n)
