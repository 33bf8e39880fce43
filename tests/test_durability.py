"""SQLite: the commit that marks a delivery `sending` survives a crash of the process right
after it (WAL, synchronous=NORMAL), and the durability check needs nothing on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text

from scheduler.db import make_engine
from scheduler.durability import DispatchGate, dispatch_refusal, durability_problem
from tests.conftest import ROOT


def test_sqlite_runs_wal_with_synchronous_normal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    assert durability_problem(engine) is None
    assert dispatch_refusal(engine, accept_non_durable=False) is None
    gate = DispatchGate(engine, accept_non_durable=False)
    assert gate.refresh(0.0) is None and gate.health() == {"ok": True, "detail": "ok"}
    engine.dispose()


def test_a_sending_commit_survives_the_process_killed_right_after_it(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    child = textwrap.dedent(f"""
        import os, signal, sys
        from sqlalchemy import text
        from scheduler.db import make_engine
        engine = make_engine("sqlite:///{db}")
        with engine.begin() as c:
            c.execute(text("CREATE TABLE d (id INTEGER PRIMARY KEY, state TEXT)"))
            c.execute(text("INSERT INTO d VALUES (1, 'pending')"))
        with engine.begin() as c:
            c.execute(text("UPDATE d SET state = 'sending' WHERE id = 1"))
        print("committed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no checkpoint, no close: a crash
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == -signal.SIGKILL and "committed" in done.stdout, done.stderr
    assert Path(f"{db}-wal").exists()  # the commit lives in the WAL, not yet checkpointed
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as c:
        assert c.execute(text("SELECT state FROM d WHERE id = 1")).scalar() == "sending"
    engine.dispose()
