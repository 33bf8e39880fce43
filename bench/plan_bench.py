"""Planning benchmark: N participants × 20 newly published courses.

Prints the time to plan, the time of a bare bulk insert of the same delivery rows into
the same database (the limit), their ratio, the second (nothing new) pass, and the
process's peak memory. Usage: python bench/plan_bench.py [--participants N] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.generate_participants import generate  # noqa: E402
from scheduler.config import load_config  # noqa: E402
from scheduler.db import ensure_schema, make_engine, session_factory  # noqa: E402
from scheduler.ingest.records import CourseRecord  # noqa: E402
from scheduler.ingest.store import import_courses  # noqa: E402
from scheduler.models import Delivery  # noqa: E402
from scheduler.participants import bulk_load_participants, validate_participant  # noqa: E402
from scheduler.planner import Planner  # noqa: E402

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
CAMPAIGNS = """
campaigns:
  announce:
    kind: course_email
    channel: email
    template: email/announcement
    timing: on_publish
    min_lead: 7d
"""


def courses(n: int) -> list[CourseRecord]:
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


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=1_000_000)
    ap.add_argument("--courses", type=int, default=20)
    ap.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    ap.add_argument("--json", type=Path, default=None, help="append figures to this file")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    shutil.copytree(ROOT / "config", tmp / "config")
    (tmp / "config" / "campaigns.yaml").write_text(CAMPAIGNS)
    (tmp / "demo").mkdir()
    shutil.copy(ROOT / "demo" / "courses.csv", tmp / "demo" / "courses.csv")
    url = args.db or f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    sessions = session_factory(engine)
    config = load_config(tmp / "config")

    t0 = time.perf_counter()
    def records():  # type: ignore[no-untyped-def]
        for row in generate(args.participants, seed=7):
            rec, errs = validate_participant(row)
            assert rec is not None, errs
            yield rec
    with sessions() as s, s.begin():
        bulk_load_participants(s, records(), now=NOW - timedelta(days=30))
        import_courses(s, courses(args.courses), now=NOW)
    print(f"setup: {args.participants:,} participants, {args.courses} courses in "
          f"{time.perf_counter() - t0:.1f}s", flush=True)
    if engine.dialect.name == "sqlite":
        with engine.begin() as c:
            c.execute(text("ANALYZE"))

    planner = Planner(sessions, config)
    t0 = time.perf_counter()
    report = planner.plan(NOW)
    t_plan = time.perf_counter() - t0
    rows = report.total
    t0 = time.perf_counter()
    again = planner.plan(NOW + timedelta(minutes=1))
    t_again = time.perf_counter() - t0
    assert again.total == 0
    plan_peak = peak_mib()  # before the baseline below holds its rows in memory

    # The limit: the same rows, prebuilt in memory, bulk-inserted by executemany.
    with sessions() as s:
        data = [dict(r._mapping) for r in s.execute(select(
            Delivery.dedup_key, Delivery.campaign, Delivery.kind, Delivery.channel,
            Delivery.template, Delivery.course_id, Delivery.participant_id, Delivery.state,
            Delivery.due_at, Delivery.attempts, Delivery.created_at, Delivery.updated_at))]
    with sessions() as s, s.begin():
        s.execute(delete(Delivery))
    t0 = time.perf_counter()
    with sessions() as s, s.begin():
        for i in range(0, len(data), 10_000):
            s.execute(insert(Delivery), data[i:i + 10_000])
    t_insert = time.perf_counter() - t0
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == rows

    ratio = t_plan / t_insert if t_insert else float("inf")
    figures = [
        {"name": "plan_time", "value": round(t_plan, 3), "unit": "s"},
        {"name": "bulk_insert_time", "value": round(t_insert, 3), "unit": "s"},
        {"name": "plan_to_insert_ratio", "value": round(ratio, 2), "unit": "x", "target": 2.0,
         "pass": ratio <= 2.0},
        {"name": "second_pass_time", "value": round(t_again, 3), "unit": "s", "target": 1.0,
         "pass": t_again <= 1.0},
        {"name": "peak_memory_planning", "value": round(plan_peak, 1), "unit": "MiB",
         "target": 1024, "pass": plan_peak <= 1024},
    ]
    print(f"planned {rows:,} deliveries ({engine.dialect.name})")
    for f in figures:
        mark = "" if "pass" not in f else ("  ok" if f["pass"] else "  MISSES TARGET")
        print(f"  {f['name']:<22} {f['value']:>10} {f['unit']}{mark}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
