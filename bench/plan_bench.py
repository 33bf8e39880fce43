"""Planning benchmark: N participants (default 1,000,000) × 20 newly published courses.

    python bench/plan_bench.py [--quick] [--postgres] [--json PATH] [--participants N]

Figures: the time to plan (one `Planner.plan` pass, in a process of its own), the time
of a bare bulk insert of the same delivery rows into the same table (the limit: on
SQLite the driver's `executemany` of prebuilt tuples, on PostgreSQL `COPY FROM` of
prebuilt COPY data), their ratio (target ≤ 2.0), a second pass with nothing new
(target ≤ 1 s), and the planning process's peak resident memory (target ≤ 1 GiB).

Setup is not measured and is kept short: profiles come from the demo generator
(`demo/generate_participants.py`, the demo's distribution), generated in parallel and
validated by Herald's own validator, then cached under the system temp folder (keyed on
the code that shapes them), and written with the driver's bulk path (executemany;
COPY on PostgreSQL). A sample is then re-imported through `import_participants`, which
must find it unchanged: the fast path stored exactly what Herald's importer would.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    ANNOUNCE_CAMPAIGN,
    ROOT,
    Figure,
    figure,
    pg_database,
    pg_server_url,
    scratch_project,
    write_figures,
)

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
LOADED_AT = NOW - timedelta(days=30)
CAMPAIGNS = ANNOUNCE_CAMPAIGN
PEOPLE_COLUMNS = ("id", "email", "name", "language", "country", "timezone", "frequency",
                  "status", "consent_date", "any_topic", "any_region", "any_mode",
                  "any_language", "created_at", "updated_at")
INTEREST_COLUMNS = ("participant_id", "kind", "value")
DELIVERY_COLUMNS = ("dedup_key", "campaign", "kind", "channel", "template", "course_id",
                    "participant_id", "state", "due_at", "attempts", "created_at",
                    "updated_at")
# What shapes the cached profiles: a change to any of these makes a new cache file.
CACHE_INPUTS = ("demo/generate_participants.py", "demo/courses.csv",
                "scheduler/participants.py", "scheduler/ingest/fields.py")
CHECK_SAMPLE = 1_000

Person = tuple[Any, ...]  # PEOPLE_COLUMNS from email to any_language
Interest = tuple[int, str, str]  # INTEREST_COLUMNS


class Phases:
    """Prints how long each phase took, as it ends."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        print(f"  [{time.perf_counter() - t0:7.1f} s] {name}", flush=True)


def courses(n: int) -> list[Any]:
    """`n` open courses modelled on the demo catalogue, all announceable at NOW."""
    from scheduler.ingest.source import read_source

    _fmt, demo = read_source(str(ROOT / "demo" / "courses.csv"))
    out = []
    for i in range(n):
        base = demo[i % len(demo)]
        start = date(2027, 3, 1) + timedelta(days=i)
        out.append(replace(base, id=f"BENCH-{i:03d}", status="open", start_date=start,
                           end_date=start + timedelta(days=5),
                           registration_deadline=start - timedelta(days=14)))
    return out


# -- the population: generated in parallel, validated by Herald, cached ----------------


def _shard(job: tuple[int, int]) -> tuple[list[Person], list[Interest]]:
    """One slice of profiles: the generator's rows through Herald's validator."""
    from demo.generate_participants import generate
    from scheduler.participants import validate_participant

    n, seed = job
    people: list[Person] = []
    interests: list[Interest] = []
    for row in generate(n, seed=seed):
        r, errors = validate_participant(row)
        if r is None:
            raise ValueError(f"generated profile rejected: {errors}")
        # The columns Herald stores for a new profile (scheduler.participants).
        people.append((r.email, r.name, r.language, r.country, r.timezone, r.frequency,
                       "active" if r.consent else "pending", r.consent, not r.topics,
                       not r.regions, not r.modes, not r.languages))
        pid = len(people)  # 1-based within the shard
        interests.extend((pid, kind, value) for kind, value in r.interests())
    return people, interests


def population(n: int, seed: int) -> tuple[list[Person], list[Interest], str]:
    """`n` validated profiles (participant i is people[i - 1]), their interests as rows,
    and where they came from."""
    inputs = [(ROOT / p).read_bytes() for p in CACHE_INPUTS]
    inputs.append(inspect.getsource(_shard).encode())
    key = hashlib.sha256(b"".join(inputs)).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "herald-bench-cache"
    cache = folder / f"people-{n}-{seed}-{key}"
    if cache.exists():
        with cache.open("rb") as fh:
            cached: tuple[list[Person], list[Interest]] = pickle.load(fh)
        return *cached, f"cache {cache}"
    shards = max(2, os.cpu_count() or 2)
    sizes = [n // shards + (1 if i < n % shards else 0) for i in range(shards)]
    with multiprocessing.get_context("fork").Pool(shards) as pool:
        parts = pool.map(_shard, [(size, seed * 1000 + i) for i, size in enumerate(sizes)])
    people: list[Person] = []
    interests: list[Interest] = []
    for p, i in parts:
        offset = len(people)
        people.extend(p)
        interests.extend((pid + offset, kind, value) for pid, kind, value in i)
    # Each shard's addresses are unique; across shards the generator's names repeat.
    seen: set[str] = set()
    for idx, person in enumerate(people):
        email = person[0]
        k = 1
        while email in seen:
            k += 1
            local, domain = person[0].rsplit("@", 1)
            email = f"{local}-{k}@{domain}"
        seen.add(email)
        if email != person[0]:
            people[idx] = (email, *person[1:])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"people-{n}-{seed}-*"):
        stale.unlink(missing_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump((people, interests), fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cache)
    return people, interests, f"generated on {shards} processes, cached in {cache}"


# -- bulk writes through the driver -----------------------------------------------------


def _processors(engine: Any, table: str, columns: tuple[str, ...]) -> list[Any]:
    """Each column's bind processor for this dialect (None where values pass as they are)."""
    from scheduler.models import Base

    t = Base.metadata.tables[table]
    return [t.c[c].type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
            for c in columns]


def _stored(engine: Any, table: str, columns: tuple[str, ...],
            rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    """Rows in their stored form (SQLite keeps dates and times as text)."""
    procs = _processors(engine, table, columns)
    if not any(procs):
        return rows
    return _processed(rows, procs)


def _processed(rows: Iterable[tuple[Any, ...]], procs: list[Any]) -> Iterator[tuple[Any, ...]]:
    memo: list[dict[Any, Any]] = [{} for _ in procs]
    active = [(i, p, memo[i]) for i, p in enumerate(procs) if p is not None]
    for row in rows:
        out = list(row)
        for i, proc, seen in active:
            value = out[i]
            if value is not None:
                try:
                    out[i] = seen[value]
                except KeyError:
                    out[i] = seen[value] = proc(value)
        yield tuple(out)


def _secondary_indexes(cur: Any, dialect: str, table: str) -> tuple[list[str], list[str]]:
    """(drop, create) statements for the table's indexes other than its primary key,
    read from the catalogue, so the definitions come back exactly as they were."""
    if dialect == "postgresql":
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'u'", (table,))
        unique = cur.fetchall()
        cur.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
                    "FROM pg_index i WHERE indrelid = %s::regclass AND NOT indisprimary AND "
                    "NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                    (table,))
        plain = cur.fetchall()
        return ([f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _ in unique]
                + [f"DROP INDEX {name}" for name, _ in plain],
                [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {d}' for name, d in unique]
                + [d for _, d in plain])
    cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL", (table,))  # UNIQUE's own autoindex cannot be dropped
    plain = cur.fetchall()
    return [f'DROP INDEX "{name}"' for name, _ in plain], [sql for _, sql in plain]


def write_rows(engine: Any, table: str, columns: tuple[str, ...],
               rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert rows (Python values in `columns` order) into an empty table, committed.

    A bulk load as a restore tool does one: secondary indexes dropped and rebuilt after,
    foreign keys not checked row by row (the ids are known to be right), the driver's
    bulk path (COPY on PostgreSQL, executemany on SQLite).
    """
    dialect = engine.dialect.name
    names = ", ".join(columns)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "postgresql":
            from psycopg.errors import InsufficientPrivilege

            try:  # needs a superuser (scripts/with-postgres.sh's is one)
                cur.execute("SET session_replication_role = replica")
            except InsufficientPrivilege:
                raw.rollback()
            cur.execute("SET maintenance_work_mem = '512MB'")
        else:
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA cache_size = -262144")
            cur.execute("BEGIN")
        drop, create = _secondary_indexes(cur, dialect, table)
        for statement in drop:
            cur.execute(statement)
        if dialect == "postgresql":
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                            _stored(engine, table, columns, rows))
        for statement in create:
            cur.execute(statement)
        raw.commit()
    finally:
        raw.close()
    engine.dispose()  # the pragmas and settings above stay with the loading connection


def check_sample(sessions: Any, people: list[Person], interests: list[Interest]) -> None:
    """Re-import a sample through `import_participants`: all must come out unchanged,
    i.e. the bulk load stored exactly what Herald's importer would have (rolled back)."""
    from scheduler.participants import import_participants, validate_participant

    step = max(1, len(people) // CHECK_SAMPLE)
    pairs: dict[int, list[tuple[str, str]]] = {pid: [] for pid in range(1, len(people) + 1,
                                                                          step)}
    for pid, kind, value in interests:
        if pid in pairs:
            pairs[pid].append((kind, value))
    sample = []
    for pid, got in pairs.items():
        p = people[pid - 1]
        row = {"email": p[0], "name": p[1], "language": p[2], "country": p[3],
               "timezone": p[4], "frequency": p[5], "consent": p[7].isoformat() if p[7] else ""}
        for kind, column in (("topic", "topics"), ("region", "regions"),
                             ("language", "languages"), ("mode", "modes")):
            row[column] = ";".join(v for k, v in got if k == kind)
        record, errors = validate_participant(row)
        assert record is not None, errors
        sample.append(record)
    with sessions() as s:
        summary = import_participants(s, sample, now=NOW)
        s.rollback()
    if len(summary.unchanged) != len(sample):
        raise SystemExit(f"setup bug: {len(sample) - len(summary.unchanged)} of {len(sample)} "
                         "sampled profiles differ from what import_participants stores")


def load(engine: Any, sessions: Any, people: list[Person], interests: list[Interest],
         n_courses: int, phase: Phases) -> None:
    """Participants, interests and courses into an empty schema, then statistics."""
    from sqlalchemy import text

    from scheduler.ingest.store import import_courses
    stamps = (LOADED_AT, LOADED_AT)
    with phase(f"write {len(people):,} participants"):
        write_rows(engine, "participants", PEOPLE_COLUMNS,
                   ((i, *p, *stamps) for i, p in enumerate(people, 1)))
    with phase(f"write {len(interests):,} interests"):
        write_rows(engine, "participant_interests", INTEREST_COLUMNS, interests)
    with phase(f"import {n_courses} courses, check a sample, gather statistics"):
        with sessions() as s, s.begin():
            import_courses(s, courses(n_courses), now=NOW)
        if engine.dialect.name == "postgresql":
            with engine.begin() as c:  # ids were given explicitly: move the sequence on
                c.execute(text("SELECT setval(pg_get_serial_sequence('participants', 'id'), "
                               ":n)"), {"n": len(people)})
        check_sample(sessions, people, interests)
        # A loaded production database has been vacuumed and analysed.
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as c:
                c.exec_driver_sql("ANALYZE")


# -- the measured parts -------------------------------------------------------------------


def plan_child(config_dir: Path, url: str) -> None:
    """Plan once, then once more with nothing new; print times, counts and peak memory.

    The peak is VmHWM (this process image's high-water RSS), not ru_maxrss: Linux carries
    the parent's peak across fork and exec into a child's ru_maxrss.
    """
    from scheduler.app import App

    app = App(config_dir, url, NOW)
    planner = app.planner()
    _ = app.engine  # schema check and connection, outside the timing
    t0 = time.perf_counter()
    first = planner.plan(NOW)
    t1 = time.perf_counter()
    again = planner.plan(NOW + timedelta(minutes=1))
    t2 = time.perf_counter()
    app.close()
    print(json.dumps({"plan_s": t1 - t0, "rows": first.total, "again_s": t2 - t1,
                      "again_rows": again.total,
                      "peak_mib": hwm_mib()}))


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


def bulk_insert_baseline(engine: Any, expected: int) -> float:
    """Read the planned rows, empty the table, time writing them back by the bulk path."""
    names = ", ".join(DELIVERY_COLUMNS)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            blocks: list[bytes] = []
            with cur.copy(f"COPY (SELECT {names} FROM deliveries) TO STDOUT") as copy:
                blocks.extend(bytes(b) for b in copy)
            cur.execute("TRUNCATE deliveries")
            raw.commit()
            t0 = time.perf_counter()
            with cur.copy(f"COPY deliveries ({names}) FROM STDIN") as copy:
                for block in blocks:
                    copy.write(block)
            raw.commit()
        else:
            rows = cur.execute(f"SELECT {names} FROM deliveries").fetchall()
            cur.execute("DELETE FROM deliveries")
            t0 = time.perf_counter()
            cur.execute("BEGIN")
            marks = ", ".join("?" * len(DELIVERY_COLUMNS))
            cur.executemany(f"INSERT INTO deliveries ({names}) VALUES ({marks})", rows)
            raw.commit()
        elapsed = time.perf_counter() - t0
        cur.execute("SELECT count(*) FROM deliveries")
        count = cur.fetchone()[0]
    finally:
        raw.close()
    if count != expected:
        raise SystemExit(f"baseline wrote {count} rows, expected {expected}")
    return elapsed


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
            with phase("profiles"):
                people, interests, origin = population(n, args.seed)
            print(f"           ({origin})")
            engine = make_engine(url)
            ensure_schema(engine)
            load(engine, session_factory(engine), people, interests, args.courses, phase)
            del people, interests
            with phase("plan (child process), then plan again"):
                result = run_planner(config_dir, url)
            rows = int(result["rows"])
            if result["again_rows"]:
                raise SystemExit(f"the second pass planned {result['again_rows']} rows")
            with phase(f"baseline: bulk insert of the same {rows:,} rows"):
                t_insert = bulk_insert_baseline(engine, rows)
            engine.dispose()
    print(f"  [{time.perf_counter() - started:7.1f} s] in all", flush=True)

    t_plan = float(result["plan_s"])
    ratio = t_plan / t_insert if t_insert else float("inf")
    limit = ("COPY FROM of prebuilt COPY data" if args.postgres
             else "sqlite3 executemany of prebuilt tuples")
    figures: list[Figure] = [
        figure(bench, "deliveries_planned", rows, "rows",
               note=f"{n:,} participants × {args.courses} courses"),
        figure(bench, "plan_time", round(t_plan, 2), "s"),
        figure(bench, "bulk_insert_time", round(t_insert, 2), "s",
               note=f"the limit: {limit}, same rows, same table and indexes"),
        figure(bench, "plan_to_insert_ratio", round(ratio, 2), "x", target=2.0),
        figure(bench, "second_pass_time", round(float(result["again_s"]), 3), "s", target=1.0),
        figure(bench, "planner_peak_memory", round(float(result["peak_mib"]), 1), "MiB",
               target=1024, note="peak RSS of the planning process (a child of the bench)"),
    ]
    write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
