"""Shared fixtures: a throwaway project folder (config/, demo/, var/) and a CLI runner; a bare
SQLite database with the schema (`engine`, `session`) for tests below the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.cli import main
from scheduler.db import ensure_schema, make_engine, session_factory

ROOT = Path(__file__).resolve().parent.parent
DEMO_NOW = "2027-01-11T09:30:00Z"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@dataclass
class Project:
    root: Path
    run: Callable[..., CliResult]
    db_url: str

    @property
    def config(self) -> Path:
        return self.root / "config"

    def engine(self) -> Engine:
        return make_engine(self.db_url)

    def outbox(self, sink: str) -> list[Path]:
        return sorted((self.root / "var" / "outbox" / sink).glob("*"))

    def write_config(self, name: str, text: str) -> None:
        (self.config / name).write_text(text, encoding="utf-8")


@pytest.fixture
def project_db_url(tmp_path: Path) -> str:
    """The database `project` uses: SQLite in its folder (tests/postgres overrides it)."""
    return f"sqlite:///{tmp_path / 'var' / 'herald.db'}"


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch, project_db_url: str) -> Project:
    """A copy of the shipped config and demo data in a temporary folder, cwd set to it."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "demo", tmp_path / "demo")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERALD_DATABASE_URL", raising=False)
    monkeypatch.delenv("HERALD_CONFIG_DIR", raising=False)

    def run(*args: str, now: str | None = DEMO_NOW) -> CliResult:
        capsys.readouterr()
        argv = ["--config-dir", str(tmp_path / "config"),
                "--db", project_db_url]
        if now:
            argv += ["--now", now]
        code = main([*argv, *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return Project(tmp_path, run, project_db_url)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database with the schema."""
    engine = make_engine(f"sqlite:///{tmp_path / 'herald.db'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s
