"""Leaving within the stop deadline whatever a job is doing.

`herald run` promises to exit within STOP_GRACE seconds of SIGTERM (under systemd's
`TimeoutStopSec`), even while a job is stuck in I/O (a source that trickles, a database
that does not answer). Sends under way get the grace to finish; a job still running after
it is abandoned: its thread cannot be interrupted, and Python would wait for it at exit, so
the process ends at once (`os._exit`). Abandoning is safe: every job is idempotent, an open
transaction rolls back, and a send cut short is `sending` under this process's lease, so
the next start records it as `unknown`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

STOP_GRACE = float(os.environ.get("HERALD_STOP_GRACE", "8"))
"""Seconds from SIGTERM to exit, at most (the promise is 10 s; the rest is cleanup)."""


def exit_if_stuck(stuck: list[str], code: int = 0) -> None:
    """End the process now when jobs (`stuck`, by name) are still running: their threads
    would hold the exit (the executor joins its workers at interpreter exit)."""
    if not stuck or threading.current_thread() is not threading.main_thread():
        return
    log.warning("herald run: leaving %d job(s) still running (%s); they are idempotent",
                len(stuck), ", ".join(sorted(stuck)))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
