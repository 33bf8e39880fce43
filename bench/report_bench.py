"""`herald report --json` over a large event log, against a bare GROUP BY of the same counts.

Usage:
    python bench/report_bench.py [--quick] [--postgres] [--events N] [--json PATH]

Loads N events (default 10,000,000; --quick 1,000,000) shaped like a busy year of promotion
into a fresh database (SQLite file, or a new PostgreSQL database with --postgres), then
times, best of three each, the whole `herald report --json` command (run in-process: config,
schema check, the report's scan, its reputation check, JSON) and a bare
`SELECT type, bot, category, medium, SUM(unit), SUM(messages), SUM(amount) … GROUP BY` on
the same database, which yields every count the report's totals carry. Target: the report
takes at most twice the bare query.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    figure,
    pg_database,
    pg_server_url,
    scratch_project,
    write_figures,
)

TYPES = [("sent", 58), ("clicked", 14), ("failed", 2), ("bounced", 3), ("complained", 0.05),
         ("unsubscribed", 1), ("interest", 1), ("retry", 6), ("cancelled", 14.95)]
CHANNELS = ["email", "email", "email", "mastodon", "bluesky", "x"]
REGIONS = ["Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe"]
COLUMNS = ("delivery_id", "type", "at", "detail", "channel", "campaign", "region", "centre",
           "course", "language", "person", "medium", "message", "category", "bot", "unit",
           "messages", "amount")
BARE = ("SELECT type, bot, category, medium, SUM(unit), SUM(messages), SUM(amount) "
        "FROM delivery_events GROUP BY type, bot, category, medium")


def rows(n: int, seed: int = 20) -> Iterator[tuple[Any, ...]]:
    """N events over a year, in the order an append-only log gets them; the same for every
    seed."""
    rng = random.Random(seed)
    kinds = [t for t, _ in TYPES]
    weights = [w for _, w in TYPES]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    centres = [f"Centre {i}" for i in range(40)]
    step = 365 * 86400 / n
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        channel = rng.choice(CHANNELS)
        medium = "email" if channel == "email" else "social"
        c = rng.randrange(500)
        bot = kind == "clicked" and rng.random() < 0.2
        category = rng.choice(("hard", "soft", "policy")) if kind == "bounced" else ""
        yield (i // 2, kind, start + timedelta(seconds=i * step), "",
               channel, f"campaign{rng.randrange(4)}", REGIONS[c % 6], centres[c % 40],
               f"C{c}", rng.choice(("en", "fr", "es", "ar", "ru", "zh")), f"p{i % 400_000}",
               medium, f"<{i}@example.org>" if kind == "sent" else None, category, bot,
               0 if bot else 1, 1 if kind == "sent" and medium == "email" else 0,
               rng.randrange(1, 6) if kind == "interest" else 0)


def load(engine: Any, n: int) -> float:
    """Bulk-load n events (COPY on PostgreSQL); seconds taken."""
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cur.copy(f"COPY delivery_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(n):
                    copy.write_row(row)
        else:
            sql = (f"INSERT INTO delivery_events ({', '.join(COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(COLUMNS))})")
            cur.execute("BEGIN")
            batch: list[tuple[Any, ...]] = []
            for row in rows(n):
                at = row[2].replace(tzinfo=None).isoformat(sep=" ")
                batch.append((*row[:2], at, *row[3:]))
                if len(batch) == 50_000:
                    cur.executemany(sql, batch)
                    batch.clear()
            cur.executemany(sql, batch)
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


def best_of(fn: Callable[[], object], times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000,000 events")
    ap.add_argument("--postgres", action="store_true", help="on the PostgreSQL server of "
                    "scripts/with-postgres.sh (HERALD_TEST_POSTGRES_URL)")
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    n = args.events or (1_000_000 if args.quick else 10_000_000)
    bench = "report-postgres" if args.postgres else "report-sqlite"
    server = pg_server_url()
    if args.postgres and not server:
        print("report_bench --postgres needs HERALD_TEST_POSTGRES_URL "
              "(run through scripts/with-postgres.sh)", file=sys.stderr)
        return 2
    from sqlalchemy import text

    from scheduler.cli import main as herald
    from scheduler.db import ensure_schema, make_engine

    with tempfile.TemporaryDirectory(prefix="herald-report-bench-") as tmp:
        config = scratch_project(Path(tmp))
        database = (pg_database(server) if args.postgres and server
                    else nullcontext(f"sqlite:///{tmp}/herald.db"))
        with database as url:
            engine = make_engine(url)
            ensure_schema(engine)
            seconds = load(engine, n)
            print(f"{bench}: loaded {n:,} events in {seconds:.1f} s", flush=True)

            def report() -> None:
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    code = herald(["--config-dir", str(config), "--db", url,
                                   "--now", "2027-01-01T00:00:00Z", "report", "--json"])
                assert code == 0 and '"totals"' in out.getvalue()

            def bare() -> None:
                with engine.connect() as c:
                    c.execute(text(BARE)).all()

            bare()  # warm the cache alike for both
            t_bare, t_report = best_of(bare), best_of(report)
            engine.dispose()
    write_figures(args.json, [
        figure(bench, "events", n, "rows"),
        figure(bench, "bare_group_by_s", round(t_bare, 3), "s"),
        figure(bench, "herald_report_json_s", round(t_report, 3), "s"),
        figure(bench, "report_vs_group_by", round(t_report / t_bare, 3), "x", target=2.0,
               note="herald report --json / bare GROUP BY of the same counts"),
    ])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
