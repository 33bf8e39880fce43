"""`herald serve` under load: one-click unsubscribe among many, and requests per second.

    python bench/web_bench.py [--quick] [--json PATH] [--participants N]

1. One-click unsubscribe (RFC 8058 POST `/u/{token}`) of one person among N participants
   (1,000,000; --quick 20,000) with 2N pending deliveries: the POST's latency over 1,000
   unsubscribes of different people, through a real `herald serve` (waitress) over HTTP/1.1
   keep-alive. Target: p99 under 50 ms. The cancel must use the participant index: the
   query plan is checked (never a scan of the outbox).
2. Requests per second of `herald serve` for `/subscribe` GET and `/u` POST, beside a bare
   WSGI hello-world on the same server (waitress, same threads): the limit.

SQLite database (the embedded default), filled by SQLite itself (INSERT … SELECT); the
server is a child process and the client keeps 4 connections busy from threads of this
process.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    Figure,
    figure,
    run_threads,
    scratch_project,
    write_figures,
)

BENCH = "web"
WARM_UP = 20  # unsubscribes of other people before the measured ones
KEY = "bench-signing-key-bench-signing-key-0123456789"
HELLO = """
import sys
from waitress import serve
def app(environ, start_response):
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [body]
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
"""


def fill(db: Path, n: int) -> None:
    """N active participants and 2N pending course emails (two courses each), written by
    SQLite itself (`INSERT … SELECT` over a recursive CTE, then over the participants): no
    row passes through Python. The rows are those a loop of inserts would write, in the
    same order (a delivery's id is 2·(participant − 1) + course), into the schema's indexes
    as they stand."""
    import sqlite3

    from scheduler.db import ensure_schema, make_engine

    engine = make_engine(f"sqlite:///{db}")
    ensure_schema(engine)
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = OFF", "cache_size = -262144"):
        conn.execute(f"PRAGMA {pragma}")
    now = "2027-01-11 09:00:00.000000"
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO participants (id, email, name, language, country, timezone, frequency,"
        " status, any_topic, any_region, any_mode, any_language, created_at, updated_at)"
        " WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)"
        " SELECT i, 'p' || i || '@example.org', '', 'en', '', 'UTC', 'immediate', 'active',"
        " 1, 1, 1, 1, :now, :now FROM s", {"n": n, "now": now})
    conn.execute(  # CROSS JOIN: SQLite keeps the participants as the outer loop
        "INSERT INTO deliveries (id, dedup_key, campaign, kind, channel, template, course_id,"
        " participant_id, state, due_at, attempts, created_at, updated_at)"
        " SELECT 2 * p.id - 2 + c.k, 'announce:C' || c.k || ':p' || p.id, 'announce',"
        " 'course_email', 'email', 'email/announcement', 'C' || c.k, p.id, 'pending',"
        " '2027-02-01 00:00:00.000000', 0, :now, :now"
        " FROM participants AS p CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) AS c"
        " ORDER BY p.id, c.k", {"now": now})
    conn.execute("COMMIT")
    plan = " ".join(str(r[-1]) for r in conn.execute(
        "EXPLAIN QUERY PLAN UPDATE deliveries SET state='cancelled' WHERE participant_id=?"
        " AND state IN ('pending','retrying')", (1,)))
    conn.close()
    if "ix_deliveries_participant" not in plan:
        raise SystemExit(f"the cancel does not use the participant index: {plan}")


def start(cmd: list[str], port: int, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            c.getresponse().read()
            c.close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start: {cmd}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unsubscribe_path(pid: int) -> str:
    from scheduler.links import unsubscribe_url

    return unsubscribe_url("", KEY.encode(), pid, f"p{pid}@example.org", "announce")


def latencies(port: int, pids: list[int]) -> list[float]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for pid in pids:
        path = unsubscribe_path(pid)
        t0 = time.perf_counter()
        c.request("POST", path, body="List-Unsubscribe=One-Click", headers=headers)
        r = c.getresponse()
        r.read()
        out.append(time.perf_counter() - t0)
        if r.status != 200:
            raise SystemExit(f"POST {path}: {r.status}")
    c.close()
    return out


def rate(port: int, requests: list[tuple[str, str, str | None]], clients: int = 4) -> float:
    """Requests per second, `clients` keep-alive connections sharing `requests`."""
    lock = threading.Lock()
    todo = iter(requests)
    failures: list[str] = []

    def work() -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                break
            method, path, body = item
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                failures.append(f"{method} {path}: {r.status}")
        c.close()

    elapsed = run_threads(work, clients)
    if failures:
        raise SystemExit(failures[0])
    return len(requests) / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="20,000 participants, fewer requests")
    ap.add_argument("--participants", type=int, default=None)
    args = ap.parse_args()
    n = args.participants or (20_000 if args.quick else 1_000_000)
    unsubscribes = 1_000
    rps_requests = 1_000 if args.quick else 4_000
    if n < unsubscribes + rps_requests:
        raise SystemExit("too few participants for the requests asked")
    with tempfile.TemporaryDirectory(prefix="herald-web-bench-") as tmp:
        root = Path(tmp)
        config = scratch_project(root)
        db = root / "bench.db"
        t0 = time.perf_counter()
        fill(db, n)
        print(f"web: {n:,} participants, {2 * n:,} pending deliveries "
              f"({time.perf_counter() - t0:.1f} s to fill)", flush=True)
        env = {**os.environ, "HERALD_SIGNING_KEY": KEY}
        port = free_port()
        serve = start([sys.executable, "-m", "scheduler.cli", "--config-dir", str(config),
                       "--db", f"sqlite:///{db}", "serve", "--port", str(port)],
                      port, root, env)
        try:
            step = n // unsubscribes
            # Warm-up, not measured: the first requests compile templates and open the
            # server's database connections.
            latencies(port, [2 + i * step for i in range(WARM_UP)])
            lat = latencies(port, [1 + i * step for i in range(unsubscribes)])
            lat.sort()
            p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99) - 1] * 1000
            taken = {1 + i * step for i in range(unsubscribes)}
            taken |= {2 + i * step for i in range(WARM_UP)}
            fresh = [p for p in range(2, n + 1) if p not in taken][:rps_requests]
            get_rps = rate(port, [("GET", "/subscribe", None)] * rps_requests)
            post_rps = rate(port, [("POST", unsubscribe_path(p), "List-Unsubscribe=One-Click")
                                   for p in fresh])
        finally:
            stop(serve)
        import sqlite3

        conn = sqlite3.connect(db)
        cancelled = conn.execute("SELECT count(*) FROM deliveries WHERE state='cancelled'"
                                 ).fetchone()[0]
        conn.close()
        expected = 2 * (unsubscribes + WARM_UP + len(fresh))
        if cancelled != expected:
            raise SystemExit(f"{cancelled} deliveries cancelled, expected {expected}")
        hello_port = free_port()
        hello = start([sys.executable, "-c", HELLO, str(hello_port)], hello_port, root, env)
        try:
            hello_rps = rate(hello_port, [("GET", "/", None)] * rps_requests)
        finally:
            stop(hello)
    figures: list[Figure] = [
        figure(BENCH, "unsubscribe_post_p50", round(p50, 2), "ms",
               note=f"{unsubscribes} one-click POSTs among {n:,} participants, "
                    f"{2 * n:,} pending deliveries"),
        figure(BENCH, "unsubscribe_post_p99", round(p99, 2), "ms", target=50),
        figure(BENCH, "unsubscribe_post_mean", round(statistics.fmean(lat) * 1000, 2), "ms"),
        figure(BENCH, "subscribe_get_rps", round(get_rps), "req/s"),
        figure(BENCH, "unsubscribe_post_rps", round(post_rps), "req/s"),
        figure(BENCH, "hello_world_rps", round(hello_rps), "req/s",
               note="the limit: a bare WSGI app on waitress, same threads, same client"),
        figure(BENCH, "subscribe_get_vs_hello", round(get_rps / hello_rps, 3), "x"),
        figure(BENCH, "unsubscribe_post_vs_hello", round(post_rps / hello_rps, 3), "x"),
    ]
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
