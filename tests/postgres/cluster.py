"""A private PostgreSQL cluster a test may stop and start (`pg_ctl -m immediate`).

The shared server of scripts/with-postgres.sh runs with fsync and synchronous_commit off and
must not be stopped; a test about durability or a server crash starts its own, with the
server's default (durable) settings unless told otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.channels.smtp_server import free_port


def _bindir() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((d / exe).exists() for exe in ("initdb", "pg_ctl", "postgres")):
            return d
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


@dataclass
class Cluster:
    """initdb'd into a temporary folder; `start()`, `stop(mode)`; its URL."""

    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="herald-pgc.")))

    def __post_init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            pytest.skip("no PostgreSQL server binaries")
        self.bindir = bindir
        self.data = self.work / "data"
        self.as_user: list[str] = []
        if os.getuid() == 0:  # initdb refuses root: the cluster belongs to `postgres`
            # The Debian package's `postgres`, or the user scripts/with-postgres.sh made.
            user = next((u for u in ("postgres", "herald-test")
                         if subprocess.run(["id", u], capture_output=True).returncode == 0),
                        None)
            if user is None:
                pytest.skip("running as root without a postgres user")
            shutil.chown(self.work, user)
            self.as_user = ["runuser", "-u", user, "--"]
        self._run("initdb", "-D", str(self.data), "-U", "herald", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://herald@127.0.0.1:{self.port}/herald"

    def _run(self, exe: str, *args: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bindir / exe), *args],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"{exe} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        opts = [f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.work}",
                *(f"-c {k}={v}" for k, v in self.settings.items())]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.work / "server.log"), "-w",
                  "-t", "60", "start", "-o", " ".join(opts))

    def create_database(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "herald", "herald")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)
