"""Planning benchmark: N participants (default 1,000,000) × 20 newly published courses.

    python bench/plan_bench.py [--quick] [--postgres] [--json PATH] [--participants N]

Figures: the time of `herald plan` with cadence on (the Planner pass and the cadence
preview the command shows, in a process of its own), the time of a bare bulk insert of
the same delivery rows into the same table (the limit: on SQLite the driver's
`executemany` of prebuilt tuples, on PostgreSQL `COPY FROM` of prebuilt COPY data, on a
server with durable commits under `make bench`), their ratio (target ≤ 1.0), a second
pass with nothing new (target ≤ 1 s), and the planning process's peak resident memory
(target ≤ 1 GiB).

Setup is not measured and is kept short (`bench/plan_setup.py`): cached profiles from
the demo generator, validated by Herald, written by the driver's bulk path as a restore
would, a sample re-imported through `import_participants` that must come out unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    ANNOUNCE_CAMPAIGN,
    Figure,
    figure,
    pg_database,
    pg_server_url,
    scratch_project,
    write_figures,
)
from bench.plan_setup import NOW, Phases, load, population  # noqa: E402
from bench.server_cpu import postmaster_pid, server_cpu  # noqa: E402

CAMPAIGNS = ANNOUNCE_CAMPAIGN
COPY_CPU: dict[str, float | None] = {}
"""PostgreSQL: the COPY baseline's CPU seconds, client and server (`_copy_back`)."""
DELIVERY_COLUMNS = ("dedup_key", "campaign", "kind", "channel", "template", "course_id",
                    "participant_id", "state", "due_at", "attempts", "created_at",
                    "updated_at")


# -- the measured parts -------------------------------------------------------------------


def plan_child(config_dir: Path, url: str) -> None:
    """`herald plan` twice, the second a minute later with nothing new (in-process:
    `scheduler.send_now.plan`, what the command runs before printing); print times,
    counts, the parts' times and peak memory.

    Cadence is on (the shipped settings.yaml: max_per_day 1, max_per_week 4,
    reminder_after 3d). Planning writes the deliveries; what cadence will do with them
    (bundle, hold) `herald plan` previews and shows (`held_back`); the dispatch pass
    writes it before it claims (the email benchmark times that). `planner_s` is the
    Planner pass alone, the whole of send-now's planning step.

    The peak is VmHWM (this process image's high-water RSS), not ru_maxrss: Linux carries
    the parent's peak across fork and exec into a child's ru_maxrss.
    """
    from scheduler.app import App  # first: scheduler.cadence imports through the config

    import scheduler.cadence.view as cadence_view  # isort: skip
    import scheduler.calendar  # noqa: F401  imports are start-up, not planning
    from scheduler import send_now
    from scheduler.clock import Clock
    from scheduler.planner import Planner

    parts: dict[str, float] = {"planner_s": 0.0, "cadence_s": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] += time.perf_counter() - t0
        return run

    Planner.plan = timed("planner_s", Planner.plan)  # type: ignore[method-assign]
    cadence_view.held_back = timed("cadence_s", cadence_view.held_back)
    app = App(config_dir, url, NOW)
    _ = app.engine  # schema check and connection, outside the timing
    postmaster = postmaster_pid(app.engine) if app.engine.dialect.name == "postgresql" else None
    server0, cpu0 = server_cpu(postmaster), time.process_time()
    t0 = time.perf_counter()
    first = send_now.plan(app)
    t1 = time.perf_counter()
    cpu = time.process_time() - cpu0
    server = server_cpu(postmaster)
    first_parts = dict(parts)
    app.clock = Clock(NOW + timedelta(minutes=1))
    again = send_now.plan(app)
    t2 = time.perf_counter()
    app.close()
    print(json.dumps({"plan_s": t1 - t0, "rows": first.total, "again_s": t2 - t1,
                      "again_planner_s": parts["planner_s"] - first_parts["planner_s"],
                      "again_rows": again.total, "held": len(first.cadence), "cpu_s": cpu,
                      "server_cpu_s": None if server is None or server0 is None
                      else server - server0,
                      **first_parts, "peak_mib": hwm_mib()}))


def hwm_mib(pid: int | str = "self") -> float:
    """A process's peak resident memory so far (VmHWM), in MiB; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_planner(config_dir: Path, url: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--plan-child", "--config-dir", str(config_dir),
           "--db", url]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def keep_copy(engine: Any) -> Path:
    """A copy of the loaded SQLite file, as the planner finds it; the baseline restores it."""
    database = Path(engine.url.database)
    engine.dispose()  # the last connection out checkpoints the WAL and removes it
    wal = Path(f"{database}-wal")
    if wal.exists() and wal.stat().st_size:
        raise SystemExit(f"setup bug: {wal} outlived the last connection")
    copy = database.with_name(f"{database.name}.before-plan")
    shutil.copyfile(database, copy)
    return copy


def bulk_insert_baseline(engine: Any, expected: int, before_plan: Path | None) -> float:
    """Read the planned rows, empty the table, time writing them back by the bulk path."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        elapsed, count = _copy_back(engine, started)
    elif before_plan is None:
        raise ValueError("the SQLite baseline needs the file as it was before planning")
    else:
        elapsed, count = _insert_back(engine, before_plan, started)
    if count != expected:
        raise SystemExit(f"baseline wrote {count} rows, expected {expected}")
    return elapsed


def _untimed(started: float, what: str) -> float:
    """Say how long getting ready took; the clock starts after the print."""
    print(f"           (rows read and {what} in {time.perf_counter() - started:.1f} s, "
          "untimed)", flush=True)
    return time.perf_counter()


def _copy_back(engine: Any, started: float) -> tuple[float, int]:
    """PostgreSQL: COPY the rows out, TRUNCATE, time COPY FROM of the same data."""
    names = ", ".join(DELIVERY_COLUMNS)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        blocks: list[bytes] = []
        with cur.copy(f"COPY deliveries ({names}) TO STDOUT") as copy:
            blocks.extend(bytes(b) for b in copy)
        cur.execute("TRUNCATE deliveries")
        raw.commit()
        postmaster = postmaster_pid(engine)
        t0 = _untimed(started, "the table emptied")
        server0, cpu0 = server_cpu(postmaster), time.process_time()
        with cur.copy(f"COPY deliveries ({names}) FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)
        raw.commit()
        elapsed = time.perf_counter() - t0
        server = server_cpu(postmaster)
        COPY_CPU["client"] = time.process_time() - cpu0
        COPY_CPU["server"] = None if server is None or server0 is None else server - server0
        cur.execute("SELECT count(*) FROM deliveries")
        return elapsed, int(cur.fetchone()[0])
    finally:
        raw.close()


def _insert_back(engine: Any, before_plan: Path, started: float) -> tuple[float, int]:
    """SQLite: read the rows, put back the file as the planner found it (from `keep_copy`:
    the same empty table and indexes, byte for byte; a DELETE of the rows would take
    longer than the insert being timed), time executemany of the rows read."""
    names = ", ".join(DELIVERY_COLUMNS)
    raw = engine.raw_connection()
    try:
        rows = raw.cursor().execute(f"SELECT {names} FROM deliveries").fetchall()
    finally:
        raw.close()
    read = time.perf_counter() - started
    database = Path(engine.url.database)
    engine.dispose()
    for suffix in ("-wal", "-shm"):  # the planned rows' log, if any: not the copy's
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    before_plan.replace(database)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if cur.execute("SELECT count(*) FROM deliveries").fetchone()[0]:
            raise SystemExit("setup bug: the file put back has deliveries")
        t0 = _untimed(started, f"the file as it was before planning put back ({read:.1f} s "
                      "to read)")
        cur.execute("BEGIN")
        marks = ", ".join("?" * len(DELIVERY_COLUMNS))
        cur.executemany(f"INSERT INTO deliveries ({names}) VALUES ({marks})", rows)
        raw.commit()
        elapsed = time.perf_counter() - t0
        cur.execute("SELECT count(*) FROM deliveries")
        return elapsed, int(cur.fetchone()[0])
    finally:
        raw.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--quick", action="store_true", help="100,000 participants")
    ap.add_argument("--postgres", action="store_true",
                    help="plan on a fresh database of the server in HERALD_TEST_POSTGRES_URL")
    ap.add_argument("--participants", type=int, default=None)
    ap.add_argument("--courses", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--plan-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--config-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plan_child:
        plan_child(args.config_dir, args.db)
        return 0
    n = args.participants or (100_000 if args.quick else 1_000_000)
    bench = "plan-postgres" if args.postgres else "plan-sqlite"
    server = pg_server_url()
    if args.postgres and not server:
        print("plan_bench --postgres needs a PostgreSQL server: set HERALD_TEST_POSTGRES_URL "
              "or run through scripts/with-postgres.sh", file=sys.stderr)
        return 2

    from scheduler.db import ensure_schema, make_engine, session_factory

    phase = Phases()
    started = time.perf_counter()
    print(f"{bench}: {n:,} participants × {args.courses} courses", flush=True)
    with tempfile.TemporaryDirectory(prefix="herald-plan-bench-") as tmp:
        config_dir = scratch_project(Path(tmp), campaigns=CAMPAIGNS)
        database = pg_database(server) if args.postgres and server else nullcontext(
            f"sqlite:///{Path(tmp) / 'bench.db'}")
        with database as url:
            with phase("profiles (in all)"):
                pop = population(n, args.seed, phase)
            print(f"           ({pop.origin})")
            engine = make_engine(url)
            ensure_schema(engine)
            load(engine, session_factory(engine), pop, args.courses, phase, args.seed)
            before_plan = None
            if not args.postgres:
                with phase("keep a copy of the loaded file for the baseline"):
                    before_plan = keep_copy(engine)
            with phase("plan (child process), then plan again"):
                result = run_planner(config_dir, url)
            rows = int(result["rows"])
            if result["held"]:  # nobody had an email yet: every person's rows go at once
                raise SystemExit(f"cadence would hold back rows of {result['held']} people")
            if result["again_rows"]:
                raise SystemExit(f"the second pass planned {result['again_rows']} rows")
            with phase(f"baseline: bulk insert of the same {rows:,} rows"):
                t_insert = bulk_insert_baseline(engine, rows, before_plan)
            engine.dispose()
    print(f"  [{time.perf_counter() - started:7.1f} s] in all", flush=True)

    t_plan = float(result["plan_s"])
    ratio = t_plan / t_insert if t_insert else float("inf")
    durable = os.environ.get("HERALD_TEST_POSTGRES_DURABLE") == "1"
    limit = (f"COPY FROM of prebuilt COPY data ({'durable' if durable else 'NOT durable'} "
             "commits)" if args.postgres else "sqlite3 executemany of prebuilt tuples")
    figures: list[Figure] = [
        figure(bench, "deliveries_planned", rows, "rows",
               note=f"{n:,} participants × {args.courses} courses"),
        figure(bench, "plan_time", round(t_plan, 2), "s",
               note="herald plan, cadence on: the Planner pass and the cadence preview"),
        figure(bench, "planner_time", round(float(result["planner_s"]), 2), "s",
               note="the Planner pass alone (send-now's planning step)"),
        figure(bench, "cadence_preview_time", round(float(result["cadence_s"]), 2), "s",
               note="what cadence holds back, per person (shown by herald plan)"),
        figure(bench, "bulk_insert_time", round(t_insert, 2), "s",
               note=f"the limit: {limit}, same rows, same table and indexes"),
        figure(bench, "plan_to_insert_ratio", round(ratio, 2), "x", target=1.0),
        figure(bench, "second_pass_time", round(float(result["again_planner_s"]), 3), "s",
               target=1.0, note="the Planner pass a minute later, nothing new"),
        figure(bench, "second_herald_plan_time", round(float(result["again_s"]), 2), "s",
               note="herald plan a minute later: the same preview and outbox summary"),
        figure(bench, "planner_peak_memory", round(float(result["peak_mib"]), 1), "MiB",
               target=1024, note="peak RSS of the planning process (a child of the bench)"),
    ]
    if args.postgres and result.get("server_cpu_s") is not None and COPY_CPU.get("server"):
        plan_cpu = float(result["cpu_s"]) + float(result["server_cpu_s"])
        copy_cpu = float(COPY_CPU["client"] or 0) + float(COPY_CPU["server"] or 0)
        figures += [
            figure(bench, "plan_cpu", round(plan_cpu, 2), "s",
                   note=f"herald plan's CPU: its process {result['cpu_s']:.2f} s + the "
                        f"server's {result['server_cpu_s']:.2f} s"),
            figure(bench, "bulk_insert_cpu", round(copy_cpu, 2), "s",
                   note=f"the COPY's CPU: the bench {COPY_CPU['client'] or 0:.2f} s + the "
                        f"server's {COPY_CPU['server'] or 0:.2f} s"),
            figure(bench, "plan_to_insert_cpu_ratio", round(plan_cpu / copy_cpu, 2), "x",
                   note="the same ratio in CPU seconds (steadier on a shared machine); "
                        "the target is judged on plan_to_insert_ratio"),
        ]
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
