"""The planning benchmark's setup (untimed): a population of profiles and its bulk load.

Profiles come from the demo generator (`demo/generate_participants.py`, the demo's
distribution) in slices, one worker process each, every row validated by Herald's own
validator in the same pass. Each worker writes its slice in the forms the loaders take
in without Python touching a row again: plain SQLite tables (values in SQLite's stored
form), interests first, then PostgreSQL COPY text at idle priority (while the parent
already loads SQLite).
Both are cached under the system temp folder (keyed on the code that shapes them), with
the sample `check_sample` re-imports.

They are loaded as a restore tool would: foreign keys not checked row by row, secondary
indexes built after the rows. PostgreSQL: COPY FROM of the text, both tables at once.
SQLite: `INSERT … SELECT` from the attached slices, the interests into the database while
the participants go into a file of their own on the other core, copied in whole after
(SQLite's transfer into an empty table from one defined alike: table and indexes
record by record, in order). The loaded SQLite file is cached too, restored by a copy. The
sample is then re-imported through `import_participants`, which must find it unchanged:
the fast path stored exactly what Herald's importer would.
"""

from __future__ import annotations

import hashlib
import inspect
import multiprocessing
import os
import pickle
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.common import ROOT

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
LOADED_AT = NOW - timedelta(days=30)
PEOPLE_COLUMNS = ("id", "email", "name", "language", "country", "timezone", "frequency",
                  "status", "consent_date", "any_topic", "any_region", "any_mode",
                  "any_language", "created_at", "updated_at")
INTEREST_COLUMNS = ("participant_id", "kind", "value")
MASK_COLUMNS = ("topic_bits", "language_bits", "region_bits", "mode_bits")


def _masked_files() -> tuple[str, str]:
    """PostgreSQL: the participants with their interest masks and the numbered keys, as
    the first run's `store_interest_masks` left them (cached beside the profiles; named
    after the code that works the masks out)."""
    from scheduler.participants import interest_masks

    key = _digest([inspect.getsource(interest_masks).encode()])[:12]
    return f"participants-masked-{key}.copy", f"interest-keys-{key}.copy"
SLICE_COLUMNS = PEOPLE_COLUMNS[:-2]  # a slice's table p; the load adds the two stamps
# What shapes the cached profiles: a change to any of these makes a new cache.
CACHE_INPUTS = ("demo/generate_participants.py", "demo/courses.csv",
                "scheduler/participants", "scheduler/ingest/fields.py",
                "scheduler/models.py")  # models: SQLite's stored forms in the slices
# What shapes a loaded SQLite database besides the profiles: a change to any of these (or
# to this file, or to SQLite or SQLAlchemy) makes a new cached database.
SCHEMA_INPUTS = ("scheduler/models.py", "scheduler/db.py", "scheduler/migrations")
CHECK_SAMPLE = 1_000
CACHE = Path(tempfile.gettempdir()) / "herald-bench-cache"
META = "population.pickle"  # written last: a folder without it is incomplete
_RECEIVING = threading.Lock()

Person = tuple[Any, ...]  # PEOPLE_COLUMNS from email to any_language, as Python values
Interest = tuple[int, str, str]  # INTEREST_COLUMNS
Sample = dict[int, tuple[Person, list[tuple[str, str]]]]  # id → profile, (kind, value)s


class Phases:
    """Prints how long each phase took, as it ends."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        print(f"  [{time.perf_counter() - t0:7.1f} s] {name}", flush=True)


@dataclass
class Population:
    """Profiles 1..`people` and their `interests` rows in `folder`: for each slice i,
    `interests-i.sqlite` (table i: INTEREST_COLUMNS), `people-i.sqlite` (table p:
    SLICE_COLUMNS), `participants-i.copy` and `interests-i.copy` (PostgreSQL COPY text,
    all columns).

    Freshly generated, its workers may still be writing (in that order): `wait` for the
    files needed; `complete` waits for all and caches them.
    """

    folder: Path
    slices: int
    people: int
    interests: int
    sample: Sample
    origin: str
    pending: _Pending | None = None

    def files(self, pattern: str) -> list[Path]:
        return [self.folder / pattern.format(i) for i in range(self.slices)]

    def wait(self, stage: str) -> None:
        """Until every worker has written what `stage` stands for ("people", "done")."""
        if self.pending is not None:
            self.pending.wait(stage, self)

    def complete(self, phase: Phases) -> None:
        """Wait until every file is written, then move the folder into the cache."""
        if self.pending is None:
            return
        with phase("the slices' COPY text (written meanwhile)"):
            self.wait("done")
        print("           (slices written: " + "; ".join(
            f"{i}: interests in {t[0]:.1f} s, people in {t[1]:.1f} s, COPY text in {t[2]:.1f} s"
            for i, t in enumerate(zip(*self.pending.seconds, strict=True))) + ")", flush=True)
        cached = self.pending.cached
        self.pending = None
        meta = {"slices": self.slices, "people": self.people, "interests": self.interests,
                "sample": self.sample}
        with (self.folder / META).open("wb") as fh:
            pickle.dump(meta, fh, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.folder.rename(cached)
        except OSError:  # another run got there first, with the same inputs
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = cached


@dataclass
class _Pending:
    """The workers still writing a population, and the folder to cache it in."""

    workers: _Workers
    cached: Path
    stages: list[str]  # still to come, in order
    seconds: list[list[float]]  # per stage received: each worker's

    def wait(self, stage: str, pop: Population) -> None:
        lock = _RECEIVING  # the participants' thread may wait while the main one does
        with lock:
            try:
                while stage in self.stages:
                    kind = self.stages.pop(0)
                    got = self.workers.receive(kind)
                    self.seconds.append([g[-1] for g in got])
                    if kind == "people":
                        for g in got:
                            pop.sample.update(g[0])
            except BaseException:
                self.stages.clear()
                raise
            finally:
                if not self.stages:
                    self.workers.close()


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


# -- a slice of the population, in a worker process -------------------------------------


def _slice(conn: Connection, index: int, n: int, seed: int, offset: int,
           sample_ids: range, folder: Path) -> None:
    """Generate and validate `n` profiles (ids offset+1..offset+n); send their addresses,
    take back the renames that make them unique across slices; write the slice's SQLite
    tables, send the sample, then write its COPY text."""
    from demo.generate_participants import generate
    from scheduler.participants import validate_participant

    t0 = time.perf_counter()
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
        pid = offset + len(people)
        interests.extend((pid, kind, value) for kind, value in r.interests())
    conn.send(("emails", [p[0] for p in people], time.perf_counter() - t0))
    renames: dict[int, str] = conn.recv()
    # Interests first: their load is the longest, the parent starts it as soon as it can.
    t0 = time.perf_counter()
    with closing(_scratch_db(folder / f"interests-{index}.sqlite")) as db:
        db.execute(f"CREATE TABLE i ({', '.join(INTEREST_COLUMNS)})")
        db.execute("BEGIN")
        db.executemany("INSERT INTO i VALUES (?, ?, ?)", interests)
        db.execute("COMMIT")
    conn.send(("interests", len(interests), time.perf_counter() - t0))
    t0 = time.perf_counter()
    for i, email in renames.items():
        people[i] = (email, *people[i][1:])
    _write_people_sqlite(folder / f"people-{index}.sqlite", people, offset)
    sample: Sample = {pid: (people[pid - offset - 1], []) for pid in sample_ids
                      if offset < pid <= offset + n}
    for pid, kind, value in interests:
        if pid in sample:
            sample[pid][1].append((kind, value))
    conn.send(("people", sample, time.perf_counter() - t0))
    # The parent loads SQLite meanwhile, on both cores at times: take only what it leaves.
    if hasattr(os, "sched_setscheduler"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.nice(19)
    t0 = time.perf_counter()
    _write_text(folder / f"participants-{index}.copy", _people_copy(people, offset))
    _write_text(folder / f"interests-{index}.copy", _interests_copy(interests))
    conn.send(("done", time.perf_counter() - t0))


def _slice_worker(conn: Connection, *args: Any) -> None:
    try:
        _slice(conn, *args)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class _Workers:
    """One process per slice, each with its own pipe (a worker's death is an EOF)."""

    def __init__(self, jobs: list[tuple[Any, ...]]) -> None:
        context = multiprocessing.get_context("fork")
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        for args in jobs:
            ours, theirs = context.Pipe()
            proc = context.Process(target=_slice_worker, args=(theirs, *args), daemon=True)
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.conns.append(ours)

    def receive(self, kind: str) -> list[tuple[Any, ...]]:
        """The next message from each worker, which must be a `kind`."""
        out = []
        for conn in self.conns:
            try:
                message: tuple[Any, ...] = conn.recv()
            except EOFError:
                raise RuntimeError("a profile worker died") from None
            if message[0] == "error":
                raise RuntimeError(f"a profile worker failed:\n{message[1]}")
            if message[0] != kind:
                raise RuntimeError(f"setup bug: a profile worker sent {message[0]}, not {kind}")
            out.append(message[1:])
        return out

    def close(self) -> None:
        for proc, conn in zip(self.procs, self.conns, strict=True):
            conn.close()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()


def _write_people_sqlite(path: Path, people: list[Person], offset: int) -> None:
    """A plain table (no affinity: values stay in SQLite's stored form), rows in id order."""
    from sqlalchemy import create_engine

    procs = _processors(create_engine("sqlite://").dialect, "participants", SLICE_COLUMNS)
    with closing(_scratch_db(path)) as db:
        db.execute(f"CREATE TABLE p (id INTEGER PRIMARY KEY, {', '.join(SLICE_COLUMNS[1:])})")
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO p VALUES ({', '.join('?' * len(SLICE_COLUMNS))})",
                       _processed(((pid, *p) for pid, p in enumerate(people, offset + 1)),
                                  procs))
        db.execute("COMMIT")


def _scratch_db(path: Path) -> Any:
    """A new SQLite file, written without a journal (a failed write is thrown away)."""
    import sqlite3

    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -262144",
                   "foreign_keys = OFF"):
        db.execute(f"PRAGMA {pragma}")
    return db


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: str) -> str:
    """A text value in COPY's text format (only these four characters need escaping)."""
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_COPY_ESCAPES)


def _people_copy(people: list[Person], offset: int) -> Iterator[str]:
    e, flag, stamp = _copy_field, {True: "t", False: "f"}, LOADED_AT.isoformat()
    for pid, (email, name, language, country, zone, frequency, status, consent, any_topic,
              any_region, any_mode, any_language) in enumerate(people, offset + 1):
        day = "\\N" if consent is None else consent.isoformat()
        yield (f"{pid}\t{e(email)}\t{e(name)}\t{e(language)}\t{e(country)}\t{e(zone)}\t"
               f"{e(frequency)}\t{e(status)}\t{day}\t{flag[any_topic]}\t{flag[any_region]}\t"
               f"{flag[any_mode]}\t{flag[any_language]}\t{stamp}\t{stamp}\n")


def _interests_copy(interests: list[Interest]) -> Iterator[str]:
    e = _copy_field
    return (f"{pid}\t{e(kind)}\t{e(value)}\n" for pid, kind, value in interests)


def _write_text(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(lines)


# -- the population: sliced, validated by Herald, cached ---------------------------------


def _digest(parts: Iterable[bytes]) -> str:
    return hashlib.sha256(b"".join(parts)).hexdigest()[:16]


def _files(path: Path) -> list[Path]:
    """`path`'s Python files, in order, when it is a folder (a package); else `path`."""
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def population_key() -> str:
    """What the cached profiles depend on: the generator, the validator, the stored forms,
    the code here that writes them."""
    import sqlalchemy

    inputs = [f.read_bytes() for p in CACHE_INPUTS for f in _files(ROOT / p)]
    inputs.append(sqlalchemy.__version__.encode())
    code = (_slice, _write_people_sqlite, _copy_field, _people_copy, _interests_copy, _renames)
    return _digest([*inputs, *(inspect.getsource(f).encode() for f in code)])


def _renames(emails: list[list[str]]) -> list[dict[int, str]]:
    """Each slice's addresses are unique; across slices the generator's names repeat: a
    repeat becomes local-k@domain, k the first from 2 not yet taken (in id order)."""
    seen: set[str] = set()
    out: list[dict[int, str]] = []
    for part in emails:
        renamed: dict[int, str] = {}
        for idx, original in enumerate(part):
            email, k = original, 1
            while email in seen:
                k += 1
                local, domain = original.rsplit("@", 1)
                email = f"{local}-{k}@{domain}"
            seen.add(email)
            if email != original:
                renamed[idx] = email
        out.append(renamed)
    return out


def population(n: int, seed: int, phase: Phases) -> Population:
    """`n` validated profiles in their loaders' forms: cached, or generated now (then
    the COPY text may still be being written: see `Population.complete`)."""
    cached = CACHE / f"people-{n}-{seed}-{population_key()}"
    if (cached / META).exists():
        with (cached / META).open("rb") as fh:
            meta: dict[str, Any] = pickle.load(fh)
        return Population(cached, origin=f"cache {cached}", **meta)
    slices = max(2, os.cpu_count() or 2)
    sizes = [n // slices + (1 if i < n % slices else 0) for i in range(slices)]
    sample_ids = range(1, n + 1, max(1, n // CHECK_SAMPLE))
    CACHE.mkdir(parents=True, exist_ok=True)
    _remove_stale(f"people-{n}-{seed}-*")
    folder = CACHE / f"{cached.name}.{os.getpid()}.tmp"  # another run may build the same
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    workers = _Workers([(i, size, seed * 1000 + i, sum(sizes[:i]), sample_ids, folder)
                        for i, size in enumerate(sizes)])
    try:
        with phase(f"generate and validate {n:,} profiles on {slices} processes"):
            emails = workers.receive("emails")
        renames = _renames([e[0] for e in emails])
        for conn, renamed in zip(workers.conns, renames, strict=True):
            conn.send(renamed)
        print("           (" + "; ".join(f"slice {i}: {size:,} in {e[1]:.1f} s" for i, (size, e)
                                         in enumerate(zip(sizes, emails, strict=True)))
              + f"; {sum(map(len, renames)):,} repeated addresses renamed)", flush=True)
        with phase("write the slices' interests as SQLite tables"):
            written = workers.receive("interests")
    except BaseException:
        workers.close()
        raise
    return Population(folder, slices, n, sum(w[0] for w in written), {},
                      f"generated on {slices} processes, cached in {cached}",
                      _Pending(workers, cached, ["people", "done"], [[w[-1] for w in written]]))


def _remove_stale(pattern: str) -> None:
    """Cached files and folders of older inputs, and those a killed run left half-made
    (a temporary one is named after the process writing it, which may still be going)."""
    for stale in CACHE.glob(pattern):
        pid = stale.name.rsplit(".", 2)[-2] if stale.suffix == ".tmp" else ""
        if pid.isdigit() and _alive(int(pid)):
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        pass
    return True


# -- bulk writes through the driver -----------------------------------------------------


def _processors(dialect: Any, table: str, columns: tuple[str, ...]) -> list[Any]:
    """Each column's bind processor for this dialect (None where values pass as they are)."""
    from scheduler.models import Base

    t = Base.metadata.tables[table]
    return [t.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def _processed(rows: Iterable[tuple[Any, ...]], procs: list[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows in their stored form (SQLite keeps dates and times as text)."""
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


@contextmanager
def _bulk_load(engine: Any, tables: tuple[str, ...],
               attach: dict[str, Path] | None = None) -> Iterator[Any]:
    """A cursor to fill empty `tables` with, committed at the end.

    A bulk load as a restore tool does one: secondary indexes dropped and rebuilt after,
    foreign keys not checked row by row (the ids are known to be right). On SQLite the
    loading connection writes without a journal (a failed load is thrown away, never
    rolled back): in WAL mode every page would be written twice, to the log and back;
    `attach` names database files to read from (attached before the transaction).
    """
    dialect = engine.dialect.name
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
            cur.execute("SET client_encoding = 'UTF8'")  # what the COPY text is in
        else:
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA cache_size = -262144")
            mode = cur.execute("PRAGMA journal_mode = OFF").fetchone()[0]
            if mode != "off":
                raise RuntimeError(f"setup bug: the loading connection is not alone ({mode})")
            cur.execute("PRAGMA synchronous = OFF")
            for name, path in (attach or {}).items():
                cur.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
            cur.execute("BEGIN")
        rebuild: list[str] = []
        for table in tables:
            drop, create = _secondary_indexes(cur, dialect, table)
            for statement in drop:
                cur.execute(statement)
            rebuild += create
        yield cur
        for statement in rebuild:
            cur.execute(statement)
        raw.commit()
    finally:
        raw.close()
    engine.dispose()  # the pragmas and settings above stay with the loading connection
    # (the next connection of `make_engine` puts the file back in WAL mode)


def _participants_file(path: Path, schema: list[tuple[str, str]], slices: dict[str, Path],
                       stamp: str, ready: Callable[[], None]) -> float:
    """participants, defined as in the schema, filled from the slices in a file of its own,
    indexes built after: so it is built on one core while the interests are on the other
    (sqlite3 lets go of the GIL while SQLite works). Returns the seconds it took, from
    when `ready` returns (the slices are written)."""
    ready()
    t0 = time.perf_counter()
    with closing(_scratch_db(path)) as db:
        db.executescript(";".join(sql for kind, sql in schema if kind == "table"))
        for name, slice_file in slices.items():
            db.execute(f"ATTACH DATABASE ? AS {name}", (str(slice_file),))
        db.execute("BEGIN")
        for name in slices:  # each slice's rows in id order, one slice after another
            db.execute(f"INSERT INTO participants ({', '.join(PEOPLE_COLUMNS)}) SELECT "
                       f"{', '.join(SLICE_COLUMNS)}, ?, ? FROM {name}.p", (stamp, stamp))
        for kind, sql in schema:
            if kind == "index":
                db.execute(sql)
        db.execute("COMMIT")
    return time.perf_counter() - t0


def check_sample(sessions: Any, sample: Sample) -> None:
    """Re-import a sample through `import_participants`: all must come out unchanged,
    i.e. the bulk load stored exactly what Herald's importer would have (rolled back)."""
    from scheduler.participants import import_participants, validate_participant

    records = []
    for p, got in sample.values():
        row = {"email": p[0], "name": p[1], "language": p[2], "country": p[3],
               "timezone": p[4], "frequency": p[5], "consent": p[7].isoformat() if p[7] else ""}
        for kind, column in (("topic", "topics"), ("region", "regions"),
                             ("language", "languages"), ("mode", "modes")):
            row[column] = ";".join(v for k, v in got if k == kind)
        record, errors = validate_participant(row)
        assert record is not None, errors
        records.append(record)
    with sessions() as s:
        summary = import_participants(s, records, now=NOW)
        s.rollback()
    if len(summary.unchanged) != len(records):
        raise SystemExit(f"setup bug: {len(records) - len(summary.unchanged)} of "
                         f"{len(records)} sampled profiles differ from what "
                         "import_participants stores")


def load(engine: Any, sessions: Any, pop: Population, n_courses: int, phase: Phases,
         seed: int) -> None:
    """Participants, interests and courses into an empty schema, then statistics; on
    return every file of `pop` is written and cached."""
    from sqlalchemy import text

    from scheduler.ingest.store import import_courses

    if engine.dialect.name == "postgresql":
        pop.complete(phase)
        masked = [pop.folder / name for name in _masked_files()]
        if all(path.exists() for path in masked):
            write_profiles_postgres(engine, pop, phase, masked[0])
            _copy_in(engine, "interest_keys", ("kind", "value", "bit"), [masked[1]])
        else:
            write_profiles_postgres(engine, pop, phase)
            store_interest_masks(engine, sessions, phase)
            keep_masked(engine, masked[0], masked[1])
    else:
        write_profiles_sqlite(engine, pop, phase, seed)
    with phase(f"import {n_courses} courses, check a sample, gather statistics"):
        with sessions() as s, s.begin():
            import_courses(s, courses(n_courses), now=NOW)
        if engine.dialect.name == "postgresql":
            with engine.begin() as c:  # ids were given explicitly: move the sequence on
                c.execute(text("SELECT setval(pg_get_serial_sequence('participants', 'id'), "
                               ":n)"), {"n": pop.people})
        pop.wait("people")  # the sample comes with them
        check_sample(sessions, pop.sample)
        # A loaded production database has been vacuumed and analysed.
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as c:
                c.exec_driver_sql("ANALYZE")
    pop.complete(phase)  # on SQLite its workers wrote the COPY text meanwhile


def store_interest_masks(engine: Any, sessions: Any, phase: Phases) -> None:
    """PostgreSQL: the participants' interest masks, which Herald's imports store with
    the rows (`scheduler.participants.interest_masks`), worked out for the restored rows
    as a restore would: secondary indexes dropped meanwhile and rebuilt after the table
    is rewritten (one version of each row, as an import writes it)."""
    from scheduler.participants.interest_masks import refresh_stale

    with phase("interest masks, as Herald's imports store them"):
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            drop, create = _secondary_indexes(cur, "postgresql", "participants")
            for statement in drop:
                cur.execute(statement)
            raw.commit()
        finally:
            raw.close()
        with sessions() as s, s.begin():
            refresh_stale(s)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM FULL participants")
            c.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for statement in create:
                c.exec_driver_sql(statement)


def keep_masked(engine: Any, people: Path, keys: Path) -> None:
    """Cache the participants with their masks and the numbered keys beside the
    profiles: later runs COPY them in as they are (written under a temporary name, then
    renamed, so a half-written file is never taken)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for path, query in (
                (people, f"COPY participants ({', '.join(PEOPLE_COLUMNS + MASK_COLUMNS)}) "
                         "TO STDOUT"),
                (keys, "COPY interest_keys (kind, value, bit) TO STDOUT")):
            part = path.with_name(f"{path.name}.{os.getpid()}.part")
            with part.open("wb") as fh, cur.copy(query) as copy:
                for block in copy:
                    fh.write(block)
            part.replace(path)
        raw.rollback()
    finally:
        raw.close()


def _copy_in(engine: Any, table: str, columns: tuple[str, ...], files: list[Path]) -> None:
    with _bulk_load(engine, (table,)) as cur, \
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for path in files:
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    copy.write(block)


def write_profiles_postgres(engine: Any, pop: Population, phase: Phases,
                            masked: Path | None = None) -> None:
    """COPY of the slices' text (the participants from `masked`, with their interest
    masks, when given); both tables at once, one connection each, when foreign keys go
    unchecked (a superuser)."""
    from concurrent.futures import ThreadPoolExecutor

    from scheduler.db import make_engine

    jobs = [("participants", PEOPLE_COLUMNS, pop.files("participants-{}.copy")),
            ("participant_interests", INTEREST_COLUMNS, pop.files("interests-{}.copy"))]
    if masked is not None:  # the participants as a first run stored them, with masks
        jobs[0] = ("participants", PEOPLE_COLUMNS + MASK_COLUMNS, [masked])
    with engine.connect() as c:
        superuser = c.exec_driver_sql("SHOW is_superuser").scalar() == "on"
    if not superuser:  # interests' foreign keys are checked: participants first
        for table, columns, files in jobs:
            with phase(f"write {table}"):
                _copy_in(engine, table, columns, files)
        return
    url = engine.url.render_as_string(hide_password=False)
    with (phase(f"write {pop.people:,} participants and {pop.interests:,} interests "
                "(in parallel)"), ThreadPoolExecutor(len(jobs)) as pool):
        done = [pool.submit(_copy_in, make_engine(url), table, columns, files)
                for table, columns, files in jobs]
        for future in done:
            future.result()


def write_profiles_sqlite(engine: Any, pop: Population, phase: Phases, seed: int) -> None:
    """Copy both tables in from the slices, or restore the file a previous run wrote from
    the same inputs (cached beside the profiles; `check_sample` then holds it to the
    importer)."""
    import sqlite3

    import sqlalchemy

    inputs = [population_key().encode(), Path(__file__).read_bytes(),
              sqlite3.sqlite_version.encode(), sqlalchemy.__version__.encode()]
    for name in SCHEMA_INPUTS:
        path = ROOT / name
        inputs += [f.read_bytes() for f in _files(path)]
    n = pop.people
    cache = CACHE / f"sqlite-{n}-{seed}-{_digest(inputs)}.db"
    database = Path(engine.url.database)
    if cache.exists():
        with phase(f"restore {n:,} participants and {pop.interests:,} interests "
                   f"(cached database {cache})"):
            engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(cache, database)
        return
    from concurrent.futures import ThreadPoolExecutor

    stamp = _processors(engine.dialect, "participants", ("created_at",))[0](LOADED_AT)
    interests = {f"slice{i}": f for i, f in enumerate(pop.files("interests-{}.sqlite"))}
    people = {f"slice{i}": f for i, f in enumerate(pop.files("people-{}.sqlite"))}
    side = database.with_name(f"{database.name}.participants")
    with engine.connect() as c:
        schema = c.exec_driver_sql("SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                   "AND tbl_name = 'participants'").all()
    with phase(f"write {n:,} participants and {pop.interests:,} interests (from the slices; "
               "the participants in a file of their own meanwhile, then copied in whole)"):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(1) as pool:
            beside = pool.submit(_participants_file, side, [tuple(r) for r in schema], people,
                                 stamp, lambda: pop.wait("people"))
            with _bulk_load(engine, ("participant_interests",), interests) as cur:
                for name in interests:  # each slice's rows in id order, one after another
                    cur.execute(f"INSERT INTO participant_interests "
                                f"({', '.join(INTEREST_COLUMNS)}) "
                                f"SELECT {', '.join(INTEREST_COLUMNS)} FROM {name}.i")
            t1 = time.perf_counter()
            took = beside.result()
        t2 = time.perf_counter()
        with _bulk_load(engine, (), {"side": side}) as cur:
            # Into the empty table from one defined alike, indexes included: SQLite copies
            # the table and each index in order, as they are (its "transfer optimisation").
            cur.execute("INSERT INTO participants SELECT * FROM side.participants")
        side.unlink()
        print(f"           (interests and their indexes in {t1 - t0:.1f} s; participants "
              f"beside them in {took:.1f} s, copied in in {time.perf_counter() - t2:.1f} s)",
              flush=True)
    with phase(f"cache the database in {cache}"):
        _remove_stale(f"sqlite-{n}-{seed}-*")
        # A name of its own: another run may be writing the same cache right now.
        tmp = CACHE / f"{cache.name}.{os.getpid()}.tmp"
        shutil.copyfile(database, tmp)  # the loader left no WAL: the file is complete
        tmp.replace(cache)
