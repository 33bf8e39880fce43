"""Memory under a large send: one `herald send-now` dispatches 200,000 deliveries.

    python bench/memory_bench.py [--quick] [--json PATH] [--deliveries N]

The outbox (default 200,000 announcement emails; quick 20,000: as many participants,
each matching one of 10 courses, see `scaleout_bench.announce_outbox`) is planned into the
default store, SQLite, before the clock starts. One `herald send-now --channel email`
child process then sends all of it over Herald's `smtp` channel (2 connections, the
channel's default, both driven from the dispatcher's one send thread) to
`bench/raw_sink.py`. The peak memory hardly depends on the number of connections.

Figure: the child's peak resident memory (target ≤ 300 MiB, issue 22: dispatch streams
the outbox, it never loads it whole). The peak is the child's VmHWM, read from /proc every
50 ms while it runs (a high-water mark, so the last reading is its peak barring growth
in its last 50 ms); not ru_maxrss, which Linux seeds in a child with the parent's peak
at fork. Also throughput (start-up included), and that every delivery was received
once and is `sent`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import Figure, figure, write_figures  # noqa: E402
from bench.raw_sink import SinkProcess  # noqa: E402
from bench.scaleout_bench import (  # noqa: E402
    Progress,
    announce_outbox,
    herald_command,
    herald_env,
    tally,
)

TARGET_MIB = 300  # the peak may reach it, not pass it: send_now_peak_memory ≤ 300 MiB
POLL = 0.05  # seconds between reads of the child's VmHWM


def vm_hwm_mib(pid: int) -> float | None:
    """The process's peak resident memory so far (VmHWM) in MiB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def watch(proc: subprocess.Popen[bytes], sink: SinkProcess, total: int,
          timeout: float) -> float:
    """Wait for `proc`, reading its VmHWM every POLL s; return the last (= peak) reading."""
    started = last_report = time.monotonic()
    peak = 0.0
    progress = Progress(sink)
    while proc.poll() is None:
        hwm = vm_hwm_mib(proc.pid)
        if hwm is not None:
            peak = max(peak, hwm)
        now = time.monotonic()
        if now - started > timeout:
            proc.kill()
            raise SystemExit(f"send-now did not finish within {timeout:.0f} s")
        if now - last_report >= 10:
            last_report = now
            got = progress.received()
            print(f"      {now - started:6.0f} s: {got:,} of {total:,} received "
                  f"({got / (now - started):.0f}/s), peak so far {peak:.1f} MiB", flush=True)
        time.sleep(POLL)
    if proc.returncode:
        raise SystemExit(f"herald send-now exited with {proc.returncode}")
    return peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--quick", action="store_true", help="20,000 deliveries")
    ap.add_argument("--deliveries", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=7200, help="seconds for the send")
    args = ap.parse_args()
    n = args.deliveries or (20_000 if args.quick else 200_000)
    bench = "memory"
    print(f"memory: one send-now process, {n:,} deliveries on SQLite", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="herald-memory-") as tmp_name:
        tmp = Path(tmp_name)
        with SinkProcess(tmp) as sink:
            t0 = time.perf_counter()
            outbox = announce_outbox(tmp, f"sqlite:///{tmp / 'herald.db'}", sink.port, n)
            print(f"  [{time.perf_counter() - t0:7.1f} s] setup: planned {n:,} deliveries",
                  flush=True)
            cmd = herald_command(outbox, "send-now", "--channel", "email", "--json")
            t0 = time.perf_counter()
            with (tmp / "send-now.log").open("wb") as log:
                proc = subprocess.Popen(cmd, cwd=tmp, env=herald_env(), stdout=log,
                                        stderr=subprocess.STDOUT)
                peak = watch(proc, sink, n, args.timeout)
            elapsed = time.perf_counter() - t0
            print(f"  [{elapsed:7.1f} s] send-now: {n / elapsed:.0f} msgs/s, "
                  f"peak {peak:.1f} MiB", flush=True)
            sink.stop()
            result = tally(outbox, sink.lines())
        print(f"  received {result.received:,}, duplicates {result.duplicates}, "
              f"lost {result.lost}, states {result.states}")
        if peak > TARGET_MIB:
            log_tail = (tmp / "send-now.log").read_text(errors="replace")[-2000:]
            print(f"  send-now output (tail):\n{log_tail}")
    print(f"  [{time.perf_counter() - started:7.1f} s] in all "
          f"({os.cpu_count()} cores, shared with the sink)", flush=True)
    figures: list[Figure] = [
        figure(bench, "send_now_peak_memory", round(peak, 1), "MiB", target=TARGET_MIB,
               note=f"VmHWM of one herald send-now sending {n:,} emails; "
                    f"target ≤ {TARGET_MIB} MiB"),
        figure(bench, "send_now_throughput", round(n / elapsed, 1), "msg/s",
               better="higher", note=f"{n:,} in {elapsed:.1f} s, start-up included"),
        figure(bench, "duplicates", result.duplicates, "msgs", target=0),
        figure(bench, "lost", result.lost, "msgs", target=0,
               note="deliveries neither received nor sent"),
    ]
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
