#!/usr/bin/env python3
"""What SQLite's `synchronous` setting costs for Herald's write pattern: one small commit per
message (mark `sending`, then the outcome with the next `sending`), in WAL mode.

    python3 scripts/sqlite-synchronous-cost.py [--commits 2000] [--dir /var/lib/herald]

Run it on the disk the database will live on: the cost is the disk's flush latency. Prints
commits per second and microseconds per commit for NORMAL and FULL, alternating runs.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path


def commits_per_second(folder: Path, mode: str, commits: int) -> float:
    path = folder / f"sync-{mode}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={mode}")
    db.execute("PRAGMA wal_autocheckpoint=10000")
    db.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, state TEXT, owner TEXT, at REAL)")
    db.executemany("INSERT INTO d VALUES (?, 'pending', NULL, 0)", [(i,) for i in range(commits)])
    start = time.perf_counter()
    for i in range(commits):
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE d SET state='sent', at=? WHERE id=?", (time.time(), i - 1))
        db.execute("UPDATE d SET state='sending', owner='me', at=? WHERE id=?", (time.time(), i))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return commits / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rates: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
        for _ in range(args.rounds):
            for mode in rates:
                rates[mode].append(commits_per_second(Path(tmp), mode, args.commits))
    for mode, values in rates.items():
        best = max(values)
        print(f"synchronous={mode:6}  {best:9.0f} commits/s  {1e6 / best:8.1f} us/commit  "
              f"(runs: {', '.join(f'{v:.0f}' for v in values)})")
    print(f"FULL costs {rates['NORMAL'][0] and max(rates['NORMAL']) / max(rates['FULL']):.1f}x "
          "the time of NORMAL per commit")


if __name__ == "__main__":
    main()
