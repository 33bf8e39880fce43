"""Micro-benchmark of the send path's per-email commit on SQLite (`OutboxWriter.write`).

    python bench/commit_bench.py [--emails N] [--rounds R] [--variants a,b,...]

Plans N announcement emails as the email benchmark does (`bench/email_setup.py`), reserves
them for one owner, and replays exactly what a send worker commits for each email: the
previous email's outcome (`sent`: FINISH and its event) and this email's `sending` mark
(BEGIN_SEND with its checks), in one BEGIN IMMEDIATE … COMMIT. Each variant runs on a
fresh copy of the planned database and reports, per commit, the thread CPU of
`OutboxWriter.write` (µs), the WAL frames (pages) it wrote and the CPU of checkpointing
them (run every `CHECKPOINT_EVERY` commits, as `wal_autocheckpoint` would). Variants that
leave a statement out or drop an index show each one's share; rounds alternate the
variants so that a busy machine hurts them alike.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.email_setup import NOW, setup
from scheduler.db import make_engine
from scheduler.outbox import statements as sql
from scheduler.outbox.prepared import PreparedCache
from scheduler.outbox.sending import SendPath
from scheduler.outbox.writer import OutboxWriter, Writes

OWNER = "commit-bench"
CHECKPOINT_EVERY = 1000
STEP = timedelta(milliseconds=2)
WAL_HEADER, FRAME_HEADER = 32, 24


@dataclass(frozen=True)
class Email:
    """What the send path holds of one reserved email when it commits."""

    id: int
    participant_id: int
    email: str
    course_id: str


def begin(e: Email, now: Any) -> Writes:
    params = {"p_id": e.id, "p_owner": OWNER, "p_now": now, "p_expires": now + timedelta(
        minutes=5), "p_participant": e.participant_id, "p_email": e.email,
        "p_course": e.course_id}
    return [(sql.BEGIN_SEND[(True, True)], params)]


def outcome(e: Email, now: Any) -> Writes:
    """A `sent` outcome as `SendPath.record` queues it."""
    return SendPath._record(e.id, now, "sent", "sent", None, sent_at=now,
                            provider_id=f"<{e.id}.{e.participant_id}@bench.example.org>")


Variant = Callable[[Email | None, Email, Any], Writes]


def _full(prev: Email | None, e: Email, now: Any) -> Writes:
    return [*(outcome(prev, now) if prev else ()), *begin(e, now)]


def _without(index: int) -> Variant:
    def run(prev: Email | None, e: Email, now: Any) -> Writes:
        writes = _full(prev, e, now)
        if prev is not None:
            del writes[index]
        elif index == 2:
            writes = []
        return writes
    return run


def _tagged_event() -> Any:
    from sqlalchemy import String, and_, bindparam, case, exists, insert, literal, select

    from scheduler.events import EVENTS
    earlier = EVENTS.alias("earlier")
    kind = bindparam("p_type", type_=String(30))
    message = bindparam("p_message", type_=String(300))
    first = ~exists().where(earlier.c.message == message, earlier.c.type == "sent")
    cols = {n: bindparam(f"p_{n}", type_=EVENTS.c[n].type) for n in (
        "delivery_id", "at", "detail", "channel", "campaign", "region", "centre", "course",
        "language", "person", "medium")}
    cols["type"] = kind
    cols["message"] = message
    cols["category"] = literal("")
    cols["bot"] = literal(False)
    cols["unit"] = literal(1)
    cols["amount"] = literal(0)
    cols["messages"] = case((and_(kind == "sent", bindparam("p_medium") == "email", first),
                             literal(1)), else_=literal(0))
    return insert(EVENTS).from_select(list(cols), select(*cols.values()))


TAGGED = _tagged_event()


def _event_values(prev: Email | None, e: Email, now: Any) -> Writes:
    if prev is None:
        return begin(e, now)
    (finish, fp), (_event, _ev) = outcome(prev, now)
    tags = {"p_delivery_id": prev.id, "p_type": "sent", "p_at": now, "p_detail": "",
            "p_channel": "email", "p_campaign": "announce", "p_region": "Europe",
            "p_centre": "Some CoE", "p_course": prev.course_id, "p_language": "en",
            "p_person": f"p{prev.participant_id}", "p_medium": "email",
            "p_message": fp["p_provider_id"]}
    return [(finish, fp), (TAGGED, tags), *begin(e, now)]


MERGED = ["DROP INDEX ix_deliveries_due", "DROP INDEX ix_deliveries_channel_state",
          "CREATE INDEX ix_deliveries_state ON deliveries (state, channel, due_at, id)"]


VARIANTS: dict[str, tuple[Variant, list[str]]] = {
    "full": (_full, []),
    "no-finish": (_without(0), []),
    "no-event": (_without(1), []),
    "no-begin": (_without(2), []),
    "empty": (lambda prev, e, now: [], []),
    "event-values": (_event_values, []),
    "due-desc": (_full, ["DROP INDEX ix_deliveries_due", "CREATE INDEX ix_deliveries_due ON "
                         "deliveries (state, channel, due_at DESC, id DESC)"]),
    "merged-index": (_full, MERGED),
    "values+merged": (_event_values, MERGED),
    **{f"page{size}+merged": (_full, [*MERGED, "PRAGMA journal_mode=DELETE",
                                      f"PRAGMA page_size={size}", "VACUUM",
                                      "PRAGMA journal_mode=WAL"]) for size in (1024, 2048)},
    **{f"-{ix}": (_full, [f"DROP INDEX {ix}"]) for ix in (
        "ix_deliveries_due", "ix_deliveries_channel_state", "ix_delivery_events_delivery_id",
        "ix_delivery_events_at", "ix_delivery_events_person", "ix_delivery_events_message")},
}
"""name → (the writes of one commit, SQL run on the database copy first)."""


def emails(db: Path) -> list[Email]:
    c = sqlite3.connect(db)
    with c:
        c.execute("UPDATE deliveries SET lease_owner = ?, lease_expires_at = ?",
                  (OWNER, "2099-01-01 00:00:00.000000"))
        rows = c.execute("SELECT d.id, d.participant_id, p.email, d.course_id FROM deliveries d"
                         " JOIN participants p ON p.id = d.participant_id ORDER BY d.id")
        found = [Email(*row) for row in rows]
    c.close()
    return found


def run(variant: str, pristine: Path, work: Path, every: int = CHECKPOINT_EVERY
        ) -> dict[str, float]:
    """One pass of `variant` over every email on a fresh copy; per-commit figures."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(pristine, work)
    writes_of, prepare = VARIANTS[variant]
    c = sqlite3.connect(work, isolation_level=None)
    for statement in prepare:
        c.execute(statement)
    c.close()
    todo = emails(work)
    engine = make_engine(f"sqlite:///{work}")
    writer = OutboxWriter(engine, PreparedCache(engine.dialect), threading.Lock())
    dbapi: Any = writer._dbapi
    dbapi.execute("PRAGMA wal_autocheckpoint=0")
    dbapi.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = dbapi.execute("PRAGMA page_size").fetchone()[0]
    now = NOW
    cpu = checkpoint_cpu = 0.0
    frames = 0
    prev: Email | None = None
    for n, e in enumerate(todo, 1):
        now += STEP
        writes = writes_of(prev, e, now)
        t = time.thread_time()
        writer.write(writes) if writes else _empty_commit(dbapi)
        cpu += time.thread_time() - t
        prev = e
        if n % every == 0 or n == len(todo):
            frames += (Path(f"{work}-wal").stat().st_size - WAL_HEADER) // (page + FRAME_HEADER)
            t = time.thread_time()
            dbapi.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            checkpoint_cpu += time.thread_time() - t
    writer.close()
    engine.dispose()
    k = len(todo)
    return {"cpu_us": cpu / k * 1e6, "frames": frames / k,
            "checkpoint_us": checkpoint_cpu / k * 1e6}


def _empty_commit(dbapi: Any) -> None:
    dbapi.execute("BEGIN IMMEDIATE")
    dbapi.commit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emails", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--checkpoint-every", type=int, default=CHECKPOINT_EVERY,
                    help="commits between checkpoints")
    ap.add_argument("--keep", type=Path, help="reuse (or make) the planned database here")
    args = ap.parse_args()
    names = args.variants.split(",")
    with tempfile.TemporaryDirectory(prefix="commit-bench-") as tmp:
        folder = Path(tmp)
        pristine = args.keep
        if pristine is None or not pristine.exists():
            _config, url = setup(folder / "plan", args.emails, 1)
            planned = Path(url.split(":///", 1)[1])
            with sqlite3.connect(planned) as c:
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pristine = pristine or folder / "pristine.db"
            shutil.copy(planned, pristine)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        for _round in range(args.rounds):
            for name in names:
                results[name].append(run(name, pristine, folder / "work.db",
                                         args.checkpoint_every))
    print(f"{'variant':<22}{'write µs (min/med)':>20}{'WAL frames':>12}{'checkpoint µs':>15}")
    for name, runs in results.items():
        cpu = sorted(r["cpu_us"] for r in runs)
        ck = sorted(r["checkpoint_us"] for r in runs)
        print(f"{name:<22}{cpu[0]:>10.1f} / {cpu[len(cpu) // 2]:>6.1f}"
              f"{runs[0]['frames']:>12.2f}{ck[len(ck) // 2]:>15.1f}")


if __name__ == "__main__":
    main()
