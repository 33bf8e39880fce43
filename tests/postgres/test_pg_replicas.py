"""Three `herald run` replicas on one PostgreSQL database: 20,000 emails, each once.

The acceptance test of DESIGN.md "Scale": replicas share nothing but the database;
they plan under the unique dedup key (a course's first planning is a plain INSERT under
a per-campaign advisory lock, every later one INSERT … ON CONFLICT DO NOTHING; see the
README's "Where this differs") and claim with FOR UPDATE SKIP LOCKED.
The daemons keep their real intervals (plan every minute, first at start; dispatch
every 5 s, each tick draining everything due), so this also measures throughput.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.db import make_engine
from scheduler.models import Delivery
from tests.channels.smtp_server import SmtpTestServer, free_port
from tests.conftest import DEMO_NOW, ROOT, Project
from tests.smtp_project import configure_email

PEOPLE = 20_000
REPLICAS = 3
# Seconds for every message to arrive. Measured: ~280 s on a 2-core machine (~72/s: three
# replicas, the sink and PostgreSQL share the two cores); the bound leaves room for a
# slower or busier machine (521 s seen under load 8) without letting a stuck queue hang.
WAIT = 900.0

PEOPLE_HEADER = ("email,name,language,country,timezone,topics,regions,languages,modes,"
                 "frequency,consent\n")
COURSES = (
    "id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
    "registration_deadline,fee_usd,url\n"
    "SCALE-1,Spectrum management at scale,ITU Academy,Kenya,Africa,spectrum management,en;fr,"
    "online_instructor,Online,2027-03-01,2027-03-05,2027-02-15,0,https://example.org/scale\n"
)


def write_people(path: Path, n: int) -> None:
    """`n` consenting participants, all of whom the one course above matches."""
    with path.open("w", encoding="utf-8") as f:
        f.write(PEOPLE_HEADER)
        for i in range(n):
            lang = "fr" if i % 3 == 0 else "en"
            f.write(f"p{i:05d}@example.org,Person {i},{lang},Kenya,Africa/Nairobi,,,,,"
                    f"immediate,2026-01-01\n")


@pytest.mark.slow
def test_three_replicas_send_every_message_exactly_once(project: Project, tmp_path: Path) -> None:
    sink = SmtpTestServer().start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        configure_email(project, sink.port, connections=2)
        project.write_config("sources.yaml", "sources: {}\n")
        (tmp_path / "scale.csv").write_text(COURSES)
        write_people(tmp_path / "people.csv", PEOPLE)
        assert project.run("courses", "import", "scale.csv").code == 0
        r = project.run("participants", "import", "people.csv")
        assert r.code == 0, r.err

        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "HERALD_SIGNING_KEY": "replica-test-shared-signing-key-0123456789"}
        started = time.monotonic()
        for i in range(REPLICAS):
            cmd = [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
                   "--db", project.db_url, "--now", DEMO_NOW, "run",
                   "--http-port", str(free_port())]
            with open(tmp_path / f"replica-{i}.log", "wb") as log:
                procs.append(subprocess.Popen(cmd, cwd=project.root, env=env,
                                              stdout=subprocess.DEVNULL, stderr=log))

        engine = make_engine(project.db_url)

        def planned() -> int:
            with engine.connect() as c:
                return int(c.execute(select(func.count()).select_from(Delivery)).scalar_one())

        deadline = started + WAIT
        while time.monotonic() < deadline:
            n = planned()
            if n >= PEOPLE and len(sink.received) >= n:
                break
            for p in procs:
                assert p.poll() is None, (tmp_path / f"replica-{procs.index(p)}.log").read_text()
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        time.sleep(1)  # a stray duplicate would arrive now, not after we stopped looking

        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(60) for p in procs]
        logs = [(tmp_path / f"replica-{i}.log").read_text() for i in range(REPLICAS)]
        assert codes == [0] * REPLICAS, logs

        received = sink.received
        with engine.connect() as c:
            states = dict(c.execute(select(Delivery.state, func.count())
                                    .group_by(Delivery.state)).all())
            total = sum(states.values())
        engine.dispose()
        pairs = Counter((rcpt, str(m.message()["Subject"]))
                        for m in received for rcpt in m.rcpt_tos)
        print(f"\n{REPLICAS} replicas: {total} deliveries, {len(received)} received in "
              f"{elapsed:.1f}s ({len(received) / elapsed:.0f}/s)")
        assert total >= PEOPLE
        assert len(received) == total, (states, elapsed)
        assert [k for k, n in pairs.items() if n > 1] == []
        assert len(pairs) == total
        assert states == {"sent": total}
        assert all(m.accepted for m in received)
        assert {rcpt for rcpt, _ in pairs} == {f"p{i:05d}@example.org" for i in range(PEOPLE)}
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        sink.stop()
