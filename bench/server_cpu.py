"""CPU seconds of one PostgreSQL server: its postmaster and every process it started
(backends, WAL writer, checkpointer, background writer), read from /proc.

Timings on a shared machine swing with what else runs; CPU seconds spent by the server
(plus the client's own, `time.process_time()`) say what a piece of work costs. Needs a
superuser connection (to learn the data directory) and the server on this machine;
otherwise None.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def postmaster_pid(engine: Any) -> int | None:
    """The server's postmaster pid (postmaster.pid in its data directory), if readable."""
    try:
        with engine.connect() as c:
            folder = c.exec_driver_sql("SHOW data_directory").scalar()
        return int((Path(folder) / "postmaster.pid").read_text().split()[0])
    except Exception:  # not a superuser, another machine, no /proc
        return None


def _stat(pid: str) -> tuple[int, float] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds so far of the postmaster and its live children (None: unknown)."""
    if postmaster is None:
        return None
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(entry.name)
            if stat is not None and (stat[0] == postmaster or int(entry.name) == postmaster):
                total += stat[1]
    return total
