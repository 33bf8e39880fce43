"""Claim and load at depth: the cost of one batch while a large outbox is due.

    python bench/claim_bench.py [--deliveries N] [--batches K] [--batch-size B] [--postgres]

A scratch outbox of N due course emails (default 200,000; a tenth of them `retrying`,
interleaved with the `pending` ones by due time, which is not id order), each the lead of
its own cadence bundle, to N participants and 10 courses, written with bulk inserts and
analyzed (as a planning pass leaves them). Then K claims of B rows (`Leases.claim`, as
the dispatcher's feed makes them) and `load_batch` of each, timed one by one, each batch
then marked `sent` as a drain leaves it: the median wall and thread CPU of each, per
batch and per email. A claim that sorts every due row grows with N; one that reads the
due index in order does not. `--due-seconds 1`: every row due at the same time, as a
planned campaign's emails are.
Not part of `make bench` (no target): a tool for the feed's costs, run alone, on SQLite
or (`--postgres`, under `scripts/with-postgres.sh`) on a fresh PostgreSQL database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import Engine, insert, text, update  # noqa: E402

from bench.common import pg_database, pg_server_url  # noqa: E402
from scheduler.batch import load_batch  # noqa: E402
from scheduler.db import ensure_schema, make_engine, session_factory  # noqa: E402
from scheduler.filter import Filter  # noqa: E402
from scheduler.models import Course, Delivery, Participant  # noqa: E402
from scheduler.outbox import Leases  # noqa: E402

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
COURSES = 10
CHUNK = 10_000


def fill(engine: Engine, n: int, spread: int) -> None:
    """N participants, 10 courses, N due course emails (every tenth `retrying`), due in
    `spread` distinct seconds."""
    courses = [{"id": f"C{i}", "title": f"Course {i}", "coe": "Centre", "region": "Africa",
                "topics": ["ai"], "languages": ["en"], "mode": "online",
                "start_date": date(2027, 3, 1), "end_date": date(2027, 3, 5),
                "registration_deadline": date(2027, 2, 20), "fee_usd": None,
                "url": f"https://example.org/c/{i}", "status": "open",
                "description": "", "content_hash": "h", "first_seen_at": NOW,
                "updated_at": NOW} for i in range(COURSES)]
    with engine.begin() as c:
        c.execute(insert(Course), courses)
        for start in range(0, n, CHUNK):
            ids = range(start + 1, min(n, start + CHUNK) + 1)
            c.execute(insert(Participant), [
                {"id": i, "email": f"p{i}@example.org", "name": f"P {i}", "status": "active",
                 "created_at": NOW, "updated_at": NOW} for i in ids])
            c.execute(insert(Delivery), [
                {"id": i, "dedup_key": f"k{i}", "campaign": "announce", "kind": "course_email",
                 "channel": "email", "template": "email/announce",
                 "course_id": f"C{i % COURSES}", "participant_id": i,
                 "state": "retrying" if i % 10 == 0 else "pending",
                 "due_at": NOW - timedelta(seconds=due_offset(i, spread)), "attempts": 0,
                 "created_at": NOW, "updated_at": NOW, "bundle": i} for i in ids])
    with engine.begin() as c:  # as after a planning pass (`scheduler.db_stats`)
        c.execute(text("ANALYZE"))


def due_offset(i: int, spread: int) -> int:
    """Seconds before NOW delivery `i` fell due: not in id order, in `spread` seconds."""
    return (i * 7919) % max(1, spread)


def sent(engine: Engine, ids: list[int]) -> None:
    """Settle a batch as its drain would (`sent`), so the next claim starts past it."""
    with engine.begin() as c:
        c.execute(update(Delivery).where(Delivery.id.in_(ids))
                  .values(state="sent", lease_owner=None, lease_expires_at=None))


@contextmanager
def database(postgres: bool) -> Iterator[str]:
    if postgres:
        server = pg_server_url()
        if server is None:
            raise SystemExit("--postgres: run under scripts/with-postgres.sh")
        with pg_database(server) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="herald-claim-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'claim.db'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deliveries", type=int, default=200_000)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--due-seconds", type=int, default=0,
                    help="distinct due times (default: half the deliveries; a planned "
                         "campaign's emails share one)")
    args = ap.parse_args()
    with database(args.postgres) as url:
        engine = make_engine(url)
        ensure_schema(engine)
        t0 = time.perf_counter()
        spread = args.due_seconds or args.deliveries // 2
        fill(engine, args.deliveries, spread)
        print(f"{args.deliveries:,} due deliveries ({spread:,} due times) written in "
              f"{time.perf_counter() - t0:.1f}s ({engine.dialect.name})", flush=True)
        sessions = session_factory(engine)
        leases = Leases(sessions, lambda: NOW)
        claims: list[tuple[float, float]] = []
        loads: list[tuple[float, float]] = []
        claimed: list[int] = []
        for _ in range(args.batches):
            w, c = time.perf_counter(), time.thread_time()
            ids = leases.claim("email", Filter(), args.batch_size)
            claims.append((time.perf_counter() - w, time.thread_time() - c))
            w, c = time.perf_counter(), time.thread_time()
            with sessions() as s:
                batch = load_batch(s, ids)
            loads.append((time.perf_counter() - w, time.thread_time() - c))
            assert [d.id for d in batch.deliveries] == ids, "load_batch lost the claim order"
            claimed += ids
            sent(engine, ids)
        expected = sorted(range(1, args.deliveries + 1),
                          key=lambda i: (-due_offset(i, spread), i))
        assert claimed == expected[:len(claimed)], "claims out of (due_at, id) order"
        engine.dispose()
    size = args.batch_size
    for name, times in (("claim (Leases.claim)", claims), ("load (load_batch)", loads)):
        wall = statistics.median(t for t, _ in times)
        cpu = statistics.median(c for _, c in times)
        print(f"{name:<22} median per batch of {size}: wall {wall * 1000:7.2f} ms, "
              f"CPU {cpu * 1000:7.2f} ms; per email: wall {wall / size * 1e6:6.1f} us, "
              f"CPU {cpu / size * 1e6:6.1f} us")


if __name__ == "__main__":
    main()
