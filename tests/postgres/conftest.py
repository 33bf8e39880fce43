"""PostgreSQL fixtures: a fresh database per test on the server `make test` starts.

`scripts/with-postgres.sh` exports HERALD_TEST_POSTGRES_URL. Without it these tests
skip on a developer's machine, but fail in CI (CI set): a missing server must not
pass unnoticed there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db import ensure_schema, make_engine, session_factory
from tests.conftest import Project

ENV = "HERALD_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The server's URL (its maintenance database); skip or, in CI, fail without one."""
    url = os.environ.get(ENV)
    if not url:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{ENV} is not set: CI must run the PostgreSQL tests "
                        "(run them through scripts/with-postgres.sh, as `make test` does)")
        pytest.skip(f"{ENV} is not set (`make test` starts a throwaway server)")
    return url


def _driver_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith(
        "postgresql://") else url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server; yield its URL; drop it afterwards."""
    name = f"herald_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_driver_url(server_url), isolation_level="AUTOCOMMIT",
                          pool_pre_ping=True)  # the server may have been restarted
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            # FORCE: a test's leftover pooled connections must not keep the database alive.
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A new empty database for this test (dropped after it), as a postgresql:// URL."""
    with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture
def project_db_url(pg_url: str) -> str:
    """Point the `project` fixture (tests/conftest.py) at this test's PostgreSQL database."""
    return pg_url


@pytest.fixture(scope="module")
def pg_sessions(pg_server_url: str) -> Iterator[sessionmaker[Session]]:
    """One database for the module: every example replaces all rows (test_matching.load)."""
    with fresh_database(pg_server_url) as url:
        engine = make_engine(url)
        ensure_schema(engine)
        yield session_factory(engine)
        engine.dispose()


NON_DURABLE_ACCEPTED = """
# The test cluster (scripts/with-postgres.sh) runs with fsync=off and synchronous_commit=off
# for speed; the tests that dispatch on it accept that risk here, explicitly.
accept_non_durable_commits: true
"""


@pytest.fixture
def project(project: Project) -> Project:
    """The `project` of tests/conftest.py on PostgreSQL, accepting the fast test cluster's
    non-durable commits (tests/postgres/test_pg_durability.py checks the refusal)."""
    settings = project.config / "settings.yaml"
    settings.write_text(settings.read_text() + NON_DURABLE_ACCEPTED)
    return project
