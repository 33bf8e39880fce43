"""The planning benchmark's setup (untimed): a population of profiles and its bulk load.

Profiles come from the demo generator (`demo/generate_participants.py`, the demo's
distribution), generated in parallel and validated by Herald's own validator, then
cached under the system temp folder (keyed on the code that shapes them). They are
written as a restore tool would: the driver's bulk path (executemany on SQLite, COPY on
PostgreSQL, both tables at once), secondary indexes rebuilt after, foreign keys not
checked row by row. On SQLite the loaded file is cached too and restored by a file copy.
A sample is then re-imported through `import_participants`, which must find it
unchanged: the fast path stored exactly what Herald's importer would.
"""

from __future__ import annotations

import hashlib
import inspect
import multiprocessing
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
LOADED_AT = NOW - timedelta(days=30)
PEOPLE_COLUMNS = ("id", "email", "name", "language", "country", "timezone", "frequency",
                  "status", "consent_date", "any_topic", "any_region", "any_mode",
                  "any_language", "created_at", "updated_at")
INTEREST_COLUMNS = ("participant_id", "kind", "value")
# What shapes the cached profiles: a change to any of these makes a new cache file.
CACHE_INPUTS = ("demo/generate_participants.py", "demo/courses.csv",
                "scheduler/participants.py", "scheduler/ingest/fields.py")
# What shapes a loaded SQLite database besides the profiles: a change to any of these (or
# to this file, or to SQLite or SQLAlchemy) makes a new cached database.
SCHEMA_INPUTS = ("scheduler/models.py", "scheduler/db.py", "scheduler/migrations")
CHECK_SAMPLE = 1_000
CACHE = Path(tempfile.gettempdir()) / "herald-bench-cache"

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


def _digest(parts: Iterable[bytes]) -> str:
    return hashlib.sha256(b"".join(parts)).hexdigest()[:16]


def population_key() -> str:
    """What the cached profiles depend on: the generator, the validator, `_shard`."""
    inputs = [(ROOT / p).read_bytes() for p in CACHE_INPUTS]
    return _digest([*inputs, inspect.getsource(_shard).encode()])


def population(n: int, seed: int) -> tuple[list[Person], list[Interest], str]:
    """`n` validated profiles (participant i is people[i - 1]), their interests as rows,
    and where they came from."""
    cache = CACHE / f"people-{n}-{seed}-{population_key()}"
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
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"people-{n}-{seed}-*"):
        if stale.suffix != ".tmp":  # another run may be writing one right now
            stale.unlink(missing_ok=True)
    tmp = CACHE / f"{cache.name}.{os.getpid()}.tmp"
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
    bulk path (COPY on PostgreSQL, executemany on SQLite). On SQLite the loading
    connection writes without a journal (a failed load is thrown away, never rolled
    back): in WAL mode every page would be written twice, to the log and back.
    """
    dialect = engine.dialect.name
    names = ", ".join(columns)
    engine.dispose()  # SQLite changes journal mode only on the file's one connection
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
            mode = cur.execute("PRAGMA journal_mode = OFF").fetchone()[0]
            if mode != "off":
                raise RuntimeError(f"setup bug: the loading connection is not alone ({mode})")
            cur.execute("PRAGMA synchronous = OFF")
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
    # (the next connection of `make_engine` puts the file back in WAL mode)


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
         n_courses: int, phase: Phases, seed: int) -> None:
    """Participants, interests and courses into an empty schema, then statistics."""
    from sqlalchemy import text

    from scheduler.ingest.store import import_courses

    if engine.dialect.name == "postgresql":
        write_profiles_postgres(engine, people, interests, phase)
    else:
        write_profiles_sqlite(engine, people, interests, phase, seed)
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


def _people_rows(people: list[Person]) -> Iterator[tuple[Any, ...]]:
    stamps = (LOADED_AT, LOADED_AT)
    return ((i, *p, *stamps) for i, p in enumerate(people, 1))


def write_profiles_postgres(engine: Any, people: list[Person], interests: list[Interest],
                            phase: Phases) -> None:
    """Both tables at once, one connection each, when foreign keys go unchecked (a
    superuser): the client formats participants while the server takes interests in."""
    from concurrent.futures import ThreadPoolExecutor

    from scheduler.db import make_engine

    jobs = [("participants", PEOPLE_COLUMNS, _people_rows(people)),
            ("participant_interests", INTEREST_COLUMNS, interests)]
    with engine.connect() as c:
        superuser = c.exec_driver_sql("SHOW is_superuser").scalar() == "on"
    if not superuser:  # interests' foreign keys are checked: participants first
        for table, columns, rows in jobs:
            with phase(f"write {table}"):
                write_rows(engine, table, columns, rows)
        return
    url = engine.url.render_as_string(hide_password=False)
    with (phase(f"write {len(people):,} participants and {len(interests):,} interests "
                "(in parallel)"), ThreadPoolExecutor(len(jobs)) as pool):
        done = [pool.submit(write_rows, make_engine(url), table, columns, rows)
                for table, columns, rows in jobs]
        for future in done:
            future.result()


def write_profiles_sqlite(engine: Any, people: list[Person], interests: list[Interest],
                          phase: Phases, seed: int) -> None:
    """Write both tables, or restore the file a previous run wrote from the same inputs
    (cached beside the profiles; `check_sample` then holds it to the importer)."""
    import sqlite3

    import sqlalchemy

    inputs = [population_key().encode(), Path(__file__).read_bytes(),
              sqlite3.sqlite_version.encode(), sqlalchemy.__version__.encode()]
    for name in SCHEMA_INPUTS:
        path = ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        inputs += [f.read_bytes() for f in files]
    n = len(people)
    cache = CACHE / f"sqlite-{n}-{seed}-{_digest(inputs)}.db"
    database = Path(engine.url.database)
    if cache.exists():
        with phase(f"restore {n:,} participants and {len(interests):,} interests "
                   f"(cached database {cache})"):
            engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(cache, database)
        return
    with phase(f"write {n:,} participants"):
        write_rows(engine, "participants", PEOPLE_COLUMNS, _people_rows(people))
    with phase(f"write {len(interests):,} interests"):
        write_rows(engine, "participant_interests", INTEREST_COLUMNS, interests)
    with phase(f"cache the database in {cache}"):
        CACHE.mkdir(parents=True, exist_ok=True)
        for stale in CACHE.glob(f"sqlite-{n}-{seed}-*.db"):
            stale.unlink(missing_ok=True)
        # A name of its own: another run may be writing the same cache right now.
        tmp = CACHE / f"{cache.name}.{os.getpid()}.tmp"
        shutil.copyfile(database, tmp)  # the loader left no WAL: the file is complete
        tmp.replace(cache)
