"""Postfix's `smtp-sink` on loopback, for benchmarks: a C SMTP sink that is not the bottleneck.

`smtp-sink` (Debian `postfix`; `man smtp-sink`) accepts every message and throws it away. It
offers PIPELINING and 8BITMIME (and AUTH, DSN, ENHANCEDSTATUSCODES) by default and runs
in one process with an event loop, so a few Python clients cannot saturate it. With `-c`
it prints running counters (`sess=… quit=… mesg=N`, one update per session end, QUIT
and end of data, separated by CR) on its standard output; `count()` reads the last
`mesg=` from that output, which the benchmark holds to the number of messages it sent.

It needs an explicit port: a free one is found by binding port 0 and closing it, then
handed to the sink (a race with another process taking it meanwhile is possible, and
fails loudly: the sink exits).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.common import stop_child

SMTP_SINK = "/usr/sbin/smtp-sink"
_MESG = re.compile(rb"mesg=(\d+)")


def smtp_sink_path() -> str | None:
    """The smtp-sink program, or None when Postfix is not installed."""
    return SMTP_SINK if os.access(SMTP_SINK, os.X_OK) else shutil.which("smtp-sink")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostfixSink:
    """`smtp-sink -c` on a free loopback port while the `with` block runs; `.count()`."""

    name = "smtp-sink"

    def __init__(self, workdir: Path) -> None:
        self.out = workdir / "smtp-sink.out"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Self:
        program = smtp_sink_path()
        if program is None:
            raise SystemExit("the email benchmark needs Postfix's smtp-sink "
                             "(scripts/install-system-packages.sh --bench)")
        self.port = free_port()
        # As root, smtp-sink insists on dropping to another user after binding.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen([program, "-c", *user, f"127.0.0.1:{self.port}",
                                          "256"], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"smtp-sink did not start: "
                                       f"{self.out.read_bytes()[-300:]!r}") from None
                time.sleep(0.02)
        return self

    def count(self) -> int:
        """Messages the sink received so far (its last `mesg=` counter)."""
        found = _MESG.findall(self.out.read_bytes())
        return int(found[-1]) if found else 0

    def settle(self, expected: int, timeout: float = 3.0) -> int:
        """The count once it reaches `expected` (or stops moving within `timeout`)."""
        deadline = time.monotonic() + timeout
        while (n := self.count()) < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        return n

    def stop(self) -> None:
        stop_child(self.proc)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
