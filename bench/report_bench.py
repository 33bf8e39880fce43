"""`herald report --json` over a large event log, against a bare GROUP BY of the same counts.

Usage:
    python bench/report_bench.py [--quick] [--postgres] [--events N] [--json PATH]

Loads N events (default 10,000,000; --quick 1,000,000) shaped like a busy year of promotion
into a fresh database (SQLite file, or a new PostgreSQL database with --postgres; see
bench/report_setup.py: made by the database itself, indexes built after, the SQLite file
cached), then times, best of two each (three when one's two runs differ by more than
10 %) and taken in turns, the whole `herald report --json` command (run in-process: config,
schema check, the report's scan, its reputation check, JSON) and a bare `SELECT type,
bot, category, medium, SUM(unit), SUM(messages), SUM(amount) … GROUP BY` on the same
database, which yields every count the report's totals carry. Target: the report takes
at most twice the bare query. Each phase's duration is printed, and the load's and the
whole run's are figures.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    figure,
    pg_database,
    pg_server_url,
    scratch_project,
    write_figures,
)

BARE = ("SELECT type, bot, category, medium, SUM(unit), SUM(messages), SUM(amount) "
        "FROM delivery_events GROUP BY type, bot, category, medium")


def timed_in_turns(fns: dict[str, Callable[[], object]], turns: int = 2, most: int = 3,
                   agree: float = 0.10) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Best of `turns` runs of each, taken in turns (a, b, a, b, …) so that whatever else the
    machine does weighs on both alike; one more turn (up to `most`) while some function's
    runs differ by more than `agree` of its best. Returns the bests and every run's time."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    while True:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - t0)
        print("  turn " + ", ".join(f"{name} {r[-1]:.2f} s" for name, r in runs.items()),
              flush=True)
        done = len(next(iter(runs.values())))
        steady = all(max(r) <= min(r) * (1 + agree) for r in runs.values())
        if done >= most or (done >= turns and steady):
            return {name: min(r) for name, r in runs.items()}, runs


def spread(runs: list[float]) -> str:
    return f"best of {len(runs)}: " + ", ".join(f"{r:.3f}" for r in runs) + " s"


def main() -> int:
    started = time.perf_counter()
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

    from bench import report_setup
    from scheduler.cli import main as herald
    from scheduler.db import ensure_schema, make_engine

    def phase(name: str, seconds: float) -> None:
        print(f"{bench}: {name}: {seconds:.1f} s", flush=True)

    def fresh(url: str) -> object:
        engine = make_engine(url)
        ensure_schema(engine)
        return engine

    with tempfile.TemporaryDirectory(prefix="herald-report-bench-") as tmp:
        config = scratch_project(Path(tmp))
        database = (pg_database(server) if args.postgres and server
                    else nullcontext(f"sqlite:///{tmp}/herald.db"))
        with database as url:
            t0 = time.perf_counter()
            if args.postgres:
                report_setup.load(fresh(url), n, phase)
                origin = "loaded"
            else:
                origin = report_setup.sqlite_file(Path(tmp) / "herald.db", n, fresh, phase)
            load_s = time.perf_counter() - t0
            phase(f"{n:,} events ready ({origin})", load_s)
            engine = make_engine(url)
            with engine.connect() as c:
                count = c.execute(text("SELECT COUNT(*) FROM delivery_events")).scalar()
            if count != n:
                print(f"{bench}: {count} events in the database, not {n}", file=sys.stderr)
                return 1

            def report() -> None:
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    code = herald(["--config-dir", str(config), "--db", url,
                                   "--now", "2027-01-01T00:00:00Z", "report", "--json"])
                assert code == 0 and '"totals"' in out.getvalue()

            def bare() -> None:
                with engine.connect() as c:
                    c.execute(text(BARE)).all()

            t0 = time.perf_counter()
            best, runs = timed_in_turns({"bare": bare, "report": report})
            phase(f"timing ({len(runs['bare'])} turns of bare query and report)",
                  time.perf_counter() - t0)
            t_bare, t_report = best["bare"], best["report"]
            engine.dispose()
    wall = time.perf_counter() - started
    phase("whole run", wall)
    write_figures(args.json, [
        figure(bench, "events", n, "rows"),
        figure(bench, "load_s", round(load_s, 1), "s",
               note=f"{origin}: events ready to query (made, indexed, analyzed; or restored)"),
        figure(bench, "bare_group_by_s", round(t_bare, 3), "s", note=spread(runs["bare"])),
        figure(bench, "herald_report_json_s", round(t_report, 3), "s",
               note=spread(runs["report"])),
        figure(bench, "report_vs_group_by", round(t_report / t_bare, 3), "x", target=2.0,
               note="herald report --json / bare GROUP BY of the same counts"),
        figure(bench, "wall_s", round(wall, 1), "s", note="the whole benchmark run"),
    ])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
