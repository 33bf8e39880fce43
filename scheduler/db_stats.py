"""Planner statistics after a bulk write: ANALYZE the tables a pass grew a lot.

A fresh database has no statistics: SQLite has no `sqlite_stat1` (it then guesses that
an index narrows nothing and walked every pending row per claimed batch), and
PostgreSQL's autovacuum analyzes a bulk-loaded table only a while later (meanwhile it
planned the audience query blind, for minutes). So the passes that write many rows (a
planning pass, a participants import) call `refresh_statistics` with what they wrote:
a table whose written rows are at least `MIN_ROWS` and more than `GROWTH` of the rows
its statistics last counted (none: 0) is analyzed, on its own; a table never analyzed
is counted, so a pass that wrote nothing still analyzes an outbox written earlier. The
check costs a catalogue read (a count while never analyzed). SQLite's ANALYZE reads every
index whole: with `analysis_limit` its sampled estimates (1,001 rows a value for a
unique column) made the claim walk every due row, 530 -> 150 emails/s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

MIN_ROWS = 1_000
"""Fewer written rows never trigger an ANALYZE (any plan is quick on a small table)."""
GROWTH = 0.2
"""Written rows beyond this fraction of the rows last analyzed make the statistics stale
(PostgreSQL's autovacuum default `autovacuum_analyze_scale_factor` is 0.1)."""
OUTBOX_TABLES = ("deliveries",)
PARTICIPANT_TABLES = ("participants", "participant_interests")


def analyzed_rows(conn: Connection, table: str) -> int:
    """The rows `table` held when it was last analyzed (0: never analyzed)."""
    if conn.dialect.name == "sqlite":
        has_stats = conn.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")).first()
        if not has_stats:
            return 0
        stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"),
                            {"t": table}).scalar()
        return int(str(stat).split()[0]) if stat else 0
    if conn.dialect.name == "postgresql":
        tuples = conn.execute(text(
            "SELECT c.reltuples FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.oid = to_regclass(:t) AND (s.last_analyze IS NOT NULL"
            " OR s.last_autoanalyze IS NOT NULL)"), {"t": table}).scalar()
        return max(int(tuples or 0), 0)
    return 0


FILLED_LATER = {"deliveries": ("ix_deliveries_bundle",)}
"""Indexes on a column a planning pass leaves NULL and cadence fills right after (a
bundle's lead id): analyzed then, SQLite counts every row as one value and scans the
whole outbox for a bundle's rows (claim and batch load); without a statistic of its own
it assumes an equality matches a few rows, which is what a bundle holds."""


def _forget_filled_later(conn: Connection, table: str) -> None:
    """Drop SQLite's statistics of `table`'s FILLED_LATER indexes, and reload the rest."""
    names = FILLED_LATER.get(table, ())
    if not names:
        return
    conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = :t AND idx IN ("
                      + ", ".join(f"'{n}'" for n in names) + ")"), {"t": table})
    conn.exec_driver_sql("ANALYZE sqlite_schema")


def stale(written: int, analyzed: int) -> bool:
    """Whether `written` new rows make statistics of `analyzed` rows worth refreshing."""
    return written >= MIN_ROWS and written > GROWTH * analyzed


def refresh_statistics(engine: Engine, written: Mapping[str, int]) -> list[str]:
    """ANALYZE each table of `written` (table -> rows a pass just wrote) whose statistics
    the write made stale; return the tables analyzed. Call it after the pass committed."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        return []
    done: list[str] = []
    with engine.connect() as conn:
        for table, n in written.items():
            analyzed = analyzed_rows(conn, table)
            if not analyzed and n < MIN_ROWS:
                # Never analyzed: count what it holds, whoever wrote it (an older Herald,
                # a pass that failed before this call, a restore).
                n = int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() or 0)
            if not stale(n, analyzed):
                continue
            conn.exec_driver_sql(f'ANALYZE "{table}"')
            if conn.dialect.name == "sqlite":
                _forget_filled_later(conn, table)
            conn.commit()
            done.append(table)
    if done:
        log.info("statistics refreshed: %s", ", ".join(done))
    return done


def after_planning(engine: Engine, planned: int) -> list[str]:
    """After a planning pass that wrote `planned` deliveries."""
    return refresh_statistics(engine, dict.fromkeys(OUTBOX_TABLES, planned))


def after_import(engine: Engine, rows: int) -> list[str]:
    """After a participants import that added or changed `rows` profiles."""
    return refresh_statistics(engine, dict.fromkeys(PARTICIPANT_TABLES, rows))
