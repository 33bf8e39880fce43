"""What every benchmark shares: figures, peak memory, a scratch project, a PostgreSQL database.

Each benchmark is a script of its own (`bench/<name>_bench.py`) that takes `--quick` and
`--json PATH` and writes a list of figures there; `bench/run.py` runs them one process each,
so one benchmark's memory peak never shows in another's.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ENV = "HERALD_TEST_POSTGRES_URL"
PG_DURABLE_ENV = "HERALD_TEST_POSTGRES_DURABLE"
"""Set to 1 by `scripts/with-postgres.sh --durable` (what `make bench` runs): fsync and
synchronous_commit are on, so a dispatcher needs no risk declared."""

Figure = dict[str, Any]


def figure(
    bench: str,
    name: str,
    value: float,
    unit: str,
    *,
    target: float | None = None,
    better: Literal["lower", "higher"] = "lower",
    note: str = "",
) -> Figure:
    """One row of the results table; `pass` is set when there is a target."""
    out: Figure = {"bench": bench, "name": name, "value": value, "unit": unit}
    if target is not None:
        out["target"] = target
        out["better"] = better
        out["pass"] = bool(value <= target if better == "lower" else value >= target)
    if note:
        out["note"] = note
    return out


def peak_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_mib() -> float:
    """The largest peak resident memory of any waited-for child process, in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def write_figures(path: Path | None, figures: list[Figure]) -> None:
    """Print the figures and, with a path, write them as JSON for `bench/run.py`."""
    for f in figures:
        mark = "" if "pass" not in f else ("  ok" if f["pass"] else "  MISSES TARGET")
        print(f"  {f['name']:<34} {f['value']:>12} {f['unit']}{mark}", flush=True)
    if path is not None:
        path.write_text(json.dumps(figures, indent=2))


SENDER = "ITU Academy <academy@example.org>"

ANNOUNCE_CAMPAIGN = """
campaigns:
  announce:
    kind: course_email
    channel: email
    template: email/announcement
    timing: on_publish
    min_lead: 7d
"""
"""The one campaign every benchmark plans: an announcement email per matching course."""


def smtp_channel_yaml(port: int, connections: int = 2) -> str:
    """channels.yaml with one `email` channel: plain SMTP to a sink on loopback."""
    return f"""
channels:
  email:
    type: smtp
    host: 127.0.0.1
    port: {port}
    security: none
    from: "{SENDER}"
    connections: {connections}
"""


def pg_server_durable() -> bool:
    """Whether the server `scripts/with-postgres.sh` started keeps commits durable."""
    return os.environ.get(PG_DURABLE_ENV) == "1"


def needs_non_durable_acceptance(url: str) -> bool:
    """Whether dispatching on `url` needs `accept_non_durable_commits`: a PostgreSQL
    database on the throwaway server started without `--durable` (fsync and
    synchronous_commit off). SQLite, and the durable server `make bench` starts, need
    none: there Herald dispatches exactly as in production."""
    return url.startswith("postgresql") and not pg_server_durable()


def scratch_project(tmp: Path, *, campaigns: str | None = None,
                    channels: str | None = None, accept_non_durable: bool = False) -> Path:
    """A copy of the shipped config/ (and demo courses) in `tmp`, with files replaced.

    `accept_non_durable`: declare the risk in settings.yaml, for dispatch on the
    throwaway PostgreSQL server of `scripts/with-postgres.sh` without `--durable` (fsync
    and synchronous_commit off); see `needs_non_durable_acceptance`."""
    shutil.copytree(ROOT / "config", tmp / "config")
    if accept_non_durable:
        with (tmp / "config" / "settings.yaml").open("a") as settings:
            settings.write("# the bench's throwaway server: commits not durable, risk accepted\n"
                           "accept_non_durable_commits: true\n")
    if campaigns is not None:
        (tmp / "config" / "campaigns.yaml").write_text(campaigns)
    if channels is not None:
        (tmp / "config" / "channels.yaml").write_text(channels)
    (tmp / "demo").mkdir(exist_ok=True)
    shutil.copy(ROOT / "demo" / "courses.csv", tmp / "demo" / "courses.csv")
    return tmp / "config"


def pg_server_url() -> str | None:
    """The PostgreSQL server `scripts/with-postgres.sh` started, if any."""
    return os.environ.get(PG_ENV) or None


def _driver_url(url: str) -> str:
    return ("postgresql+psycopg://" + url.split("://", 1)[1]
            if url.startswith("postgresql://") else url)


@contextmanager
def pg_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A new empty database on the server for one benchmark; dropped afterwards.

    With `template` (the URL of another database here, with no connection open), the new
    database starts as a copy of it: one benchmark's setup, made once, for several runs."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"herald_bench_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    admin = create_engine(_driver_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(_driver_url(server_url)).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_threads(target: Callable[[], object], count: int) -> float:
    """Run `target` on `count` threads at once; the wall seconds until the last ends."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def stop_child(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM a child still running, give it 10 s to finish, then kill it."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def listening(port_file: Path, port: int) -> asyncio.Event:
    """A sink's side of `ChildSink`: publish the port it listens on (atomically: the parent
    polls for the file) and return an event set by SIGTERM or SIGINT, its signal to stop."""
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    tmp.replace(port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    return stop


class ChildSink:
    """A sink script run as a child process: `.port` once it listens; SIGTERM stops it.

    The script takes `--port-file F` (it writes its loopback port there when it listens)
    plus whatever `options()` adds.
    """

    script: Path
    name = "sink"  # in messages
    stem = "sink"  # of its files in the work folder

    def __init__(self, workdir: Path) -> None:
        self.port_file = workdir / f"{self.stem}.port"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def options(self) -> list[str]:
        return []

    def __enter__(self) -> Self:
        self.port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen([sys.executable, str(self.script),
                                      "--port-file", str(self.port_file), *self.options()])
        deadline = time.monotonic() + 20
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        return self

    def stop(self) -> None:
        """Stop the sink (it finishes its record first); what `__exit__` does."""
        stop_child(self.proc)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
