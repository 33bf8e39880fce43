"""The report benchmark's event log: N events made by the database itself, indexed after.

The events are a pure function of their number `i` (integer hashes, the same on SQLite and
PostgreSQL; event `i` has id i + 1), written by `INSERT … SELECT` over a row source inside
the database, in SLICES ranges of `i` at once, one core each: a recursive CTE on SQLite
(the first range into the database, the others into files of their own, appended after by
SQLite's transfer of whole records); `generate_series` on PostgreSQL, one connection a
range. No row passes through Python. The secondary indexes are dropped
before and rebuilt after, from the catalogue's own definitions (as a restore tool loads a
table), then `ANALYZE` (PostgreSQL: `VACUUM ANALYZE`). On SQLite the loading connection
writes without a journal (a failed load is thrown away) and the loaded file is cached in
`$TMPDIR/herald-bench-cache/` (keyed on its INSERT, the loading code, the models, the
migrations, SQLite and SQLAlchemy): later runs restore it by a file copy.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "herald-bench-cache"
START = 1767225600  # 2026-01-01T00:00:00Z: the events cover the year 2026
YEAR = 365 * 86400
P = 2147483647  # 2**31 - 1: products of two residues fit a 64-bit integer
SLICES = 2  # the machine's cores: PostgreSQL's connections inserting at once, SQLite's
# sorter threads building an index

# Per 10,000 events: a busy year's mix of outcomes (the outbox's own retry and cancelled
# rows included, which the report reads past).
TYPES = [("sent", 5800), ("clicked", 1400), ("failed", 200), ("bounced", 300),
         ("complained", 5), ("unsubscribed", 100), ("interest", 100), ("retry", 600),
         ("cancelled", 1495)]
CHANNELS = ["email", "email", "email", "mastodon", "bluesky", "x"]
REGIONS = ["Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe"]
LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh"]
CATEGORIES = ["refused", "hard", "soft", "policy"]
COLUMNS = ("delivery_id", "type", "at", "detail", "channel", "campaign", "region", "centre",
           "course", "language", "person", "medium", "message", "category", "bot", "unit",
           "messages", "amount")

Phase = Callable[[str, float], None]


def _hash(multiplier: int) -> str:
    """A pseudo-random residue of `i` in [0, P): the square of a Lehmer step."""
    return f"((i * {multiplier}) % {P}) * ((i * {multiplier}) % {P}) % {P}"


def _pick(value: str, names: list[str]) -> str:
    return "CASE " + " ".join(f"WHEN {value} = {k} THEN '{n}'" for k, n in enumerate(names)) \
        + " END"


def _event_select(n: int, dialect: str) -> str:
    """SELECT the N events' columns from `h` (i, h1, h2): the same rows on both dialects."""
    bounds, total = [], 0
    for name, weight in TYPES:
        total += weight
        bounds.append(f"WHEN h1 % 10000 < {total} THEN '{name}'")
    kind = "CASE " + " ".join(bounds) + " END"
    channel = _pick(f"(h1 / 10000) % {len(CHANNELS)}", CHANNELS)
    email = f"(h1 / 10000) % {len(CHANNELS)} < 3"
    c = "((h1 / 60000) % 500)"
    at = (f"strftime('%Y-%m-%d %H:%M:%S', {START} + i * {YEAR} / {n}, 'unixepoch') "
          "|| '.000000'" if dialect == "sqlite" else f"to_timestamp({START} + i * {YEAR} / {n})")
    true, false = ("1", "0") if dialect == "sqlite" else ("true", "false")
    bot = "(h2 % 5 = 0)"  # a fifth of the clicks
    return f"""SELECT i + 1 AS id, i / 2 AS delivery_id,
  CASE WHEN k = 'sent' AND NOT ({email}) THEN 'posted' ELSE k END AS type,
  {at} AS at, '' AS detail, {channel} AS channel,
  'campaign' || ((h2 / 10000) % 4) AS campaign,
  {_pick(f"{c} % 6", REGIONS)} AS region, 'Centre ' || ({c} % 40) AS centre,
  'C' || {c} AS course, {_pick("(h2 / 40000) % 6", LANGUAGES)} AS language,
  'p' || (i % 400000) AS person,
  CASE WHEN {email} THEN 'email' ELSE 'social' END AS medium,
  CASE WHEN k = 'sent' THEN '<' || i || '@example.org>' END AS message,
  CASE WHEN k = 'bounced' THEN {_pick("(h2 / 240000) % 4", CATEGORIES)} ELSE '' END AS category,
  CASE WHEN k = 'clicked' AND {bot} THEN {true} ELSE {false} END AS bot,
  CASE WHEN k = 'clicked' AND {bot} THEN 0 ELSE 1 END AS unit,
  CASE WHEN k = 'sent' AND {email} THEN 1 ELSE 0 END AS messages,
  CASE WHEN k = 'interest' THEN 1 + (h2 / 960000) % 5 ELSE 0 END AS amount
FROM (SELECT i, h1, h2, {kind} AS k FROM h) AS e"""


def insert_sql(n: int, dialect: str, lo: int = 0, hi: int | None = None) -> str:
    """The statement that writes events lo … hi - 1 of the N into delivery_events."""
    hi = n if hi is None else hi
    if dialect == "sqlite":
        source = (f"WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s "
                  f"WHERE i < {hi - 1}), h AS (SELECT i, {_hash(48271)} AS h1, "
                  f"{_hash(69621)} AS h2 FROM s) ")
    else:
        source = (f"WITH h AS (SELECT i, {_hash(48271)} AS h1, {_hash(69621)} AS h2 "
                  f"FROM generate_series({lo}::bigint, {hi - 1}) AS i) ")
    return (f"INSERT INTO delivery_events (id, {', '.join(COLUMNS)}) "
            + source + _event_select(n, dialect))


def _indexes(cur: Any, dialect: str) -> tuple[list[str], list[str]]:
    """(drop, create) for delivery_events' secondary indexes, read from the catalogue."""
    if dialect == "postgresql":
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                    "'delivery_events' AND indexname <> 'delivery_events_pkey'")
    else:
        cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                    "tbl_name = 'delivery_events' AND sql IS NOT NULL")
    found = cur.fetchall()
    return [f'DROP INDEX "{name}"' for name, _ in found], [sql for _, sql in found]


def _bounds(n: int) -> list[tuple[int, int]]:
    """SLICES consecutive ranges of `i` covering 0 … N - 1."""
    return list(pairwise(n * k // SLICES for k in range(SLICES + 1)))


def _insert_in_slices(engine: Any, n: int) -> None:
    """PostgreSQL: the events in SLICES ranges of `i`, each on a connection of its own at
    once (a backend generates and writes its rows on one core)."""
    def insert(lo: int, hi: int) -> None:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute(insert_sql(n, "postgresql", lo, hi))
            raw.commit()
        finally:
            raw.close()

    with ThreadPoolExecutor(SLICES) as pool:
        for done in [pool.submit(insert, lo, hi) for lo, hi in _bounds(n)]:
            done.result()
    with engine.begin() as c:  # the ids were given: move the sequence past them
        c.exec_driver_sql("SELECT setval(pg_get_serial_sequence('delivery_events', 'id'), "
                          f"{n})")


def _insert_sqlite(raw: Any, path: Path, n: int) -> None:
    """SQLite: the first range of `i` into the database on this connection, each other one
    at the same time into a file of its own (a thread each: sqlite3 lets go of the GIL while
    SQLite works, so each range has a core), then appended in order by `INSERT … SELECT *`
    from the attached file, which SQLite runs as a transfer of whole records (same table
    definition, no secondary index on either side: no row is decoded again)."""
    cur = raw.cursor()
    table = cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                        "name = 'delivery_events'").fetchone()[0]
    (lo, hi), *others = _bounds(n)
    sides = [path.with_name(f"{path.name}.events-{k}") for k in range(1, SLICES)]

    def side(file: Path, lo: int, hi: int) -> None:
        file.unlink(missing_ok=True)
        with closing(sqlite3.connect(file, isolation_level=None)) as db:
            for pragma in ("journal_mode = OFF", "synchronous = OFF"):
                db.execute(f"PRAGMA {pragma}")
            db.execute(table)
            db.execute("BEGIN")
            db.execute(insert_sql(n, "sqlite", lo, hi))
            db.execute("COMMIT")

    try:
        with ThreadPoolExecutor(max(1, len(sides))) as pool:
            done = [pool.submit(side, f, *r) for f, r in zip(sides, others, strict=True)]
            cur.execute(insert_sql(n, "sqlite", lo, hi))
            raw.commit()
            for d in done:
                d.result()
        for file in sides:
            cur.execute("ATTACH DATABASE ? AS side", (str(file),))
            cur.execute("INSERT INTO delivery_events SELECT * FROM side.delivery_events")
            raw.commit()
            cur.execute("DETACH DATABASE side")
    finally:
        for file in sides:
            file.unlink(missing_ok=True)


def load(engine: Any, n: int, phase: Phase) -> None:
    """Write N events into the (empty) event log of `engine`'s database, indexes after."""
    dialect = engine.dialect.name
    engine.dispose()  # SQLite changes journal mode only on the file's one connection
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "sqlite":
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -524288",
                           "temp_store = MEMORY", f"threads = {SLICES}"):  # sorts for indexes
                cur.execute(f"PRAGMA {pragma}")
        else:
            cur.execute("SET maintenance_work_mem = '512MB'")
        drop, create = _indexes(cur, dialect)
        for statement in drop:
            cur.execute(statement)
        raw.commit()
        t0 = time.perf_counter()
        if dialect == "sqlite":
            _insert_sqlite(raw, Path(engine.url.database), n)
        else:
            _insert_in_slices(engine, n)
        phase(f"generate and insert the events ({SLICES} ranges at once)",
              time.perf_counter() - t0)
        t0 = time.perf_counter()
        for statement in create:
            cur.execute(statement)
        raw.commit()
        phase(f"build {len(create)} indexes", time.perf_counter() - t0)
        t0 = time.perf_counter()
        if dialect == "sqlite":
            cur.execute("ANALYZE")
        else:
            raw.driver_connection.autocommit = True  # VACUUM runs outside a transaction
            cur.execute("VACUUM ANALYZE delivery_events")  # as a loaded database would be
        raw.commit()
        phase("analyze", time.perf_counter() - t0)
    finally:
        raw.close()
    engine.dispose()


def cache_key(n: int) -> str:
    """What a loaded SQLite file depends on: its INSERT, the loading code, the schema
    (models and migrations), SQLite and SQLAlchemy."""
    import inspect

    import sqlalchemy

    parts = [insert_sql(n, "sqlite").encode(), inspect.getsource(load).encode(),
             inspect.getsource(_insert_sqlite).encode(),
             (ROOT / "scheduler" / "models.py").read_bytes(),
             sqlite3.sqlite_version.encode(), sqlalchemy.__version__.encode()]
    parts += [p.read_bytes() for p in sorted((ROOT / "scheduler" / "migrations" / "versions")
                                             .glob("*.py"))]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def sqlite_file(path: Path, n: int, make: Callable[[str], Any], phase: Phase) -> str:
    """A loaded SQLite database at `path`: copied from the cache, or loaded and cached."""
    cached = CACHE / f"report-{n}-{cache_key(n)}.db"
    t0 = time.perf_counter()
    if cached.exists():
        shutil.copyfile(cached, path)
        phase(f"restore the cached file {cached}", time.perf_counter() - t0)
        return "cache"
    engine = make(f"sqlite:///{path}")
    load(engine, n, phase)
    t0 = time.perf_counter()
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"report-{n}-*.db"):
        stale.unlink(missing_ok=True)
    tmp = cached.with_name(f"{cached.name}.{id(path)}.tmp")
    shutil.copyfile(path, tmp)
    tmp.rename(cached)
    phase(f"cache the loaded file in {cached}", time.perf_counter() - t0)
    return "loaded"
