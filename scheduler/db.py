"""Engine, sessions, schema upgrades and the dialect helpers (insert-ignore, skip-locked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Insert

from scheduler.models import Base

DEFAULT_DATABASE_URL = "sqlite:///var/herald.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_PAGE_SIZE = 2048


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def holds_no_rows(engine: Engine) -> bool:
    """True when no table but Alembic's holds a row: a schema and nothing else."""
    with engine.connect() as c:
        return not any(
            c.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first()
            for name in table_names(engine) if name != "alembic_version"
        )


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite make the file's folder, use WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself so BEGIN IMMEDIATE can be used for claims.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # A new database's page size (an existing one keeps its own): each send's commit
            # writes every page it dirtied to the WAL, a dozen in a dozen B-trees, and a
            # 4 KiB page cost about twice the CPU of a smaller one to checksum and write
            # (`bench/commit_bench.py`). Set before WAL mode, which writes the file header.
            cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint every 10,000 pages of WAL (20 MB of 2 KiB pages, 40 MB of 4 KiB)
            # instead of every 1,000: a large send commits once a message, and each
            # checkpoint (with its fsync) stalls the commit that runs it. (Twice as many
            # pages between checkpoints made no difference per commit: commit_bench.)
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock at BEGIN: a transaction that reads then writes can then
            # never fail to upgrade while another thread or process writes (it waits).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> str | None:
    """Create or migrate the schema to the newest revision; return the revision."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_schema(engine: Engine) -> None:
    """Upgrade when the database is new or behind; cheap when it is current."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        upgrade(engine)


def insert_ignore(table: Any, dialect_name: str) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` for the dialect in use; its rowcount is exact.

    Callers count what they inserted by `rowcount`, which SQLAlchemy only carries for
    an INSERT when asked (`preserve_rowcount`): without it psycopg's result says -1.
    """
    stmt: Insert
    if dialect_name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect_name == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"insert-ignore for {dialect_name}")
    return stmt.execution_options(preserve_rowcount=True)


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


__all__ = ["DEFAULT_DATABASE_URL", "Base", "ensure_schema", "insert_ignore", "make_engine"]
